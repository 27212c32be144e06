/**
 * Binary classification metrics from one shared state: weighted confusion
 * counts at the threshold, log-loss and Brier sums, per-score counts (for
 * ROC AUC and average precision) and calibration bins. Every part supports
 * revert.
 *
 * Definitions (tested against scikit-learn): predicted positive is
 * score >= threshold; log loss clips probabilities to [1e-15, 1 - 1e-15];
 * ROC AUC is the probability that a random positive scores above a random
 * negative, ties counting one half; PR AUC is average precision
 * (sklearn.metrics.average_precision_score); ECE uses equal-width bins over
 * [0, 1] (a score of exactly 1 falls in the last bin) and weighs each bin's
 * |mean score - fraction positive| by its share of the observations.
 *
 * The per-score counts for the two AUCs have two modes:
 * - exact (the default, and the start of every metric): the distinct scores
 *   in ascending order with the positive and negative weight at each
 *   (exact-scores.ts). Both AUCs are exact, but the arrays grow with the
 *   number of distinct scores.
 * - binned: when a new score would make the exact counts hold more than
 *   `maxDistinctScores` distinct scores, the metric switches once and for
 *   good to `scoreBins` equal-width bins over [0, 1] (scores outside [0, 1]
 *   clamp to the first or last bin, a score of exactly 1 is in the last). The
 *   exact counts are folded into their bins and from then on update and revert
 *   add to and subtract from bins, so a revert of an observation added before
 *   the switch still undoes it exactly. The switch depends only on the
 *   sequence of updates and reverts (it is deterministic) and memory stays at
 *   2 * scoreBins counts (counts.ts: a byte each while they are integers up to
 *   255, wider only when a count needs it). ROC AUC counts the pairs within one bin as ties
 *   (one half); average precision takes each bin as one threshold.
 *
 * Every other figure is the same in both modes. `approximate` tells the mode,
 * and `roc_auc_error_bound` bounds |reported ROC AUC - exact ROC AUC|: 0 when
 * exact; when binned, within bin b the exact AUC credits its pos_b * neg_b
 * pairs with somewhere in [0, pos_b * neg_b] while the binned AUC credits half,
 * and pairs in different bins are ordered alike, so the bound is
 * 0.5 * sum_b pos_b * neg_b / (P * N). It is computed from the bins (null when
 * the AUC is null). Average precision has no such bound; it is typically
 * within a few thousandths with 1,000 bins (see test/unit/metrics-binned.test.ts).
 */
import { StateMismatchError } from '../errors.js';
import { Counts } from './counts.js';
import { ExactScores } from './exact-scores.js';
import { ratio, type BinaryObservation, type Metric } from './metric.js';

export const LOG_LOSS_EPSILON = 1e-15;

export interface ReliabilityBin {
  lower: number;
  upper: number;
  count: number;
  mean_score: number | null;
  fraction_positive: number | null;
}

export interface BinaryFigures {
  count: number;
  positives: number;
  tp: number;
  fp: number;
  tn: number;
  fn: number;
  accuracy: number | null;
  precision: number | null;
  recall: number | null;
  f1: number | null;
  specificity: number | null;
  fpr: number | null;
  fnr: number | null;
  mcc: number | null;
  log_loss: number | null;
  brier: number | null;
  roc_auc: number | null;
  /** Upper bound on |roc_auc - exact ROC AUC|: 0 while exact, null when roc_auc is null. */
  roc_auc_error_bound: number | null;
  pr_auc: number | null;
  ece: number | null;
  /** True once the per-score counts are binned (roc_auc and pr_auc are then approximations). */
  approximate: boolean;
}

export interface BinaryMetricsOptions {
  /** Distinct scores kept exactly before switching to bins for good. Default Infinity (always exact). */
  maxDistinctScores?: number;
  /** Equal-width bins over [0, 1] after the switch. Default 1,000. */
  scoreBins?: number;
}

