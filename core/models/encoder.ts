/**
 * What every encoder is (see preprocessing.ts for the encoders): the
 * contract a pipeline runs its encoders by, and the column space they share.
 */
import type { FeatureSpec } from '../events.js';
import type { ModelInput } from './model.js';
import { ModelError, type JsonObject } from './snapshot.js';
import type { SparseVector } from './vector.js';

/**
 * Hands out column numbers, in order; owned by a pipeline and shared by its
 * encoders. It also carries the pipeline's bound on feature names: an encoder
 * that keeps state per name learns at most `maxNames` names (each encoder its
 * own count); a later name is skipped when learning, as an unknown one is when
 * predicting, and counted in `skippedNames`. Names come from input, so
 * without it a model grows with every new name (learner.max_model_features).
 * The bound is not part of a snapshot: the names learned are, and the trainer
 * sets the bound again on a restored pipeline.
 */
export class ColumnSpace {
  size = 0;
  maxNames = Number.POSITIVE_INFINITY;
  skippedNames = 0;

  /** May an encoder that knows `known` names learn one more? Counts a refusal. */
  admitsName(known: number): boolean {
    if (known < this.maxNames) return true;
    this.skippedNames++;
    return false;
  }

  allocate(): number {
    return this.size++;
  }

  /** A contiguous block of n columns; returns its first column. */
  reserve(n: number): number {
    const first = this.size;
    this.size += n;
    return first;
  }
}

export interface Encoder {
  /** The name snapshots carry ("standard_scaler", ...). */
  readonly kind: string;
  /** Binds the encoder to its pipeline's columns (once, at construction: fixed blocks are reserved now, in pipeline order). */
  attach(columns: ColumnSpace): void;
  /** Appends x's entries to out; learns (new columns, running statistics) only when `learn` is true. */
  encode(x: ModelInput, out: SparseVector, learn: boolean): void;
  /** The same hyperparameters, unattached, nothing learned. */
  clone(): Encoder;
  hyperparameters(): JsonObject;
  state(): JsonObject;
  /** Loads a state() (after attach). */
  restoreState(state: JsonObject): void;
  /** The input features this encoder has learned about. */
  featureSpecs(): FeatureSpec[];
}

export function attachOnce(kind: string, current: ColumnSpace | null, columns: ColumnSpace): ColumnSpace {
  if (current !== null) throw new ModelError(`${kind}: this encoder already belongs to a pipeline (use clone() for another)`);
  return columns;
}

export function unattached(kind: string): never {
  throw new ModelError(`${kind}: the encoder is not attached to a pipeline`);
}

/** A finite number (not missing, NaN or infinite). */
export function present(v: unknown): v is number {
  return typeof v === 'number' && v - v === 0;
}
