/**
 * Softmax (multinomial logistic) regression trained online by SGD, AdaGrad
 * or Adam, with L1/L2 and a per-class intercept: River's
 * `linear_model.SoftmaxRegression` update, step for step (checked against
 * River 0.26.1 in test/integration/multiclass-reference.test.ts).
 *
 * One weight vector per class. One update, as River does it:
 *  1. p = softmax(w_c·x + b_c) over the classes known before this example
 *     (max-shifted, summed in class order);
 *  2. per class c, the cross-entropy gradient g_c = clamp(p_c) - [c = y]
 *     with p clamped to [1e-15, 1 - 1e-15] (River's clamp_proba; a class
 *     first seen on this example has p = 0, so g = 1e-15 - 1), times the
 *     example weight, clipped to ±clipGradient;
 *  3. per class and column i of x: gi = g_c·xi + l2·w_ci, then the
 *     optimizer step on w_ci. Each class has its own optimizer state, as in
 *     River (a deep copy per class): Adam's step count t counts the updates
 *     of that class, from the example it was first seen on;
 *  4. b_c -= interceptLr · g_c (plain SGD, as linear.ts's intercept);
 *  5. with l1 > 0, the cumulative L1 penalty of Tsuruoka et al. (2009) per
 *     class (linear.ts), growing by l1 · lr per update of that class.
 *
 * Where River has no equivalent or we differ:
 *  - River's SoftmaxRegression has no intercept: `interceptLr: 0` is River's
 *    model exactly; with interceptLr = lr under SGD and l2 = 0 the intercept
 *    equals River's with a constant feature of 1 appended to x.
 *  - River has no L1 for it (we apply linear.ts's cumulative penalty).
 *  - Sample weights scale the gradient (River's learn_one takes none);
 *    weight 0 changes nothing.
 *  - With `classes` given up front every class takes part from the first
 *    example (uniform probabilities before any learning).
 */
import { nonNegative, positive } from '../model.js';
import { checkOptimizer, LINEAR_DEFAULTS, type LinearOptions, type Optimizer } from '../linear.js';
import { encodeFloats, FieldReader, ModelError, SNAPSHOT_VERSION, type JsonObject, type ModelSnapshotData } from '../snapshot.js';
import { ensureLength, type SparseVector } from '../vector.js';
import { checkClassOptions, checkWeight, classHyperparameters, ClassSet, type ClassOptions, type MulticlassEstimator } from './model.js';

export type SoftmaxHyperparameters = {
  optimizer: Optimizer;
  l2: number;
  l1: number;
  /** Step size of the per-class intercepts (plain SGD); 0: no intercept (River's model). */
  interceptLr: number;
  /** Bound on |loss gradient| per class and example. */
  clipGradient: number;
};

export type SoftmaxOptions = Partial<SoftmaxHyperparameters> & ClassOptions;

export const SOFTMAX_DEFAULTS: SoftmaxHyperparameters = {
  optimizer: LINEAR_DEFAULTS.optimizer,
  l2: 0,
  l1: 0,
  interceptLr: LINEAR_DEFAULTS.interceptLr,
  clipGradient: LINEAR_DEFAULTS.clipGradient,
};

/** River's clamp_proba bounds. */
const P_MIN = 1e-15;
const P_MAX = 1 - 1e-15;

const SGD = 0;
const ADAGRAD = 1;
const ADAM = 2;

export class SoftmaxRegression implements MulticlassEstimator {
  readonly algorithm = 'softmax_regression';
  readonly task = 'multiclass' as const;
  readonly options: Readonly<SoftmaxHyperparameters>;
  private readonly set: ClassSet;

  private readonly kind: number;
  private readonly l1: number;
  private readonly l2: number;
  private readonly interceptLr: number;
  private readonly clip: number;
  private readonly lr: number;
  private readonly eps: number;
  private readonly beta1: number;
  private readonly beta2: number;

  /** Columns with learned state; each class's arrays hold at least this many. */
  private dimension = 0;
  /** Per class: weights by column. */
  private weights: Float64Array[] = [];
  /** Per class: AdaGrad's sum of squared gradients, or Adam's first moment. */
  private acc1: Float64Array[] = [];
  /** Per class: Adam's second moment. */
  private acc2: Float64Array[] = [];
  /** Per class: the L1 penalty applied to each weight so far (Tsuruoka's q). */
  private cumL1: Float64Array[] = [];
  /** Per class: intercept, optimizer steps, total L1 penalty (Tsuruoka's u). */
  private intercepts: Float64Array = new Float64Array(4);
  private steps: Float64Array = new Float64Array(4);
  private maxCumL1: Float64Array = new Float64Array(4);
  /** Scratch: raw scores, then probabilities, of the classes (reused by learnOne). */
  private scratch: Float64Array = new Float64Array(4);
  private count = 0;

