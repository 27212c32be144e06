/**
 * Multi-label classification metrics over a fixed, ordered label list, from
 * one mergeable state: per label the weights of true and false positives and
 * negatives, and running sums per example (exact matches, wrong labels, log
 * loss, and the per-example ratios of the "samples" averages). update and
 * revert add and subtract the same weights (a revert is an update of negative
 * weight) and allocate nothing; merge adds another instance's state.
 *
 * An observation gives the true set and the decided set (0/1 per label), a
 * probability per label (independent) and a weight (default 1, finite, not
 * negative). Every figure equals scikit-learn 1.9.1's on the same indicator
 * matrices and weights (test/integration/metrics-reference.test.ts), our null
 * for its NaN:
 * - per label precision, recall, F1, support and their macro, micro and
 *   weighted averages: precision_recall_fscore_support(zero_division=np.nan)
 *   (averages.ts);
 * - samples_precision / _recall / _f1: the same with average="samples": per
 *   example |T∩D|/|D|, |T∩D|/|T|, 2|T∩D|/(|T|+|D|) (T true set, D decided
 *   set), each averaged by weight over the examples where it is defined (an
 *   example with no decided label has no precision, and so on);
 * - hamming_loss: weight of wrong (example, label) pairs / (count · labels);
 * - subset_accuracy: weight of examples whose decided set is exactly the true
 *   set / count (accuracy_score on indicator matrices);
 * - jaccard: |T∩D|/|T∪D| averaged over examples by weight, an example with
 *   both sets empty counting 1 (jaccard_score(average="samples",
 *   zero_division=1): empty equals empty);
 * - log_loss: the mean over labels of each label's binary log loss, −ln p
 *   when the label applies and −ln(1 − p) when not, p and 1 − p clipped to
 *   [ε, 1 − ε] with ε = 2^−52: the mean over l of
 *   log_loss(Y[:, l], P[:, l], labels=[0, 1]) (not log_loss(Y, P), which on
 *   indicator matrices sums −ln p over the true labels only).
 *
 * A ratio with a zero denominator is null, never 0.
 */
import { StateMismatchError } from '../errors.js';
import { classFigures, type ClassFigures } from './averages.js';
import { checkProbabilities, checkWeight, classList, sameClasses } from './class-list.js';
import { ratio, type Metric } from './metric.js';
import { MULTICLASS_LOG_LOSS_EPSILON as EPSILON } from './multiclass.js';

export interface MultilabelObservation {
  /** 0/1 per label: the true set. */
  labels: Uint8Array;
  /** 0/1 per label: the decided set. */
  predicted: Uint8Array;
  /** Probability per label that it applies (length = labels). */
  probabilities: ArrayLike<number>;
  weight?: number;
}

export interface MultilabelFigures extends ClassFigures {
  labels: readonly string[];
  /** Weight of every example. */
  count: number;
  samples_precision: number | null;
  samples_recall: number | null;
  samples_f1: number | null;
  hamming_loss: number | null;
  subset_accuracy: number | null;
  jaccard: number | null;
  log_loss: number | null;
}

/** Per-example sums: Σw, exact matches, wrong pairs, log loss and the samples averages' numerators and weights. */
export const MULTILABEL_SUMS = ['count', 'exact', 'wrong', 'logLoss', 'precision', 'precisionWeight', 'recall', 'recallWeight', 'f1', 'f1Weight', 'jaccard'] as const;
const SUMS = MULTILABEL_SUMS;
type SumName = (typeof SUMS)[number];
/** Index of each sum in the state's array (so update allocates nothing and looks nothing up). */
const [COUNT, EXACT, WRONG, LOG_LOSS, PRECISION, PRECISION_WEIGHT, RECALL, RECALL_WEIGHT, F1, F1_WEIGHT, JACCARD] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10] as const;

/** A MultilabelMetrics' state, with the labels it was built with (checked on restore and merge). */
export interface MultilabelMetricsState {
  kind: 'multilabel';
  labels: string[];
  tp: Float64Array;
  fp: Float64Array;
  fn: Float64Array;
  tn: Float64Array;
  sums: Record<SumName, number>;
}

