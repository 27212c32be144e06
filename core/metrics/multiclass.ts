/**
 * Multi-class classification metrics over a fixed, ordered class list, from
 * one mergeable state: a weighted confusion matrix (row = true class, column =
 * predicted class), a weighted count of rejections per predicted class, and
 * three sums (log loss, Brier, top-k hits). update and revert add and
 * subtract the same weights (a revert is an update of negative weight), and
 * allocate nothing (bench/class-metrics.ts: about 0.1 µs a call at 7
 * classes, a few µs at 256, no garbage collection). merge adds another
 * instance's state: the metric of two halves merged is the metric of the
 * whole.
 *
 * An observation gives the true class's index (`label`), the decided class's
 * (`predicted`), one probability per class and a weight (default 1, finite,
 * not negative). Every figure equals scikit-learn 1.9.1's on the same
 * examples and weights (test/integration/metrics-reference.test.ts):
 * - accuracy: weight of right decisions / count (accuracy_score);
 * - per class precision, recall, F1, support and their macro, micro and
 *   weighted averages: precision_recall_fscore_support with
 *   labels = the classes and zero_division=np.nan, our null for its NaN
 *   (averages.ts: macro and weighted leave null classes out);
 * - log_loss: mean of −ln p(true class), p clipped to [ε, 1 − ε] with ε the
 *   double's machine epsilon 2^−52, as log_loss does (the probabilities are
 *   not renormalised; the binary metrics clip at 1e-15 instead);
 * - brier: brier_score_loss(labels = the classes) with its default
 *   scale_by_half="auto": mean of Σ_k (p_k − y_k)² (y one-hot of the true
 *   class), in [0, 2], for 3 classes or more; half of it (in [0, 1], equal to
 *   the binary Brier of the second class) for 2 classes;
 * - top_k_accuracy: weight of examples whose true class is among the k most
 *   probable / their weight (top_k_accuracy_score's multi-class rule, for any
 *   number of classes): the true class c ranks #{j : p_j > p_c} +
 *   #{j > c : p_j = p_c} (among equal probabilities the later class ranks
 *   first) and is a hit when that rank is below k, so k ≥ the class count
 *   always hits (sklearn's 2-class branch differs only at k = 1 with p = 0.5);
 * - cohen_kappa: cohen_kappa_score(labels = the classes), from the matrix:
 *   1 − Σ_{i≠j} C_ij / Σ_{i≠j} E_ij with E_ij = colsum_i · rowsum_j / N.
 *
 * Rejections: `label` = −1 says the true class is unknown but is not the
 * predicted one (a user rejected the decision without naming the right
 * class). A rejection counts in exactly these places and nowhere else:
 * - `count` (it is an example) and `accuracy` (as a wrong decision);
 * - the predicted class's precision, as a false positive (so also that
 *   class's F1, = 2 tp / (support + predicted), and the macro, weighted and
 *   micro precision and F1 averages built from them; micro precision's
 *   denominator is every decision, rejections included).
 * It is not in the confusion matrix, any support, recall, log loss, Brier,
 * top-k accuracy or kappa: those divide by the weight of the examples whose
 * true class is known (count − rejected). This is what scikit-learn gives
 * when a rejection's true class is an extra class left out of `labels`
 * (the reference does exactly that).
 *
 * A ratio with a zero denominator is null, never 0.
 */
import { StateMismatchError } from '../errors.js';
import { classFigures, type ClassFigures } from './averages.js';
import { checkProbabilities, checkWeight, classList, sameClasses } from './class-list.js';
import { ratio, type Metric } from './metric.js';

/** scikit-learn's clip for log loss: the machine epsilon of a double. */
export const MULTICLASS_LOG_LOSS_EPSILON = Number.EPSILON;

export interface MulticlassObservation {
  /** index of the true class in `classes`, or -1 when only "not `predicted`" is known (a rejection without the right class). */
  label: number;
  /** index of the decided class. */
  predicted: number;
  /** probability per class, by class index (length = classes.length). */
  probabilities: ArrayLike<number>;
  weight?: number;
}

export interface MulticlassMetricsOptions {
  /** k of top_k_accuracy, a positive integer. Default 3. */
  topK?: number;
}

export interface MulticlassFigures extends ClassFigures {
  classes: readonly string[];
  /** Weight of every example, rejections included. */
  count: number;
  /** Weight of the rejections (true class unknown, decision wrong). */
  rejected: number;
  accuracy: number | null;
  log_loss: number | null;
  brier: number | null;
  top_k: number;
  top_k_accuracy: number | null;
  cohen_kappa: number | null;
}

