/**
 * The view `metric_points_merged` (migration 12; docs/scale-out.md): a
 * model's figures from its shards' partials (`metric_partials`), in
 * metric_points' shape (one row per window and metric, `value` and `count`),
 * plus `shards` (how many shards' rows it summed) and `version` (the highest
 * of them).
 *
 * Both a view and a query: the view reads like metric_points (filter it in
 * the WHERE of the query on it; 18.16 has no parameterised views), but
 * 18.16 does not push that filter down through its GROUP BY (measured: a
 * query of one model of four read every row of metric_partials, with
 * enable_optimize_predicate_expression on or off), so it derives every
 * window before the filter. mergedPointsQuery(where) is the same SELECT
 * with the filter on metric_partials itself, for readers that know what
 * they want (one model, one window): it reads only those rows. Both read
 * `metric_partials FINAL`: the latest row per (window, shard), whatever
 * merges ClickHouse has done.
 *
 * Derived exactly as core/metrics/binary.ts and core/evaluate/points.ts
 * derive them, under the names window-partial.ts gives them:
 * - count, positives, tp, fp, tn, fn, accuracy, precision, recall, f1,
 *   specificity, fpr, fnr, mcc: the same expressions on the summed counts
 *   (null where the core's ratio is: a zero denominator); bit for bit the
 *   core's with integer weights, as the sums of integers are exact;
 * - log_loss, brier: the summed float sums over count; with two shards the
 *   core's merge (a + b) of the stored sums, with more within sumTolerance
 *   (the order ClickHouse adds the shards in is not fixed). 18.16 parses
 *   the inserted text floats with its "fast" method, which can put a stored
 *   sum one ulp off the written one (integers parse exactly): these, ece
 *   and the calibration sums are that much further (docs/scale-out.md);
 * - auc_binned, auc_binned_error_bound, pr_auc_binned: rocAuc and
 *   averagePrecision over the summed bins, ascending (sumMap sorts by bin;
 *   a bin where every weight sums to zero is dropped, as the core skips
 *   it); the running sums are arrayCumSum (sequential, as the core's loop),
 *   so with integer weights the AUC and its bound are exact and the average
 *   precision is the core's bit for bit; null when the shards' rows have
 *   different score bin counts (the core refuses that merge);
 * - ece: expectedCalibrationError over the summed calibration bins (within
 *   sumTolerance of the core's: the score sums are float sums); null when
 *   the shards' calibration bin counts differ;
 * - the champion role's labelled, expired, label_coverage, label_delay_p50
 *   and label_delay_p95: counts summed, the DDSketch's buckets summed and its
 *   lower quantile taken as QuantileSketch.quantile does (a bucket's value
 *   2 gamma^i / (gamma + 1) through ClickHouse's pow: within an ulp or two
 *   of JavaScript's `**`).
 * - a regression window's (kind 'regression', migration 15) count, mae,
 *   rmse, r2 and mape as core/metrics/regression.ts derives them: the error
 *   sums summed over shards; the labels' mean Σ n_i·mean_i / n and centred
 *   squares Σ M2_i + Σ n_i·(mean_i − mean)² (Chan et al.'s merge over k
 *   shards at once: the same figure as the core's pairwise merge, rounded in
 *   another order; within momentTolerance of one stream's, see
 *   core/metrics/regression-partial.ts), r2 = 1 − SSE/SST or null where
 *   SST is not positive (or the ratio not finite), as rSquared.
 * A window's figures are those of its kind (the binary ones for a binary
 * window, the regression ones for a regression window), plus the champion's.
 * window_end is the largest of the shards' (a `total` window's last prediction).
 *
 * Not derived here: the calibration bins' points of a `total` window
 * (calibration_bin_NN_*; partialReliability from the rows), the exact
 * roc_auc and pr_auc (not mergeable), the sliding `last_N` windows, drift,
 * fairness, the estimated figures of arrival records, class windows (no
 * partials), and which windows an arrival-only window would hide
 * (the core writes no realised figures for a window its arrivals alone made:
 * here such a window shows count 0 and null ratios).
 */

/** `ratio(numerator, denominator)` of core/metrics/metric.ts: null over a zero denominator. */
import { CLASS_SUMS, classLayers, headFigures } from './merged-classes.js';

const ratio = (numerator: string, denominator: string) => `if((${denominator}) = 0, NULL, (${numerator}) / (${denominator}))`;

/**
 * The view's forms: `binary` reads metric_partials as migration 11 made it (migrations 12 and 14
 * create the view before migration 15 adds the regression columns, and 18.16 checks a view's columns
 * at CREATE); `regression` reads the regression columns too (migration 17) and gives each window its
 * kind's figures; `all` reads migration 18's class columns too (migration 20; merged-classes.ts).
 */
