/**
 * Gaussian naive Bayes over any number of classes: naive-bayes.ts's binary
 * model generalised, and River's `naive_bayes.GaussianNB` figure for figure.
 *
 * Per class: the sum of example weights (the prior is weight_c / Σ weight,
 * summed in class order) and, per column, a weighted running mean and
 * population variance (Welford, River's `proba.Gaussian` with ddof 0).
 * Class c's joint log-likelihood is log(prior_c) + Σ log(1e-9 + pdf_c(x_i))
 * over the columns present in x, where pdf is 0 for a column the class has
 * not seen or whose variance is still 0; the probabilities are
 * exp(jll_c - logsumexp(jll)), the log-sum-exp computed as scipy 1.17 does
 * it (River's predict_proba_one calls scipy.special.logsumexp):
 * log1p(Σ_{c not max} e^(jll_c - max) / m) + log(m) + max, m the number of
 * classes at the max, the sum in numpy's pairwise order.
 *
 * As River: before any example there is no class (an empty prediction) and
 * a single class seen is certain. With `classes` given up front: uniform
 * before any example, and probability 0 for a class never learned. Sample
 * weights weigh the prior and the statistics (River's learn_one takes none).
 * Raw numeric features, not hashed columns (see naive-bayes.ts).
 */
import { encodeFloats, FieldReader, ModelError, SNAPSHOT_VERSION, type JsonObject, type ModelSnapshotData } from '../snapshot.js';
import { ensureLength, type SparseVector } from '../vector.js';
import { checkClassOptions, checkWeight, classHyperparameters, ClassSet, type ClassOptions, type MulticlassEstimator } from './model.js';

/** River's `_PDF_EPS` (written 10e-10 there). */
const PDF_EPS = 1e-9;
const SQRT_TAU = Math.sqrt(2 * Math.PI);

export type GaussianNBMulticlassOptions = ClassOptions;

export class GaussianNBMulticlass implements MulticlassEstimator {
  readonly algorithm = 'gaussian_nb_multiclass';
  readonly task = 'multiclass' as const;
  private readonly set: ClassSet;

  private dimension = 0;
  /** Sum of example weights per class. */
  private classWeight: Float64Array = new Float64Array(4);
  /** Per class, by column: weight seen, running mean, sum of squared deviations. */
  private n: Float64Array[] = [];
  private mean: Float64Array[] = [];
  private s: Float64Array[] = [];
  private count = 0;