  constructor(options: SoftmaxOptions = {}) {
    const a = this.algorithm;
    const o = { ...SOFTMAX_DEFAULTS, ...options };
    this.options = {
      optimizer: checkOptimizer(a, o.optimizer),
      l2: nonNegative(a, 'l2', o.l2),
      l1: nonNegative(a, 'l1', o.l1),
      interceptLr: nonNegative(a, 'interceptLr', o.interceptLr),
      clipGradient: positive(a, 'clipGradient', o.clipGradient),
    };
    const c = checkClassOptions(a, options);
    this.set = new ClassSet(a, c.classes, c.maxClasses);
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
    for (let k = 0; k < this.set.size; k++) this.allocateClass();
  }

  get trainingCount(): number {
    return this.count;
  }

  classes(): readonly string[] {
    return this.set.list();
  }

  checkExample(y: string, weight: number): boolean {
    this.set.check(y);
    return checkWeight(this.algorithm, weight);
  }

  /** w_c·x + b_c for class c (columns never learned count as 0). */
  private raw(c: number, x: SparseVector): number {
    const w = this.weights[c]!;
    const n = this.dimension;
    const indices = x.indices;
    const values = x.values;
    let dot = 0;
    for (let k = 0; k < x.size; k++) {
      const i = indices[k]!;
      if (i < n) dot += w[i]! * values[k]!;
    }
    return dot + this.intercepts[c]!;
  }

  /** Softmax of the raw scores of classes [0, k) into out[0, k), as River's utils.math.softmax. */
  private probabilities(x: SparseVector, k: number, out: Float64Array): void {
    let max = -Infinity;
    for (let c = 0; c < k; c++) {
      const r = this.raw(c, x);
      out[c] = r;
      if (r > max) max = r;
    }
    let total = 0;
    for (let c = 0; c < k; c++) {
      const e = Math.exp(out[c]! - max);
      out[c] = e;
      total += e;
    }
    for (let c = 0; c < k; c++) out[c] = out[c]! / total;
  }

  predictProbaOne(x: SparseVector): Float64Array {
    const out = new Float64Array(this.set.size);
    this.probabilities(x, out.length, out);
    return out;
  }

  finiteOn(x: SparseVector): boolean {
    for (let c = 0; c < this.set.size; c++) if (!Number.isFinite(this.raw(c, x))) return false;
    return true;
  }

  learnOne(x: SparseVector, y: string, weight = 1): void {
    if (!this.checkExample(y, weight)) return;
    if (x.maxIndex >= this.dimension) this.grow(x.maxIndex + 1);
    // The probabilities of the classes known before this example (River predicts before it adds y).
    const known = this.set.size;
    this.probabilities(x, known, this.scratch);
    let target = this.set.indexOf(y);
    if (target < 0) {
      target = this.addClass(y);
      this.scratch[target] = 0;
    }
    // The loss gradients replace the probabilities in scratch: update() reads
    // its g there (a double argument would be boxed when the call is not inlined).
    const p = this.scratch;
    const clip = this.clip;
    for (let c = 0; c < this.set.size; c++) {
      const g = (Math.min(P_MAX, Math.max(P_MIN, p[c]!)) - (c === target ? 1 : 0)) * weight;
      p[c] = Math.max(-clip, Math.min(clip, g));
      this.update(c, x);
    }
    this.count++;
  }

  /** One optimizer step of class c on the columns of x for the loss gradient in scratch[c]. */
  private update(c: number, x: SparseVector): void {
    const g = this.scratch[c]!;
    const w = this.weights[c]!;
    const indices = x.indices;
    const values = x.values;
    const size = x.size;
    const l2 = this.l2;
    const lr = this.lr;
    if (this.kind === SGD) {
      for (let k = 0; k < size; k++) {
        const i = indices[k]!;
        w[i] = w[i]! - lr * (g * values[k]! + l2 * w[i]!);
      }
    } else if (this.kind === ADAGRAD) {
      const g2 = this.acc1[c]!;
      const eps = this.eps;
      for (let k = 0; k < size; k++) {
        const i = indices[k]!;
        const gi = g * values[k]! + l2 * w[i]!;
        g2[i] = g2[i]! + gi * gi;
        w[i] = w[i]! - (lr / Math.sqrt(g2[i]! + eps)) * gi;
      }
    } else {
      const m = this.acc1[c]!;
      const v = this.acc2[c]!;
      const { beta1, beta2, eps } = this;
      const t = this.steps[c]! + 1;
      const step = (lr * Math.sqrt(1 - beta2 ** t)) / (1 - beta1 ** t);
      for (let k = 0; k < size; k++) {
        const i = indices[k]!;
        const gi = g * values[k]! + l2 * w[i]!;
        m[i] = beta1 * m[i]! + (1 - beta1) * gi;
        v[i] = beta2 * v[i]! + (1 - beta2) * (gi * gi);
        w[i] = w[i]! - (step * m[i]!) / (Math.sqrt(v[i]!) + eps);
      }
    }
    this.intercepts[c] = this.intercepts[c]! - this.interceptLr * g;
    this.steps[c] = this.steps[c]! + 1;
    if (this.l1 > 0) this.applyL1(c, x);
  }

