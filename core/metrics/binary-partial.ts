/**
 * Mergeable partial figures of a binary classifier (scale-out of one model,
 * docs/scale-out.md): the sufficient statistics of one shard's window, which
 * add up across shards, and the figures derived from a merged one.
 *
 * A partial holds what BinaryMetrics holds, always in the binned form:
 * - the weighted confusion counts tp, fp, tn, fn;
 * - the log-loss and Brier sums;
 * - the weights of positives and negatives per score bin (`scoreBins`
 *   equal-width bins over [0, 1], binOf as BinaryMetrics), from which the
 *   ROC AUC and average precision are taken;
 * - per calibration bin the weight, score sum and positive sum (ECE).
 *
 * merge adds field by field. On the counts and bins (integer weights: the
 * evaluator's are 1) the sums are exact, so merge is exactly associative and
 * commutative and the derived count figures (precision, recall, F1, MCC, …)
 * and the binned AUCs of a merge are bit for bit those of the unsharded
 * stream. The three float sums (log loss, Brier, calibration score sums) are
 * commutative but rounded in another order: a sum of n terms x_i (updates,
 * and reverts as negated terms) taken in any order is within
 * gamma_(n-1) * sum |x_i| of the exact sum (gamma_m = m u / (1 - m u),
 * u = 2^-53; Higham, Accuracy and Stability, §4.2), so a merged sum and the
 * unsharded one differ by at most twice that (sumTolerance).
 *
 * The exact ROC AUC (BinaryMetrics' exact mode: every distinct score) is not
 * a bounded partial, and its switch to bins depends on how many distinct
 * scores one stream held, so a shard cannot reproduce it. The partial gives
 * `auc_binned` instead, which differs from the exact AUC by at most
 * `auc_binned_error_bound` = 0.5 * sum_b pos_b * neg_b / (P * N) (the pairs
 * tied within a bin counted one half; binary.ts), and `pr_auc_binned`
 * (average precision with each bin one threshold; no bound, typically within
 * a few thousandths with 1,000 bins).
 */
import { BinaryMetrics, binOf, type BinaryFigures, type BinaryMetricsState, type CalibrationSums, type ReliabilityBin } from './binary.js';

export interface BinaryPartial extends Pick<BinaryMetricsState, 'tp' | 'fp' | 'tn' | 'fn' | 'logLossSum' | 'brierSum'> {
  /** Weights of positives and negatives per score bin (equal-width over [0, 1]). */
  scorePositives: Float64Array;
  scoreNegatives: Float64Array;
  /** Weight, score sum and positive sum per calibration bin. */
  calibration: CalibrationSums;
}

/** The figures of a partial: BinaryFigures' counts and sums, the AUCs under their binned names. */
export type BinaryPartialFigures = Omit<BinaryFigures, 'roc_auc' | 'roc_auc_error_bound' | 'pr_auc' | 'approximate'> & {
  /** ROC AUC from the score bins (ties within a bin count one half); null without both classes. */
  auc_binned: number | null;
  /** Upper bound on |auc_binned - exact ROC AUC|; null when auc_binned is. */
  auc_binned_error_bound: number | null;
  /** Average precision with each score bin one threshold. */
  pr_auc_binned: number | null;
};

/** A partial of no observation (the identity of merge). */
export function emptyBinaryPartial(calibrationBins: number, scoreBins: number): BinaryPartial {
  return {
    tp: 0, fp: 0, tn: 0, fn: 0, logLossSum: 0, brierSum: 0,
    scorePositives: new Float64Array(scoreBins), scoreNegatives: new Float64Array(scoreBins),
    calibration: { count: new Float64Array(calibrationBins), score: new Float64Array(calibrationBins), positive: new Float64Array(calibrationBins) },
  };
}

