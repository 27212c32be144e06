/**
 * Mergeable partial figures of a regression model (scale-out of one model,
 * docs/scale-out.md): the running sums of one shard's window
 * (RegressionMetrics' state), which add up across shards, and the figures
 * derived from a merged one by RegressionMetrics' own code.
 *
 * A partial holds the weight n, Σw|e|, Σw·e² and Σw·|e|/max(|y|, ε) (e the
 * error, score − label), which merge by addition, and the labels' weighted
 * mean and centred squares Σw(y − mean)², which merge by Chan, Golub and
 * LeVeque's pairwise formula (mean = (n_a·mean_a + n_b·mean_b)/n,
 * M2 = M2_a + M2_b + δ²·n_a·n_b/n, δ = mean_b − mean_a): every figure the
 * evaluator writes of a regression window (count, mae, rmse, r2, mape) is
 * a function of them, so none is left out. The merge is commutative bit for
 * bit (each expression is symmetric in a and b).
 *
 * How exact. n is a sum of integer weights: exact. The three error sums are
 * float sums of the same terms in another order: within sumTolerance
 * (binary-partial.ts) of the unsharded ones. The mean and the centred
 * squares are computed by Welford's update in each shard and by the merge
 * across them, a different sequence of roundings than one stream's Welford:
 * by the standard analysis of these updating formulas (Chan, Golub and
 * LeVeque 1983) their difference is of order terms·u·Σw·y² for the squares
 * and terms·u·Σw·|y| / n for the mean; momentTolerance states that bound
 * with a constant of 8 (checked on arbitrary streams with corrections by
 * test/unit/property-regression-partials.test.ts; an estimate, not a proof
 * for reverts: a revert divides by the smaller remaining weight). R² =
 * 1 − SSE/SST is therefore close to the unsharded one when SST is large
 * against that bound, and can differ (a value against null) for a window
 * whose labels barely vary.
 */
import { RegressionMetrics, type RegressionFigures, type RegressionMetricsState } from './regression.js';

/** A regression window's partial: RegressionMetrics' running sums. */
export type RegressionPartial = RegressionMetricsState;

/** A partial of no observation (the identity of merge). */
export function emptyRegressionPartial(): RegressionPartial {
  return { kind: 'regression', n: 0, absErrorSum: 0, squaredErrorSum: 0, labelMean: 0, labelSquares: 0, percentSum: 0 };
}

/** The partial of a RegressionMetrics' state (a copy). */
export function regressionPartialOf(state: RegressionMetricsState): RegressionPartial {
  return { ...state };
}

/** The labels' mean and centred squares of two shards together (Chan et al.; an empty side leaves the other's). */
function mergedMoments(a: RegressionPartial, b: RegressionPartial, n: number): Pick<RegressionPartial, 'labelMean' | 'labelSquares'> {
  if (a.n <= 0) return { labelMean: b.labelMean, labelSquares: b.labelSquares };
  if (b.n <= 0) return { labelMean: a.labelMean, labelSquares: a.labelSquares };
  const delta = b.labelMean - a.labelMean;
  return {
    labelMean: (a.n * a.labelMean + b.n * b.labelMean) / n,
    labelSquares: a.labelSquares + b.labelSquares + (delta * delta * (a.n * b.n)) / n,
  };
}

/** The partial of two shards together (a new one). */
export function mergeRegressionPartials(a: RegressionPartial, b: RegressionPartial): RegressionPartial {
  const n = a.n + b.n;
  return {
    kind: 'regression',
    n,
    absErrorSum: a.absErrorSum + b.absErrorSum,
    squaredErrorSum: a.squaredErrorSum + b.squaredErrorSum,
    ...mergedMoments(a, b, n),
    percentSum: a.percentSum + b.percentSum,
  };
}

/** The figures of a (merged) partial, by RegressionMetrics' code: count, mae, rmse, r2, mape. */
export function deriveRegressionPartial(p: RegressionPartial): RegressionFigures {
  return RegressionMetrics.fromState(regressionPartialOf(p)).get();
}

const U = 2 ** -53;

/**
 * How far a merged label mean and centred squares may be from one stream's
 * Welford over the same `terms` terms (updates and reverts), given
 * Σ|w|·|y| and Σ|w|·y² over those terms and the window's weight n:
 * 8·terms·u·Σ|w|·y² for the squares, 8·terms·u·Σ|w|·|y| / n for the mean
 * (see the file's comment: the standard bound's order, constant 8), plus
 * the absolute error of gradual underflow: a product or quotient that lands
 * among the subnormals is off by up to half the smallest double however
 * small it is, so relative bounds alone fail for labels near 5e-324 (a label
 * of -2.5e-323 squares to 0 while Welford's centred squares keep 5e-324):
 * 8·terms·η for the mean and 8·terms·η·(1 + Σ|w|·|y|) for the squares, where
 * the mean's error multiplies a label. Both are below 1e-300 for any stream
 * this side of 1e20 terms, so they loosen nothing at normal magnitudes.
 */
export function momentTolerance(terms: number, absLabelSum: number, squaredLabelSum: number, n: number): { mean: number; squares: number } {
  const g = 8 * Math.max(1, terms) * U;
  const underflow = 8 * Math.max(1, terms) * Number.MIN_VALUE;
  return { mean: (g * absLabelSum) / Math.max(1, n) + underflow, squares: g * squaredLabelSum + underflow * (1 + absLabelSum) };
}
