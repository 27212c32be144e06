/**
 * A binary model's window as a mergeable partial (scale-out of one model,
 * docs/scale-out.md): what one shard of the model's examples (sharded by
 * prediction id, so a correction meets the example it replaces) holds of a
 * `total` or tumbling window of one cell, which adds up across shards into
 * the window of the whole stream.
 *
 * It holds the window's binary partial (core/metrics/binary-partial.ts) or
 * regression partial (core/metrics/regression-partial.ts), for
 * the champion role the labels and expired predictions counted and the
 * label-delay sketch (a DDSketch: merged by adding bucket counts, exact), and
 * the largest prediction timestamp (the `total` window's end; merged by max).
 * The derived figures are the evaluator's points of such a window (points.ts)
 * with, for a binary window, the AUCs under their binned names (`auc_binned`,
 * `auc_binned_error_bound`, `pr_auc_binned`); a regression window's are all
 * of its points' (count, mae, rmse, r2, mape).
 *
 * Not here (not mergeable this way, or not built yet): the sliding count
 * window (`last_N`, in one stream's arrival order), drift and its detectors
 * (sequential), fairness gaps (derivable from merged segment windows),
 * arrival records' estimate sums, multi-class and multi-label windows.
 */
import { BinaryMetrics } from '../metrics/binary.js';
import { binaryPartialOf, deriveBinaryPartial, mergeBinaryPartials, partialReliability, type BinaryPartial, type BinaryPartialFigures } from '../metrics/binary-partial.js';
import { RegressionMetrics, type RegressionFigures } from '../metrics/regression.js';
import { deriveRegressionPartial, mergeRegressionPartials, regressionPartialOf, type RegressionPartial } from '../metrics/regression-partial.js';
import type { ModelKind } from '../events.js';
import { QuantileSketch, type QuantileSketchState } from '../metrics/quantiles.js';
import { TOTAL, type WindowStats } from './cells.js';
import type { EvaluatorOptions } from './options.js';
import type { MetricPoint } from './rows.js';
import { windowSize } from './windows.js';

/** The tasks whose windows have partials (the others' windows have none: multiclass, multilabel). */
export const TASKS_WITH_PARTIALS: readonly ModelKind[] = ['binary', 'regression'];

/** A window's metric partial: binary (its score bins) or regression (its `kind`). */
export type MetricPartial = BinaryPartial | RegressionPartial;

/** Is the partial a regression window's? */
export function isRegressionPartial(p: MetricPartial): p is RegressionPartial {
  return 'kind' in p && p.kind === 'regression';
}

export interface WindowPartial {
  metric: MetricPartial;
  /** Champion role: labels counted (corrections not), expired predictions, label delays; 0, 0 and null otherwise. */
  labelled: number;
  expired: number;
  delay: QuantileSketchState | null;
  /** Largest prediction timestamp counted (-Infinity before any). */
  lastTimestamp: number;
}

/** Where a partial belongs: the key of a metric point without the metric. */
export interface WindowPartialRow extends Pick<MetricPoint, 'model' | 'model_version' | 'role' | 'segment' | 'window' | 'window_start'> {
  partial: WindowPartial;
}

/**
 * A shard's partial as it is written (ClickHouse `metric_partials`): the
 * shard (the labelled-examples partition), the window's end as that shard
 * sees it (windowEnd: merged by max, it is the whole stream's), and the
 * label-delay sketch's relative accuracy (its buckets' values need it).
 */
export interface ShardPartialRow extends WindowPartialRow {
  shard: number;
  window_end: number;
  delay_accuracy: number;
}

/** The written form of a row of shard `shard`. */
export function shardPartialRow(o: EvaluatorOptions, row: WindowPartialRow, shard: number): ShardPartialRow {
  return { ...row, shard, window_end: windowEnd(o, row), delay_accuracy: o.delayAccuracy };
}

/** For the champion role: coverage and label delays. */
export interface ChampionFigures {
  labelled?: number;
  expired?: number;
  label_coverage?: number | null;
  label_delay_p50?: number | null;
  label_delay_p95?: number | null;
}

/** The figures of a merged window: the binary or regression figures, and the champion's. */
export type WindowFigures = (BinaryPartialFigures | RegressionFigures) & ChampionFigures;

