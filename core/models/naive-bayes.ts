/**
 * Gaussian naive Bayes for a binary label: per class, a weighted running
 * mean and variance of every column (Welford, population variance), and the
 * class weights as the prior. River's `naive_bayes.GaussianNB`, figure for
 * figure: each column present in x adds log(1e-9 + pdf) to a class's joint
 * log-likelihood, where pdf is 0 for a column the class has not seen or
 * whose variance is still 0; P(y = 1) is the softmax of the two.
 *
 * Before any example the prediction is 0.5; while only one class has been
 * seen it is 1 or 0 (that class is certain — River returns the same
 * one-class distribution). Sample weights weigh the prior and the
 * statistics (River's learn_one takes none).
 *
 * Unlike the linear models, naive Bayes reads each column as a quantity
 * with a distribution per class; it fits raw numeric features (scaling
 * changes nothing but the numbers) and is not meant for hashed columns.
 */
import { checkExample, type Estimator } from './model.js';
import { encodeFloats, FieldReader, SNAPSHOT_VERSION, type JsonObject, type ModelSnapshotData } from './snapshot.js';
import { ensureLength, type SparseVector } from './vector.js';

/** River's `_PDF_EPS` (written 10e-10 there). */
const PDF_EPS = 1e-9;
const SQRT_TAU = Math.sqrt(2 * Math.PI);

export class GaussianNB implements Estimator {
  readonly algorithm = 'gaussian_nb';
  readonly task = 'binary' as const;

  private dimension = 0;
  /** Sum of weights per class [class 0, class 1]. */
  private readonly classWeight = new Float64Array(2);
  /** Per column and class, at 2·column + class: weight seen, running mean, sum of squared deviations. */
  private n: Float64Array = new Float64Array(0);
  private mean: Float64Array = new Float64Array(0);
  private s: Float64Array = new Float64Array(0);
  private count = 0;

  get trainingCount(): number {
    return this.count;
  }

  learnOne(x: SparseVector, y: number, weight = 1): void {
    if (!checkExample(this.algorithm, this.task, y, weight)) return;
    if (x.maxIndex >= this.dimension) this.grow(x.maxIndex + 1);
    this.classWeight[y] = this.classWeight[y]! + weight;
    const { n, mean, s } = this;
    for (let k = 0; k < x.size; k++) {
      const j = 2 * x.indices[k]! + y;
      const v = x.values[k]!;
      n[j] = n[j]! + weight;
      const before = mean[j]!;
      mean[j] = before + (weight / n[j]!) * (v - before);
      s[j] = s[j]! + weight * (v - before) * (v - mean[j]!);
    }
    this.count++;
  }

  predictOne(x: SparseVector): number {
    const w0 = this.classWeight[0]!;
    const w1 = this.classWeight[1]!;
    if (w0 === 0 && w1 === 0) return 0.5;
    if (w1 === 0) return 0;
    if (w0 === 0) return 1;
    const total = w0 + w1;
    const j0 = Math.log(w0 / total) + this.logLikelihood(x, 0);
    const j1 = Math.log(w1 / total) + this.logLikelihood(x, 1);
    // log-sum-exp as scipy computes it (max + log of the shifted sum).
    const m = Math.max(j0, j1);
    const lse = m + Math.log(Math.exp(j0 - m) + Math.exp(j1 - m));
    return Math.exp(j1 - lse);
  }

  private logLikelihood(x: SparseVector, c: number): number {
    const d = this.dimension;
    let sum = 0;
    for (let k = 0; k < x.size; k++) {
      const i = x.indices[k]!;
      sum += Math.log(PDF_EPS + (i < d ? this.pdf(2 * i + c, x.values[k]!) : 0));
    }
    return sum;
  }

  private pdf(j: number, v: number): number {
    const n = this.n[j]!;
    if (n > 0) {
      const variance = this.s[j]! / n;
      if (variance > 0) {
        const sigma = Math.sqrt(variance);
        const t = (v - this.mean[j]!) / sigma;
        return Math.exp(-0.5 * t * t) / SQRT_TAU / sigma;
      }
    }
    return 0;
  }

  private grow(dimension: number): void {
    this.n = ensureLength(this.n, 2 * dimension);
    this.mean = ensureLength(this.mean, 2 * dimension);
    this.s = ensureLength(this.s, 2 * dimension);
    this.dimension = dimension;
  }

  clone(): GaussianNB {
    return new GaussianNB();
  }

  hyperparameters(): JsonObject {
    return {};
  }

  toSnapshot(): ModelSnapshotData {
    const d = 2 * this.dimension;
    return {
      algorithm: this.algorithm,
      version: SNAPSHOT_VERSION,
      hyperparameters: {},
      state: {
        dimension: this.dimension,
        classWeight: encodeFloats(this.classWeight),
        n: encodeFloats(this.n, d),
        mean: encodeFloats(this.mean, d),
        s: encodeFloats(this.s, d),
        count: this.count,
      },
    };
  }

  restoreState(state: JsonObject): void {
    const r = new FieldReader(state, `${this.algorithm}.state`);
    const d = r.count('dimension');
    this.classWeight.set(r.floats('classWeight', 2));
    this.n = r.floats('n', 2 * d);
    this.mean = r.floats('mean', 2 * d);
    this.s = r.floats('s', 2 * d);
    this.count = r.count('count');
    this.dimension = d;
  }
}
