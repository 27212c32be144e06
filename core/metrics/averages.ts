/**
 * Per-class precision, recall and F1 from weighted counts, and their macro,
 * micro and weighted averages: what
 * sklearn.metrics.precision_recall_fscore_support(..., zero_division=np.nan)
 * gives, with null for its NaN. Shared by the multi-class and multi-label
 * metrics (a "class" is a label there).
 *
 * Per class c, from tp (right), predicted (tp + fp) and truth (tp + fn, the
 * support): precision = tp / predicted, recall = tp / truth,
 * F1 = 2 tp / (truth + predicted); each null when its denominator is 0.
 * - macro: the plain mean of the classes' values that are not null;
 * - weighted: the mean weighted by support over the classes whose value is not
 *   null; when those supports sum to 0, their plain mean (as sklearn's
 *   _nanaverage falls back);
 * - micro: the same ratios of the counts summed over the classes.
 * An average is null when every class's value is null.
 */
import { ratio } from './metric.js';

export interface ClassFigures {
  /** Per class, in class order. */
  precision: (number | null)[];
  recall: (number | null)[];
  f1: (number | null)[];
  /** Weight of the examples whose true class (label) is c. */
  support: number[];
  macro_precision: number | null;
  macro_recall: number | null;
  macro_f1: number | null;
  micro_precision: number | null;
  micro_recall: number | null;
  micro_f1: number | null;
  weighted_precision: number | null;
  weighted_recall: number | null;
  weighted_f1: number | null;
}

/** The figures of per-class counts: tp[c], predicted[c] = tp + fp, truth[c] = tp + fn. */
export function classFigures(tp: ArrayLike<number>, predicted: ArrayLike<number>, truth: ArrayLike<number>): ClassFigures {
  const precision: (number | null)[] = [];
  const recall: (number | null)[] = [];
  const f1: (number | null)[] = [];
  const support: number[] = [];
  let tpSum = 0;
  let predictedSum = 0;
  let truthSum = 0;
  for (let c = 0; c < tp.length; c++) {
    precision.push(ratio(tp[c]!, predicted[c]!));
    recall.push(ratio(tp[c]!, truth[c]!));
    f1.push(ratio(2 * tp[c]!, truth[c]! + predicted[c]!));
    support.push(truth[c]!);
    tpSum += tp[c]!;
    predictedSum += predicted[c]!;
    truthSum += truth[c]!;
  }
  return {
    precision,
    recall,
    f1,
    support,
    macro_precision: nullMean(precision),
    macro_recall: nullMean(recall),
    macro_f1: nullMean(f1),
    micro_precision: ratio(tpSum, predictedSum),
    micro_recall: ratio(tpSum, truthSum),
    micro_f1: ratio(2 * tpSum, truthSum + predictedSum),
    weighted_precision: nullWeightedMean(precision, support),
    weighted_recall: nullWeightedMean(recall, support),
    weighted_f1: nullWeightedMean(f1, support),
  };
}

/** The mean of the values that are not null; null when all are. */
export function nullMean(values: readonly (number | null)[]): number | null {
  let sum = 0;
  let n = 0;
  for (const v of values) {
    if (v === null) continue;
    sum += v;
    n++;
  }
  return n === 0 ? null : sum / n;
}

/** The mean of the values that are not null weighted by `weights`, their plain mean when those weights sum to 0; null when all are null. */
export function nullWeightedMean(values: readonly (number | null)[], weights: readonly number[]): number | null {
  let sum = 0;
  let total = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (v === null) continue;
    sum += v * weights[i]!;
    total += weights[i]!;
  }
  return total === 0 ? nullMean(values) : sum / total;
}
