/**
 * The class windows' part of the view `metric_points_merged` (migration 20,
 * merged-view.ts): a multi-class or multi-label window's figures from its
 * shards' rows (migration 18's columns), as core/metrics/multiclass.ts,
 * multilabel.ts and averages.ts derive them and core/evaluate/points.ts
 * names them (classFigureList).
 *
 * Summed over shards: the confusion matrix, rejections, per-label tp, fp,
 * fn and the per-example sums element by element (sumForEach), the three
 * multi-class float sums (sum). Then, layer by layer (each lambda reads
 * only columns of the SELECT below it, never an alias of its own: 18.16
 * gave a wrong value for a lambda over an alias of the same SELECT, see
 * merged-view.ts), the core's figures: the confusion matrix row-major, its
 * transpose by arraySort, row and column sums as differences of running
 * sums at each row's end (exact for integer weights, as the evaluator's
 * are: sums of integers below 2^53 do not depend on their order), the
 * diagonal by arrayFilter; kappa's observed and expected sums in the core's
 * order (i-major, 0 in place of the diagonal: x + 0 = x), the averages'
 * sums with 0 in place of a null class. So with integer weights every
 * figure of counts is the TypeScript merge's bit for bit; the float sums
 * (log loss, Brier, the samples sums) as the binary ones.
 *
 * Cost per window row: O(k²) values for k classes, but kappa's expected sum,
 * whose lambda reads the row and column sums replicated over the k² cells:
 * O(k³) (27 at 3 classes, 32,768 at 32, 16.8 million at 256: a model with
 * hundreds of classes should read filtered mergedPointsQuery, not the whole
 * view; not measured).
 *
 * A window whose shards' rows name other classes, k or numeric head (a
 * config change within the window) has no merged rows: the core refuses
 * that merge. The confusion cells are the `total` window's, for at most
 * MAX_CONFUSION_CLASSES classes, as points.ts writes them.
 */
import { HEAD_SCALARS, MULTICLASS_SCALARS, MULTILABEL_SCALARS } from '../../core/evaluate/class-metric.js';
import { MAX_CONFUSION_CLASSES } from '../../core/evaluate/points.js';
import { MULTILABEL_SUMS } from '../../core/metrics/multilabel.js';

/** `ratio(numerator, denominator)` of core/metrics/metric.ts: null over a zero denominator. */
const ratio = (numerator: string, denominator: string) => `if((${denominator}) = 0, NULL, (${numerator}) / (${denominator}))`;

/** A multi-label sum by name (1-based in SQL). */
const sum = (name: (typeof MULTILABEL_SUMS)[number]) => `l_sums[${MULTILABEL_SUMS.indexOf(name) + 1}]`;

/** The aggregates of a window's class rows (in the GROUP BY of the shards' rows). */
export const CLASS_SUMS = `,
    any(classes) AS s_classes, length(s_classes) AS c_k, if(any(kind) = 'multiclass', c_k, 0) AS c_mk, any(class_head) AS s_head,
    length(groupUniqArray(classes)) = 1 AND length(groupUniqArray(mc_top_k)) = 1 AND length(groupUniqArray(class_head)) = 1 AS same_classes,
    sumForEach(mc_confusion) AS c_conf, sumForEach(mc_rejected) AS c_rej,
    sum(mc_log_loss_sum) AS c_log_loss, sum(mc_brier_sum) AS c_brier, sum(mc_top_k_hits) AS c_hits,
    sumForEach(ml_tp) AS l_tp, sumForEach(ml_fp) AS l_fp, sumForEach(ml_fn) AS l_fn, sumForEach(ml_sums) AS l_sums`;

/** The mean of a Nullable array's values that are not null (nullMean). */
const nullMean = (a: string) => `if(arrayCount(v -> isNotNull(v), ${a}) = 0, NULL, arraySum(arrayMap(v -> ifNull(v, 0.), ${a})) / arrayCount(v -> isNotNull(v), ${a}))`;

/** The support-weighted mean of a Nullable array's values that are not null, their plain mean when those supports sum to 0 (nullWeightedMean). */
const nullWeightedMean = (a: string) => `if(arrayCount(v -> isNotNull(v), ${a}) = 0, NULL,
      if(arraySum(arrayMap((v, w) -> if(isNull(v), 0., w), ${a}, cf_truth)) = 0, ${nullMean(a)},
        arraySum(arrayMap((v, w) -> if(isNull(v), 0., assumeNotNull(v) * w), ${a}, cf_truth)) / arraySum(arrayMap((v, w) -> if(isNull(v), 0., w), ${a}, cf_truth))))`;