  constructor(options: GaussianNBMulticlassOptions = {}) {
    const c = checkClassOptions(this.algorithm, options);
    this.set = new ClassSet(this.algorithm, c.classes, c.maxClasses);
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

  learnOne(x: SparseVector, y: string, weight = 1): void {
    if (!this.checkExample(y, weight)) return;
    if (x.maxIndex >= this.dimension) this.grow(x.maxIndex + 1);
    let c = this.set.indexOf(y);
    if (c < 0) {
      c = this.set.add(y);
      this.allocateClass();
    }
    this.classWeight[c] = this.classWeight[c]! + weight;
    const n = this.n[c]!;
    const mean = this.mean[c]!;
    const s = this.s[c]!;
    for (let k = 0; k < x.size; k++) {
      const i = x.indices[k]!;
      const v = x.values[k]!;
      n[i] = n[i]! + weight;
      const before = mean[i]!;
      mean[i] = before + (weight / n[i]!) * (v - before);
      s[i] = s[i]! + weight * (v - before) * (v - mean[i]!);
    }
    this.count++;
  }

  predictProbaOne(x: SparseVector): Float64Array {
    const k = this.set.size;
    const out = new Float64Array(k);
    let total = 0;
    for (let c = 0; c < k; c++) total += this.classWeight[c]!;
    if (total === 0) return out.fill(1 / k);
    // Joint log-likelihoods (-Infinity for a class never learned).
    for (let c = 0; c < k; c++) {
      const w = this.classWeight[c]!;
      out[c] = w > 0 ? Math.log(w / total) + this.logLikelihood(x, c) : -Infinity;
    }
    const lse = logSumExp(out);
    for (let c = 0; c < k; c++) out[c] = Math.exp(out[c]! - lse);
    return out;
  }

  private logLikelihood(x: SparseVector, c: number): number {
    const d = this.dimension;
    let sum = 0;
    for (let k = 0; k < x.size; k++) {
      const i = x.indices[k]!;
      sum += Math.log(PDF_EPS + (i < d ? this.pdf(c, i, x.values[k]!) : 0));
    }
    return sum;
  }

  private pdf(c: number, i: number, v: number): number {
    const n = this.n[c]![i]!;
    if (n > 0) {
      const variance = this.s[c]![i]! / n;
      if (variance > 0) {
        const sigma = Math.sqrt(variance);
        const t = (v - this.mean[c]![i]!) / sigma;
        return Math.exp(-0.5 * t * t) / SQRT_TAU / sigma;
      }
    }
    return 0;
  }

  finiteOn(x: SparseVector): boolean {
    return this.predictProbaOne(x).every(Number.isFinite);
  }

  private allocateClass(): void {
    const d = this.dimension;
    this.classWeight = ensureLength(this.classWeight, this.set.size);
    this.n.push(new Float64Array(d));
    this.mean.push(new Float64Array(d));
    this.s.push(new Float64Array(d));
  }

  private grow(dimension: number): void {
    for (const arrays of [this.n, this.mean, this.s]) {
      for (let c = 0; c < arrays.length; c++) arrays[c] = ensureLength(arrays[c]!, dimension);
    }
    this.dimension = dimension;
  }

  clone(): GaussianNBMulticlass {
    const fixed = this.set.fixed;
    return new GaussianNBMulticlass(fixed === null ? { maxClasses: this.set.maxClasses } : { classes: fixed, maxClasses: this.set.maxClasses });
  }

  hyperparameters(): JsonObject {
    return classHyperparameters(this.set.fixed, this.set.maxClasses);
  }

  toSnapshot(): ModelSnapshotData {
    const d = this.dimension;
    const flat = (arrays: Float64Array[]) => {
      const out = new Float64Array(arrays.length * d);
      arrays.forEach((a, c) => out.set(a.subarray(0, d), c * d));
      return encodeFloats(out);
    };
    return {
      algorithm: this.algorithm,
      version: SNAPSHOT_VERSION,
      hyperparameters: this.hyperparameters(),
      state: {
        classes: [...this.set.list()],
        dimension: d,
        classWeight: encodeFloats(this.classWeight, this.set.size),
        n: flat(this.n),
        mean: flat(this.mean),
        s: flat(this.s),
        count: this.count,
      },
    };
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
    this.classWeight = ensureLength(r.floats('classWeight', k), Math.max(k, 1));
    if (this.classWeight.subarray(0, k).some((w) => !(w >= 0))) throw new ModelError(`${r.path}.classWeight: expected weights >= 0`);
    this.n = split('n');
    this.mean = split('mean');
    this.s = split('s');
    this.count = r.count('count');
    this.dimension = d;
  }
}

/**
 * scipy.special.logsumexp (1.17) of a 1-D array: the max terms separated
 * out, the rest summed as numpy sums (pairwise, 8 accumulators from 8
 * terms up; exact below 8), then log1p. Falls back to log(Σ e^a) when that
 * is not finite, as scipy does.
 */
export function logSumExp(a: Float64Array): number {
  let max = -Infinity;
  for (let i = 0; i < a.length; i++) if (a[i]! > max) max = a[i]!;
  let m = 0;
  const shifted = new Float64Array(a.length);
  for (let i = 0; i < a.length; i++) {
    if (a[i] === max) m++;
    else shifted[i] = Math.exp(a[i]! - max);
  }
  let s = numpySum(shifted);
  if (s !== 0) s /= m;
  const out = Math.log1p(s) + Math.log(m) + max;
  if (Number.isFinite(out)) return out;
  let direct = 0;
  for (let i = 0; i < a.length; i++) direct += Math.exp(a[i]!);
  return Math.log(direct);
}

/** numpy's pairwise sum of a contiguous float64 array (pairwise_sum in numpy/_core/src/umath/loops_utils.h). */
function numpySum(a: Float64Array, from = 0, n = a.length): number {
  if (n < 8) {
    let res = -0;
    for (let i = 0; i < n; i++) res += a[from + i]!;
    return res;
  }
  if (n <= 128) {
    const r = new Float64Array(8);
    for (let j = 0; j < 8; j++) r[j] = a[from + j]!;
    let i = 8;
    for (; i < n - (n % 8); i += 8) for (let j = 0; j < 8; j++) r[j] = r[j]! + a[from + i + j]!;
    let res = r[0]! + r[1]! + (r[2]! + r[3]!) + (r[4]! + r[5]! + (r[6]! + r[7]!));
    for (; i < n; i++) res += a[from + i]!;
    return res;
  }
  let half = Math.floor(n / 2);
  half -= half % 8;
  return numpySum(a, from, half) + numpySum(a, from + half, n - half);
}
