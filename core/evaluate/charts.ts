/**
 * The evaluator's chart rows (rows.ts, ChartRow): for a binary model's
 * `total` window of segment `*`, per role and version, the bounded ROC / PR
 * curve and the confusion matrix; for each input feature, the reference's
 * and the latest window's counts per bin or category, for the report's
 * histograms. Pure functions of the state they are given.
 */
import { ALL_SEGMENTS } from '../contracts/index.js';
import { BinaryMetrics, MulticlassMetrics, scoreCurve } from '../metrics/index.js';
import { TOTAL, type WindowStats } from './cells.js';
import { ClassMetric } from './class-metric.js';
import { MAX_CONFUSION_CLASSES } from './points.js';
import type { ChartRow } from './rows.js';

/** What a model's chart is about, and what it covers. */
type Where = Pick<ChartRow, 'model' | 'model_version' | 'role' | 'segment' | 'window' | 'window_start' | 'window_end'>;

function chart(where: Where, chart: string, subject: string, labels: string[], series: string[], values: number[], n: number): ChartRow {
  return {
    model: where.model, model_version: where.model_version, role: where.role, segment: where.segment, window: where.window,
    window_start: where.window_start, window_end: where.window_end, chart, subject, labels, series, values, n,
  };
}

/**
 * The charts of a window: a binary model's `total` window of segment `*` has a
 * score curve and a confusion matrix; a multi-class model's (at most
 * MAX_CONFUSION_CLASSES classes) its confusion matrix (row = true class,
 * column = decided class, row-major; rejections are not in it); others none.
 */
export function windowCharts(model: string, stats: WindowStats): ChartRow[] {
  const { cell, window, metric } = stats;
  if (window !== TOTAL || cell.segment !== ALL_SEGMENTS) return [];
  const where = { model, model_version: cell.version, role: cell.role, segment: cell.segment, window, window_start: 0, window_end: Math.max(0, stats.lastTimestamp) };
  if (metric instanceof ClassMetric) {
    if (!(metric.classes instanceof MulticlassMetrics) || metric.task.classes.length > MAX_CONFUSION_CLASSES) return [];
    const { classes, counts } = metric.classes.confusion();
    const names = classes.slice();
    return [chart(where, 'confusion', '', names, names.slice(), Array.from(counts), metric.classes.get().count)];
  }
  if (!(metric instanceof BinaryMetrics)) return [];
  const figures = metric.get();
  const curve = scoreCurve(metric.scoreTable());
  return [
    chart(where, 'score_curve', '', [], ['threshold', 'tp', 'fp'], [...curve.thresholds, ...curve.tp, ...curve.fp], figures.count),
    // Row = true class, column = predicted: [[tn, fp], [fn, tp]].
    chart(where, 'confusion', '', ['0', '1'], ['0', '1'], [figures.tn, figures.fp, figures.fn, figures.tp], figures.count),
  ];
}

/** A number for a bin's label: four significant digits, no exponent for everyday magnitudes. */
function edge(x: number): string {
  return String(Number(x.toPrecision(4)));
}

/** The labels of the PSI bins of inner edges e: `< e0`, `e0 – e1`, …, `≥ e_last` (bin i holds e[i-1] <= x < e[i]). */
export function binLabels(edges: readonly number[]): string[] {
  if (edges.length === 0) return ['all'];
  const labels = [`< ${edge(edges[0]!)}`];
  for (let i = 1; i < edges.length; i++) labels.push(`${edge(edges[i - 1]!)} – ${edge(edges[i]!)}`);
  labels.push(`≥ ${edge(edges[edges.length - 1]!)}`);
  return labels;
}

/** An input feature's counts in the reference and in the window just completed (role and version `*`). */
export function featureChart(
  where: Where,
  kind: 'numeric_histogram' | 'category_counts',
  feature: string,
  labels: string[],
  reference: ArrayLike<number>,
  current: ArrayLike<number>,
): ChartRow {
  const values: number[] = [];
  let n = 0;
  for (let i = 0; i < labels.length; i++) values.push(reference[i] ?? 0);
  for (let i = 0; i < labels.length; i++) {
    values.push(current[i] ?? 0);
    n += current[i] ?? 0;
  }
  return chart(where, kind, feature, labels, ['reference', 'current'], values, n);
}
