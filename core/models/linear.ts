/**
 * Linear and logistic regression trained online by SGD, AdaGrad or Adam,
 * with L1/L2 regularisation and an intercept: River's
 * `linear_model.LinearRegression` / `LogisticRegression` update, step for
 * step, so the two agree on the same stream (checked in the unit tests
 * against figures printed by River 0.26.1, and in bench/models/).
 *
 * One update, as River does it:
 *  1. raw = w·x + b, loss gradient g = dLoss/draw · weight, clamped to ±clipGradient;
 *  2. b -= interceptLr · g (plain SGD, whatever the optimizer);
 *  3. for each column i present in x: gi = g·xi + l2·wi, then the optimizer
 *     step on wi — lazily: absent columns keep their weight and their
 *     AdaGrad/Adam accumulators (Adam's bias correction uses the global
 *     step count);
 *  4. with l1 > 0, the cumulative L1 penalty of Tsuruoka et al. (2009) on
 *     the columns of x, growing by l1 · lr per step.
 *
 * Where we differ from River, on purpose:
 *  - L1 and L2 together are allowed (an elastic net: L2 in the gradient,
 *    L1 by the cumulative penalty); River refuses the combination.
 *  - predictOne is 1 / (1 + e^-raw); River returns exactly 0 or 1 beyond
 *    |raw| > 30. Only the log loss of hopeless predictions differs (River
 *    then clips at 1e-15, about |raw| = 34.5).
 *  - An example of weight 0 changes nothing; in River its L2 term and Adam's
 *    momentum still move the weights.
 *  - Learning rates are constants (River also takes schedulers).
 */
import type { ModelKind } from '../events.js';
import {
  checkExample,
  finite,
  logLossGradient,
  nonNegative,
  positive,
  sigmoid,
  type Estimator,
} from './model.js';
import { encodeFloats, encodeNumber, FieldReader, ModelError, SNAPSHOT_VERSION, type JsonObject, type ModelSnapshotData } from './snapshot.js';
import { ensureLength, type SparseVector } from './vector.js';

export type Optimizer =
  | { kind: 'sgd'; lr: number }
  | { kind: 'adagrad'; lr: number; eps: number }
  | { kind: 'adam'; lr: number; beta1: number; beta2: number; eps: number };

/** Plain SGD (River's default for linear models: lr 0.01). */
export function sgd(lr = 0.01): Optimizer {
  return { kind: 'sgd', lr };
}

/** AdaGrad (Duchi et al. 2011) with River's defaults. */
export function adagrad(lr = 0.1, eps = 1e-8): Optimizer {
  return { kind: 'adagrad', lr, eps };
}

/** Adam (Kingma & Ba 2014) with River's defaults. */
export function adam(lr = 0.1, beta1 = 0.9, beta2 = 0.999, eps = 1e-8): Optimizer {
  return { kind: 'adam', lr, beta1, beta2, eps };
}

export type LinearHyperparameters = {
  optimizer: Optimizer;
  l2: number;
  l1: number;
  interceptInit: number;
  /** Step size of the intercept (plain SGD); 0 keeps the intercept at interceptInit. */
  interceptLr: number;
  /** Bound on |loss gradient| per example. */
  clipGradient: number;
};

export type LinearOptions = Partial<LinearHyperparameters>;

export const LINEAR_DEFAULTS: LinearHyperparameters = {
  optimizer: sgd(0.01),
  l2: 0,
  l1: 0,
  interceptInit: 0,
  interceptLr: 0.01,
  clipGradient: 1e12,
};

const SGD = 0;
const ADAGRAD = 1;
const ADAM = 2;

/** Checks an optimizer's kind and parameters (named in the error); also used by the multi-class models. */
export function checkOptimizer(algorithm: string, o: Optimizer): Optimizer {
  const p = (name: string, v: number) => positive(algorithm, `optimizer.${name}`, v);
  switch (o?.kind) {
    case 'sgd':
      return { kind: 'sgd', lr: p('lr', o.lr) };
    case 'adagrad':
      return { kind: 'adagrad', lr: p('lr', o.lr), eps: p('eps', o.eps) };
    case 'adam': {
      const beta = (name: string, v: number) => {
        if (!(v >= 0 && v < 1)) throw new ModelError(`${algorithm}: optimizer.${name} must be in [0, 1), got ${v}`);
        return v;
      };
      return { kind: 'adam', lr: p('lr', o.lr), beta1: beta('beta1', o.beta1), beta2: beta('beta2', o.beta2), eps: p('eps', o.eps) };
    }
    default:
      throw new ModelError(`${algorithm}: optimizer.kind must be "sgd", "adagrad" or "adam", got ${JSON.stringify((o as { kind?: unknown })?.kind)}`);
  }
}