export type MergedForm = 'binary' | 'regression' | 'all';

/**
 * The regression sums per window: the error sums, the labels' merged mean (an aggregate), and each shard's
 * (count, label mean) for the merged centred squares. The mean goes into the squares' lambda as an array
 * (replicate), not captured: a lambda capturing an alias of the same SELECT that is itself a lambda's sum
 * gave 18.16 another value when that alias was not selected too (r2 0.96021 for 0.96011, found by
 * test/integration/metric-partials-regression.test.ts).
 */
const REGRESSION_SUMS = `,
    any(kind) AS s_kind, sum(reg_count) AS r_n, sum(reg_abs_error_sum) AS r_abs, sum(reg_squared_error_sum) AS r_sse, sum(reg_percent_sum) AS r_percent,
    if(r_n <= 0, 0., sum(reg_count * reg_label_mean) / r_n) AS r_mean,
    sum(reg_label_squares) AS r_within, groupArray((reg_count, reg_label_mean)) AS r_moments`;

/** Per window: the shards' latest rows (those `where` keeps) summed. */
const summed = (where: string, form: MergedForm) => `SELECT model, model_version, role, segment, window, window_start,
    any(window_start_ms) AS start_ms, max(window_end_ms) AS end_ms, count() AS shards, max(version) AS last_version,
    sum(tp) AS s_tp, sum(fp) AS s_fp, sum(tn) AS s_tn, sum(fn) AS s_fn, sum(log_loss_sum) AS s_log_loss, sum(brier_sum) AS s_brier,
    min(score_bin_count) = max(score_bin_count) AS same_bins, min(calibration_bin_count) = max(calibration_bin_count) AS same_calibration,
    sumMap(score_bins, score_positives, score_negatives) AS s_score,
    sumMap(calibration_bins, calibration_count, calibration_score, calibration_positive) AS s_calibration,
    max(has_delay) AS s_has_delay, toFloat64(sum(labelled)) AS s_labelled, toFloat64(sum(expired)) AS s_expired,
    any(delay_accuracy) AS s_accuracy, sum(delay_zero_count) AS s_zero, sumMap(delay_buckets, delay_counts) AS s_delay${form === 'binary' ? '' : REGRESSION_SUMS}${form === 'all' ? CLASS_SUMS : ''}
  FROM metric_partials FINAL${where === '' ? '' : `
  WHERE ${where}`}
  GROUP BY model, model_version, role, segment, window, window_start`;

/** QuantileSketch.quantile(q) over the summed sketch (zero count, buckets ascending). */
function delayQuantile(q: number): string {
  const value = (index: string) => `2 * pow(d_gamma, ${index}) / (d_gamma + 1)`;
  return `if(d_n <= 0, NULL, if(s_zero > 0 AND s_zero >= ${q} * d_n, 0,
      if(arrayFirstIndex(c -> c >= ${q} * d_n, d_cumulative) = 0,
        if(length(d_index) = 0, 0, ${value('d_index[-1]')}),
        ${value('d_index[arrayFirstIndex(c -> c >= ' + q + ' * d_n, d_cumulative)]')})))`;
}

/**
 * Per window: the figures, wide (the intermediate arrays as columns). The recall before each bin is
 * desc_recall shifted right by one with 0 in front, cut to desc_recall's length (arraySlice): for a
 * window without labels, its arrays empty, arrayPopBack's form gave [0] beside [] and arrayMap refused
 * the whole block (migrations 13 and 14 replace the view that had it).
 */
const REGRESSION_DERIVED = `,
    arrayMap(moment -> moment.1, r_moments) AS r_counts,
    r_within + arraySum((c, m, mean) -> c * (m - mean) * (m - mean), r_counts, arrayMap(moment -> moment.2, r_moments), replicate(r_mean, r_counts)) AS r_sst,
    1 - r_sse / r_sst AS r_r2`;

