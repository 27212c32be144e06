/**
 * A binary model's window as a mergeable partial (scale-out of one model,
 * docs/scale-out.md): what one shard of the model's examples (sharded by
 * prediction id, so a correction meets the example it replaces) holds of a
 * `total` or tumbling window of one cell, which adds up across shards into
 * the window of the whole stream.
 *
 * It holds the window's binary partial (core/metrics/binary-partial.ts),
 * regression partial (core/metrics/regression-partial.ts) or class partial
 * (multi-class or multi-label, core/metrics/class-partial.ts), for
 * the champion role the labels and expired predictions counted and the
 * label-delay sketch (a DDSketch: merged by adding bucket counts, exact), and
 * the largest prediction timestamp (the `total` window's end; merged by max).
 * The derived figures are the evaluator's points of such a window (points.ts)
 * with, for a binary window, the AUCs under their binned names (`auc_binned`,
 * `auc_binned_error_bound`, `pr_auc_binned`); a regression window's and a
 * class window's are all of its points' (windowFigureList: a class window's
 * per-class names hold user strings, so they come as a list, never as keys).
 *
 * Not here (not mergeable this way, or not built yet): the sliding count
 * window (`last_N`, in one stream's arrival order), drift and its detectors
 * (sequential), fairness gaps (derivable from merged segment windows),
 * arrival records' estimate sums.
 */
import { BinaryMetrics } from '../metrics/binary.js';
import { binaryPartialOf, deriveBinaryPartial, mergeBinaryPartials, partialReliability, type BinaryPartial, type BinaryPartialFigures } from '../metrics/binary-partial.js';
import { RegressionMetrics, type RegressionFigures } from '../metrics/regression.js';
import { mergeClassPartials, partialClasses, type ClassPartial } from '../metrics/class-partial.js';
import { deriveRegressionPartial, mergeRegressionPartials, regressionPartialOf, type RegressionPartial } from '../metrics/regression-partial.js';
import { QuantileSketch, type QuantileSketchState } from '../metrics/quantiles.js';
import { TOTAL, type WindowStats } from './cells.js';
import { ClassMetric } from './class-metric.js';
import { classFigureList } from './points.js';
import type { EvaluatorOptions } from './options.js';
import type { MetricPoint } from './rows.js';
import { windowSize } from './windows.js';

/** A window's metric partial: binary (its score bins; no `kind`), regression or class (their `kind`). */
export type MetricPartial = BinaryPartial | RegressionPartial | ClassPartial;

/** Is the partial a regression window's? */
export function isRegressionPartial(p: MetricPartial): p is RegressionPartial {
  return 'kind' in p && p.kind === 'regression';
}

/** Is the partial a multi-class or multi-label window's? */
export function isClassPartial(p: MetricPartial): p is ClassPartial {
  return 'kind' in p && (p.kind === 'multiclass' || p.kind === 'multilabel');
}

/** Is the partial a binary window's? */
export function isBinaryPartial(p: MetricPartial): p is BinaryPartial {
  return !('kind' in p);
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

/** The metric partial of a window's metric (undefined for a metric without one). */
function metricPartialOf(o: EvaluatorOptions, stats: WindowStats): MetricPartial | undefined {
  const m = stats.metric;
  if (m instanceof BinaryMetrics) return binaryPartialOf(m.toState(), o.aucBins);
  if (m instanceof RegressionMetrics) return regressionPartialOf(m.toState());
  if (m instanceof ClassMetric) {
    const { kind, classes, head } = m.toState();
    return { kind, classes, head, numericTarget: head === null ? null : m.task.numericTarget };
  }
  return undefined;
}

/** The partial of a `total` or tumbling window (undefined for a metric without one). */
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

/** The row of a window's partial (undefined for a metric without one). */
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

/** The kind of a metric partial. */
function kindOf(p: MetricPartial): string {
  return 'kind' in p ? p.kind : 'binary';
}

/** Two metric partials of one kind together. */
function mergeMetricPartials(a: MetricPartial, b: MetricPartial): MetricPartial {
  if (kindOf(a) !== kindOf(b)) throw new RangeError(`mergeWindowPartials: a ${kindOf(a)} partial against a ${kindOf(b)} one`);
  if (isRegressionPartial(a)) return mergeRegressionPartials(a, b as RegressionPartial);
  if (isClassPartial(a)) return mergeClassPartials(a, b as ClassPartial);
  return mergeBinaryPartials(a, b as BinaryPartial);
}

/**
 * The figures of a (merged) binary or regression window, as the evaluator's points of it name them; a
 * class window's are a list (windowFigureList): its names hold class names.
 */
export function windowFigures(p: WindowPartial, delayAccuracy: number): WindowFigures {
  const m = p.metric;
  if (isClassPartial(m)) throw new TypeError('windowFigures: a class window\'s figures are windowFigureList\'s');
  const out: WindowFigures = isRegressionPartial(m) ? deriveRegressionPartial(m) : deriveBinaryPartial(m);
  Object.assign(out, championFigures(p, delayAccuracy));
  return out;
}

/** For the champion role (a window with label delays): coverage and the delays' quantiles; nothing otherwise. */
function championFigures(p: WindowPartial, delayAccuracy: number): ChampionFigures {
  if (p.delay === null) return {};
  const delay = QuantileSketch.fromState(p.delay, delayAccuracy);
  const covered = p.labelled + p.expired;
  return {
    labelled: p.labelled,
    expired: p.expired,
    label_coverage: covered === 0 ? null : p.labelled / covered,
    label_delay_p50: delay.quantile(0.5),
    label_delay_p95: delay.quantile(0.95),
  };
}

/** The class window's metric restored from its partial (ClassMetric's own code derives its figures). */
function classMetricOf(p: ClassPartial): ClassMetric {
  const task = { kind: p.kind, classes: partialClasses(p), numericTarget: p.numericTarget };
  return ClassMetric.fromState({ kind: p.kind, classes: p.classes, head: p.head }, task, p.head !== null);
}

/**
 * The figures of a (merged) window of any kind as [point name, value], in the points' order: a class
 * window's (its `total` with the confusion cells, as points.ts writes them) or windowFigures' entries,
 * then the champion's.
 */
export function windowFigureList(p: WindowPartial, delayAccuracy: number, window: string): Array<[string, number | null]> {
  const m = p.metric;
  if (!isClassPartial(m)) return Object.entries(windowFigures(p, delayAccuracy)) as Array<[string, number | null]>;
  const metric = classMetricOf(m);
  const out = classFigureList(metric.get(), window === TOTAL, metric);
  for (const entry of Object.entries(championFigures(p, delayAccuracy))) out.push(entry as [string, number | null]);
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
  if (row.window !== TOTAL || !isBinaryPartial(metric)) return [];
  const out: Array<[string, number | null]> = [];
  partialReliability(metric).forEach((bin, b) => {
    const id = String(b).padStart(2, '0');
    out.push([`calibration_bin_${id}_mean_score`, bin.mean_score], [`calibration_bin_${id}_fraction_positive`, bin.fraction_positive]);
  });
  return out;
}