/** The partial of a BinaryMetrics' state: its exact per-score counts folded into `scoreBins` bins (a binned state's bins must be that many). */
export function binaryPartialOf(state: BinaryMetricsState, scoreBins: number): BinaryPartial {
  const { tp, fp, tn, fn, logLossSum, brierSum } = state;
  const calibration = { count: state.calibration.count.slice(), score: state.calibration.score.slice(), positive: state.calibration.positive.slice() };
  if (state.bins !== null) {
    if (state.bins.positives.length !== scoreBins) throw new RangeError(`binaryPartialOf: ${state.bins.positives.length} score bins held, ${scoreBins} asked`);
    return { tp, fp, tn, fn, logLossSum, brierSum, scorePositives: state.bins.positives.slice(), scoreNegatives: state.bins.negatives.slice(), calibration };
  }
  const scorePositives = new Float64Array(scoreBins);
  const scoreNegatives = new Float64Array(scoreBins);
  const { score, positives, negatives } = state.scores;
  for (let i = 0; i < score.length; i++) {
    const bin = binOf(score[i]!, scoreBins);
    scorePositives[bin] = scorePositives[bin]! + positives[i]!;
    scoreNegatives[bin] = scoreNegatives[bin]! + negatives[i]!;
  }
  return { tp, fp, tn, fn, logLossSum, brierSum, scorePositives, scoreNegatives, calibration };
}

function sameShape(a: BinaryPartial, b: BinaryPartial): void {
  if (a.scorePositives.length !== b.scorePositives.length || a.calibration.count.length !== b.calibration.count.length) {
    throw new RangeError(`mergeBinaryPartials: ${a.scorePositives.length} score and ${a.calibration.count.length} calibration bins against ${b.scorePositives.length} and ${b.calibration.count.length}`);
  }
}

function added(a: Float64Array, b: Float64Array): Float64Array {
  const out = new Float64Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i]! + b[i]!;
  return out;
}

/** The partial of two shards together (a new one; both must have the same bins). */
export function mergeBinaryPartials(a: BinaryPartial, b: BinaryPartial): BinaryPartial {
  sameShape(a, b);
  return {
    tp: a.tp + b.tp, fp: a.fp + b.fp, tn: a.tn + b.tn, fn: a.fn + b.fn,
    logLossSum: a.logLossSum + b.logLossSum, brierSum: a.brierSum + b.brierSum,
    scorePositives: added(a.scorePositives, b.scorePositives), scoreNegatives: added(a.scoreNegatives, b.scoreNegatives),
    calibration: { count: added(a.calibration.count, b.calibration.count), score: added(a.calibration.score, b.calibration.score), positive: added(a.calibration.positive, b.calibration.positive) },
  };
}

/** A binned BinaryMetrics holding the partial: its figures are computed by the same code as the evaluator's. */
function metricsOf(p: BinaryPartial): BinaryMetrics {
  const state: BinaryMetricsState = {
    kind: 'binary', tp: p.tp, fp: p.fp, tn: p.tn, fn: p.fn, logLossSum: p.logLossSum, brierSum: p.brierSum,
    scores: { score: new Float64Array(0), positives: new Float64Array(0), negatives: new Float64Array(0) },
    bins: { positives: p.scorePositives, negatives: p.scoreNegatives },
    calibration: p.calibration,
  };
  return BinaryMetrics.fromState(state, p.calibration.count.length, { maxDistinctScores: 1, scoreBins: p.scorePositives.length });
}

/** The figures of a (merged) partial. */
export function deriveBinaryPartial(p: BinaryPartial): BinaryPartialFigures {
  const f = metricsOf(p).get();
  return {
    count: f.count, positives: f.positives, tp: f.tp, fp: f.fp, tn: f.tn, fn: f.fn,
    accuracy: f.accuracy, precision: f.precision, recall: f.recall, f1: f.f1, specificity: f.specificity, fpr: f.fpr, fnr: f.fnr, mcc: f.mcc,
    log_loss: f.log_loss, brier: f.brier,
    auc_binned: f.roc_auc, auc_binned_error_bound: f.roc_auc_error_bound, pr_auc_binned: f.pr_auc,
    ece: f.ece,
  };
}

/** The reliability diagram of a (merged) partial: per calibration bin its weight, mean score and fraction positive. */
export function partialReliability(p: BinaryPartial): ReliabilityBin[] {
  return metricsOf(p).reliability();
}

/** Unit roundoff of a double. */
const U = 2 ** -53;

/**
 * How far two float sums of the same n terms, taken in different orders, can
 * be apart: 2 * gamma_(n-1) * sum |x_i| (gamma_m = m u / (1 - m u)); the
 * tolerance on a merged log-loss, Brier or calibration score sum.
 */
export function sumTolerance(n: number, absoluteSum: number): number {
  const m = Math.max(0, n - 1) * U;
  if (m >= 1) return Infinity;
  return (2 * m * absoluteSum) / (1 - m);
}
