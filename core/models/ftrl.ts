/**
 * FTRL-Proximal logistic regression: Algorithm 1 of McMahan et al., "Ad
 * click prediction: a view from the trenches" (KDD 2013), per coordinate.
 *
 * For each column i the model keeps z_i and n_i (sum of squared gradients);
 * its weight is
 *   w_i = 0                                                if |z_i| <= l1
 *   w_i = -(z_i - sgn(z_i)·l1) / ((beta + sqrt(n_i)) / alpha + l2)   otherwise
 * and after predicting p on x, with g_i = (p - y)·x_i·weight:
 *   sigma_i = (sqrt(n_i + g_i^2) - sqrt(n_i)) / alpha
 *   z_i += g_i - sigma_i·w_i ;  n_i += g_i^2
 * w_i only changes when z_i and n_i do, so it is cached (recomputed for the
 * columns of x after each update) and a prediction is a plain dot product.
 *
 * Where we differ from River (`LogisticRegression(optimizer=optim.FTRLProximal(...))`):
 *  - River computes the gradient with the weights of the step before
 *    (its optimizer refreshes w from z, n after the gradient is taken) and
 *    leaves w_i unchanged instead of 0 when |z_i| <= l1; we follow the
 *    paper: predict with w from the current z, n, and exact zeros under l1
 *    (the sparsity FTRL is used for).
 *  - The intercept is one more FTRL coordinate with x = 1 and no l1/l2
 *    (River updates it by plain SGD at intercept_lr 0.01). `intercept: false`
 *    drops it.
 */
import { checkExample, flag, logLossGradient, nonNegative, positive, sigmoid, type Estimator } from './model.js';
import { encodeFloats, FieldReader, SNAPSHOT_VERSION, type JsonObject, type ModelSnapshotData } from './snapshot.js';
import { ensureLength, type SparseVector } from './vector.js';

export type FTRLHyperparameters = {
  alpha: number;
  beta: number;
  l1: number;
  l2: number;
  intercept: boolean;
};

export type FTRLOptions = Partial<FTRLHyperparameters>;

/** River's FTRLProximal defaults. */
export const FTRL_DEFAULTS: FTRLHyperparameters = { alpha: 0.05, beta: 1, l1: 0, l2: 1, intercept: true };

export class FTRLLogisticRegression implements Estimator {
  readonly algorithm = 'ftrl_logistic_regression';
  readonly task = 'binary' as const;
  readonly options: Readonly<FTRLHyperparameters>;

  private dimension = 0;
  private z: Float64Array = new Float64Array(0);
  private n: Float64Array = new Float64Array(0);
  private w: Float64Array = new Float64Array(0);
  /** The intercept's coordinate: [z, n, w]. */
  private readonly bias = new Float64Array(3);
  private count = 0;

  constructor(options: FTRLOptions = {}) {
    const o = { ...FTRL_DEFAULTS, ...options };
    const a = this.algorithm;
    this.options = {
      alpha: positive(a, 'alpha', o.alpha),
      beta: nonNegative(a, 'beta', o.beta),
      l1: nonNegative(a, 'l1', o.l1),
      l2: nonNegative(a, 'l2', o.l2),
      intercept: flag(a, 'intercept', o.intercept),
    };
  }

  get trainingCount(): number {
    return this.count;
  }

  rawOne(x: SparseVector): number {
    const w = this.w;
    const d = this.dimension;
    let dot = 0;
    for (let k = 0; k < x.size; k++) {
      const i = x.indices[k]!;
      if (i < d) dot += w[i]! * x.values[k]!;
    }
    return dot + this.bias[2]!;
  }

  predictOne(x: SparseVector): number {
    return sigmoid(this.rawOne(x));
  }

  learnOne(x: SparseVector, y: number, weight = 1): void {
    if (!checkExample(this.algorithm, this.task, y, weight)) return;
    if (x.maxIndex >= this.dimension) this.grow(x.maxIndex + 1);
    const g = logLossGradient(y, this.rawOne(x)) * weight;
    const { alpha, beta, l1, l2 } = this.options;
    const z = this.z;
    const n = this.n;
    const w = this.w;
    for (let k = 0; k < x.size; k++) {
      const i = x.indices[k]!;
      const gi = g * x.values[k]!;
      const ni = n[i]!;
      const sigma = (Math.sqrt(ni + gi * gi) - Math.sqrt(ni)) / alpha;
      const zi = z[i]! + gi - sigma * w[i]!;
      z[i] = zi;
      n[i] = ni + gi * gi;
      w[i] = weightOf(zi, n[i]!, alpha, beta, l1, l2);
    }
    if (this.options.intercept) {
      const b = this.bias;
      const nb = b[1]!;
      const sigma = (Math.sqrt(nb + g * g) - Math.sqrt(nb)) / alpha;
      b[0] = b[0]! + g - sigma * b[2]!;
      b[1] = nb + g * g;
      b[2] = weightOf(b[0]!, b[1]!, alpha, beta, 0, 0);
    }
    this.count++;
  }

  private grow(dimension: number): void {
    this.z = ensureLength(this.z, dimension);
    this.n = ensureLength(this.n, dimension);
    this.w = ensureLength(this.w, dimension);
    this.dimension = dimension;
  }

  /** Learned weights by column (a copy), exact zeros where l1 holds them. */
  coefficients(): { weights: Float64Array; intercept: number } {
    return { weights: this.w.slice(0, this.dimension), intercept: this.bias[2]! };
  }

  clone(): FTRLLogisticRegression {
    return new FTRLLogisticRegression(this.options);
  }

  hyperparameters(): JsonObject {
    return { ...this.options };
  }

  toSnapshot(): ModelSnapshotData {
    const d = this.dimension;
    return {
      algorithm: this.algorithm,
      version: SNAPSHOT_VERSION,
      hyperparameters: this.hyperparameters(),
      // w is a function of z and n: recomputed on restore, bit for bit.
      state: { dimension: d, z: encodeFloats(this.z, d), n: encodeFloats(this.n, d), bias: encodeFloats(this.bias.subarray(0, 2)), count: this.count },
    };
  }

  restoreState(state: JsonObject): void {
    const r = new FieldReader(state, `${this.algorithm}.state`);
    const d = r.count('dimension');
    this.z = r.floats('z', d);
    this.n = r.floats('n', d);
    const bias = r.floats('bias', 2);
    this.count = r.count('count');
    const { alpha, beta, l1, l2 } = this.options;
    this.w = new Float64Array(d);
    for (let i = 0; i < d; i++) {
      // The cached weight is always weightOf(z, n) (0 for a column never updated, as in grow()).
      this.w[i] = weightOf(this.z[i]!, this.n[i]!, alpha, beta, l1, l2);
    }
    this.bias[0] = bias[0]!;
    this.bias[1] = bias[1]!;
    this.bias[2] = weightOf(bias[0]!, bias[1]!, alpha, beta, 0, 0);
    this.dimension = d;
  }
}

function weightOf(z: number, n: number, alpha: number, beta: number, l1: number, l2: number): number {
  if (Math.abs(z) <= l1) return 0;
  return -(z - Math.sign(z) * l1) / ((beta + Math.sqrt(n)) / alpha + l2);
}
