/**
 * Metric points from the figures of a window: every figure of the metric,
 * calibration bins for `total`, for the champion role label delay and
 * coverage, and from arrival records predictions, pending and the
 * estimated figures.
 */
import { BinaryMetrics, MulticlassMetrics, type EstimatedFigures } from '../metrics/index.js';
import { TOTAL, type Cell, type Figures, type Metric, type WindowStats } from './cells.js';
import { ClassMetric, type ClassCellFigures } from './class-metric.js';
import type { EvaluatorOptions } from './options.js';
import type { MetricPoint } from './rows.js';
import { trustFigures, type TrustFigures } from './trust.js';
import { windowSize } from './windows.js';

export type Where = Omit<MetricPoint, 'metric' | 'value' | 'count'>;

/** A point with its fields spelled out (one object shape: cheaper than a spread per figure). */
export function point(where: Where, metric: string, value: number | null, count: number): MetricPoint {
  return {
    model: where.model, model_version: where.model_version, role: where.role, segment: where.segment, window: where.window,
    window_start: where.window_start, window_end: where.window_end, metric, value, count,
  };
}

/** Per-class points and the confusion matrix of a model with at most this many classes (its `total` window only): the matrix is classes² points. */
export const MAX_CONFUSION_CLASSES = 32;

/**
 * A multi-class or multi-label window's points: its scalar figures by plain
 * name, per class `precision[<class>]`, `recall[<class>]`, `f1[<class>]`,
 * `support[<class>]`; with `total` (the `total` window) and at most
 * MAX_CONFUSION_CLASSES classes, a multi-class model's confusion matrix as
 * `confusion[<true>|<predicted>]` counts (rejections are the `rejected` figure).
 */
function classPoints(where: Where, figures: ClassCellFigures, total: boolean, metric?: Metric): MetricPoint[] {
  return classFigureList(figures, total, metric).map(([name, value]) => point(where, name, value, figures.count));
}

/** A multi-class or multi-label window's figures by point name, in the points' order (classPoints; every point's count is the window's). */
export function classFigureList(figures: ClassCellFigures, total: boolean, metric?: Metric): Array<[string, number | null]> {
  const out: Array<[string, number | null]> = [...figures.scalars];
  figures.classes.forEach((c, i) => {
    out.push([`precision[${c}]`, figures.precision[i]!], [`recall[${c}]`, figures.recall[i]!], [`f1[${c}]`, figures.f1[i]!], [`support[${c}]`, figures.support[i]!]);
  });
  if (total && metric instanceof ClassMetric && metric.classes instanceof MulticlassMetrics && figures.classes.length <= MAX_CONFUSION_CLASSES) {
    const { classes, counts } = metric.classes.confusion();
    const k = classes.length;
    for (let t = 0; t < k; t++) for (let p = 0; p < k; p++) out.push([`confusion[${classes[t]}|${classes[p]}]`, counts[t * k + p]!]);
  }
  return out;
}

function figurePoints(
  where: Where,
  figures: Figures,
  reliability: boolean,
  metric?: Metric,
): MetricPoint[] {
  if ('scalars' in figures) return classPoints(where, figures, reliability, metric);
  const count = figures.count;
  const out: MetricPoint[] = [];
  for (const [name, value] of Object.entries(figures)) {
    if (typeof value === 'boolean') continue;
    out.push(point(where, name, value, count));
  }
  if (reliability && metric instanceof BinaryMetrics) {
    metric.reliability().forEach((bin, b) => {
      const id = String(b).padStart(2, '0');
      out.push(point(where, `calibration_bin_${id}_mean_score`, bin.mean_score, bin.count));
      out.push(point(where, `calibration_bin_${id}_fraction_positive`, bin.fraction_positive, bin.count));
    });
  }
  return out;
}

/** The points of a cell's sliding window (none while it is empty). */
export function rollingPoints(model: string, cell: Cell): MetricPoint[] {
  const rolling = cell.rolling!;
  const oldest = rolling.oldest();
  const newest = rolling.newest();
  if (!oldest || !newest) return [];
  const where = {
    model, model_version: cell.version, role: cell.role, segment: cell.segment,
    window: `last_${rolling.size}`, window_start: oldest.at, window_end: newest.at,
  };
  return figurePoints(where, rolling.get(), false);
}

/** The points of a `total` or tumbling window. */
export function windowPoints(o: EvaluatorOptions, model: string, stats: WindowStats): MetricPoint[] {
  const { cell, window, start } = stats;
  const size = windowSize(o, window);
  const where = {
    model, model_version: cell.version, role: cell.role, segment: cell.segment, window,
    window_start: start, window_end: size === undefined ? Math.max(0, stats.lastTimestamp) : start + size,
  };
  const figures = stats.metric.get();
  // A window its arrivals alone made has no realised figures yet.
  const realised = stats.predictions === 0 || figures.count > 0 || stats.expired > 0;
  const out = realised ? figurePoints(where, figures, window === TOTAL, stats.metric) : [];
  if (stats.delay) {
    const covered = stats.labelled + stats.expired;
    out.push(
      point(where, 'labelled', stats.labelled, covered),
      point(where, 'expired', stats.expired, covered),
      point(where, 'label_coverage', covered === 0 ? null : stats.labelled / covered, covered),
      point(where, 'label_delay_p50', stats.delay.quantile(0.5), stats.delay.count()),
      point(where, 'label_delay_p95', stats.delay.quantile(0.95), stats.delay.count()),
    );
  }
  if (stats.predictions > 0) {
    for (const [name, value] of Object.entries(arrivalFigures(o, stats))) {
      out.push(point(where, name, value, name.startsWith('estimate_') ? stats.trust.labels : stats.predictions));
    }
  }
  return out;
}

/** The figures of `arrivalFigures`: the estimated ones only for a binary model's windows. */
export type ArrivalFigures = { predictions: number; pending?: number } & Partial<EstimatedFigures & TrustFigures>;

/**
 * From a window's arrival records: `predictions`; for the champion role
 * `pending` (its predictions not labelled nor expired yet, never below 0);
 * for a binary model the estimated figures and the trust of the window's
 * last update (trust.ts).
 */
export function arrivalFigures(o: EvaluatorOptions, stats: WindowStats): ArrivalFigures {
  const out: ArrivalFigures = { predictions: stats.predictions };
  if (stats.delay) out.pending = Math.max(0, stats.predictions - stats.labelled - stats.expired);
  if (stats.estimate) Object.assign(out, stats.estimate.get(), trustFigures(stats.trust, o));
  return out;
}