export class MultilabelMetrics implements Metric<MultilabelObservation, MultilabelFigures> {
  readonly labels: readonly string[];
  private readonly tp: Float64Array;
  private readonly fp: Float64Array;
  private readonly fn: Float64Array;
  private readonly tn: Float64Array;
  /** The per-example sums, by SUMS index. */
  private readonly sums = new Float64Array(SUMS.length);

  constructor(labels: readonly string[]) {
    this.labels = classList('MultilabelMetrics', labels);
    const n = this.labels.length;
    this.tp = new Float64Array(n);
    this.fp = new Float64Array(n);
    this.fn = new Float64Array(n);
    this.tn = new Float64Array(n);
  }

  update(o: MultilabelObservation): void {
    this.add(o, 1);
  }

  revert(o: MultilabelObservation): void {
    this.add(o, -1);
  }

  /** Could `o` have been added (each label's cell holds its weight)? */
  holds(o: MultilabelObservation): boolean {
    this.check(o);
    const w = o.weight ?? 1;
    for (let l = 0; l < this.labels.length; l++) if (this.cell(o.labels[l]!, o.predicted[l]!)[l]! < w) return false;
    return true;
  }

  private cell(truth: number, decided: number): Float64Array {
    if (truth === 1) return decided === 1 ? this.tp : this.fn;
    return decided === 1 ? this.fp : this.tn;
  }

  /** Throws a RangeError (before any change) unless `o` fits the labels. */
  private check(o: MultilabelObservation): void {
    const n = this.labels.length;
    if (o.labels.length !== n || o.predicted.length !== n) throw new RangeError(`MultilabelMetrics: ${o.labels.length} true and ${o.predicted.length} decided flags for ${n} labels`);
    for (let l = 0; l < n; l++) {
      if (o.labels[l]! > 1 || o.predicted[l]! > 1) throw new RangeError(`MultilabelMetrics: label ${l} is flagged ${o.labels[l]}/${o.predicted[l]}, not 0 or 1`);
    }
    checkWeight('MultilabelMetrics', o.weight ?? 1);
    checkProbabilities('MultilabelMetrics', o.probabilities, n);
  }

  /** Adds `o` with its weight times `sign` (1: update, -1: revert). Only small integers cross a call, so nothing is boxed: no allocation. */
  private add(o: MultilabelObservation, sign: 1 | -1): void {
    this.check(o);
    const w = sign * (o.weight ?? 1);
    const sums = this.sums;
    let both = 0;
    let truths = 0;
    let decided = 0;
    for (let l = 0; l < this.labels.length; l++) {
      const t = o.labels[l]!;
      const d = o.predicted[l]!;
      const cell = this.cell(t, d);
      cell[l] = cell[l]! + w;
      both += t & d;
      truths += t;
      decided += d;
      const p = o.probabilities[l]!;
      sums[LOG_LOSS] = sums[LOG_LOSS]! - w * Math.log(clip(t === 1 ? p : 1 - p));
    }
    this.addExample(o, sign, both, truths, decided);
  }

  /** The per-example sums of `o` (weight times `sign`), which has `both` labels true and decided, `truths` true and `decided` decided. */
  private addExample(o: MultilabelObservation, sign: 1 | -1, both: number, truths: number, decided: number): void {
    const w = sign * (o.weight ?? 1);
    const sums = this.sums;
    const wrong = truths + decided - 2 * both;
    const union = truths + decided - both;
    sums[COUNT] = sums[COUNT]! + w;
    if (wrong === 0) sums[EXACT] = sums[EXACT]! + w;
    sums[WRONG] = sums[WRONG]! + w * wrong;
    if (decided > 0) {
      sums[PRECISION] = sums[PRECISION]! + (w * both) / decided;
      sums[PRECISION_WEIGHT] = sums[PRECISION_WEIGHT]! + w;
    }
    if (truths > 0) {
      sums[RECALL] = sums[RECALL]! + (w * both) / truths;
      sums[RECALL_WEIGHT] = sums[RECALL_WEIGHT]! + w;
    }
    if (truths + decided > 0) {
      sums[F1] = sums[F1]! + (w * 2 * both) / (truths + decided);
      sums[F1_WEIGHT] = sums[F1_WEIGHT]! + w;
    }
    sums[JACCARD] = sums[JACCARD]! + (union === 0 ? w : (w * both) / union);
  }

