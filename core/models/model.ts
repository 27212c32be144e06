/**
 * The model interfaces (River-like): learn from one example, predict one,
 * clone the hyperparameters without the learned state, and snapshot.
 *
 * Two levels, one shape:
 *  - an `Estimator` (logistic regression, FTRL, PA, naive Bayes...) learns
 *    from a `SparseVector` over numbered columns: pure arithmetic on
 *    Float64Arrays, learnOne allocates nothing (measured: 0 bytes a call);
 *  - an `OnlineModel` (a `Pipeline`: encoders then an estimator) learns from
 *    named features as they arrive in events (`ModelInput`): the encoders
 *    map names to columns, growing when a new feature appears.
 *
 * Predictions: the probability of class 1 for a binary model, the value for
 * a regression model.
 */
import type { ModelKind } from '../events.js';
import { ModelError, type JsonObject, type ModelSnapshotData } from './snapshot.js';
import type { SparseVector } from './vector.js';

/**
 * What a model reads from an example. A Prediction or a LabelledExample fits
 * as it is. A numeric feature that is absent, null, NaN or infinite is
 * missing: it takes no part in the prediction nor in the update (as an absent
 * key does in River), so it can neither crash a model nor poison its weights.
 */
export interface ModelInput {
  features: Readonly<Record<string, number>>;
  categorical?: Readonly<Record<string, string>>;
}

export interface Learner<X> {
  /** The name snapshots carry ("logistic_regression", "pipeline", ...). */
  readonly algorithm: string;
  readonly task: ModelKind;
  /** Examples learned from (weight > 0), for ModelSnapshot.training_count. */
  readonly trainingCount: number;
  /**
   * Learns from one example. `y` is 0 or 1 for a binary model, a finite value
   * for a regression model; `weight` (default 1) is finite and >= 0, and an
   * example of weight 0 changes nothing. A bad `y` or `weight` throws a
   * ModelError before anything changes.
   */
  learnOne(x: X, y: number, weight?: number): void;
  /** P(y = 1) for a binary model, the predicted value for a regression model. Never changes the model. */
  predictOne(x: X): number;
  /** A model with the same hyperparameters and nothing learned. */
  clone(): Learner<X>;
  /** A JSON-serialisable snapshot; `modelFromSnapshot` rebuilds a model that predicts bit-identically. */
  toSnapshot(): ModelSnapshotData;
}

export interface Estimator extends Learner<SparseVector> {
  /** The score before any link (w·x + b: the logit of a logistic model), for the models that have one. */
  rawOne?(x: SparseVector): number;
  clone(): Estimator;
  /** The hyperparameters as given to the constructor, with defaults filled in. */
  hyperparameters(): JsonObject;
  /** Replaces the learned state by a snapshot's (used by `modelFromSnapshot`). */
  restoreState(state: JsonObject): void;
}

export interface OnlineModel extends Learner<ModelInput> {
  clone(): OnlineModel;
}

/**
 * Checks a label and weight before any state changes. Returns false when the
 * example has weight 0 (nothing to learn).
 */
export function checkExample(algorithm: string, task: ModelKind, y: number, weight: number): boolean {
  if (task === 'binary' ? y !== 0 && y !== 1 : !Number.isFinite(y)) {
    throw new ModelError(`${algorithm}: label ${y} is not ${task === 'binary' ? '0 or 1' : 'a finite number'}`);
  }
  if (!(weight >= 0) || weight === Infinity) throw new ModelError(`${algorithm}: weight ${weight} is not a finite number >= 0`);
  return weight > 0;
}

/** The logistic function, without River's clipping at ±30 (see linear.ts). */
export function sigmoid(raw: number): number {
  return 1 / (1 + Math.exp(-raw));
}

/**
 * d(log loss)/d(raw) for a label in {0, 1}, written as River's
 * `optim.losses.Log.gradient` (same branches at |z| > 18) so the updates
 * agree with River to the last bit on the common path.
 */
export function logLossGradient(y: number, raw: number): number {
  const sign = y === 1 ? 1 : -1;
  const z = raw * sign;
  if (z > 18) return Math.exp(-z) * -sign;
  if (z < -18) return -sign;
  return -sign / (Math.exp(z) + 1);
}

/** Validation helpers for hyperparameters (named in the error). */
export function positive(algorithm: string, name: string, value: number): number {
  if (typeof value !== 'number' || !(value > 0) || !Number.isFinite(value)) throw new ModelError(`${algorithm}: ${name} must be a finite number > 0, got ${value}`);
  return value;
}

export function nonNegative(algorithm: string, name: string, value: number): number {
  if (typeof value !== 'number' || !(value >= 0) || !Number.isFinite(value)) throw new ModelError(`${algorithm}: ${name} must be a finite number >= 0, got ${value}`);
  return value;
}

export function finite(algorithm: string, name: string, value: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new ModelError(`${algorithm}: ${name} must be a finite number, got ${value}`);
  return value;
}

export function flag(algorithm: string, name: string, value: boolean): boolean {
  if (typeof value !== 'boolean') throw new ModelError(`${algorithm}: ${name} must be true or false, got ${JSON.stringify(value)}`);
  return value;
}
