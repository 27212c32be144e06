/**
 * The multi-class model interface and the class set every multi-class
 * learner keeps.
 *
 * A `MulticlassEstimator` learns from a SparseVector and a class name, and
 * predicts one probability per class, in `classes()` order. Its classes are
 * either given up front (`classes`: the configured list, fixed; a label
 * outside it is a ModelError) or discovered in the order first seen, as
 * River's classifiers do, up to `maxClasses` (default 256; one more is a
 * ModelError naming the limit). Class names are only ever Map keys or array
 * entries, never keys of plain objects.
 */
import { ModelError, type JsonObject, type ModelSnapshotData } from '../snapshot.js';
import type { SparseVector } from '../vector.js';

export interface MulticlassEstimator {
  /** "softmax_regression", "one_vs_rest", "gaussian_nb_multiclass". */
  readonly algorithm: string;
  readonly task: 'multiclass';
  /** Examples learned from (weight > 0). */
  readonly trainingCount: number;
  /**
   * Learns from one example of class `y`; `weight` (default 1) is finite and
   * >= 0, weight 0 changes nothing. A bad class or weight throws a
   * ModelError before anything changes.
   */
  learnOne(x: SparseVector, y: string, weight?: number): void;
  /** Probability per class in classes() order (a fresh Float64Array; empty before any class is known). */
  predictProbaOne(x: SparseVector): Float64Array;
  /** The classes in their order: as given, or as first seen. */
  classes(): readonly string[];
  /**
   * Would learnOne accept (y, weight)? Throws the ModelError learnOne would
   * throw; false for weight 0. Lets a pipeline check before its encoders learn.
   */
  checkExample(y: string, weight: number): boolean;
  /** Is the model finite on x (every raw score, or every probability where there is none)? The trainer's guard. */
  finiteOn(x: SparseVector): boolean;
  clone(): MulticlassEstimator;
  hyperparameters(): JsonObject;
  toSnapshot(): ModelSnapshotData;
  restoreState(state: JsonObject): void;
}

export const DEFAULT_MAX_CLASSES = 256;
/** The largest maxClasses accepted (a model keeps arrays per class). */
export const MAX_CLASSES_LIMIT = 65_536;

/** The class options every multi-class learner takes. */
export type ClassOptions = {
  /** The classes, fixed, in this order (2 or more, distinct). Absent: discovered as first seen. */
  classes?: readonly string[];
  maxClasses?: number;
};

/** Checks the class options (named in the error) and fills in the default. */
export function checkClassOptions(algorithm: string, options: ClassOptions): { classes: readonly string[] | null; maxClasses: number } {
  const maxClasses = options.maxClasses ?? DEFAULT_MAX_CLASSES;
  if (typeof maxClasses !== 'number' || !Number.isInteger(maxClasses) || maxClasses < 2 || maxClasses > MAX_CLASSES_LIMIT) {
    throw new ModelError(`${algorithm}: maxClasses must be an integer from 2 to ${MAX_CLASSES_LIMIT}, got ${JSON.stringify(maxClasses)}`);
  }
  const classes = options.classes ?? null;
  if (classes === null) return { classes: null, maxClasses };
  if (!Array.isArray(classes) || !classes.every((c) => typeof c === 'string')) throw new ModelError(`${algorithm}: classes must be an array of strings`);
  if (classes.length < 2 || classes.length > maxClasses) {
    throw new ModelError(`${algorithm}: classes must hold 2 to maxClasses (${maxClasses}) names, got ${classes.length}`);
  }
  if (new Set(classes).size !== classes.length) throw new ModelError(`${algorithm}: classes must be distinct`);
  return { classes: [...classes], maxClasses };
}

/** The class options as hyperparameters (what a clone or a snapshot rebuilds from). */
export function classHyperparameters(fixed: readonly string[] | null, maxClasses: number): JsonObject {
  return fixed === null ? { maxClasses } : { classes: [...fixed], maxClasses };
}

/** Classes by position: a Map from name to index and the names in order. */
export class ClassSet {
  private readonly index = new Map<string, number>();
  private readonly names: string[] = [];

  constructor(
    private readonly algorithm: string,
    /** The fixed list, or null to discover classes. */
    readonly fixed: readonly string[] | null,
    readonly maxClasses: number,
  ) {
    if (fixed !== null) for (const c of fixed) this.add(c);
  }

  get size(): number {
    return this.names.length;
  }

  list(): readonly string[] {
    return this.names;
  }

  /** The index of y, or -1 when it is not known yet. */
  indexOf(y: string): number {
    return this.index.get(y) ?? -1;
  }

  /** Throws if y could not be learned: not a string, outside the fixed list, or one class too many. */
  check(y: string): void {
    if (typeof y !== 'string') throw new ModelError(`${this.algorithm}: label ${JSON.stringify(y)} is not a class name (a string)`);
    if (this.index.has(y)) return;
    if (this.fixed !== null) throw new ModelError(`${this.algorithm}: class ${JSON.stringify(y)} is not one of the model's classes`);
    if (this.names.length >= this.maxClasses) {
      throw new ModelError(`${this.algorithm}: class ${JSON.stringify(y)} would be class ${this.names.length + 1}, beyond maxClasses (${this.maxClasses})`);
    }
  }

  /** Appends a class (after check) and returns its index. */
  add(y: string): number {
    const i = this.names.length;
    this.index.set(y, i);
    this.names.push(y);
    return i;
  }

  /** Replaces the discovered classes by a snapshot's (a fixed list must match it). */
  restore(names: readonly string[], path: string): void {
    if (this.fixed !== null && (names.length !== this.fixed.length || names.some((c, i) => c !== this.fixed![i]))) {
      throw new ModelError(`${path}: the classes do not match the model's fixed classes`);
    }
    if (names.length > this.maxClasses || new Set(names).size !== names.length) throw new ModelError(`${path}: expected at most ${this.maxClasses} distinct classes`);
    this.index.clear();
    this.names.length = 0;
    for (const c of names) this.add(c);
  }
}

/** Checks a weight as the binary models do (finite, >= 0). Returns false for weight 0. */
export function checkWeight(algorithm: string, weight: number): boolean {
  if (!(weight >= 0) || weight === Infinity) throw new ModelError(`${algorithm}: weight ${weight} is not a finite number >= 0`);
  return weight > 0;
}
