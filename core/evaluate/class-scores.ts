/**
 * A multi-class or multi-label example as the evaluator counts it (issue 16):
 * per role and version its probabilities in the configured class order and
 * its decision, and its truth as class indices.
 *
 * - champion: class_scores by class (a class it does not name: 0), its
 *   decision predicted_class (multi-class) or predicted_labels (multi-label);
 *   its `score` is the numeric head's (multi-class with numeric_target).
 * - challengers and the previous champion: their `<key>#<i>` entries of
 *   shadow_scores (core/contracts/shadow-key.ts), a version counted only when
 *   it has an entry for every class; decision: the arg-max (ties to the first
 *   class) for multi-class, each label whose probability is at least the
 *   prediction's threshold for multi-label. They have no numeric head (score NaN).
 * - truth: multi-class the index of label_class, or -1 for a rejection
 *   without the right class (rejected_class); multi-label the 0/1 set of labels.
 *   A rejection says only that the champion's decision was wrong: it is
 *   counted for a role whose decision is the rejected class, and not for a
 *   role that decided another class (whether that one was right is unknown).
 */
import { parseClassShadowKey } from '../contracts/index.js';
import type { LabelledExample } from '../events.js';
import type { ClassObservation, ClassTask } from './class-metric.js';
import { shadowRole } from './cells.js';
import type { Scored } from './model-drift.js';

/** The truth of a labelled example: multi-class a class index (-1: not `rejected`), multi-label the 0/1 set. */
export type ClassTruth = { label: number; rejected: number } | { labels: Uint8Array };

/** A role's probabilities and decision. */
export interface ClassScored extends Scored {
  probabilities: Float64Array;
  /** Multi-class: the decided class's index; multi-label: the decided set. */
  decided: number | Uint8Array;
}

function indexOf(classes: readonly string[], name: string | null): number {
  return name === null ? -1 : classes.indexOf(name);
}

/** 0/1 per class of the names given (names not among the classes are left out). */
function setOf(classes: readonly string[], names: readonly string[]): Uint8Array {
  const out = new Uint8Array(classes.length);
  for (const name of names) {
    const i = classes.indexOf(name);
    if (i >= 0) out[i] = 1;
  }
  return out;
}

/** The index of the largest probability, the first among equal ones. */
export function argMax(p: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < p.length; i++) if (p[i]! > p[best]!) best = i;
  return best;
}

function decisionOf(task: ClassTask, p: Float64Array, threshold: number): number | Uint8Array {
  if (task.kind === 'multiclass') return argMax(p);
  const out = new Uint8Array(p.length);
  for (let i = 0; i < p.length; i++) out[i] = p[i]! >= threshold ? 1 : 0;
  return out;
}

/** The champion's and each shadow version's probabilities and decision, the champion first, then by key. */
export function classScored(example: LabelledExample, task: ClassTask): ClassScored[] {
  const { classes } = task;
  const champion = new Float64Array(classes.length);
  for (let i = 0; i < classes.length; i++) champion[i] = Object.hasOwn(example.class_scores, classes[i]!) ? example.class_scores[classes[i]!]! : 0;
  const decided = task.kind === 'multiclass'
    ? (example.predicted_class === null ? argMax(champion) : Math.max(0, indexOf(classes, example.predicted_class)))
    : example.predicted_labels === null ? decisionOf(task, champion, example.threshold) : setOf(classes, example.predicted_labels);
  const out: ClassScored[] = [{ role: 'champion', version: example.model_version, score: task.numericTarget === null ? Number.NaN : example.score, probabilities: champion, decided }];
  // Shadow entries by version key (bounded: shadow_scores is, by the event limits).
  const byKey = new Map<string, { p: Float64Array; seen: number }>();
  for (const key of Object.keys(example.shadow_scores)) {
    const parsed = parseClassShadowKey(key);
    if (!parsed || parsed.classIndex >= classes.length) continue;
    let entry = byKey.get(parsed.key);
    if (!entry) byKey.set(parsed.key, (entry = { p: new Float64Array(classes.length).fill(Number.NaN), seen: 0 }));
    if (Number.isNaN(entry.p[parsed.classIndex]!)) entry.seen++;
    entry.p[parsed.classIndex] = example.shadow_scores[key]!;
  }
  for (const key of [...byKey.keys()].sort()) {
    const { p, seen } = byKey.get(key)!;
    if (seen < classes.length) continue;
    const { role, version } = shadowRole(key);
    out.push({ role, version, score: Number.NaN, probabilities: p, decided: decisionOf(task, p, example.threshold) });
  }
  return out;
}

/** The truth of label fields (an example's or a correction's `replaces`); undefined when none is known (or names no configured class). */
export function classTruthOf(task: ClassTask, fields: Pick<LabelledExample, 'label_class' | 'rejected_class' | 'labels'>): ClassTruth | undefined {
  if (task.kind === 'multilabel') return fields.labels === null ? undefined : { labels: setOf(task.classes, fields.labels) };
  if (fields.label_class !== null) {
    const label = indexOf(task.classes, fields.label_class);
    return label < 0 ? undefined : { label, rejected: -1 };
  }
  const rejected = indexOf(task.classes, fields.rejected_class);
  return rejected < 0 ? undefined : { label: -1, rejected };
}

/** A role's class observation under a truth; undefined when the truth says nothing of its decision (see the file comment). */
export function classObservation(scored: ClassScored, truth: ClassTruth): ClassObservation | undefined {
  if ('labels' in truth) return { labels: truth.labels, predicted: scored.decided as Uint8Array, probabilities: scored.probabilities };
  const predicted = scored.decided as number;
  if (truth.label < 0 && predicted !== truth.rejected) return undefined;
  return { label: truth.label, predicted, probabilities: scored.probabilities };
}
