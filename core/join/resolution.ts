/**
 * Label resolution (docs/architecture.md, "Event contracts"): trust order EXPERT_REVIEW > AUTO_VALIDATED >
 * USER_CONFIRMED = USER_REJECTED; among equal trust the later feedback (by
 * its timestamp) wins. What one feedback says (its outcome), by task:
 *
 *  - binary: `label` 0 or 1; without it CONFIRMED = the prediction was right,
 *    REJECTED = it was wrong.
 *  - regression: `label`; CONFIRMED without it = the predicted value.
 *  - multiclass: `label_class`, else CONFIRMED = the decided class, REJECTED =
 *    "not the decided class" (`rejected_class`, no `label_class`); AUTO_VALIDATED
 *    and EXPERT_REVIEW must name the class. `label` is the numeric head
 *    (models.<name>.numeric_target) as the feedback gives it, else null.
 *  - multilabel: `labels` (the full set), else `labels_added` / `labels_removed`
 *    applied to the decided set, else CONFIRMED = the decided set.
 *
 * The winning feedback gives every head at once: a later, more trusted
 * feedback replaces the class and the numeric head together.
 */
import type { Feedback, FeedbackType, ModelKind, Prediction } from '../events.js';
import { decidedClass, decidedLabels, type ClassList } from './classes.js';

export const TRUST: Record<FeedbackType, number> = {
  EXPERT_REVIEW: 3,
  AUTO_VALIDATED: 2,
  USER_CONFIRMED: 1,
  USER_REJECTED: 1,
};

/** What a feedback says about a prediction: the fields of the labelled example it makes. */
export interface Outcome {
  label: number | null;
  label_class: string | null;
  rejected_class: string | null;
  labels: string[] | null;
}

/** The task of a prediction's model, as resolution needs it: the class list of a multiclass or multilabel model (null for the others). */
export interface TaskView {
  kind: ModelKind;
  classes: ClassList | null;
  /** multiclass: the name of the numeric head (models.<name>.numeric_target), or null: no numeric label. */
  numericTarget: string | null;
}

/** The class a binary prediction predicted: 1 when score >= threshold. */
export function predictedClass(prediction: Prediction): number {
  return prediction.score >= prediction.threshold ? 1 : 0;
}

/** The label a feedback says on a binary or regression model, or why it says none (a reason for the dead-letter record). */
export function labelFrom(feedback: Feedback, prediction: Prediction, kind: ModelKind): { label: number } | { reason: string } {
  const label = feedback.label;
  if (label !== null) {
    if (kind === 'binary' && label !== 0 && label !== 1) {
      return { reason: `label ${label} is out of range for binary model ${prediction.model} (expected 0 or 1)` };
    }
    return { label };
  }
  if (feedback.feedback_type === 'USER_CONFIRMED') {
    return { label: kind === 'binary' ? predictedClass(prediction) : prediction.score };
  }
  if (feedback.feedback_type === 'USER_REJECTED' && kind === 'binary') {
    return { label: 1 - predictedClass(prediction) };
  }
  return {
    reason:
      feedback.feedback_type === 'USER_REJECTED'
        ? `USER_REJECTED without a label on regression model ${prediction.model} says the value was wrong but not what it was`
        : `${feedback.feedback_type} feedback without a label gives no outcome`,
  };
}

/** The outcome of a feedback on any model, or why it has none. */
export function outcomeFrom(feedback: Feedback, prediction: Prediction, task: TaskView): { outcome: Outcome } | { reason: string } {
  const classes = task.classes;
  if (classes === null) {
    const field = classField(feedback);
    if (field !== undefined) {
      const m = prediction.model;
      return { reason: `${field} is set but ${m} is a ${task.kind} model (set models.${m}.task to multiclass or multilabel, and models.${m}.classes)` };
    }
    const resolved = labelFrom(feedback, prediction, task.kind);
    return 'reason' in resolved ? resolved : { outcome: { label: resolved.label, label_class: null, rejected_class: null, labels: null } };
  }
  return classes.kind === 'multiclass' ? multiclassOutcome(feedback, prediction, classes, task.numericTarget) : multilabelOutcome(feedback, prediction, classes);
}

/** The first class field a feedback sets, if any. */
function classField(feedback: Feedback): string | undefined {
  if (feedback.label_class !== null) return 'label_class';
  if (feedback.labels !== null) return 'labels';
  if (feedback.labels_added !== null) return 'labels_added';
  return feedback.labels_removed !== null ? 'labels_removed' : undefined;
}

