/**
 * The demo's multi-class model, `anomaly-type`: an anomaly detector's type
 * classifier (spike, drift, outage) with a numeric head, the severity (0 to
 * 10), and the feedback its reviewers give: the type and the severity
 * corrected on the same feedback (EXPERT_REVIEW with `label_class` and
 * `label`), users confirming or rejecting the type alone, an automatic rule
 * whose type an expert later corrects, or nothing.
 *
 * The world: two features, rate_of_change and persistence (standard
 * normal); the true type probabilities are softmax(2·rate, 2·persistence, 0)
 * until DEMO_CHANGE, then softmax(0, 2·rate, 2·persistence) (a new
 * monitoring setup: what was a spike is now a drift, a drift an outage).
 * Upstream's champion serves the first concept throughout; its severity is
 * right on average (the true one is its value plus noise). Drawn from its
 * own seeded stream, so the other models' events do not change with it.
 */
import { type Feedback, noFeedbackClasses, type Prediction } from '../core/events.js';
import { round } from './populations.js';
import { gaussian, logUniform, pick, type Random } from './random.js';
import { DAY, DEMO_CHANGE, DEMO_COUNTS, DEMO_DAYS, DEMO_START, HOUR } from './scenario.js';

export const ANOMALY_MODEL = 'anomaly-type';
export const ANOMALY_CLASSES = ['spike', 'drift', 'outage'] as const;

function softmax(z: readonly number[]): number[] {
  const m = Math.max(z[0]!, z[1]!, z[2]!);
  const e = z.map((v) => Math.exp(v - m));
  const s = e[0]! + e[1]! + e[2]!;
  return e.map((v) => v / s);
}

/** The first concept's probabilities to 4 decimals, summing to 1 (the last takes the rest). */
function served(rate: number, persistence: number): number[] {
  const p = softmax([2 * rate, 2 * persistence, 0]).map((v) => round(v, 4));
  p[2] = round(1 - p[0]! - p[1]!, 4);
  return p;
}

type Fate = 'none' | 'expert' | 'user' | 'corrected';
const FATES: ReadonlyArray<readonly [Fate, number]> = [['none', 10], ['expert', 45], ['user', 30], ['corrected', 15]];

/** The feedback of one prediction whose true type is `truth` and true severity `severity`. */
function feedbackOf(random: Random, p: Prediction, truth: string, severity: number): Feedback[] {
  const out: Feedback[] = [];
  const say = (at: number, type: Feedback['feedback_type'], labelClass: string | null, label: number | null) =>
    out.push({ prediction_id: p.prediction_id, timestamp: p.timestamp + at, feedback_type: type, label, uncertain: false, source: `${type.toLowerCase()}-ops`, notes: null, ...noFeedbackClasses(), label_class: labelClass });
  const first = logUniform(random, 60_000, 6 * HOUR);
  const later = first + logUniform(random, 10 * 60_000, 6 * HOUR);
  const wrong = ANOMALY_CLASSES[(ANOMALY_CLASSES.indexOf(truth as (typeof ANOMALY_CLASSES)[number]) + 1) % 3]!;
  switch (pick(random, FATES)) {
    case 'expert': say(first, 'EXPERT_REVIEW', truth, severity); break; // the type and the severity on one feedback
    case 'user': say(first, truth === p.predicted_class ? 'USER_CONFIRMED' : 'USER_REJECTED', null, null); break;
    // An automatic rule's wrong type, corrected by an expert with the type and the severity.
    case 'corrected': say(first, 'AUTO_VALIDATED', wrong, null); say(later, 'EXPERT_REVIEW', truth, severity); break;
    default: break;
  }
  return out;
}

/** The `i`-th prediction of anomaly-type and its feedback. */
function anomalyOf(random: Random, i: number): { prediction: Prediction; feedback: Feedback[] } {
  const gap = (DEMO_DAYS * DAY) / DEMO_COUNTS[ANOMALY_MODEL];
  const timestamp = DEMO_START + Math.floor((i + random()) * gap);
  const rate = round(gaussian(random), 3);
  const persistence = round(gaussian(random), 3);
  const p = served(rate, persistence);
  const truth = timestamp >= DEMO_CHANGE ? softmax([0, 2 * rate, 2 * persistence]) : p;
  const u = random();
  const label = ANOMALY_CLASSES[u < truth[0]! ? 0 : u < truth[0]! + truth[1]! ? 1 : 2]!;
  const score = round(Math.min(10, 3 + 1.5 * Math.abs(rate) + persistence), 1);
  const severity = round(Math.max(0, Math.min(10, score + gaussian(random))), 1);
  const prediction: Prediction = {
    prediction_id: `an-${i}`, model: ANOMALY_MODEL, model_version: 'a2', timestamp, features: { rate_of_change: rate, persistence }, categorical: {},
    segments: { region: pick(random, [['eu', 5], ['us', 3], ['apac', 2]]) }, score, threshold: 0.5, shadow_scores: {},
    class_scores: { spike: p[0]!, drift: p[1]!, outage: p[2]! }, predicted_class: ANOMALY_CLASSES[p.indexOf(Math.max(p[0]!, p[1]!, p[2]!))]!, predicted_labels: null,
  };
  return { prediction, feedback: feedbackOf(random, prediction, label, severity) };
}

/** anomaly-type's predictions and feedback, in generation order. */
export function generateAnomalies(random: Random): { predictions: Prediction[]; feedback: Feedback[] } {
  const predictions: Prediction[] = [];
  const feedback: Feedback[] = [];
  for (let i = 0; i < DEMO_COUNTS[ANOMALY_MODEL]; i++) {
    const { prediction, feedback: f } = anomalyOf(random, i);
    predictions.push(prediction);
    for (const x of f) feedback.push(x);
  }
  return { predictions, feedback };
}