/** A MulticlassMetrics' state, with the classes and k it was built with (checked on restore and merge). */
export interface MulticlassMetricsState {
  kind: 'multiclass';
  classes: string[];
  topK: number;
  /** Row-major, classes² weights: row = true class, column = predicted. */
  confusion: Float64Array;
  /** Per predicted class: weight of the rejections. */
  rejected: Float64Array;
  logLossSum: number;
  brierSum: number;
  topKHits: number;
}

export class MulticlassMetrics implements Metric<MulticlassObservation, MulticlassFigures> {
  readonly classes: readonly string[];
  readonly topK: number;
  private readonly counts: Float64Array;
  private readonly rejections: Float64Array;
  private logLossSum = 0;
  private brierSum = 0;
  private topKHits = 0;

  constructor(classes: readonly string[], options: MulticlassMetricsOptions = {}) {
    const { topK = 3 } = options;
    if (!Number.isInteger(topK) || topK < 1) throw new RangeError(`MulticlassMetrics: topK must be a positive integer, got ${topK}`);
    this.classes = classList('MulticlassMetrics', classes);
    this.topK = topK;
    this.counts = new Float64Array(this.classes.length * this.classes.length);
    this.rejections = new Float64Array(this.classes.length);
  }

  update(o: MulticlassObservation): void {
    this.add(o, 1);
  }

  revert(o: MulticlassObservation): void {
    this.add(o, -1);
  }

  /** Could `o` have been added (its confusion cell, or its rejection count, holds its weight)? Reverting one that was not would drive counts negative. */
  holds(o: MulticlassObservation): boolean {
    this.check(o);
    const w = o.weight ?? 1;
    if (o.label === -1) return this.rejections[o.predicted]! >= w;
    return this.counts[o.label * this.classes.length + o.predicted]! >= w;
  }

  /** Throws a RangeError (before any change) unless `o` fits the classes. */
  private check(o: MulticlassObservation): void {
    const k = this.classes.length;
    if (!Number.isInteger(o.label) || o.label < -1 || o.label >= k) throw new RangeError(`MulticlassMetrics: label ${o.label} is not a class index (or -1)`);
    if (!Number.isInteger(o.predicted) || o.predicted < 0 || o.predicted >= k) throw new RangeError(`MulticlassMetrics: predicted ${o.predicted} is not a class index`);
    checkWeight('MulticlassMetrics', o.weight ?? 1);
    checkProbabilities('MulticlassMetrics', o.probabilities, k);
  }

  /** Adds `o` with its weight times `sign` (1: update, -1: revert). Only small integers cross a call, so no number is boxed: no allocation. */
  private add(o: MulticlassObservation, sign: 1 | -1): void {
    this.check(o);
    const w = sign * (o.weight ?? 1);
    if (o.label === -1) {
      this.rejections[o.predicted] = this.rejections[o.predicted]! + w;
      return;
    }
    const k = this.classes.length;
    const cell = o.label * k + o.predicted;
    this.counts[cell] = this.counts[cell]! + w;
    const p = o.probabilities;
    const truth = Math.min(1 - MULTICLASS_LOG_LOSS_EPSILON, Math.max(MULTICLASS_LOG_LOSS_EPSILON, p[o.label]!));
    this.logLossSum += w * -Math.log(truth);
    let squares = 0;
    for (let j = 0; j < k; j++) {
      const d = (j === o.label ? 1 : 0) - p[j]!;
      squares += d * d;
    }
    this.brierSum += w * squares;
    if (rankOf(p, o.label) < this.topK) this.topKHits += w;
  }

  get(): MulticlassFigures {
    const k = this.classes.length;
    const tp = new Float64Array(k);
    const truth = new Float64Array(k);
    const predictedKnown = new Float64Array(k);
    let right = 0;
    let known = 0;
    for (let t = 0; t < k; t++) {
      for (let c = 0; c < k; c++) {
        const n = this.counts[t * k + c]!;
        truth[t] = truth[t]! + n;
        predictedKnown[c] = predictedKnown[c]! + n;
        known += n;
      }
      tp[t] = this.counts[t * k + t]!;
      right += tp[t]!;
    }
    const predicted = new Float64Array(k);
    let rejected = 0;
    for (let c = 0; c < k; c++) {
      predicted[c] = predictedKnown[c]! + this.rejections[c]!;
      rejected += this.rejections[c]!;
    }
    const count = known + rejected;
    return {
      classes: this.classes,
      count,
      rejected,
      accuracy: ratio(right, count),
      ...classFigures(tp, predicted, truth),
      log_loss: ratio(this.logLossSum, known),
      brier: this.brier(known),
      top_k: this.topK,
      top_k_accuracy: ratio(this.topKHits, known),
      cohen_kappa: this.kappa(predictedKnown, truth, known),
    };
  }