abstract class LinearModel implements Estimator {
  abstract readonly algorithm: string;
  abstract readonly task: ModelKind;
  readonly options: Readonly<LinearHyperparameters>;

  // Hyperparameters copied to plain fields: the hot loop reads them without
  // going through `options`.
  private readonly kind: number;
  private readonly logistic: boolean;
  private readonly l1: number;
  private readonly l2: number;
  private readonly interceptLr: number;
  private readonly clip: number;
  private readonly lr: number;
  private readonly eps: number;
  private readonly beta1: number;
  private readonly beta2: number;

  /** Columns with learned state: weights[0..dimension). The arrays may be longer (capacity). */
  protected dimension = 0;
  protected weights: Float64Array = new Float64Array(0);
  /** AdaGrad: sum of squared gradients. Adam: first moment. */
  private acc1: Float64Array = new Float64Array(0);
  /** Adam: second moment. */
  private acc2: Float64Array = new Float64Array(0);
  /** L1: the penalty actually applied to each weight so far (Tsuruoka's q). */
  private cumL1: Float64Array = new Float64Array(0);
  /** L1: the total penalty each weight could have received (Tsuruoka's u). */
  private maxCumL1 = 0;
  // Initialised here (not only in the constructor) so V8 stores it as an
  // unboxed double field: a field first defined as undefined is boxed anew
  // on every write.
  protected intercept = 0;
  /** Optimizer steps taken (Adam's t). */
  private steps = 0;
  private count = 0;

  constructor(algorithm: string, options: LinearOptions) {
    const o = { ...LINEAR_DEFAULTS, ...options };
    this.options = {
      optimizer: checkOptimizer(algorithm, o.optimizer),
      l2: nonNegative(algorithm, 'l2', o.l2),
      l1: nonNegative(algorithm, 'l1', o.l1),
      interceptInit: finite(algorithm, 'interceptInit', o.interceptInit),
      interceptLr: nonNegative(algorithm, 'interceptLr', o.interceptLr),
      clipGradient: positive(algorithm, 'clipGradient', o.clipGradient),
    };
    this.logistic = algorithm === 'logistic_regression';
    this.l1 = this.options.l1;
    this.l2 = this.options.l2;
    this.interceptLr = this.options.interceptLr;
    this.clip = this.options.clipGradient;
    const opt = this.options.optimizer;
    this.kind = opt.kind === 'sgd' ? SGD : opt.kind === 'adagrad' ? ADAGRAD : ADAM;
    this.lr = opt.lr;
    this.eps = opt.kind === 'sgd' ? 0 : opt.eps;
    this.beta1 = opt.kind === 'adam' ? opt.beta1 : 0;
    this.beta2 = opt.kind === 'adam' ? opt.beta2 : 0;
    this.intercept = this.options.interceptInit;
  }

  get trainingCount(): number {
    return this.count;
  }

  abstract clone(): LinearModel;

  /** w·x + b: the logit or the predicted value. Columns never learned count as weight 0. */
  rawOne(x: SparseVector): number {
    const w = this.weights;
    const n = this.dimension;
    const indices = x.indices;
    const values = x.values;
    let dot = 0;
    for (let k = 0; k < x.size; k++) {
      const i = indices[k]!;
      if (i < n) dot += w[i]! * values[k]!;
    }
    return dot + this.intercept;
  }

  /** P(y = 1) for logistic regression, the value for linear regression. */
  predictOne(x: SparseVector): number {
    const raw = this.rawOne(x);
    return this.logistic ? sigmoid(raw) : raw;
  }

  learnOne(x: SparseVector, y: number, weight = 1): void {
    if (!checkExample(this.algorithm, this.task, y, weight)) return;
    if (x.maxIndex >= this.dimension) this.grow(x.maxIndex + 1);
    const clip = this.clip;
    const raw = this.rawOne(x);
    // dLoss/draw: River's Log loss, or its Squared loss (the gradient of (raw - y)^2, hence the 2).
    let g = (this.logistic ? logLossGradient(y, raw) : 2 * (raw - y)) * weight;
    // Math.min/max rather than a ternary: V8 then keeps g an unboxed double
    // (the ternary's mix with the field cost a heap number per call).
    g = Math.max(-clip, Math.min(clip, g));
    this.intercept -= this.interceptLr * g;

    const w = this.weights;
    const indices = x.indices;
    const values = x.values;
    const size = x.size;
    const l2 = this.l2;
    const lr = this.lr;
    // One loop per optimizer, so each is a tight monomorphic loop.
    if (this.kind === SGD) {
      for (let k = 0; k < size; k++) {
        const i = indices[k]!;
        w[i] = w[i]! - lr * (g * values[k]! + l2 * w[i]!);
      }
    } else if (this.kind === ADAGRAD) {
      const g2 = this.acc1;
      const eps = this.eps;
      for (let k = 0; k < size; k++) {
        const i = indices[k]!;
        const gi = g * values[k]! + l2 * w[i]!;
        g2[i] = g2[i]! + gi * gi;
        w[i] = w[i]! - (lr / Math.sqrt(g2[i]! + eps)) * gi;
      }
    } else {
      const m = this.acc1;
      const v = this.acc2;
      const { beta1, beta2, eps } = this;
      const t = this.steps + 1;
      const step = (lr * Math.sqrt(1 - beta2 ** t)) / (1 - beta1 ** t);
      for (let k = 0; k < size; k++) {
        const i = indices[k]!;
        const gi = g * values[k]! + l2 * w[i]!;
        m[i] = beta1 * m[i]! + (1 - beta1) * gi;
        v[i] = beta2 * v[i]! + (1 - beta2) * (gi * gi);
        w[i] = w[i]! - (step * m[i]!) / (Math.sqrt(v[i]!) + eps);
      }
    }
    this.steps++;
    if (this.l1 > 0) this.applyL1(x);
    this.count++;
  }