/** The metric partial of a window's metric (undefined for a class window). */
function metricPartialOf(o: EvaluatorOptions, stats: WindowStats): MetricPartial | undefined {
  if (stats.metric instanceof BinaryMetrics) return binaryPartialOf(stats.metric.toState(), o.aucBins);
  if (stats.metric instanceof RegressionMetrics) return regressionPartialOf(stats.metric.toState());
  return undefined;
}

/** The partial of a binary or regression window (undefined for a class window). */
export function windowPartialOf(o: EvaluatorOptions, stats: WindowStats): WindowPartial | undefined {
  const metric = metricPartialOf(o, stats);
  if (!metric) return undefined;
  return {
    metric,
    labelled: stats.labelled,
    expired: stats.expired,
    delay: stats.delay ? stats.delay.toState() : null,
    lastTimestamp: stats.lastTimestamp,
  };
}

/** The row of a window's partial (undefined for a class window). */
export function windowPartialRow(o: EvaluatorOptions, model: string, stats: WindowStats): WindowPartialRow | undefined {
  const partial = windowPartialOf(o, stats);
  if (!partial) return undefined;
  const { cell, window, start } = stats;
  return { model, model_version: cell.version, role: cell.role, segment: cell.segment, window, window_start: start, partial };
}

/** The key of a row's window (model, version, role, segment, window, start). */
export function windowPartialKey(row: Omit<WindowPartialRow, 'partial'>): string {
  return [row.model, row.model_version, row.role, row.segment, row.window, row.window_start].join('\u0000');
}

/** Two shards' partials of one window together (a new one). */
export function mergeWindowPartials(a: WindowPartial, b: WindowPartial, delayAccuracy: number): WindowPartial {
  if ((a.delay === null) !== (b.delay === null)) throw new RangeError('mergeWindowPartials: label delays on one side only (a champion window against another role)');
  const delay = a.delay === null ? null : QuantileSketch.fromState(a.delay, delayAccuracy).merge(QuantileSketch.fromState(b.delay!, delayAccuracy)).toState();
  return {
    metric: mergeMetricPartials(a.metric, b.metric),
    labelled: a.labelled + b.labelled,
    expired: a.expired + b.expired,
    delay,
    lastTimestamp: Math.max(a.lastTimestamp, b.lastTimestamp),
  };
}

/** Two metric partials of one kind together. */
function mergeMetricPartials(a: MetricPartial, b: MetricPartial): MetricPartial {
  const regression = isRegressionPartial(a);
  if (regression !== isRegressionPartial(b)) throw new RangeError('mergeWindowPartials: a regression partial against a binary one');
  return regression ? mergeRegressionPartials(a, b as RegressionPartial) : mergeBinaryPartials(a, b as BinaryPartial);
}

/** The figures of a (merged) window, as the evaluator's points of it name them. */
export function windowFigures(p: WindowPartial, delayAccuracy: number): WindowFigures {
  const out: WindowFigures = isRegressionPartial(p.metric) ? deriveRegressionPartial(p.metric) : deriveBinaryPartial(p.metric);
  if (p.delay !== null) {
    const delay = QuantileSketch.fromState(p.delay, delayAccuracy);
    const covered = p.labelled + p.expired;
    out.labelled = p.labelled;
    out.expired = p.expired;
    out.label_coverage = covered === 0 ? null : p.labelled / covered;
    out.label_delay_p50 = delay.quantile(0.5);
    out.label_delay_p95 = delay.quantile(0.95);
  }
  return out;
}

/** The window's end as the evaluator's points give it: start + size for a tumbling window, the last prediction for `total`. */
export function windowEnd(o: EvaluatorOptions, row: WindowPartialRow): number {
  const size = windowSize(o, row.window);
  return size === undefined ? Math.max(0, row.partial.lastTimestamp) : row.window_start + size;
}

/** The calibration bins' points of a binary `total` window (points.ts names them so); none for other windows. */
export function calibrationFigures(row: WindowPartialRow): Array<[string, number | null]> {
  const metric = row.partial.metric;
  if (row.window !== TOTAL || isRegressionPartial(metric)) return [];
  const out: Array<[string, number | null]> = [];
  partialReliability(metric).forEach((bin, b) => {
    const id = String(b).padStart(2, '0');
    out.push([`calibration_bin_${id}_mean_score`, bin.mean_score], [`calibration_bin_${id}_fraction_positive`, bin.fraction_positive]);
  });
  return out;
}