/**
 * A BinaryMetrics' state (its settings are not in it). Exact mode: `scores`
 * ascending with the weights of positives and negatives at each, and
 * `bins` null; binned: `scores` empty and `bins` the weights per score bin.
 * `calibration`: weight, score sum and positive sum per calibration bin.
 */
export interface BinaryMetricsState {
  kind: 'binary';
  tp: number;
  fp: number;
  tn: number;
  fn: number;
  logLossSum: number;
  brierSum: number;
  scores: { score: Float64Array; positives: Float64Array; negatives: Float64Array };
  bins: { positives: Float64Array; negatives: Float64Array } | null;
  calibration: { count: Float64Array; score: Float64Array; positive: Float64Array };
}

/**
 * Weights of positives and negatives per entry (a distinct score, or a score
 * bin), ascending by score; entries with both weights 0 are skipped.
 */
export interface ScoreCounts {
  positives: ArrayLike<number>;
  negatives: ArrayLike<number>;
  length: number;
}

/** ScoreCounts with each entry's threshold (BinaryMetrics.scoreTable). */
export interface ScoreTable extends ScoreCounts {
  threshold: (i: number) => number;
}

/** The bin of `score` among `bins` equal-width bins over [0, 1]: outside values clamp, exactly 1 is in the last. */
export function binOf(score: number, bins: number): number {
  return Math.min(bins - 1, Math.max(0, Math.floor(score * bins)));
}

export class BinaryMetrics implements Metric<BinaryObservation, BinaryFigures> {
  readonly maxDistinctScores: number;
  readonly scoreBins: number;
  private tp = 0;
  private fp = 0;
  private tn = 0;
  private fn = 0;
  private logLossSum = 0;
  private brierSum = 0;
  /** Exact mode: the distinct scores, ascending, with the weights at each. Emptied on the switch. */
  private readonly exact = new ExactScores();
  /** Binned mode (null while exact): weights of positives and negatives per score bin (counts.ts: as narrow as they fit). */
  private binPositives: Counts | null = null;
  private binNegatives: Counts | null = null;
  private readonly binCount: Float64Array;
  private readonly binScore: Float64Array;
  private readonly binPositive: Float64Array;

  constructor(
    readonly calibrationBins = 10,
    options: BinaryMetricsOptions = {},
  ) {
    const { maxDistinctScores = Infinity, scoreBins = 1000 } = options;
    if (!(maxDistinctScores >= 1) || (Number.isFinite(maxDistinctScores) && !Number.isInteger(maxDistinctScores))) {
      throw new RangeError(`BinaryMetrics: maxDistinctScores must be a positive integer or Infinity, got ${maxDistinctScores}`);
    }
    if (!Number.isInteger(scoreBins) || scoreBins < 1) {
      throw new RangeError(`BinaryMetrics: scoreBins must be a positive integer, got ${scoreBins}`);
    }
    this.maxDistinctScores = maxDistinctScores;
    this.scoreBins = scoreBins;
    this.binCount = new Float64Array(calibrationBins);
    this.binScore = new Float64Array(calibrationBins);
    this.binPositive = new Float64Array(calibrationBins);
  }

  update(o: BinaryObservation): void {
    this.add(o, o.weight ?? 1);
  }

  revert(o: BinaryObservation): void {
    this.add(o, -(o.weight ?? 1));
  }

  /** Could `o` have been added (its confusion cell and its score's count hold its weight)? Reverting one that was not would drive counts negative. */
  holds(o: BinaryObservation): boolean {
    const w = o.weight ?? 1;
    const positive = o.label === 1;
    const predicted = o.score >= o.threshold;
    const cell = predicted ? (positive ? this.tp : this.fp) : positive ? this.fn : this.tn;
    if (cell < w) return false;
    if (this.binPositives === null) {
      const i = this.exact.indexOf(o.score);
      return i >= 0 && (positive ? this.exact.positives : this.exact.negatives)[i]! >= w;
    }
    const bins = positive ? this.binPositives : this.binNegatives!;
    return bins.values[binOf(o.score, this.scoreBins)]! >= w;
  }