/** The averages of classFigures (averages.ts), by name. */
const AVERAGES: Array<[string, string]> = [
  ['macro_precision', nullMean('cf_precision')],
  ['macro_recall', nullMean('cf_recall')],
  ['macro_f1', nullMean('cf_f1')],
  ['micro_precision', ratio('cf_tp_sum', 'cf_pred_sum')],
  ['micro_recall', ratio('cf_tp_sum', 'cf_truth_sum')],
  ['micro_f1', ratio('2 * cf_tp_sum', 'cf_truth_sum + cf_pred_sum')],
  ['weighted_precision', nullWeightedMean('cf_precision')],
  ['weighted_recall', nullWeightedMean('cf_recall')],
  ['weighted_f1', nullWeightedMean('cf_f1')],
];

/** The multi-class scalars (MulticlassMetrics.get). */
const MULTICLASS: Array<[string, string]> = [
  ['accuracy', ratio('cf_tp_sum', 'cl_count')],
  ['rejected', 'c_rejected_total'],
  ...AVERAGES,
  ['log_loss', ratio('c_log_loss', 'mc_known')],
  ['brier', `if(mc_known = 0, NULL, if(c_k = 2, c_brier / mc_known / 2, c_brier / mc_known))`],
  ['top_k_accuracy', ratio('c_hits', 'mc_known')],
  ['cohen_kappa', `if(mc_known = 0 OR mc_expected = 0, NULL, 1 - mc_observed / mc_expected)`],
];

/** The multi-label scalars (MultilabelMetrics.get). */
const MULTILABEL: Array<[string, string]> = [
  ['subset_accuracy', ratio(sum('exact'), 'cl_count')],
  ['hamming_loss', ratio(sum('wrong'), 'cl_count * c_k')],
  ['jaccard', ratio(sum('jaccard'), 'cl_count')],
  ['log_loss', ratio(sum('logLoss'), 'cl_count * c_k')],
  ...AVERAGES,
  ['samples_precision', ratio(sum('precision'), sum('precisionWeight'))],
  ['samples_recall', ratio(sum('recall'), sum('recallWeight'))],
  ['samples_f1', ratio(sum('f1'), sum('f1Weight'))],
];

/** Each scalar of `names` by its expression in `figures`, in the points' order (ClassMetric.get). */
function scalars(names: readonly string[], figures: Array<[string, string]>): string[] {
  return ['cl_count', ...names.map((name) => figures.find(([n]) => n === name)![1])];
}

/**
 * arrayMap over `over` of a lambda whose body reads other columns: each goes in as an argument (replicated
 * over `over`), never captured: 18.16 does not see a lambda's captured column as one the SELECT needs from
 * its subquery ("Unknown identifier") and gave wrong values for captured aliases (merged-view.ts).
 */
function mapWith(params: string, over: string, captures: ReadonlyArray<readonly [param: string, column: string]>, body: string): string {
  return `arrayMap((${[params, ...captures.map(([param]) => param)].join(', ')}) -> ${body}, ${[over, ...captures.map(([, column]) => `replicate(${column}, ${over})`)].join(', ')})`;
}

/** The positions of a multi-class window's confusion matrix, row-major (none for another kind: c_mk is 0). */
const SQUARE = 'range(c_mk * c_mk)';

/**
 * The running sum of a k×k row-major matrix `m` at the end of each row (k = c_mk): O(k²), no lambda reads another
 * array (arrayFilter's arguments are all k² long); differences() gives the row sums.
 */
const rowEnds = (m: string) => `arrayFilter((x, p, k) -> (p + 1) % k = 0, arrayCumSum(${m}), ${SQUARE}, replicate(c_mk, ${SQUARE}))`;

/** The row sums from rowEnds (each end minus the one before; integer weights: exactly the core's sums). */
const differences = (ends: string) => `arrayMap((e, before) -> e - before, ${ends}, arraySlice(arrayPushFront(${ends}, 0.), 1, length(${ends})))`;

const nullable = (values: string[]) => `[${values.map((v) => `toNullable(toFloat64(${v}))`).join(',\n      ')}]`;
const names = (list: readonly string[]) => `[${['count', ...list].map((n) => `'${n}'`).join(', ')}]`;

/**
 * The layers over the summed rows `inner` (CLASS_SUMS among them): per window c_names, c_values (the
 * class figures by point name, the numeric head's aside: headFigures) and cl_count (the class count).
 */
