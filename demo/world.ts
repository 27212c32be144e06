/**
 * The demo's synthetic world: three models' predictions over DEMO_DAYS days of
 * event time and their feedback, from one seed (the same seed, the same
 * events). See populations.ts for what the models see and feedback.ts for
 * what comes back (anomalies.ts for the multi-class anomaly-type); about 3%
 * of the binary models' feedback is delivered twice.
 */
import { type Feedback, noPredictionClasses, type Prediction } from '../core/events.js';
import { sigmoid } from '../core/models/index.js';
import { generateAnomalies } from './anomalies.js';
import { feedbackOf } from './feedback.js';
import { churnDraw, fraudDraw, round, type Draw } from './populations.js';
import { mulberry32, type Random } from './random.js';
import { DAY, DEMO_COUNTS, DEMO_DAYS, DEMO_START, type DemoModel } from './scenario.js';

interface UpstreamModel {
  model: DemoModel;
  /** The version upstream serves, and the prefix of its prediction ids. */
  version: string;
  idPrefix: string;
  threshold: number;
  draw: (random: Random, t: number) => Draw;
}

const MODELS: readonly UpstreamModel[] = [
  { model: 'fraud-detector', version: 'v7', idPrefix: 'tx', threshold: 0.3, draw: fraudDraw },
  { model: 'churn-predictor', version: 'c3', idPrefix: 'cu', threshold: 0.5, draw: (random) => churnDraw(random) },
];

/** The `i`-th prediction of `m`, at its place in event time. */
function predictionOf(random: Random, m: UpstreamModel, i: number): { prediction: Prediction; truth: number } {
  const gap = (DEMO_DAYS * DAY) / DEMO_COUNTS[m.model];
  const timestamp = DEMO_START + Math.floor((i + random()) * gap);
  const d = m.draw(random, timestamp);
  const prediction: Prediction = {
    prediction_id: `${m.idPrefix}-${i}`, model: m.model, model_version: m.version, timestamp,
    features: d.features, categorical: d.categorical, segments: d.segments, score: round(sigmoid(d.champion), 4), threshold: m.threshold, shadow_scores: {},
    ...noPredictionClasses(),
  };
  return { prediction, truth: d.truth };
}

/** The two input streams, each in event-time order. */
export function generateDemo(seed: number): { predictions: Prediction[]; feedback: Feedback[] } {
  const random = mulberry32(seed);
  const predictions: Prediction[] = [];
  const feedback: Feedback[] = [];
  for (const m of MODELS) {
    for (let i = 0; i < DEMO_COUNTS[m.model]; i++) {
      const { prediction, truth } = predictionOf(random, m, i);
      predictions.push(prediction);
      const y = random() < sigmoid(truth) ? 1 : 0;
      for (const f of feedbackOf(random, prediction, i, y)) feedback.push(f);
    }
  }
  for (const f of feedback.slice()) if (random() < 0.03) feedback.push({ ...f }); // exact duplicates
  // The multi-class model from its own stream (the binary models' events stay those of the seed).
  const anomalies = generateAnomalies(mulberry32(seed + 16));
  for (const p of anomalies.predictions) predictions.push(p);
  for (const f of anomalies.feedback) feedback.push(f);
  predictions.sort((a, b) => a.timestamp - b.timestamp);
  feedback.sort((a, b) => a.timestamp - b.timestamp);
  return { predictions, feedback };
}