const derived = (where: string, form: MergedForm) => `SELECT *,
    s_tp + s_fp + s_tn + s_fn AS n,
    sqrt((s_tp + s_fp) * (s_tp + s_fn) * (s_tn + s_fp) * (s_tn + s_fn)) AS mcc_denominator,
    s_score.2 AS pos, s_score.3 AS neg, arraySum(pos) AS p_total, arraySum(neg) AS n_total,
    arrayMap((c, x) -> c - x, arrayCumSum(neg), neg) AS neg_below,
    arraySum(arrayMap((p, b, x) -> p * b + 0.5 * p * x, pos, neg_below, neg)) AS auc_area,
    arraySum(arrayMap((p, x) -> 0.5 * p * x, pos, neg)) AS auc_ties,
    arrayCumSum(arrayReverse(pos)) AS desc_tp, arrayCumSum(arrayReverse(neg)) AS desc_fp,
    arrayMap(t -> t / p_total, desc_tp) AS desc_recall,
    arrayCumSum(arrayMap((r, q, t, f) -> (r - q) * (t / (t + f)), desc_recall, arraySlice(arrayPushFront(desc_recall, 0.), 1, length(desc_recall)), desc_tp, desc_fp))[-1] AS average_precision,
    s_calibration.2 AS c_count,
    arraySum(arrayMap(c -> if(c > 0, c, 0.), c_count)) AS c_total,
    arrayCumSum(arrayMap((c, s, q) -> if(c > 0, abs(s - q), 0.), c_count, s_calibration.3, s_calibration.4))[-1] AS c_gap,
    (1 + s_accuracy) / (1 - s_accuracy) AS d_gamma,
    s_delay.1 AS d_index,
    s_zero + arraySum(s_delay.2) AS d_n,
    arrayMap(c -> s_zero + c, arrayCumSum(s_delay.2)) AS d_cumulative,
    s_labelled + s_expired AS covered${form === 'binary' ? '' : REGRESSION_DERIVED}
  FROM (${form === 'all' ? classLayers(summed(where, form)) : summed(where, form)})`;

/** A figure: [metric, value, count, the window kind it belongs to ('any': both)]. */
type Figure = [string, string, string, 'binary' | 'regression' | 'any'];

/** The binary figures by name: [metric, value, count]. */
const BINARY: Array<[string, string, string]> = [
  ['count', 'n', 'n'],
  ['positives', 's_tp + s_fn', 'n'],
  ['tp', 's_tp', 'n'],
  ['fp', 's_fp', 'n'],
  ['tn', 's_tn', 'n'],
  ['fn', 's_fn', 'n'],
  ['accuracy', ratio('s_tp + s_tn', 'n'), 'n'],
  ['precision', ratio('s_tp', 's_tp + s_fp'), 'n'],
  ['recall', ratio('s_tp', 's_tp + s_fn'), 'n'],
  ['f1', ratio('2 * s_tp', '2 * s_tp + s_fp + s_fn'), 'n'],
  ['specificity', ratio('s_tn', 's_tn + s_fp'), 'n'],
  ['fpr', ratio('s_fp', 's_fp + s_tn'), 'n'],
  ['fnr', ratio('s_fn', 's_fn + s_tp'), 'n'],
  ['mcc', ratio('s_tp * s_tn - s_fp * s_fn', 'mcc_denominator'), 'n'],
  ['log_loss', ratio('s_log_loss', 'n'), 'n'],
  ['brier', ratio('s_brier', 'n'), 'n'],
  ['auc_binned', `if(p_total = 0 OR n_total = 0 OR NOT same_bins, NULL, auc_area / (p_total * n_total))`, 'n'],
  ['auc_binned_error_bound', `if(p_total = 0 OR n_total = 0 OR NOT same_bins, NULL, auc_ties / (p_total * n_total))`, 'n'],
  ['pr_auc_binned', `if(p_total = 0 OR NOT same_bins, NULL, average_precision)`, 'n'],
  ['ece', `if(NOT same_calibration, NULL, ${ratio('c_gap', 'c_total')})`, 'n'],
];

/** The regression figures (RegressionMetrics.get). */
const REGRESSION: Array<[string, string, string]> = [
  ['count', 'r_n', 'r_n'],
  ['mae', ratio('r_abs', 'r_n'), 'r_n'],
  ['rmse', `if(r_n = 0, NULL, sqrt(greatest(0., r_sse / r_n)))`, 'r_n'],
  ['r2', `if(r_sst > 0 AND isFinite(r_r2), r_r2, NULL)`, 'r_n'],
  ['mape', ratio('r_percent', 'r_n'), 'r_n'],
];

/** The champion's figures, of either kind. */
const CHAMPION: Array<[string, string, string]> = [
  ['labelled', 's_labelled', 'covered'],
  ['expired', 's_expired', 'covered'],
  ['label_coverage', ratio('s_labelled', 'covered'), 'covered'],
  ['label_delay_p50', delayQuantile(0.5), 'd_n'],
  ['label_delay_p95', delayQuantile(0.95), 'd_n'],
];

const kinded = (figures: Array<[string, string, string]>, kind: Figure[3]): Figure[] => figures.map(([name, value, count]) => [name, value, count, kind]);

/** The figures of each form, in the view's order. */
const FIGURES: Record<MergedForm, Figure[]> = {
  binary: kinded([...BINARY, ...CHAMPION], 'any'),
  regression: [...kinded(BINARY, 'binary'), ...kinded(REGRESSION, 'regression'), ...kinded(CHAMPION, 'any')],
  all: [...kinded(BINARY, 'binary'), ...kinded(REGRESSION, 'regression'), ...kinded(CHAMPION, 'any')],
};

