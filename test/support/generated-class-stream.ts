/**
 * A generated multi-class or multi-label stream for the class partials'
 * property tests (test/unit/property-class-partials.test.ts): events of
 * predictions and corrections of one model, written as a joiner writes them
 * (a correction carries the label fields it replaces and keeps its
 * prediction). Class names that are members of Object.prototype and hold
 * the view's separators: they are data, never keys.
 */
import { classShadowKey } from '../../core/contracts/index.js';
import { type LabelledExample, noExampleClasses } from '../../core/events.js';
import { HOUR, T0 } from './generated-stream.js';

export const CLASS_NAMES = ['spike', 'constructor', 'a|b]'] as const;
export const CLASS_MODEL = 'kind';
export const CLASS_CHALLENGER = `${CLASS_MODEL}/softmax@1`;

/**
 * One event: a prediction's first example or a correction of its label in force. `truth`: multi-class the
 * true class's index, -1 a rejection of the decided class, null no label (expired); multi-label a bit set of
 * labels (null: expired). `decided`: the decided class's index, or the decided bit set.
 */
export interface ClassEvent {
  pid: number;
  truth: number | null;
  decided: number;
  scores: number[];
  shadow: number[];
  region: string;
  at: number;
  delay: number;
}

const setOf = (bits: number) => CLASS_NAMES.filter((_, i) => (bits >> i) & 1);

/** The label fields of a truth (multi-class or multi-label). */
function labelFields(kind: 'multiclass' | 'multilabel', e: ClassEvent, decided: string | null): Pick<LabelledExample, 'label_class' | 'rejected_class' | 'labels'> {
  if (e.truth === null) return { label_class: null, rejected_class: null, labels: null };
  if (kind === 'multilabel') return { label_class: null, rejected_class: null, labels: setOf(e.truth) };
  return e.truth === -1 ? { label_class: null, rejected_class: decided, labels: null } : { label_class: CLASS_NAMES[e.truth]!, rejected_class: null, labels: null };
}

/** The stream a joiner writes for the events of a `kind` model. */
export function classStreamOf(kind: 'multiclass' | 'multilabel', events: ClassEvent[]): LabelledExample[] {
  const inForce = new Map<string, LabelledExample>();
  const out: LabelledExample[] = [];
  for (const e of events) {
    const pid = `${CLASS_MODEL}-${e.pid}`;
    const old = inForce.get(pid);
    const labelled = e.truth !== null;
    if (old && (old.feedback_type === null || !labelled)) continue; // an expired prediction takes no label; a correction has one
    if (!old) {
      const timestamp = T0 + e.at;
      const decided = kind === 'multiclass' ? CLASS_NAMES[e.decided % CLASS_NAMES.length]! : null;
      const shadow: Record<string, number> = {};
      if (kind === 'multiclass') e.shadow.forEach((p, c) => (shadow[classShadowKey(CLASS_CHALLENGER, c)] = p));
      const x: LabelledExample = {
        example_id: `${pid}#1`, prediction_id: pid, model: CLASS_MODEL, model_version: 'v1', timestamp, features: {}, categorical: {},
        segments: { region: e.region }, score: 0, threshold: 0.5, label: null, feedback_type: labelled ? 'USER_CONFIRMED' : null, source: labelled ? 'u' : null,
        feedback_timestamp: labelled ? timestamp + e.delay : null, label_delay_ms: labelled ? e.delay : null, correction_of: null, replaces: null, arrival: false,
        shadow_scores: shadow, ...noExampleClasses(),
        class_scores: Object.fromEntries(CLASS_NAMES.map((c, i) => [c, e.scores[i]!])),
        predicted_class: decided, predicted_labels: kind === 'multilabel' ? setOf(e.decided) : null,
        ...labelFields(kind, e, decided),
      };
      inForce.set(pid, x);
      out.push(x);
      continue;
    }
    const n = Number(old.example_id.split('#')[1]) + 1;
    const x: LabelledExample = {
      ...old, example_id: `${pid}#${n}`, feedback_type: 'EXPERT_REVIEW', source: 'analyst', feedback_timestamp: old.feedback_timestamp! + 1 + (e.delay % HOUR),
      correction_of: old.example_id, ...labelFields(kind, e, old.predicted_class),
      replaces: { label: old.label, feedback_type: old.feedback_type!, source: old.source, feedback_timestamp: old.feedback_timestamp!, label_class: old.label_class, rejected_class: old.rejected_class, labels: old.labels },
    };
    inForce.set(pid, x);
    out.push(x);
  }
  return out;
}
