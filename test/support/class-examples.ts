/**
 * A multi-class model's labelled examples for the evaluator's tests (issue
 * 16): three classes and a numeric head (severity), a challenger's class
 * probabilities as `<key>#<i>` shadow scores, rejections without the right
 * class, corrections between classes (and of a rejection), and a concept
 * change half-way (a `spike` is then a `drift`); in label-arrival order, with
 * each prediction's final truth for the reference.
 */
import { classShadowKey } from '../../core/contracts/index.js';
import { noExampleClasses, type LabelledExample } from '../../core/events.js';
import { seededRandom } from './random.js';

export const CLASSES = ['spike', 'drift', 'outage'] as const;
export const MODEL = 'anomaly-type';
export const CHALLENGER_KEY = 'anomaly-type/softmax@1';
export const T0 = 1_763_942_400_000;
const MINUTE = 60_000;

/** The final truth of one prediction, as the reference takes it. */
export interface FinalRow {
  /** Index of the true class, or -1 (a rejection: not the champion's class). */
  label: number;
  champion: { predicted: number; probabilities: number[] };
  challenger: { predicted: number; probabilities: number[] };
  /** The numeric head: the final severity label (null: unknown) and the predicted one. */
  severity: number | null;
  score: number;
}

function argMax(p: readonly number[]): number {
  let best = 0;
  for (let i = 1; i < p.length; i++) if (p[i]! > p[best]!) best = i;
  return best;
}

/** Probabilities leaning to class `lean`, to 4 decimals, summing to 1 (the last takes the rest). */
function probabilities(random: () => number, lean: number): number[] {
  const raw = CLASSES.map((_, c) => random() + (c === lean ? 1.2 : 0));
  const sum = raw.reduce((a, b) => a + b, 0);
  const p = raw.map((r) => Math.round((r / sum) * 10_000) / 10_000);
  p[p.length - 1] = Math.round((1 - p.slice(0, -1).reduce((a, b) => a + b, 0)) * 10_000) / 10_000;
  return p;
}

/** n predictions a minute apart, labelled 10 minutes later; corrections 30 minutes after their label. */
export function multiclassExamples(n: number, seed: number): { examples: LabelledExample[]; final: FinalRow[] } {
  const random = seededRandom(seed);
  const examples: LabelledExample[] = [];
  const final: FinalRow[] = [];
  for (let i = 0; i < n; i++) {
    const timestamp = T0 + i * MINUTE;
    const seen = Math.floor(random() * 3);
    const p = probabilities(random, seen);
    const q = probabilities(random, random() < 0.7 ? seen : Math.floor(random() * 3));
    const predicted = argMax(p);
    // The concept change: from half-way a spike is a drift.
    let truth = random() < 0.8 ? seen : Math.floor(random() * 3);
    if (i >= n / 2 && truth === 0) truth = 1;
    const score = Math.round(random() * 100) / 10;
    const severity = Math.round((score + (random() - 0.5) * 4) * 10) / 10;
    const shadow: Record<string, number> = {};
    CLASSES.forEach((_, c) => (shadow[classShadowKey(CHALLENGER_KEY, c)] = q[c]!));
    const base = {
      prediction_id: String(i), model: MODEL, model_version: 'v1', timestamp, features: { x: random() }, categorical: {}, segments: {},
      score, threshold: 0.5, source: 'ops', arrival: false, shadow_scores: shadow,
      ...noExampleClasses(),
      class_scores: Object.fromEntries(CLASSES.map((c, k) => [c, p[k]!])), predicted_class: CLASSES[predicted]!,
    };
    const labelledAt = timestamp + 10 * MINUTE;
    const rejected = i % 10 === 3;
    const first: LabelledExample = {
      ...base, example_id: `${i}#1`, feedback_type: rejected ? 'USER_REJECTED' : 'EXPERT_REVIEW', feedback_timestamp: labelledAt, label_delay_ms: 10 * MINUTE,
      correction_of: null, replaces: null,
      label: rejected ? null : severity, label_class: rejected ? null : CLASSES[truth]!, rejected_class: rejected ? CLASSES[predicted]! : null,
    };
    examples.push(first);
    let row: FinalRow = {
      label: rejected ? -1 : truth, champion: { predicted, probabilities: p }, challenger: { predicted: argMax(q), probabilities: q },
      severity: rejected ? null : severity, score,
    };
    // Corrections: every seventh label to the next class, and every rejection at 13 mod 20 to its true class.
    if (i % 7 === 5 || i % 20 === 13) {
      const corrected = rejected ? (predicted + 1) % 3 : (truth + 1) % 3;
      const newSeverity = Math.round((severity + 1) * 10) / 10;
      examples.push({
        ...base, example_id: `${i}#2`, feedback_type: 'EXPERT_REVIEW', feedback_timestamp: labelledAt + 30 * MINUTE, label_delay_ms: 40 * MINUTE,
        correction_of: `${i}#1`,
        replaces: { label: first.label, feedback_type: first.feedback_type!, source: 'ops', feedback_timestamp: labelledAt, label_class: first.label_class, rejected_class: first.rejected_class, labels: null },
        label: newSeverity, label_class: CLASSES[corrected]!, rejected_class: null,
      });
      row = { ...row, label: corrected, severity: newSeverity };
    }
    final.push(row);
  }
  examples.sort((a, b) => a.feedback_timestamp! - b.feedback_timestamp!);
  return { examples, final };
}