/** Figures only the champion role has (its rows hold label delays). */
const CHAMPION_ONLY = CHAMPION.map(([name]) => name);

/** The metric names the view derives of a binary window, of a regression window, in its order (the champion's last). */
export const MERGED_METRICS: readonly string[] = [...BINARY, ...CHAMPION].map(([name]) => name);
export const MERGED_REGRESSION_METRICS: readonly string[] = [...REGRESSION, ...CHAMPION].map(([name]) => name);

/**
 * The merged points of the partials `where` keeps (SQL over metric_partials' columns, values bound or
 * quoted by the caller, e.g. `model = {model:String} AND window = '1h'`; empty: all), in the view's columns.
 */
export function mergedPointsQuery(where = '', form: MergedForm = 'all'): string {
  const figures = FIGURES[form];
  const kind = form === 'binary' ? '' : `\n  AND (m_kind = 'any' OR m_kind = s_kind)`;
  const names = `[${figures.map(([name]) => `'${name}'`).join(', ')}]`;
  const values = `[${figures.map(([, value]) => `toNullable(toFloat64(${value}))`).join(',\n   ')}]`;
  const counts = `[${figures.map(([, , count]) => `toFloat64(${count})`).join(', ')}]`;
  const kinds = `[${figures.map(([, , , k]) => `'${k}'`).join(', ')}]`;
  return `SELECT model, model_version, role, segment, window, window_start, start_ms AS window_start_ms,
  toDateTime(intDiv(end_ms, 1000)) AS window_end, end_ms AS window_end_ms,
  m_name AS metric, m_value AS value, m_count AS count, shards, last_version AS version
FROM (${derived(where, form)})
ARRAY JOIN
${form === 'all' ? classJoin(names, values, counts, kinds) : `  ${names} AS m_name,
  ${values} AS m_value,
  ${counts} AS m_count${form === 'binary' ? '' : `,
  ${kinds} AS m_kind`}`}
WHERE (s_has_delay = 1 OR m_name NOT IN (${CHAMPION_ONLY.map((name) => `'${name}'`).join(', ')}))${kind}${form === 'all' ? `
  AND (s_kind NOT IN ('multiclass', 'multilabel') OR same_classes)` : ''}`;
}

/**
 * The ARRAY JOIN of the `all` form: a class window's figures (merged-classes.ts: the class figures, its
 * numeric head's, then the champion's, each counted by the window's class count but the champion's), the
 * others' `names`, `values`, `counts` and `kinds`.
 */
function classJoin(names: string, values: string, counts: string, kinds: string): string {
  const head = headFigures(REGRESSION);
  const champion = kinded(CHAMPION, 'any');
  const classNames = `arrayConcat(c_names, ${head.names}, [${champion.map(([name]) => `'${name}'`).join(', ')}])`;
  const classValues = `arrayConcat(c_values, ${head.values}, [${champion.map(([, value]) => `toNullable(toFloat64(${value}))`).join(',\n   ')}])`;
  const classCounts = `arrayConcat(replicate(toFloat64(cl_count), arrayConcat(c_names, ${head.names})), [${champion.map(([, , count]) => `toFloat64(${count})`).join(', ')}])`;
  const isClass = `s_kind IN ('multiclass', 'multilabel')`;
  return `  if(${isClass}, ${classNames},
    ${names}) AS m_name,
  if(${isClass}, ${classValues},
    ${values}) AS m_value,
  if(${isClass}, ${classCounts}, ${counts}) AS m_count,
  if(${isClass}, arrayMap(x -> 'any', ${classNames}), ${kinds}) AS m_kind`;
}

/** The view of migrations 12 and 14: binary windows only (metric_partials before migration 15's columns). */
export const METRIC_POINTS_MERGED_BINARY = `CREATE VIEW IF NOT EXISTS metric_points_merged AS\n${mergedPointsQuery('', 'binary')}`;

/** The view of migration 17: binary and regression windows (metric_partials before migration 18's columns). */
export const METRIC_POINTS_MERGED_REGRESSION = `CREATE VIEW IF NOT EXISTS metric_points_merged AS\n${mergedPointsQuery('', 'regression')}`;

/** The view of migration 20: binary, regression and class windows. */
export const METRIC_POINTS_MERGED = `CREATE VIEW IF NOT EXISTS metric_points_merged AS\n${mergedPointsQuery()}`;

/** Drops the view (migrations 13 and 16), so that the next migration creates it again with its new query. */
export const DROP_METRIC_POINTS_MERGED = 'DROP TABLE IF EXISTS metric_points_merged';
