/**
 * A generated labelled-examples stream for the partials' property tests
 * (test/unit/property-partials.test.ts, property-regression-partials.test.ts):
 * events of predictions and corrections, written as a joiner writes them.
 */
import { type LabelledExample, noExampleClasses } from '../../core/events.js';

export const T0 = 1_763_942_400_000;
export const HOUR = 3_600_000;

/** One event: a prediction's first example (labelled, or expired when label is null) or a correction of its label in force. */
export interface Event {
  model: string;
  pid: number;
  label: number | null;
  score: number;
  shadow: number;
  region: string;
  at: number;
  delay: number;
}

/** The stream a joiner writes for the events: corrections carry what they replace (`replaces`), keep their prediction, come later. */
export function streamOf(events: Event[]): LabelledExample[] {
  const inForce = new Map<string, LabelledExample>();
  const out: LabelledExample[] = [];
  for (const e of events) {
    const pid = `${e.model}-${e.pid}`;
    const old = inForce.get(pid);
    if (old && (old.label === null || e.label === null)) continue; // an expired prediction takes no label; a correction has one
    if (!old) {
      const timestamp = T0 + e.at;
      const labelled = e.label !== null;
      const x: LabelledExample = {
        example_id: `${pid}#1`, prediction_id: pid, model: e.model, model_version: 'v1', timestamp, features: { a: e.score }, categorical: {},
        segments: { region: e.region }, score: e.score, threshold: 0.5, label: e.label, feedback_type: labelled ? 'USER_CONFIRMED' : null, source: labelled ? 'u' : null,
        feedback_timestamp: labelled ? timestamp + e.delay : null, label_delay_ms: labelled ? e.delay : null, correction_of: null, replaces: null, arrival: false,
        shadow_scores: { [`${e.model}/lr@1`]: e.shadow }, ...noExampleClasses(),
      };
      inForce.set(pid, x);
      out.push(x);
      continue;
    }
    const n = Number(old.example_id.split('#')[1]) + 1;
    const x: LabelledExample = {
      ...old, example_id: `${pid}#${n}`, label: e.label, feedback_type: 'EXPERT_REVIEW', source: 'analyst', feedback_timestamp: old.feedback_timestamp! + 1 + (e.delay % HOUR),
      correction_of: old.example_id,
      replaces: { label: old.label, feedback_type: old.feedback_type!, source: old.source, feedback_timestamp: old.feedback_timestamp!, label_class: null, rejected_class: null, labels: null },
    };
    inForce.set(pid, x);
    out.push(x);
  }
  return out;
}
