/**
 * The rows of ClickHouse's `metric_points_merged` (the shards' partials
 * summed) against an unsharded evaluator's points of the same stream:
 * shared by test/integration/metric-partials.test.ts (shards through the
 * core) and test/integration/sharded-evaluator.test.ts (shards as `run`
 * instances on Kafka).
 */
import { expect } from 'vitest';
import { floatTolerance } from '../../bench/shards.js';
import { windowPartialKey, type MetricPoint } from '../../core/evaluate/index.js';

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
 * window's auc_binned_error_bound; the label-delay quantiles within 4 ulps.
 * auc_binned_error_bound and pr_auc_binned have no point. Returns the
 * figures compared and how many auc_binned differ from roc_auc.
 */
export function expectMergedMatchesPoints(
  model: string, rows: readonly MergedRow[], pointOf: (windowKey: string, metric: string) => MetricPoint | undefined, terms: number,
): { compared: number; binnedDiffers: number } {
  let compared = 0;
  let binnedDiffers = 0;
  for (const [key, figures] of byWindow(model, rows)) {
    const bound = figures.find((f) => f.metric === 'auc_binned_error_bound')?.value ?? 0;
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
      } else if (f.metric.startsWith('label_delay_')) {
        expect(Math.abs(f.value! - point!.value!), where).toBeLessThanOrEqual(4 * Number.EPSILON * Math.abs(point!.value!));
      } else {
        expect(f.value, where).toBe(point!.value);
      }
    }
  }
  return { compared, binnedDiffers };
}