function multiclassOutcome(feedback: Feedback, prediction: Prediction, classes: ClassList, numericTarget: string | null): { outcome: Outcome } | { reason: string } {
  const m = prediction.model;
  const setField = feedback.labels !== null ? 'labels' : feedback.labels_added !== null ? 'labels_added' : feedback.labels_removed !== null ? 'labels_removed' : undefined;
  if (setField !== undefined) return { reason: `${setField} is set but ${m} is a multiclass model (label_class names the true class)` };
  const label = feedback.label;
  if (label !== null && numericTarget === null) {
    return { reason: `label ${label} is set but multiclass model ${m} has no numeric target (label_class names the true class; set models.${m}.numeric_target to carry a number beside it)` };
  }
  const heads = (label_class: string | null, rejected_class: string | null): { outcome: Outcome } => ({ outcome: { label, label_class, rejected_class, labels: null } });
  if (feedback.label_class !== null) {
    const unknown = classes.unknown(feedback.label_class, 'label_class');
    return unknown ? { reason: unknown } : heads(feedback.label_class, null);
  }
  if (feedback.feedback_type === 'USER_CONFIRMED') return heads(decidedClass(prediction, classes), null);
  if (feedback.feedback_type === 'USER_REJECTED') return heads(null, decidedClass(prediction, classes));
  return { reason: `${feedback.feedback_type} feedback without label_class gives no class for multiclass model ${m}` };
}

function multilabelOutcome(feedback: Feedback, prediction: Prediction, classes: ClassList): { outcome: Outcome } | { reason: string } {
  const m = prediction.model;
  if (feedback.label_class !== null) return { reason: `label_class is set but ${m} is a multilabel model (labels, or labels_added and labels_removed, give the true labels)` };
  if (feedback.label !== null) return { reason: `label ${feedback.label} is set but ${m} is a multilabel model (labels, or labels_added and labels_removed, give the true labels)` };
  const set = (labels: string[]): { outcome: Outcome } => ({ outcome: { label: null, label_class: null, rejected_class: null, labels } });
  if (feedback.labels !== null) {
    const unknown = classes.unknownIn(feedback.labels, 'labels');
    return unknown ? { reason: unknown } : set(classes.ordered(new Set(feedback.labels)));
  }
  const added = feedback.labels_added ?? [];
  const removed = feedback.labels_removed ?? [];
  if (feedback.labels_added !== null || feedback.labels_removed !== null) {
    const unknown = classes.unknownIn(added, 'labels_added') ?? classes.unknownIn(removed, 'labels_removed');
    if (unknown) return { reason: unknown };
    const labels = new Set(decidedLabels(prediction, classes));
    for (const name of added) labels.add(name);
    for (const name of removed) labels.delete(name);
    return set(classes.ordered(labels));
  }
  if (feedback.feedback_type === 'USER_CONFIRMED') return set(decidedLabels(prediction, classes));
  return {
    reason: `${feedback.feedback_type} feedback without labels, labels_added or labels_removed ${feedback.feedback_type === 'USER_REJECTED' ? 'says the labels were wrong but not which are right' : 'gives no labels'} for multilabel model ${m}`,
  };
}

/** Do two outcomes say the same (a missing field, from a state written before the class fields, is null)? */
export function sameOutcome(a: Partial<Outcome>, b: Partial<Outcome>): boolean {
  return (a.label ?? null) === (b.label ?? null) && (a.label_class ?? null) === (b.label_class ?? null) &&
    (a.rejected_class ?? null) === (b.rejected_class ?? null) && sameList(a.labels ?? null, b.labels ?? null);
}

function sameList(a: readonly string[] | null, b: readonly string[] | null): boolean {
  if (a === null || b === null) return a === b;
  return a.length === b.length && a.every((name, i) => name === b[i]);
}

/** Does `candidate` (trust, timestamp) take over from the label in force? Equal trust: the later (or equally late, arriving later) wins. */
export function outranks(trust: number, timestamp: number, current: { trust: number; feedback_timestamp: number }): boolean {
  return trust > current.trust || (trust === current.trust && timestamp >= current.feedback_timestamp);
}

/**
 * 32-bit FNV-1a of every field of a feedback: equal hashes within one prediction mean an exact duplicate.
 * The class fields are hashed only when one is set, so a feedback without them hashes as before they existed
 * (a join state restored from an older joiner still knows its duplicates).
 */
export function feedbackHash(feedback: Feedback): number {
  let text = `${feedback.timestamp}|${feedback.feedback_type}|${feedback.label}|${feedback.uncertain}|${feedback.source ?? '\u0000'}|${feedback.notes ?? '\u0000'}`;
  if (classField(feedback) !== undefined) {
    // JSON: names may hold any character, the separator included.
    text += `|${JSON.stringify([feedback.label_class, feedback.labels, feedback.labels_added, feedback.labels_removed])}`;
  }
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}