  /** Tsuruoka et al. (2009): clip each weight at zero by the penalty it has not yet received. */
  private applyL1(x: SparseVector): void {
    this.maxCumL1 += this.l1 * this.lr;
    const u = this.maxCumL1;
    const w = this.weights;
    const q = this.cumL1;
    for (let k = 0; k < x.size; k++) {
      const i = x.indices[k]!;
      const before = w[i]!;
      if (before > 0) w[i] = Math.max(0, before - (u + q[i]!));
      else if (before < 0) w[i] = Math.min(0, before + (u - q[i]!));
      q[i] = q[i]! + (w[i]! - before);
    }
  }

  private grow(dimension: number): void {
    this.weights = ensureLength(this.weights, dimension);
    if (this.kind !== SGD) this.acc1 = ensureLength(this.acc1, dimension);
    if (this.kind === ADAM) this.acc2 = ensureLength(this.acc2, dimension);
    if (this.options.l1 > 0) this.cumL1 = ensureLength(this.cumL1, dimension);
    this.dimension = dimension;
  }

  /** Learned weights by column (a copy). */
  coefficients(): { weights: Float64Array; intercept: number } {
    return { weights: this.weights.slice(0, this.dimension), intercept: this.intercept };
  }

  hyperparameters(): JsonObject {
    return { ...this.options, optimizer: { ...this.options.optimizer } };
  }

  toSnapshot(): ModelSnapshotData {
    const n = this.dimension;
    const state: JsonObject = {
      dimension: n,
      weights: encodeFloats(this.weights, n),
      intercept: encodeNumber(this.intercept),
      steps: this.steps,
      count: this.count,
    };
    if (this.kind === ADAGRAD) state['g2'] = encodeFloats(this.acc1, n);
    if (this.kind === ADAM) {
      state['m'] = encodeFloats(this.acc1, n);
      state['v'] = encodeFloats(this.acc2, n);
    }
    if (this.options.l1 > 0) {
      state['cumL1'] = encodeFloats(this.cumL1, n);
      state['maxCumL1'] = encodeNumber(this.maxCumL1);
    }
    return { algorithm: this.algorithm, version: SNAPSHOT_VERSION, hyperparameters: this.hyperparameters(), state };
  }

  restoreState(state: JsonObject): void {
    const r = new FieldReader(state, `${this.algorithm}.state`);
    const n = r.count('dimension');
    this.weights = r.floats('weights', n);
    this.intercept = r.number('intercept');
    this.steps = r.count('steps');
    this.count = r.count('count');
    this.acc1 = this.kind === ADAGRAD ? r.floats('g2', n) : this.kind === ADAM ? r.floats('m', n) : new Float64Array(0);
    this.acc2 = this.kind === ADAM ? r.floats('v', n) : new Float64Array(0);
    this.cumL1 = this.options.l1 > 0 ? r.floats('cumL1', n) : new Float64Array(0);
    this.maxCumL1 = this.options.l1 > 0 ? r.number('maxCumL1') : 0;
    this.dimension = n;
  }
}

/** Binary logistic regression; predictOne gives P(y = 1). River: `linear_model.LogisticRegression`. */
export class LogisticRegression extends LinearModel {
  readonly algorithm = 'logistic_regression';
  readonly task = 'binary' as const;

  constructor(options: LinearOptions = {}) {
    super('logistic_regression', options);
  }

  clone(): LogisticRegression {
    return new LogisticRegression(this.options);
  }
}

/** Least-squares linear regression; predictOne gives the value. River: `linear_model.LinearRegression`. */
export class LinearRegression extends LinearModel {
  readonly algorithm = 'linear_regression';
  readonly task = 'regression' as const;

  constructor(options: LinearOptions = {}) {
    super('linear_regression', options);
  }

  clone(): LinearRegression {
    return new LinearRegression(this.options);
  }
}