  /** True once the per-score counts are binned (it never goes back). */
  get approximate(): boolean {
    return this.binPositives !== null;
  }

  /**
   * revert(out) then update(into), a sliding window's step: each sum takes
   * out's term before into's, as the two calls; the exact per-score counts
   * move once (ExactScores.tryReplace) where they can.
   */
  replace(out: BinaryObservation, into: BinaryObservation): void {
    if (Number.isNaN(out.score) || Number.isNaN(into.score)) {
      this.revert(out);
      this.update(into);
      return;
    }
    const wOut = out.weight ?? 1;
    const wIn = into.weight ?? 1;
    this.addSums(out, -wOut);
    this.addSums(into, wIn);
    const outPositive = out.label === 1;
    const intoPositive = into.label === 1;
    if (this.binPositives === null && this.exact.tryReplace(out.score, outPositive, wOut, into.score, intoPositive, wIn, this.maxDistinctScores)) return;
    this.addScore(out.score, outPositive, -wOut);
    this.addScore(into.score, intoPositive, wIn);
  }

  private add(o: BinaryObservation, w: number): void {
    if (Number.isNaN(o.score)) throw new RangeError('BinaryMetrics: the score is NaN');
    this.addSums(o, w);
    this.addScore(o.score, o.label === 1, w);
  }

  /** Everything of add() but the per-score counts: confusion counts, log-loss and Brier sums, calibration bins. */
  private addSums(o: BinaryObservation, w: number): void {
    const positive = o.label === 1;
    const predicted = o.score >= o.threshold;
    if (predicted && positive) this.tp += w;
    else if (predicted) this.fp += w;
    else if (positive) this.fn += w;
    else this.tn += w;

    const p = Math.min(1 - LOG_LOSS_EPSILON, Math.max(LOG_LOSS_EPSILON, o.score));
    this.logLossSum += w * -(positive ? Math.log(p) : Math.log(1 - p));
    this.brierSum += w * (o.score - o.label) ** 2;

    const bin = binOf(o.score, this.calibrationBins);
    this.binCount[bin] = this.binCount[bin]! + w;
    this.binScore[bin] = this.binScore[bin]! + w * o.score;
    this.binPositive[bin] = this.binPositive[bin]! + w * o.label;
  }

  private addScore(score: number, positive: boolean, w: number): void {
    if (this.binPositives === null) {
      if (this.exact.add(score, positive, w, this.maxDistinctScores)) return;
      this.switchToBins();
    }
    (positive ? this.binPositives! : this.binNegatives!).add(binOf(score, this.scoreBins), w);
  }

  /** Folds the exact counts into score bins, once; from here on every score goes to its bin. */
  private switchToBins(): void {
    const positives = new Counts(this.scoreBins);
    const negatives = new Counts(this.scoreBins);
    // Ascending score order, so each bin sums its scores in the same order on every run.
    const exact = this.exact;
    for (let i = 0; i < exact.size; i++) {
      const bin = binOf(exact.scores[i]!, this.scoreBins);
      positives.add(bin, exact.positives[i]!);
      negatives.add(bin, exact.negatives[i]!);
    }
    exact.clear();
    this.binPositives = positives;
    this.binNegatives = negatives;
  }

  get(): BinaryFigures {
    const { tp, fp, tn, fn } = this;
    const n = tp + fp + tn + fn;
    const precision = ratio(tp, tp + fp);
    const recall = ratio(tp, tp + fn);
    const mccDenominator = Math.sqrt((tp + fp) * (tp + fn) * (tn + fp) * (tn + fn));
    const ascending = this.scoreCounts();
    const auc = rocAuc(ascending);
    return {
      count: n,
      positives: tp + fn,
      tp,
      fp,
      tn,
      fn,
      accuracy: ratio(tp + tn, n),
      precision,
      recall,
      f1: ratio(2 * tp, 2 * tp + fp + fn),
      specificity: ratio(tn, tn + fp),
      fpr: ratio(fp, fp + tn),
      fnr: ratio(fn, fn + tp),
      mcc: mccDenominator === 0 ? null : (tp * tn - fp * fn) / mccDenominator,
      log_loss: ratio(this.logLossSum, n),
      brier: ratio(this.brierSum, n),
      roc_auc: auc === null ? null : auc.area,
      roc_auc_error_bound: auc === null ? null : this.approximate ? auc.binTies : 0,
      pr_auc: averagePrecision(ascending),
      ece: this.ece(),
      approximate: this.approximate,
    };
  }