  private sum(name: SumName): number {
    return this.sums[SUMS.indexOf(name)]!;
  }

  get(): MultilabelFigures {
    const n = this.labels.length;
    const predicted = new Float64Array(n);
    const truth = new Float64Array(n);
    for (let l = 0; l < n; l++) {
      predicted[l] = this.tp[l]! + this.fp[l]!;
      truth[l] = this.tp[l]! + this.fn[l]!;
    }
    const count = this.sum('count');
    return {
      labels: this.labels,
      count,
      ...classFigures(this.tp, predicted, truth),
      samples_precision: ratio(this.sum('precision'), this.sum('precisionWeight')),
      samples_recall: ratio(this.sum('recall'), this.sum('recallWeight')),
      samples_f1: ratio(this.sum('f1'), this.sum('f1Weight')),
      hamming_loss: ratio(this.sum('wrong'), count * n),
      subset_accuracy: ratio(this.sum('exact'), count),
      jaccard: ratio(this.sum('jaccard'), count),
      log_loss: ratio(this.sum('logLoss'), count * n),
    };
  }

  /** Per label, the weights of true and false positives and negatives: copies. */
  confusion(): { labels: readonly string[]; tp: Float64Array; fp: Float64Array; fn: Float64Array; tn: Float64Array } {
    return { labels: this.labels, tp: this.tp.slice(), fp: this.fp.slice(), fn: this.fn.slice(), tn: this.tn.slice() };
  }

  /** Adds another instance's observations (same labels, else a StateMismatchError). */
  merge(other: MultilabelMetrics): void {
    checkSame(this, other.labels);
    for (const [mine, theirs] of [[this.tp, other.tp], [this.fp, other.fp], [this.fn, other.fn], [this.tn, other.tn], [this.sums, other.sums]] as const) {
      for (let i = 0; i < mine.length; i++) mine[i] = mine[i]! + theirs[i]!;
    }
  }

  clone(): MultilabelMetrics {
    return new MultilabelMetrics(this.labels);
  }

  toState(): MultilabelMetricsState {
    const sums = Object.create(null) as Record<SumName, number>;
    for (const name of SUMS) sums[name] = this.sum(name);
    return { kind: 'multilabel', labels: this.labels.slice(), tp: this.tp.slice(), fp: this.fp.slice(), fn: this.fn.slice(), tn: this.tn.slice(), sums };
  }

  /** The metrics of a state, for `labels`; throws a StateMismatchError where the state does not fit them. */
  static fromState(state: MultilabelMetricsState, labels: readonly string[]): MultilabelMetrics {
    if (state.kind !== 'multilabel') throw new StateMismatchError('the model task', `a ${String(state.kind)} state restored as multilabel metrics`);
    const metrics = new MultilabelMetrics(labels);
    checkSame(metrics, state.labels);
    const n = metrics.labels.length;
    if ([state.tp, state.fp, state.fn, state.tn].some((a) => a.length !== n)) throw new StateMismatchError('classes', `per-label counts of another length than ${n} labels`);
    metrics.tp.set(state.tp);
    metrics.fp.set(state.fp);
    metrics.fn.set(state.fn);
    metrics.tn.set(state.tn);
    SUMS.forEach((name, i) => {
      const value = state.sums[name];
      if (typeof value !== 'number') throw new StateMismatchError('the model task', `the multilabel state has no ${name} sum`);
      metrics.sums[i] = value;
    });
    return metrics;
  }
}

/** Throws a StateMismatchError unless `labels` are those of `metrics`. */
function checkSame(metrics: MultilabelMetrics, labels: readonly string[]): void {
  if (!sameClasses(metrics.labels, labels)) throw new StateMismatchError('classes', `[${labels.join(', ')}] against [${metrics.labels.join(', ')}]`);
}

function clip(p: number): number {
  return Math.min(1 - EPSILON, Math.max(EPSILON, p));
}
