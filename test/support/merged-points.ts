/**
 * The rows of ClickHouse's `metric_points_merged` (the shards' partials
 * summed) against an unsharded evaluator's points of the same stream:
 * shared by test/integration/metric-partials.test.ts (shards through the
 * core) and test/integration/sharded-evaluator.test.ts (shards as `run`
 * instances on Kafka).
 */
import { expect } from 'vitest';
import { floatTolerance, regressionTolerance, type RegressionBounds } from '../../bench/shards.js';
import { windowPartialKey, type MetricPoint } from '../../core/evaluate/index.js';
import type { RegressionPartial } from '../../core/metrics/index.js';

/** A row of metric_points_merged as ClickHouse returns it (JSON: 64-bit integers as strings). */
export interface MergedRow {
  model_version: string;
  role: string;
  segment: string;
  window: string;
  window_start_ms: string;
  window_end_ms: string;
  metric: string;
  value: number | null;
  count: number;
  shards: string;
  version: string;
}

/** The window of a merged row, as windowPartialKey names it. */
export const mergedWindowKey = (model: string, r: MergedRow) =>
  windowPartialKey({ model, model_version: r.model_version, role: r.role, segment: r.segment, window: r.window, window_start: Number(r.window_start_ms) });

/** The merged rows by window. */
export function byWindow(model: string, rows: readonly MergedRow[]): Map<string, MergedRow[]> {
  const out = new Map<string, MergedRow[]>();
  for (const r of rows) {
    const key = mergedWindowKey(model, r);
    const list = out.get(key);
    if (list) list.push(r);
    else out.set(key, [r]);
  }
  return out;
}

/**
 * Each merged figure against the unsharded point of its window and metric
 * (`pointOf(windowKey, metric)`; auc_binned against roc_auc): window end and
 * count equal; counts and figures of counts exactly; log_loss, brier and ece
 * within the core's floatTolerance for `terms` terms; auc_binned within its
 * window's auc_binned_error_bound; the label-delay quantiles within 4 ulps;
 * a regression window's mae, rmse, mape and r2 (given `regression`, bounds
 * on its terms) within regressionTolerance of its reference sums (taken
 * from the reference's points: n·mae, n·rmse², …; r2 not compared where
 * its total squares are within twice their bound) plus 8 ulps (a stored
 * float sum is within an ulp of the written one: 18.16's text parse).
 * auc_binned_error_bound and pr_auc_binned have no point. Returns the
 * figures compared and how many auc_binned differ from roc_auc.
 */
export function expectMergedMatchesPoints(
  model: string, rows: readonly MergedRow[], pointOf: (windowKey: string, metric: string) => MetricPoint | undefined, terms: number, regression?: RegressionBounds,
): { compared: number; binnedDiffers: number } {
  let compared = 0;
  let binnedDiffers = 0;
  for (const [key, figures] of byWindow(model, rows)) {
    const bound = figures.find((f) => f.metric === 'auc_binned_error_bound')?.value ?? 0;
    const sums = regression && figures.some((f) => f.metric === 'rmse') ? referenceSums((metric) => pointOf(key, metric)?.value ?? null) : undefined;
    for (const f of figures) {
      if (f.metric === 'auc_binned_error_bound' || f.metric === 'pr_auc_binned') continue;
      const where = `${key.split('\u0000').join('|')} ${f.metric}`;
      const point = pointOf(key, f.metric === 'auc_binned' ? 'roc_auc' : f.metric);
      expect(point, where).toBeDefined();
      expect(Number(f.window_end_ms), where).toBe(point!.window_end);
      expect(f.count, where).toBe(point!.count);
      compared++;
      if (f.metric === 'auc_binned') {
        if (point!.value === null) expect(f.value, where).toBeNull();
        else {
          expect(Math.abs(f.value! - point!.value), where).toBeLessThanOrEqual(bound + 1e-12);
          if (f.value !== point!.value) binnedDiffers++;
        }
      } else if (f.metric === 'log_loss' || f.metric === 'brier' || f.metric === 'ece') {
        if (point!.value === null) expect(f.value, where).toBeNull();
        else expect(Math.abs(f.value! - point!.value), where).toBeLessThanOrEqual(floatTolerance(f.metric, point!.value, f.count, terms));
      } else if (sums && REGRESSION_FLOATS.has(f.metric)) {
        const tolerance = regressionTolerance(f.metric, sums, terms, regression!);
        if (tolerance === undefined) continue;
        if (point!.value === null) expect(f.value, where).toBeNull();
        else expect(Math.abs(f.value! - point!.value), where).toBeLessThanOrEqual(tolerance + 8 * Number.EPSILON * Math.abs(point!.value));
      } else if (f.metric.startsWith('label_delay_')) {
        expect(Math.abs(f.value! - point!.value!), where).toBeLessThanOrEqual(4 * Number.EPSILON * Math.abs(point!.value!));
      } else {
        expect(f.value, where).toBe(point!.value);
      }
    }
  }
  return { compared, binnedDiffers };
}

const REGRESSION_FLOATS = new Set(['mae', 'rmse', 'mape', 'r2']);

/** A regression window's sums as its points give them (count, mae, rmse, mape, r2): what regressionTolerance reads. */
function referenceSums(value: (metric: string) => number | null): RegressionPartial {
  const n = value('count') ?? 0;
  const sse = n * (value('rmse') ?? 0) ** 2;
  const r2 = value('r2');
  return {
    kind: 'regression', n, absErrorSum: n * (value('mae') ?? 0), squaredErrorSum: sse, labelMean: 0,
    labelSquares: r2 === null || r2 >= 1 ? 0 : sse / (1 - r2), percentSum: n * (value('mape') ?? 0),
  };
}