  private brier(known: number): number | null {
    const mean = ratio(this.brierSum, known);
    return mean !== null && this.classes.length === 2 ? mean / 2 : mean;
  }

  /** Cohen's kappa of the confusion matrix (rejections left out), from its column sums (predicted) and row sums (truth). */
  private kappa(predicted: Float64Array, truth: Float64Array, known: number): number | null {
    if (known === 0) return null;
    const k = this.classes.length;
    let observed = 0;
    let expected = 0;
    for (let i = 0; i < k; i++) {
      for (let j = 0; j < k; j++) {
        if (i === j) continue;
        observed += this.counts[j * k + i]!;
        expected += (predicted[i]! * truth[j]!) / known;
      }
    }
    return expected === 0 ? null : 1 - observed / expected;
  }

  /** The weighted confusion matrix (row = true class, column = predicted) and rejections per predicted class: copies. */
  confusion(): { classes: readonly string[]; counts: Float64Array; rejected: Float64Array } {
    return { classes: this.classes, counts: this.counts.slice(), rejected: this.rejections.slice() };
  }

  /** Adds another instance's observations (same classes and k, else a StateMismatchError). */
  merge(other: MulticlassMetrics): void {
    checkSame(this, other.classes, other.topK);
    for (let i = 0; i < this.counts.length; i++) this.counts[i] = this.counts[i]! + other.counts[i]!;
    for (let i = 0; i < this.rejections.length; i++) this.rejections[i] = this.rejections[i]! + other.rejections[i]!;
    this.logLossSum += other.logLossSum;
    this.brierSum += other.brierSum;
    this.topKHits += other.topKHits;
  }

  clone(): MulticlassMetrics {
    return new MulticlassMetrics(this.classes, { topK: this.topK });
  }

  toState(): MulticlassMetricsState {
    const { logLossSum, brierSum, topKHits } = this;
    return {
      kind: 'multiclass',
      classes: this.classes.slice(),
      topK: this.topK,
      confusion: this.counts.slice(),
      rejected: this.rejections.slice(),
      logLossSum,
      brierSum,
      topKHits,
    };
  }

  /** The metrics of a state, with the constructor's settings; throws a StateMismatchError where the state does not fit them. */
  static fromState(state: MulticlassMetricsState, classes: readonly string[], options: MulticlassMetricsOptions = {}): MulticlassMetrics {
    if (state.kind !== 'multiclass') throw new StateMismatchError('the model task', `a ${String(state.kind)} state restored as multiclass metrics`);
    const metrics = new MulticlassMetrics(classes, options);
    checkSame(metrics, state.classes, state.topK);
    const k = metrics.classes.length;
    if (state.confusion.length !== k * k || state.rejected.length !== k) throw new StateMismatchError('classes', `a state of ${state.rejected.length} classes' counts for ${k} classes`);
    metrics.counts.set(state.confusion);
    metrics.rejections.set(state.rejected);
    metrics.logLossSum = state.logLossSum;
    metrics.brierSum = state.brierSum;
    metrics.topKHits = state.topKHits;
    return metrics;
  }
}

/** Throws a StateMismatchError unless `classes` and `topK` are those of `metrics`. */
function checkSame(metrics: MulticlassMetrics, classes: readonly string[], topK: number): void {
  if (!sameClasses(metrics.classes, classes)) throw new StateMismatchError('classes', `[${classes.join(', ')}] against [${metrics.classes.join(', ')}]`);
  if (topK !== metrics.topK) throw new StateMismatchError('topK', `${topK} against ${metrics.topK}`);
}

/** The rank (0 = first) of class c by descending probability, a later class first among equal ones (sklearn's stable argsort, reversed). */
function rankOf(p: ArrayLike<number>, c: number): number {
  const pc = p[c]!;
  let rank = 0;
  for (let j = 0; j < p.length; j++) {
    if (p[j]! > pc || (j > c && p[j] === pc)) rank++;
  }
  return rank;
}