  /** Tsuruoka et al. (2009), per class: clip each weight at zero by the penalty it has not yet received. */
  private applyL1(c: number, x: SparseVector): void {
    this.maxCumL1[c] = this.maxCumL1[c]! + this.l1 * this.lr;
    const u = this.maxCumL1[c]!;
    const w = this.weights[c]!;
    const q = this.cumL1[c]!;
    for (let k = 0; k < x.size; k++) {
      const i = x.indices[k]!;
      const before = w[i]!;
      if (before > 0) w[i] = Math.max(0, before - (u + q[i]!));
      else if (before < 0) w[i] = Math.min(0, before + (u - q[i]!));
      q[i] = q[i]! + (w[i]! - before);
    }
  }

  private addClass(name: string): number {
    const c = this.set.add(name);
    this.allocateClass();
    return c;
  }

  /** The arrays of one more class (the set already holds it). */
  private allocateClass(): void {
    const n = this.set.size;
    this.scratch = ensureLength(this.scratch, n);
    this.intercepts = ensureLength(this.intercepts, n);
    this.steps = ensureLength(this.steps, n);
    this.maxCumL1 = ensureLength(this.maxCumL1, n);
    const d = this.dimension;
    this.weights.push(new Float64Array(d));
    if (this.kind !== SGD) this.acc1.push(new Float64Array(d));
    if (this.kind === ADAM) this.acc2.push(new Float64Array(d));
    if (this.l1 > 0) this.cumL1.push(new Float64Array(d));
  }

  private grow(dimension: number): void {
    const g = (arrays: Float64Array[]) => {
      for (let c = 0; c < arrays.length; c++) arrays[c] = ensureLength(arrays[c]!, dimension);
    };
    g(this.weights);
    g(this.acc1);
    g(this.acc2);
    g(this.cumL1);
    this.dimension = dimension;
  }

  /** Learned weights of each class by column, and the intercepts (copies). */
  coefficients(): { classes: readonly string[]; weights: Float64Array[]; intercepts: Float64Array } {
    return {
      classes: [...this.set.list()],
      weights: this.weights.map((w) => w.slice(0, this.dimension)),
      intercepts: this.intercepts.slice(0, this.set.size),
    };
  }

  clone(): SoftmaxRegression {
    return new SoftmaxRegression({ ...this.options, ...this.classOptions() });
  }

  private classOptions(): ClassOptions {
    return this.set.fixed === null ? { maxClasses: this.set.maxClasses } : { classes: this.set.fixed, maxClasses: this.set.maxClasses };
  }

  hyperparameters(): JsonObject {
    return { ...this.options, optimizer: { ...this.options.optimizer }, ...classHyperparameters(this.set.fixed, this.set.maxClasses) };
  }

  toSnapshot(): ModelSnapshotData {
    const k = this.set.size;
    const d = this.dimension;
    const flat = (arrays: Float64Array[]) => {
      const out = new Float64Array(arrays.length * d);
      arrays.forEach((a, c) => out.set(a.subarray(0, d), c * d));
      return encodeFloats(out);
    };
    const state: JsonObject = {
      classes: [...this.set.list()],
      dimension: d,
      weights: flat(this.weights),
      intercepts: encodeFloats(this.intercepts, k),
      steps: encodeFloats(this.steps, k),
      count: this.count,
    };
    if (this.kind === ADAGRAD) state['g2'] = flat(this.acc1);
    if (this.kind === ADAM) {
      state['m'] = flat(this.acc1);
      state['v'] = flat(this.acc2);
    }
    if (this.l1 > 0) {
      state['cumL1'] = flat(this.cumL1);
      state['maxCumL1'] = encodeFloats(this.maxCumL1, k);
    }
    return { algorithm: this.algorithm, version: SNAPSHOT_VERSION, hyperparameters: this.hyperparameters(), state };
  }

  restoreState(state: JsonObject): void {
    const r = new FieldReader(state, `${this.algorithm}.state`);
    const names = r.strings('classes');
    this.set.restore(names, `${r.path}.classes`);
    const k = names.length;
    const d = r.count('dimension');
    const split = (key: string) => {
      const flat = r.floats(key, k * d);
      return Array.from({ length: k }, (_, c) => flat.slice(c * d, (c + 1) * d));
    };
    const capacity = Math.max(k, 4);
    const scalars = (key: string) => {
      const out = new Float64Array(capacity);
      out.set(r.floats(key, k));
      return out;
    };
    this.weights = split('weights');
    this.intercepts = scalars('intercepts');
    this.steps = scalars('steps');
    this.count = r.count('count');
    this.acc1 = this.kind === ADAGRAD ? split('g2') : this.kind === ADAM ? split('m') : [];
    this.acc2 = this.kind === ADAM ? split('v') : [];
    this.cumL1 = this.l1 > 0 ? split('cumL1') : [];
    this.maxCumL1 = this.l1 > 0 ? scalars('maxCumL1') : new Float64Array(capacity);
    this.scratch = new Float64Array(capacity);
    this.dimension = d;
    if (this.steps.some((s) => !Number.isInteger(s) || s < 0)) throw new ModelError(`${r.path}.steps: expected non-negative integers`);
  }
}
