/**
 * Labelled examples for the evaluator benchmarks: 3 models (fraud, churn,
 * spam; or the `models` given, in turn), a champion score and one
 * challenger shadow score, 2 segment attributes, predictions spread evenly
 * over `days`, labels 1 min to 1 day later, and (without a change) every
 * ninth label corrected by an expert an hour later. With `change`, from
 * that example on the error rate goes 0.2 -> 0.5 and `amount` shifts by
 * +30. In label-arrival order, as the joiner emits them.
 */
import { type LabelledExample, noExampleClasses } from '../core/events.js';
import { mulberry32 } from '../demo/random.js';

const HOUR = 3_600_000;
export const T0 = 1_763_942_400_000;

export function labelledStream(n: number, seed: number, change?: { at: number }, days = 7, models: readonly string[] = ['fraud', 'churn', 'spam']): LabelledExample[] {
  const random = mulberry32(seed);
  const out: LabelledExample[] = [];
  for (let i = 0; i < n; i++) {
    const model = models[i % models.length]!;
    const timestamp = T0 + Math.floor((i / n) * days * 24 * HOUR);
    const changed = change !== undefined && i >= change.at;
    const label = random() < 0.3 ? 1 : 0;
    const wrong = random() < (changed ? 0.5 : 0.2);
    const predicted = wrong ? 1 - label : label;
    const score = predicted === 1 ? 0.5 + random() / 2 : random() / 2;
    const delay = 60_000 + Math.floor(random() * 24 * HOUR);
    const x: LabelledExample = {
      example_id: `${i}#1`, prediction_id: String(i), model, model_version: 'v1', timestamp,
      features: { amount: random() * 100 + (changed ? 30 : 0), age: random() }, categorical: {},
      segments: { region: ['eu', 'us', 'apac'][Math.floor(random() * 3)]!, plan: random() < 0.5 ? 'free' : 'pro' },
      score, threshold: 0.5, label, feedback_type: 'USER_CONFIRMED', source: `u${i % 50}`,
      feedback_timestamp: timestamp + delay, label_delay_ms: delay, correction_of: null, replaces: null, arrival: false,
      shadow_scores: { [`${model}/lr@${1 + (i >> 10)}`]: Math.min(1, Math.max(0, score + (random() - 0.5) / 5)) },
      ...noExampleClasses(),
    };
    out.push(x);
    if (!change && i % 9 === 0) {
      out.push({ ...x, example_id: `${i}#2`, label: 1 - label, feedback_type: 'EXPERT_REVIEW', source: 'analyst', feedback_timestamp: x.feedback_timestamp! + HOUR, correction_of: x.example_id,
        replaces: { label_class: null, rejected_class: null, labels: null, label, feedback_type: 'USER_CONFIRMED', source: x.source, feedback_timestamp: x.feedback_timestamp! } });
    }
  }
  // Label-arrival order, as the joiner emits them.
  return out.sort((a, b) => a.feedback_timestamp! - b.feedback_timestamp!);
}
