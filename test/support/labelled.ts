/**
 * Seeded streams of labelled examples (what the joiner writes) for the
 * evaluator's tests: three models, two regions, shadow scores of a learning
 * challenger (its snapshot version moves every 64 examples), exact score
 * ties (two decimals), and every ninth example corrected by an expert.
 * With `arrivals`, each prediction's arrival record comes first, as the
 * joiner writes it (joiner.emit_arrivals): the evaluator then reads input
 * drift, predictions and estimates from those.
 */
import { type LabelledExample, noExampleClasses } from '../../core/events.js';
import { seededRandom } from './random.js';

export const HOUR = 3_600_000;
export const T0 = 1_763_942_400_000;

export function labelledStream(n: number, seed: number, options: { hours?: number; arrivals?: boolean } = {}): LabelledExample[] {
  const random = seededRandom(seed);
  const hours = options.hours ?? 48;
  const out: LabelledExample[] = [];
  for (let i = 0; i < n; i++) {
    const model = ['fraud', 'churn', 'spam'][i % 3]!;
    const timestamp = T0 + Math.floor((i / n) * hours * HOUR + random() * HOUR);
    const label = random() < 0.3 ? 1 : 0;
    const x: LabelledExample = {
      example_id: `${model}-${i}#1`, prediction_id: `${model}-${i}`, model, model_version: 'v1', timestamp,
      features: { amount: random() * 100 + (i > n / 2 ? 20 : 0), age: random() }, categorical: {}, segments: { region: random() < 0.5 ? 'eu' : 'us' },
      score: Math.round(random() * 100) / 100, threshold: 0.5, label, feedback_type: 'USER_CONFIRMED', source: `u${i % 7}`,
      feedback_timestamp: timestamp + 60_000, label_delay_ms: 60_000, correction_of: null, shadow_scores: { [`${model}/lr@${1 + (i >> 6)}`]: random() }, replaces: null, arrival: false,
      ...noExampleClasses(),
    };
    if (options.arrivals) {
      out.push({
        ...x, example_id: `${x.prediction_id}#arrival`, label: null, feedback_type: null, source: null, feedback_timestamp: null, label_delay_ms: null, arrival: true,
      });
    }
    out.push(x);
    if (i % 9 === 0) {
      out.push({
        ...x, example_id: `${model}-${i}#2`, label: 1 - label, feedback_type: 'EXPERT_REVIEW', source: 'analyst',
        feedback_timestamp: timestamp + 120_000, label_delay_ms: 120_000, correction_of: x.example_id,
        replaces: { label_class: null, rejected_class: null, labels: null, label, feedback_type: 'USER_CONFIRMED', source: x.source, feedback_timestamp: x.feedback_timestamp! },
      });
    }
  }
  return out;
}