  /** The per-score (exact) or per-bin (binned) counts, ascending by score: the arrays themselves, not copies. */
  private scoreCounts(): ScoreCounts {
    if (this.binPositives === null) return { positives: this.exact.positives, negatives: this.exact.negatives, length: this.exact.size };
    return { positives: this.binPositives.values, negatives: this.binNegatives!.values, length: this.scoreBins };
  }

  private ece(): number | null {
    return expectedCalibrationError({ count: this.binCount, score: this.binScore, positive: this.binPositive });
  }

  /**
   * The curve's thresholds (curve.ts): per entry ascending by score, the
   * weights of positives and negatives and the threshold at which the
   * entry's scores are first predicted positive: the distinct score
   * (exact), or the bin's lower edge (binned). The arrays themselves.
   */
  scoreTable(): ScoreTable {
    const counts = this.scoreCounts();
    const bins = this.scoreBins;
    return this.binPositives === null
      ? { ...counts, threshold: (i) => this.exact.scores[i]! }
      : { ...counts, threshold: (i) => i / bins };
  }

  /** Weight, score sum and positive sum per calibration bin (copies). */
  calibrationSums(): CalibrationSums {
    return { count: this.binCount.slice(), score: this.binScore.slice(), positive: this.binPositive.slice() };
  }

  reliability(): ReliabilityBin[] {
    return Array.from({ length: this.calibrationBins }, (_, b) => {
      const count = this.binCount[b]!;
      return {
        lower: b / this.calibrationBins,
        upper: (b + 1) / this.calibrationBins,
        count,
        mean_score: ratio(this.binScore[b]!, count),
        fraction_positive: ratio(this.binPositive[b]!, count),
      };
    });
  }

  clone(): BinaryMetrics {
    return new BinaryMetrics(this.calibrationBins, { maxDistinctScores: this.maxDistinctScores, scoreBins: this.scoreBins });
  }

  toState(): BinaryMetricsState {
    const { size, scores: score, positives, negatives } = this.exact;
    const scores = { score: score.slice(0, size), positives: positives.slice(0, size), negatives: negatives.slice(0, size) };
    const bins = this.binPositives === null ? null : { positives: this.binPositives.toFloat64(), negatives: this.binNegatives!.toFloat64() };
    const calibration = { count: this.binCount.slice(), score: this.binScore.slice(), positive: this.binPositive.slice() };
    const { tp, fp, tn, fn, logLossSum, brierSum } = this;
    return { kind: 'binary', tp, fp, tn, fn, logLossSum, brierSum, scores, bins, calibration };
  }

  /** The metrics of a state, with the constructor's settings; throws a StateMismatchError where the state does not fit them. */
  static fromState(state: BinaryMetricsState, calibrationBins = 10, options: BinaryMetricsOptions = {}): BinaryMetrics {
    const metrics = new BinaryMetrics(calibrationBins, options);
    checkFits(state, metrics);
    metrics.tp = state.tp;
    metrics.fp = state.fp;
    metrics.tn = state.tn;
    metrics.fn = state.fn;
    metrics.logLossSum = state.logLossSum;
    metrics.brierSum = state.brierSum;
    for (let i = 0; i < state.scores.score.length; i++) metrics.exact.push(state.scores.score[i]!, state.scores.positives[i]!, state.scores.negatives[i]!);
    if (state.bins !== null) {
      metrics.binPositives = Counts.from(state.bins.positives);
      metrics.binNegatives = Counts.from(state.bins.negatives);
    }
    metrics.binCount.set(state.calibration.count);
    metrics.binScore.set(state.calibration.score);
    metrics.binPositive.set(state.calibration.positive);
    return metrics;
  }
}

