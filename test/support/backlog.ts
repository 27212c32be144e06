/**
 * A stream whose label delay depends on the outcome: predictions spread over
 * two days from `start`, each labelled (AUTO_VALIDATED), positives (20%) a
 * day later, negatives within the hour; feedback in timestamp order. Every
 * feedback has its prediction. For the event-time alignment tests.
 */
import { type Feedback, noFeedbackClasses, noPredictionClasses, type Prediction } from '../../core/events.js';
import { seededRandom } from './random.js';

const HOUR = 3_600_000;

export function outcomeDelayedStream(count: number, seed: number, start: number): { predictions: Prediction[]; feedback: Feedback[] } {
  const random = seededRandom(seed);
  const predictions: Prediction[] = [];
  const feedback: Feedback[] = [];
  for (let i = 0; i < count; i++) {
    const timestamp = start + Math.floor((i / count) * 48 * HOUR);
    const positive = random() < 0.2;
    predictions.push({
      prediction_id: `p-${i}`, model: 'fraud', model_version: 'v1', timestamp, features: { x: random() }, categorical: {}, segments: {},
      score: positive ? 0.7 : 0.2, threshold: 0.5, shadow_scores: {},
      ...noPredictionClasses(),
    });
    const delay = positive ? 20 * HOUR + random() * 8 * HOUR : random() * HOUR;
    feedback.push({ prediction_id: `p-${i}`, timestamp: timestamp + Math.floor(delay), feedback_type: 'AUTO_VALIDATED', label: positive ? 1 : 0, uncertain: false, source: null, notes: null, ...noFeedbackClasses() });
  }
  feedback.sort((a, b) => a.timestamp - b.timestamp);
  return { predictions, feedback };
}