export const classLayers = (inner: string) => `SELECT *,
    ${names(MULTICLASS_SCALARS)} AS mc_names, ${names(MULTILABEL_SCALARS)} AS ml_names,
    if(is_mc, ${nullable(scalars(MULTICLASS_SCALARS, MULTICLASS))},
      ${nullable(scalars(MULTILABEL_SCALARS, MULTILABEL))}) AS c_scalars,
    ${mapWith('p', 'range(4 * c_k)', [['_classes', 's_classes']], `concat(['precision[', 'recall[', 'f1[', 'support['][p % 4 + 1], _classes[intDiv(p, 4) + 1], ']')`)} AS c_class_names,
    ${mapWith('p', 'range(4 * c_k)', [['_precision', 'cf_precision'], ['_recall', 'cf_recall'], ['_f1', 'cf_f1'], ['_truth', 'cf_truth']],
      'multiIf(p % 4 = 0, _precision[intDiv(p, 4) + 1], p % 4 = 1, _recall[intDiv(p, 4) + 1], p % 4 = 2, _f1[intDiv(p, 4) + 1], toNullable(_truth[intDiv(p, 4) + 1]))')} AS c_class_values,
    is_mc AND window = 'total' AND c_k <= ${MAX_CONFUSION_CLASSES} AS c_confusion,
    ${mapWith('p', 'range(if(c_confusion, c_k * c_k, 0))', [['_classes', 's_classes'], ['_k', 'c_k']], `concat('confusion[', _classes[intDiv(p, _k) + 1], '|', _classes[p % _k + 1], ']')`)} AS c_confusion_names,
    arrayMap(x -> toNullable(x), arraySlice(c_conf, 1, if(c_confusion, c_k * c_k, 0))) AS c_confusion_values,
    arrayConcat(if(is_mc, mc_names, ml_names), c_class_names, c_confusion_names) AS c_names,
    arrayConcat(c_scalars, c_class_values, c_confusion_values) AS c_values
  FROM (SELECT *,
    arrayMap((t, p) -> if(p = 0, NULL, t / p), cf_tp, cf_pred) AS cf_precision,
    arrayMap((t, r) -> if(r = 0, NULL, t / r), cf_tp, cf_truth) AS cf_recall,
    arrayMap((t, r, p) -> if(r + p = 0, NULL, 2 * t / (r + p)), cf_tp, cf_truth, cf_pred) AS cf_f1,
    arraySum(cf_pred) AS cf_pred_sum,
    if(is_mc, mc_known + c_rejected_total, ${sum('count')}) AS cl_count
  FROM (SELECT *,
    if(is_mc, arrayMap((p, r) -> p + r, mc_pk, c_rej), arrayMap((t, f) -> t + f, l_tp, l_fp)) AS cf_pred,
    arraySum(arrayMap((x, p, k) -> if(intDiv(p, k) = p % k, 0., x), c_conf_t, ${SQUARE}, replicate(c_mk, ${SQUARE}))) AS mc_observed,
    arraySum(${mapWith('p', SQUARE, [['_pk', 'mc_pk'], ['_truth', 'mc_truth'], ['_known', 'mc_known'], ['_k', 'c_mk']], 'if(intDiv(p, _k) = p % _k, 0., _pk[intDiv(p, _k) + 1] * _truth[p % _k + 1] / _known)')}) AS mc_expected,
    arraySum(cf_tp) AS cf_tp_sum, arraySum(cf_truth) AS cf_truth_sum
  FROM (SELECT *,
    ${differences('mc_col_ends')} AS mc_pk,
    if(is_mc, mc_truth, arrayMap((t, f) -> t + f, l_tp, l_fn)) AS cf_truth
  FROM (SELECT *,
    s_kind = 'multiclass' AS is_mc,
    ${differences('mc_row_ends')} AS mc_truth,
    ${rowEnds('c_conf_t')} AS mc_col_ends,
    if(is_mc, mc_tp, l_tp) AS cf_tp
  FROM (SELECT *,
    arraySort((x, p, k) -> (p % k) * k + intDiv(p, k), c_conf, ${SQUARE}, replicate(c_mk, ${SQUARE})) AS c_conf_t,
    arrayFilter((x, p, k) -> intDiv(p, k) = p % k, c_conf, ${SQUARE}, replicate(c_mk, ${SQUARE})) AS mc_tp,
    ${rowEnds('c_conf')} AS mc_row_ends,
    arraySum(c_conf) AS mc_known, arraySum(c_rej) AS c_rejected_total
  FROM (${inner}))))))`;

/** The numeric head's figures `<numeric_target>_count`, ... ([] without a head), from the regression columns' merged values by name. */
export function headFigures(regression: ReadonlyArray<readonly [string, string, ...string[]]>): { names: string; values: string } {
  const length = `if(s_head = '', 0, ${HEAD_SCALARS.length})`;
  const value = (name: string) => regression.find(([n]) => n === name)![1];
  return {
    names: `arraySlice([${HEAD_SCALARS.map((n) => `concat(s_head, '_${n}')`).join(', ')}], 1, ${length})`,
    values: `arraySlice(${nullable(HEAD_SCALARS.map(value))}, 1, ${length})`,
  };
}
