/**
 * Binary classification metrics from one shared state: weighted confusion
 * counts at the threshold, log-loss and Brier sums, exact per-score counts
 * (for ROC AUC and average precision) and calibration bins. Every part
 * supports revert.
 *
 * Definitions (tested against scikit-learn): predicted positive is
 * score >= threshold; log loss clips probabilities to [1e-15, 1 - 1e-15];
 * ROC AUC is the probability that a random positive scores above a random
 * negative, ties counting one half; PR AUC is average precision
 * (sklearn.metrics.average_precision_score); ECE uses equal-width bins over
 * [0, 1] (a score of exactly 1 falls in the last bin) and weighs each bin's
 * |mean score - fraction positive| by its share of the observations.
 */
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
  pr_auc: number | null;
  ece: number | null;
}

export class BinaryMetrics implements Metric<BinaryObservation, BinaryFigures> {
  private tp = 0;
  private fp = 0;
  private tn = 0;
  private fn = 0;
  private logLossSum = 0;
  private brierSum = 0;
  /** score -> [weight of positives, weight of negatives] */
  private readonly byScore = new Map<number, [number, number]>();
  private readonly binCount: Float64Array;
  private readonly binScore: Float64Array;
  private readonly binPositive: Float64Array;

  constructor(readonly calibrationBins = 10) {
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

  private add(o: BinaryObservation, w: number): void {
    const positive = o.label === 1;
    const predicted = o.score >= o.threshold;
    if (predicted && positive) this.tp += w;
    else if (predicted) this.fp += w;
    else if (positive) this.fn += w;
    else this.tn += w;

    const p = Math.min(1 - LOG_LOSS_EPSILON, Math.max(LOG_LOSS_EPSILON, o.score));
    this.logLossSum += w * -(positive ? Math.log(p) : Math.log(1 - p));
    this.brierSum += w * (o.score - o.label) ** 2;

    const counts = this.byScore.get(o.score) ?? [0, 0];
    counts[positive ? 0 : 1] += w;
    if (counts[0] === 0 && counts[1] === 0) this.byScore.delete(o.score);
    else this.byScore.set(o.score, counts);

    const bin = Math.min(this.calibrationBins - 1, Math.max(0, Math.floor(o.score * this.calibrationBins)));
    this.binCount[bin] = this.binCount[bin]! + w;
    this.binScore[bin] = this.binScore[bin]! + w * o.score;
    this.binPositive[bin] = this.binPositive[bin]! + w * o.label;
  }

  get(): BinaryFigures {
    const { tp, fp, tn, fn } = this;
    const n = tp + fp + tn + fn;
    const precision = ratio(tp, tp + fp);
    const recall = ratio(tp, tp + fn);
    const mccDenominator = Math.sqrt((tp + fp) * (tp + fn) * (tn + fp) * (tn + fn));
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
      roc_auc: this.rocAuc(),
      pr_auc: this.averagePrecision(),
      ece: this.ece(),
    };
  }

  private sortedScores(): Array<[number, [number, number]]> {
    return [...this.byScore].sort((a, b) => a[0] - b[0]);
  }

  private rocAuc(): number | null {
    let positives = 0;
    let negatives = 0;
    let area = 0;
    // Ascending: each positive beats the negatives below it, and ties half.
    for (const [, [pos, neg]] of this.sortedScores()) {
      area += pos * negatives + 0.5 * pos * neg;
      positives += pos;
      negatives += neg;
    }
    return positives === 0 || negatives === 0 ? null : area / (positives * negatives);
  }

  private averagePrecision(): number | null {
    const scores = this.sortedScores().reverse();
    const totalPositives = scores.reduce((sum, [, [pos]]) => sum + pos, 0);
    if (totalPositives === 0) return null;
    let tp = 0;
    let fp = 0;
    let previousRecall = 0;
    let ap = 0;
    for (const [, [pos, neg]] of scores) {
      tp += pos;
      fp += neg;
      const recall = tp / totalPositives;
      ap += (recall - previousRecall) * (tp / (tp + fp));
      previousRecall = recall;
    }
    return ap;
  }

  private ece(): number | null {
    let total = 0;
    let sum = 0;
    for (let b = 0; b < this.calibrationBins; b++) {
      const count = this.binCount[b]!;
      if (count <= 0) continue;
      total += count;
      sum += Math.abs(this.binScore[b]! - this.binPositive[b]!);
    }
    // sum_b (n_b / N) * |mean_score_b - frac_pos_b| = sum_b |score_sum_b - pos_sum_b| / N
    return total === 0 ? null : sum / total;
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
    return new BinaryMetrics(this.calibrationBins);
  }
}
