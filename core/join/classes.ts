/**
 * The class names of a multi-class or multi-label model
 * (models.<name>.classes) as the joiner checks events against them: every
 * class or label an event names must be one of them, a multi-class
 * prediction's class_scores must sum to 1 (within CLASS_SCORE_SUM_TOLERANCE),
 * and the decided class (or label set) is resolved from the scores when the
 * prediction does not give it. Names are looked up in a Map, never as keys of
 * a plain object; sets come out in the configured order.
 */
import type { ModelKind, Prediction } from '../events.js';

/** How far the class_scores of a multi-class prediction may sum from 1. */
export const CLASS_SCORE_SUM_TOLERANCE = 0.01;

/** How many names a message lists before it says how many more there are. */
const NAMES_SHOWN = 8;

export class ClassList {
  private readonly position = new Map<string, number>();

  constructor(
    readonly model: string,
    readonly kind: 'multiclass' | 'multilabel',
    readonly names: readonly string[],
  ) {
    names.forEach((name, i) => this.position.set(name, i));
  }

  has(name: string): boolean {
    return this.position.has(name);
  }

  /** The position of a name in models.<name>.classes, or -1. */
  indexOf(name: string): number {
    return this.position.get(name) ?? -1;
  }

  /** The names of `set` in the configured order (each known: checked before). */
  ordered(set: ReadonlySet<string>): string[] {
    return this.names.filter((name) => set.has(name));
  }

  /** Why `name` (given in `field`) is refused, or undefined when it is a class of the model. */
  unknown(name: string, field: string): string | undefined {
    if (this.has(name)) return undefined;
    return `${field} names ${JSON.stringify(name)}, which is not one of models.${this.model}.classes (${this.describe()})`;
  }

  /** Why one of `names` is refused, or undefined. */
  unknownIn(names: readonly string[], field: string): string | undefined {
    for (const name of names) {
      const problem = this.unknown(name, field);
      if (problem) return problem;
    }
    return undefined;
  }

  private describe(): string {
    const shown = this.names.slice(0, NAMES_SHOWN).map((n) => JSON.stringify(n)).join(', ');
    return this.names.length > NAMES_SHOWN ? `${shown} and ${this.names.length - NAMES_SHOWN} more` : shown;
  }
}

/** The class a multi-class prediction decided: its predicted_class, else the arg-max of class_scores (ties: the first in the configured order; a missing class scores 0). */
export function decidedClass(prediction: Prediction, classes: ClassList): string {
  if (prediction.predicted_class !== null) return prediction.predicted_class;
  let best = 0;
  let bestScore = Number.NEGATIVE_INFINITY;
  classes.names.forEach((name, i) => {
    const score = Object.hasOwn(prediction.class_scores, name) ? prediction.class_scores[name]! : 0;
    if (score > bestScore) {
      best = i;
      bestScore = score;
    }
  });
  return classes.names[best]!;
}

/** The labels a multi-label prediction decided: its predicted_labels, else every label scoring at least the threshold; in the configured order. */
export function decidedLabels(prediction: Prediction, classes: ClassList): string[] {
  if (prediction.predicted_labels !== null) return classes.ordered(new Set(prediction.predicted_labels));
  return classes.names.filter((name) => Object.hasOwn(prediction.class_scores, name) && prediction.class_scores[name]! >= prediction.threshold);
}

/**
 * Why a prediction breaks the contract of its model's task, or undefined:
 * class fields on a binary or regression model; a multi-class prediction
 * without class_scores, with an unknown class or whose scores do not sum to 1;
 * a multi-class or multi-label one with upstream candidates (shadow_scores:
 * not supported yet, issue 16); a multi-label one with an unknown label, a threshold outside [0, 1], or no
 * decision at all (neither class_scores nor predicted_labels).
 */
export function predictionClassProblem(prediction: Prediction, kind: ModelKind, classes: ClassList | null): string | undefined {
  const model = prediction.model;
  const scored = Object.keys(prediction.class_scores);
  if (classes === null) {
    const field = scored.length > 0 ? 'class_scores' : prediction.predicted_class !== null ? 'predicted_class' : prediction.predicted_labels !== null ? 'predicted_labels' : undefined;
    return field === undefined ? undefined : `${field} is set but ${model} is a ${kind} model (set models.${model}.task to multiclass or multilabel, and models.${model}.classes)`;
  }
  const unknown = classes.unknownIn(scored, 'class_scores');
  if (unknown) return unknown;
  if (Object.keys(prediction.shadow_scores).length > 0) {
    return `shadow_scores is set but upstream candidates of a ${classes.kind} model (${model}) are not supported yet (issue 16): send their class_scores as predictions of their own model`;
  }
  if (classes.kind === 'multiclass') {
    if (prediction.predicted_labels !== null) return `predicted_labels is set but ${model} is a multiclass model (predicted_class names its decision)`;
    if (scored.length === 0) return `class_scores is empty: a prediction of multiclass model ${model} gives the probability of each class`;
    if (prediction.predicted_class !== null) {
      const problem = classes.unknown(prediction.predicted_class, 'predicted_class');
      if (problem) return problem;
    }
    let sum = 0;
    for (const name of scored) sum += prediction.class_scores[name]!;
    if (Math.abs(sum - 1) > CLASS_SCORE_SUM_TOLERANCE) return `class_scores sum to ${sum}, not 1 (within ${CLASS_SCORE_SUM_TOLERANCE}), for multiclass model ${model}`;
    return undefined;
  }
  if (prediction.predicted_class !== null) return `predicted_class is set but ${model} is a multilabel model (predicted_labels names its decision)`;
  if (prediction.predicted_labels !== null) return classes.unknownIn(prediction.predicted_labels, 'predicted_labels');
  if (scored.length === 0) return `neither class_scores nor predicted_labels is set: a prediction of multilabel model ${model} gives no decision`;
  if (prediction.threshold < 0 || prediction.threshold > 1) return `threshold ${prediction.threshold} is out of range for multilabel model ${model} (expected [0, 1])`;
  return undefined;
}
