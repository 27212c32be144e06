/**
 * Passive-Aggressive learning (Crammer et al., "Online passive-aggressive
 * algorithms", JMLR 2006): after each example, the smallest change of the
 * weights that fixes its loss, capped by C. River's `linear_model.PAClassifier`
 * and `PARegressor`.
 *
 * Step size tau from the loss l and ||x||^2 (the intercept is not in the
 * norm, as in River): mode 0 (PA) l / ||x||^2; mode 1 (PA-I)
 * min(C, l / ||x||^2); mode 2 (PA-II) l / (||x||^2 + 1 / (2C)). Then
 * w += tau·s·x and b += tau·s, where s is the label in {-1, +1}
 * (classifier) or sgn(y - prediction) (regressor).
 *
 * Where we differ from River:
 *  - A sample weight w scales C (C·w), as scikit-learn's sample_weight
 *    does; mode 0 has no C and ignores it. River's PA takes no weight.
 *  - PARegressor's loss is max(0, |y - p| - eps) as in the paper. River's
 *    `EpsilonInsensitiveHinge` maps y to 2y - 1 first (meant for {0, 1}
 *    labels), so River's regressor measures its loss against 2y - 1; ours
 *    does not (expect different figures on regression streams).
 *  - ||x||^2 is a plain sum of squares (River: numpy's norm, squared).
 */
import type { ModelKind } from '../events.js';
import { checkExample, flag, nonNegative, positive, sigmoid, type Estimator } from './model.js';
import { encodeFloats, encodeNumber, FieldReader, ModelError, SNAPSHOT_VERSION, type JsonObject, type ModelSnapshotData } from './snapshot.js';
import { ensureLength, type SparseVector } from './vector.js';

export type PAMode = 0 | 1 | 2;

export type PAHyperparameters = {
  C: number;
  mode: PAMode;
  learnIntercept: boolean;
};

export type PAClassifierOptions = Partial<PAHyperparameters>;
export type PARegressorOptions = Partial<PAHyperparameters & { eps: number }>;

abstract class PassiveAggressive implements Estimator {
  abstract readonly algorithm: string;
  abstract readonly task: ModelKind;
  protected dimension = 0;
  protected weights: Float64Array = new Float64Array(0);
  protected intercept = 0;
  private count = 0;
  readonly C: number;
  readonly mode: PAMode;
  readonly learnIntercept: boolean;

  constructor(algorithm: string, options: PAClassifierOptions) {
    this.C = positive(algorithm, 'C', options.C ?? 1);
    this.mode = options.mode ?? 1;
    this.learnIntercept = flag(algorithm, 'learnIntercept', options.learnIntercept ?? true);
    if (this.mode !== 0 && this.mode !== 1 && this.mode !== 2) throw new ModelError(`${algorithm}: mode must be 0, 1 or 2, got ${String(this.mode)}`);
  }

  get trainingCount(): number {
    return this.count;
  }

  rawOne(x: SparseVector): number {
    const w = this.weights;
    const d = this.dimension;
    let dot = 0;
    for (let k = 0; k < x.size; k++) {
      const i = x.indices[k]!;
      if (i < d) dot += w[i]! * x.values[k]!;
    }
    return dot + this.intercept;
  }

  abstract predictOne(x: SparseVector): number;
  abstract clone(): PassiveAggressive;
  abstract hyperparameters(): JsonObject;
  protected abstract loss(y: number, raw: number): number;
  /** The sign s of the step: the label in {-1, +1}, or sgn(y - prediction). */
  protected abstract direction(y: number, raw: number): number;

  learnOne(x: SparseVector, y: number, weight = 1): void {
    if (!checkExample(this.algorithm, this.task, y, weight)) return;
    if (x.maxIndex >= this.dimension) this.grow(x.maxIndex + 1);
    const raw = this.rawOne(x);
    const loss = this.loss(y, raw);
    let norm = 0;
    for (let k = 0; k < x.size; k++) norm += x.values[k]! * x.values[k]!;
    const C = this.C * weight;
    let tau: number;
    if (this.mode === 0) tau = norm > 0 ? loss / norm : 0;
    else if (this.mode === 1) tau = norm > 0 ? Math.min(C, loss / norm) : 0;
    else tau = loss / (norm + 0.5 / C);
    const step = tau * this.direction(y, raw);
    if (step !== 0) {
      const w = this.weights;
      for (let k = 0; k < x.size; k++) {
        const i = x.indices[k]!;
        w[i] = w[i]! + step * x.values[k]!;
      }
      if (this.learnIntercept) this.intercept += step;
    }
    this.count++;
  }

  private grow(dimension: number): void {
    this.weights = ensureLength(this.weights, dimension);
    this.dimension = dimension;
  }

  coefficients(): { weights: Float64Array; intercept: number } {
    return { weights: this.weights.slice(0, this.dimension), intercept: this.intercept };
  }

  toSnapshot(): ModelSnapshotData {
    return {
      algorithm: this.algorithm,
      version: SNAPSHOT_VERSION,
      hyperparameters: this.hyperparameters(),
      state: { dimension: this.dimension, weights: encodeFloats(this.weights, this.dimension), intercept: encodeNumber(this.intercept), count: this.count },
    };
  }

  restoreState(state: JsonObject): void {
    const r = new FieldReader(state, `${this.algorithm}.state`);
    const d = r.count('dimension');
    this.weights = r.floats('weights', d);
    this.intercept = r.number('intercept');
    this.count = r.count('count');
    this.dimension = d;
  }
}

/** Binary PA classifier (hinge loss); predictOne is sigmoid(w·x + b), as River's predict_proba_one. */
export class PAClassifier extends PassiveAggressive {
  readonly algorithm = 'pa_classifier';
  readonly task = 'binary' as const;

  constructor(options: PAClassifierOptions = {}) {
    super('pa_classifier', options);
  }

  predictOne(x: SparseVector): number {
    return sigmoid(this.rawOne(x));
  }

  protected loss(y: number, raw: number): number {
    return Math.max(1 - this.direction(y) * raw, 0);
  }

  protected direction(y: number): number {
    return y === 1 ? 1 : -1;
  }

  hyperparameters(): JsonObject {
    return { C: this.C, mode: this.mode, learnIntercept: this.learnIntercept };
  }

  clone(): PAClassifier {
    return new PAClassifier({ C: this.C, mode: this.mode, learnIntercept: this.learnIntercept });
  }
}

/** PA regressor (epsilon-insensitive loss); predictOne is w·x + b. */
export class PARegressor extends PassiveAggressive {
  readonly algorithm = 'pa_regressor';
  readonly task = 'regression' as const;
  readonly eps: number;

  constructor(options: PARegressorOptions = {}) {
    super('pa_regressor', options);
    this.eps = nonNegative('pa_regressor', 'eps', options.eps ?? 0.1);
  }

  predictOne(x: SparseVector): number {
    return this.rawOne(x);
  }

  protected loss(y: number, raw: number): number {
    return Math.max(Math.abs(y - raw) - this.eps, 0);
  }

  protected direction(y: number, raw: number): number {
    return Math.sign(y - raw);
  }

  hyperparameters(): JsonObject {
    return { C: this.C, mode: this.mode, learnIntercept: this.learnIntercept, eps: this.eps };
  }

  clone(): PARegressor {
    return new PARegressor({ C: this.C, mode: this.mode, learnIntercept: this.learnIntercept, eps: this.eps });
  }
}