/** Weight, score sum and positive (label) sum per calibration bin. */
export interface CalibrationSums {
  count: Float64Array;
  score: Float64Array;
  positive: Float64Array;
}

/**
 * ECE of calibration bins: sum_b (n_b / N) |mean_score_b - frac_pos_b|
 * = sum_b |score_sum_b - pos_sum_b| / N over the bins holding weight; null when none does.
 */
export function expectedCalibrationError(bins: CalibrationSums): number | null {
  let total = 0;
  let sum = 0;
  for (let b = 0; b < bins.count.length; b++) {
    const count = bins.count[b]!;
    if (count <= 0) continue;
    total += count;
    sum += Math.abs(bins.score[b]! - bins.positive[b]!);
  }
  return total === 0 ? null : sum / total;
}

/** Throws unless a state fits the settings of `metrics` (a new one): its kind, calibration bins and score bins or limit. */
function checkFits(state: BinaryMetricsState, metrics: BinaryMetrics): void {
  if (state.kind !== 'binary') throw new StateMismatchError('the model task', `a ${String(state.kind)} state restored as binary metrics`);
  const calibration = state.calibration.count.length;
  if (calibration !== metrics.calibrationBins) throw new StateMismatchError('calibrationBins', `${calibration} saved, ${metrics.calibrationBins} now`);
  if (state.bins !== null && state.bins.positives.length !== metrics.scoreBins) {
    throw new StateMismatchError('scoreBins', `${state.bins.positives.length} saved, ${metrics.scoreBins} now`);
  }
  if (state.bins !== null && metrics.maxDistinctScores === Infinity) throw new StateMismatchError('maxDistinctScores', 'binned scores saved, exact scores only now');
  if (state.scores.score.length > metrics.maxDistinctScores) {
    throw new StateMismatchError('maxDistinctScores', `${state.scores.score.length} distinct scores saved, at most ${metrics.maxDistinctScores} now`);
  }
}

/**
 * ROC AUC from counts ascending by score (each entry's pairs are ties, one half),
 * and binTies = 0.5 * sum pos * neg / (P * N): the share of the area that the
 * ties decided, the error bound when an entry is a bin of several scores.
 */
function rocAuc(ascending: ScoreCounts): { area: number; binTies: number } | null {
  let positives = 0;
  let negatives = 0;
  let area = 0;
  let ties = 0;
  // Ascending: each positive beats the negatives below it, and ties half.
  for (let i = 0; i < ascending.length; i++) {
    const pos = ascending.positives[i]!;
    const neg = ascending.negatives[i]!;
    if (pos === 0 && neg === 0) continue;
    area += pos * negatives + 0.5 * pos * neg;
    ties += 0.5 * pos * neg;
    positives += pos;
    negatives += neg;
  }
  if (positives === 0 || negatives === 0) return null;
  return { area: area / (positives * negatives), binTies: ties / (positives * negatives) };
}

/** Average precision (sklearn's) from counts ascending by score, each entry one threshold. */
function averagePrecision(ascending: ScoreCounts): number | null {
  let totalPositives = 0;
  for (let i = 0; i < ascending.length; i++) totalPositives += ascending.positives[i]!;
  if (totalPositives === 0) return null;
  let tp = 0;
  let fp = 0;
  let previousRecall = 0;
  let ap = 0;
  for (let i = ascending.length - 1; i >= 0; i--) {
    const pos = ascending.positives[i]!;
    const neg = ascending.negatives[i]!;
    if (pos === 0 && neg === 0) continue;
    tp += pos;
    fp += neg;
    const recall = tp / totalPositives;
    ap += (recall - previousRecall) * (tp / (tp + fp));
    previousRecall = recall;
  }
  return ap;
}
