/**
 * A shard's window partial (core/evaluate/window-partial.ts) as a row of
 * `metric_partials` (migrations.ts), and back. The score and calibration
 * bins go sparse (core/metrics/sparse-bins.ts): the bins holding weight
 * only, with the bin counts beside them; the label-delay sketch as its
 * buckets (index, count) and zero count. A regression window's row has
 * kind 'regression', its sums in the reg_* columns (migration 15) and the
 * binary columns empty (zero counts, no bins); a binary one kind 'binary'
 * and the reg_* columns 0. A class window's row (migration 18) has kind
 * 'multiclass' or 'multilabel', its classes in `classes`, its counts and
 * sums in the mc_* or ml_* columns, and its numeric head (if any: class_head
 * its name, '' none) in the reg_* columns. Column types: migrations.ts.
 */
import { isClassPartial, isRegressionPartial, type MetricPartial, type ShardPartialRow, type WindowPartial } from '../../core/evaluate/window-partial.js';
import { emptyBinaryPartial, type BinaryPartial } from '../../core/metrics/binary-partial.js';
import type { ClassPartial } from '../../core/metrics/class-partial.js';
import { MULTILABEL_SUMS, type MultilabelMetricsState } from '../../core/metrics/multilabel.js';
import { emptyRegressionPartial, type RegressionPartial } from '../../core/metrics/regression-partial.js';
import { denseBins, sparseBins } from '../../core/metrics/sparse-bins.js';

const seconds = (ms: number) => Math.floor(ms / 1000);

/** The binary, regression and class columns of a partial: its own kind's, the others' empty (a class window's head in the regression ones). */
function metricColumns(metric: MetricPartial): { kind: string; binary: BinaryPartial; regression: RegressionPartial; classes: ReturnType<typeof classColumns> } {
  const binary = emptyBinaryPartial(0, 0);
  if (isRegressionPartial(metric)) return { kind: 'regression', binary, regression: metric, classes: classColumns(null) };
  if (isClassPartial(metric)) return { kind: metric.kind, binary, regression: metric.head ?? emptyRegressionPartial(), classes: classColumns(metric) };
  return { kind: 'binary', binary: metric, regression: emptyRegressionPartial(), classes: classColumns(null) };
}

const noNumbers: number[] = [];

/** A class partial's columns (migration 18); empty for another kind. */
function classColumns(p: ClassPartial | null) {
  const mc = p?.classes.kind === 'multiclass' ? p.classes : null;
  const ml = p?.classes.kind === 'multilabel' ? p.classes : null;
  return {
    classes: mc ? mc.classes.slice() : ml ? ml.labels.slice() : [],
    class_head: p?.numericTarget ?? '',
    mc_confusion: mc ? Array.from(mc.confusion) : noNumbers,
    mc_rejected: mc ? Array.from(mc.rejected) : noNumbers,
    mc_top_k: mc ? mc.topK : 0,
    mc_log_loss_sum: mc?.logLossSum ?? 0,
    mc_brier_sum: mc?.brierSum ?? 0,
    mc_top_k_hits: mc?.topKHits ?? 0,
    ml_tp: ml ? Array.from(ml.tp) : noNumbers,
    ml_fp: ml ? Array.from(ml.fp) : noNumbers,
    ml_fn: ml ? Array.from(ml.fn) : noNumbers,
    ml_tn: ml ? Array.from(ml.tn) : noNumbers,
    ml_sums: ml ? MULTILABEL_SUMS.map((name) => ml.sums[name]) : noNumbers,
  };
}

/** The class partial of a row of kind multiclass or multilabel. */
function classPartialOf(r: MetricPartialRow, head: RegressionPartial): ClassPartial {
  const numericTarget = r.class_head === '' ? null : r.class_head;
  const f64 = (values: number[]) => Float64Array.from(values);
  if (r.kind === 'multiclass') {
    const classes = { kind: 'multiclass' as const, classes: r.classes.slice(), topK: Number(r.mc_top_k), confusion: f64(r.mc_confusion), rejected: f64(r.mc_rejected), logLossSum: r.mc_log_loss_sum, brierSum: r.mc_brier_sum, topKHits: r.mc_top_k_hits };
    return { kind: 'multiclass', classes, head: numericTarget === null ? null : head, numericTarget };
  }
  const sums = Object.create(null) as MultilabelMetricsState['sums'];
  MULTILABEL_SUMS.forEach((name, i) => { sums[name] = r.ml_sums[i]!; });
  const classes: MultilabelMetricsState = { kind: 'multilabel', labels: r.classes.slice(), tp: f64(r.ml_tp), fp: f64(r.ml_fp), fn: f64(r.ml_fn), tn: f64(r.ml_tn), sums };
  return { kind: 'multilabel', classes, head: null, numericTarget: null };
}

