/**
 * The feedback one prediction of the demo's world gets: delayed (a minute to
 * 12 hours, and a correction up to 12 hours after that) and of every kind:
 * user verdicts (CONFIRMED/REJECTED, null label), some wrong and later
 * corrected by an expert; AUTO_VALIDATED; EXPERT_REVIEW; uncertain reviews;
 * a user's late contradiction; or none at all (never labelled).
 */
import { type Feedback, type FeedbackType, noFeedbackClasses, type Prediction } from '../core/events.js';
import { HOUR } from './scenario.js';
import { logUniform, pick, type Random } from './random.js';

type Fate = 'none' | 'user' | 'auto' | 'expert' | 'corrected' | 'confirmed' | 'uncertain' | 'superseded';

const FATES: ReadonlyArray<readonly [Fate, number]> = [
  ['none', 8], ['user', 40], ['auto', 24], ['expert', 8], ['corrected', 5], ['confirmed', 4], ['uncertain', 4], ['superseded', 2],
];

/**
 * The feedback of `prediction` (the `index`-th of its model) whose true
 * label is `y`, in the order it is given. Draws three uniforms from `random`.
 */
export function feedbackOf(random: Random, prediction: Prediction, index: number, y: number): Feedback[] {
  const out: Feedback[] = [];
  const predicted = prediction.score >= prediction.threshold ? 1 : 0;
  const say = (at: number, type: FeedbackType, label: number | null, uncertain = false) =>
    out.push({
      prediction_id: prediction.prediction_id, timestamp: prediction.timestamp + at, feedback_type: type, label, uncertain,
      source: `${type.toLowerCase()}-${index % 5}`, notes: null,
      ...noFeedbackClasses(),
    });
  // A user's verdict (no label): CONFIRMED means the prediction was right, REJECTED that it was wrong.
  const user = (at: number, label: number) => say(at, label === predicted ? 'USER_CONFIRMED' : 'USER_REJECTED', null);
  const first = logUniform(random, 60_000, 12 * HOUR);
  const later = first + logUniform(random, 10 * 60_000, 12 * HOUR);
  switch (pick(random, FATES)) {
    case 'user': user(first, y); break;
    case 'auto': say(first, 'AUTO_VALIDATED', y); break;
    case 'expert': say(first, 'EXPERT_REVIEW', y); break;
    case 'corrected': user(first, 1 - y); say(later, 'EXPERT_REVIEW', y); break; // a wrong user verdict, corrected
    case 'confirmed': user(first, y); say(later, 'EXPERT_REVIEW', y); break;
    case 'uncertain': say(first, 'AUTO_VALIDATED', y); say(later, 'EXPERT_REVIEW', 1 - y, true); break;
    case 'superseded': say(first, 'AUTO_VALIDATED', y); user(later, 1 - y); break;
    default: break; // never labelled
  }
  return out;
}
