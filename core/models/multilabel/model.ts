/**
 * The multi-label model interface (issue 16). A `MultilabelEstimator` learns
 * from a SparseVector and the example's true label set (a ReadonlySet of label
 * names; the empty set is a valid answer: no label applies), and predicts one
 * independent probability per label, in `classes()` order (the labels).
 *
 * Its labels are either given up front (`classes`: the configured list,
 * fixed; a label outside it is a ModelError) or discovered in the order first
 * seen in a true set, up to `maxClasses` (default 256), as the multi-class
 * learners do (multiclass/model.ts's ClassSet). Label names are only ever Map
 * keys or array entries, never keys of plain objects.
 */
import type { JsonObject, ModelSnapshotData } from '../snapshot.js';
import type { SparseVector } from '../vector.js';

export interface MultilabelEstimator {
  /** "binary_relevance". */
  readonly algorithm: string;
  readonly task: 'multilabel';
  /** Examples learned from (weight > 0). */
  readonly trainingCount: number;
  /**
   * Learns from one example whose true labels are `labels` (every other known
   * label does not apply); `weight` (default 1) is finite and >= 0, weight 0
   * changes nothing. A bad label or weight throws a ModelError before
   * anything changes.
   */
  learnOne(x: SparseVector, labels: ReadonlySet<string>, weight?: number): void;
  /** P(label applies) per label in classes() order (a fresh Float64Array; empty before any label is known). */
  predictProbaOne(x: SparseVector): Float64Array;
  /** The labels in their order: as given, or as first seen. */
  classes(): readonly string[];
  /** Would learnOne accept (labels, weight)? Throws the ModelError learnOne would throw; false for weight 0. */
  checkExample(labels: ReadonlySet<string>, weight: number): boolean;
  /** Is the model finite on x (every raw score, or every probability where there is none)? The trainer's guard. */
  finiteOn(x: SparseVector): boolean;
  clone(): MultilabelEstimator;
  hyperparameters(): JsonObject;
  toSnapshot(): ModelSnapshotData;
  restoreState(state: JsonObject): void;
}