export function metricPartialRow(r: ShardPartialRow, version: number, writtenAtMs: number) {
  const { delay } = r.partial;
  const { kind, binary: metric, regression, classes } = metricColumns(r.partial.metric);
  const score = sparseBins([metric.scorePositives, metric.scoreNegatives]);
  const calibration = sparseBins([metric.calibration.count, metric.calibration.score, metric.calibration.positive]);
  return {
    model: r.model,
    model_version: r.model_version,
    role: r.role,
    segment: r.segment,
    window: r.window,
    window_start: seconds(r.window_start),
    window_start_ms: r.window_start,
    window_end_ms: r.window_end,
    shard: r.shard,
    tp: metric.tp,
    fp: metric.fp,
    tn: metric.tn,
    fn: metric.fn,
    log_loss_sum: metric.logLossSum,
    brier_sum: metric.brierSum,
    score_bin_count: metric.scorePositives.length,
    score_bins: score.bins,
    score_positives: score.values[0]!,
    score_negatives: score.values[1]!,
    calibration_bin_count: metric.calibration.count.length,
    calibration_bins: calibration.bins,
    calibration_count: calibration.values[0]!,
    calibration_score: calibration.values[1]!,
    calibration_positive: calibration.values[2]!,
    has_delay: delay === null ? 0 : 1,
    labelled: r.partial.labelled,
    expired: r.partial.expired,
    delay_accuracy: r.delay_accuracy,
    delay_zero_count: delay?.zeroCount ?? 0,
    delay_buckets: delay ? Array.from(delay.indices) : [],
    delay_counts: delay ? Array.from(delay.counts) : [],
    last_timestamp_ms: Number.isFinite(r.partial.lastTimestamp) ? r.partial.lastTimestamp : null,
    kind,
    reg_count: regression.n,
    reg_abs_error_sum: regression.absErrorSum,
    reg_squared_error_sum: regression.squaredErrorSum,
    reg_label_mean: regression.labelMean,
    reg_label_squares: regression.labelSquares,
    reg_percent_sum: regression.percentSum,
    ...classes,
    version,
    written_at_ms: writtenAtMs,
  };
}

export type MetricPartialRow = ReturnType<typeof metricPartialRow>;

/** A row read back (JSON: UInt64 columns come as strings) as the shard's row. */
export function shardPartialOf(row: MetricPartialRow | Record<keyof MetricPartialRow, unknown>): ShardPartialRow {
  const r = row as MetricPartialRow;
  const [scorePositives, scoreNegatives] = denseBins({ bins: r.score_bins.map(Number), values: [r.score_positives, r.score_negatives] }, Number(r.score_bin_count));
  const [count, score, positive] = denseBins(
    { bins: r.calibration_bins.map(Number), values: [r.calibration_count, r.calibration_score, r.calibration_positive] },
    Number(r.calibration_bin_count),
  );
  const delay = Number(r.has_delay) === 1
    ? { zeroCount: r.delay_zero_count, indices: Float64Array.from(r.delay_buckets.map(Number)), counts: Float64Array.from(r.delay_counts) }
    : null;
  const regression: RegressionPartial = {
    kind: 'regression', n: r.reg_count, absErrorSum: r.reg_abs_error_sum, squaredErrorSum: r.reg_squared_error_sum,
    labelMean: r.reg_label_mean, labelSquares: r.reg_label_squares, percentSum: r.reg_percent_sum,
  };
  const metric: MetricPartial = r.kind === 'regression' ? regression
    : r.kind === 'multiclass' || r.kind === 'multilabel' ? classPartialOf(r, regression)
    : { tp: r.tp, fp: r.fp, tn: r.tn, fn: r.fn, logLossSum: r.log_loss_sum, brierSum: r.brier_sum, scorePositives: scorePositives!, scoreNegatives: scoreNegatives!, calibration: { count: count!, score: score!, positive: positive! } };
  const partial: WindowPartial = {
    metric,
    labelled: Number(r.labelled),
    expired: Number(r.expired),
    delay,
    lastTimestamp: r.last_timestamp_ms === null ? Number.NEGATIVE_INFINITY : Number(r.last_timestamp_ms),
  };
  return {
    model: r.model, model_version: r.model_version, role: r.role, segment: r.segment, window: r.window, window_start: Number(r.window_start_ms),
    window_end: Number(r.window_end_ms), shard: Number(r.shard), delay_accuracy: r.delay_accuracy, partial,
  };
}
