/**
 * The ROC and precision–recall curves of a binary metric, in at most
 * `maxPoints` points (default 101), each one exact.
 *
 * The full curves have a point per distinct score: predicted positive is
 * score >= threshold (as the metric's confusion counts, and as
 * scikit-learn's roc_curve and precision_recall_curve), so at a threshold t
 * the curve holds tp(t) and fp(t), the weights of the positives and the
 * negatives scoring t or more. From them and the totals P and N:
 * TPR = recall = tp / P, FPR = fp / N, precision = tp / (tp + fp).
 *
 * Bounded: with at most maxPoints thresholds, the whole curve; with more,
 * walking the thresholds from the highest down, a point is kept
 * when TPR + FPR (0 to 2 along the curve) has moved past the next multiple
 * of 2 / (maxPoints - 1), and the last (lowest) threshold always: at most
 * maxPoints points, spread along the curve however the scores cluster.
 * Every kept point is one of the full curve's (scikit-learn's with
 * drop_intermediate=False), at the same threshold. In binned mode
 * (BinaryMetrics past maxDistinctScores) the thresholds are the bins' lower
 * edges, and the points are exact there too for scores in [0, 1].
 *
 * The origin (threshold +∞, nothing predicted positive) is not a point:
 * the curves start there.
 */
import type { ScoreTable } from './binary.js';

export const MAX_CURVE_POINTS = 101;

export interface ScoreCurve {
  /** Descending. */
  thresholds: number[];
  /** Weight of the positives (true positives) and of the negatives (false positives) scoring at least each threshold. */
  tp: number[];
  fp: number[];
  /** Total weights of the positives and the negatives. */
  positives: number;
  negatives: number;
}

/** The bounded curve of a score table (BinaryMetrics.scoreTable()). */
export function scoreCurve(table: ScoreTable, maxPoints = MAX_CURVE_POINTS): ScoreCurve {
  if (!Number.isInteger(maxPoints) || maxPoints < 2) throw new RangeError(`scoreCurve: maxPoints must be an integer >= 2, got ${maxPoints}`);
  let positives = 0;
  let negatives = 0;
  let lowest = -1;
  let entries = 0;
  for (let i = 0; i < table.length; i++) {
    const pos = table.positives[i]!;
    const neg = table.negatives[i]!;
    if (pos === 0 && neg === 0) continue;
    entries++;
    positives += pos;
    negatives += neg;
    if (lowest < 0) lowest = i;
  }
  const curve: ScoreCurve = { thresholds: [], tp: [], fp: [], positives, negatives };
  if (lowest < 0) return curve;
  const span = (positives > 0 ? 1 : 0) + (negatives > 0 ? 1 : 0);
  // Few enough thresholds: every one (the whole curve).
  const step = entries <= maxPoints ? 0 : span / (maxPoints - 1);
  let next = step;
  let tp = 0;
  let fp = 0;
  for (let i = table.length - 1; i >= lowest; i--) {
    const pos = table.positives[i]!;
    const neg = table.negatives[i]!;
    if (pos === 0 && neg === 0) continue;
    tp += pos;
    fp += neg;
    const moved = (positives > 0 ? tp / positives : 0) + (negatives > 0 ? fp / negatives : 0);
    if (moved < next && i !== lowest) continue;
    curve.thresholds.push(table.threshold(i));
    curve.tp.push(tp);
    curve.fp.push(fp);
    if (step > 0) next = (Math.floor(moved / step) + 1) * step;
  }
  return curve;
}
