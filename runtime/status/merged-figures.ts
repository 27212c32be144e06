/**
 * `feedbackloop status` for sharded models (docs/scale-out.md, "Merging
 * where figures are read"): which models' figures come from their shards'
 * partials, and the query of those figures through mergedPointsQuery (the
 * filter on metric_partials itself, so ClickHouse reads only the model's
 * `total` and latest `window` rows instead of deriving every window).
 *
 * A model is read merged when metric_partials has rows of it from more than
 * one shard, or, when the deployment shards by prediction (the caller says
 * so), whenever it has rows at all: such a model's metric_points do not hold
 * its mergeable figures. A model keyed by model writes one shard's partials
 * (evaluator.write_partials): its metric_points are the same figures and are
 * read as before.
 */
import { mergedPointsQuery, sqlString } from '../../adapters/clickhouse/index.js';
import type { Config } from '../../adapters/config/index.js';
import { ALL_SEGMENTS } from '../../core/contracts/index.js';
import type { MetricPointRow } from './figures.js';
import { MERGED_STATUS_METRICS } from './figures.js';

/**
 * evaluator.shard_by is `prediction` (one model's examples over several evaluator tasks): every model with
 * partials is read merged. Read defensively: a config without the setting shards by model.
 */
export function shardedByPrediction(config: Pick<Config, 'evaluator'>): boolean {
  return (config.evaluator as { shard_by?: unknown }).shard_by === 'prediction';
}

/** How many shards wrote partials of each model (any window, any role). */
export const SHARDS_QUERY = 'SELECT model, uniqExact(shard) AS shards FROM metric_partials GROUP BY model ORDER BY model';

/**
 * The models to read merged, with their shard counts: those with rows from more than one shard, or
 * every model with rows when `shardedByPrediction` (evaluator.shard_by: prediction).
 */
export function mergedModels(rows: Array<{ model: string; shards: number }>, shardedByPrediction: boolean): Map<string, number> {
  return new Map(rows.filter((r) => r.shards > 1 || (shardedByPrediction && r.shards > 0)).map((r) => [r.model, r.shards]));
}

/**
 * The merged figures status shows of `models` (segment ALL_SEGMENTS): `total`, and per model the latest
 * `window` whose end has passed (the latest one, open, when none has ended yet), as latestFiguresQuery
 * picks them from metric_points; with `shards`, the shards each window was summed over.
 */
export function latestMergedFiguresQuery(models: readonly string[], window: string, now: number): string {
  const w = sqlString(window);
  const all = sqlString(ALL_SEGMENTS);
  const names = models.map(sqlString).join(', ');
  const where = `model IN (${names}) AND segment = ${all}
    AND (window = 'total' OR (window = ${w} AND (model, window_start_ms) IN (
      SELECT model, if(countIf(window_end_ms <= ${now}) > 0, maxIf(window_start_ms, window_end_ms <= ${now}), max(window_start_ms))
      FROM metric_partials
      WHERE model IN (${names}) AND segment = ${all} AND window = ${w}
      GROUP BY model)))`;
  return `SELECT model, role, model_version, window, window_start_ms, window_end_ms, metric, value, count, shards
FROM (${mergedPointsQuery(where)})
WHERE metric IN (${MERGED_STATUS_METRICS.map(sqlString).join(', ')})
ORDER BY model, window, role, model_version, metric`;
}

/** A row of either query as ClickHouse's JSON gives it (UInt64 as strings). */
export type FigureRowJson = Omit<MetricPointRow, 'window_start_ms' | 'window_end_ms' | 'count' | 'value' | 'shards'> & {
  window_start_ms: string | number;
  window_end_ms: string | number;
  count: string | number;
  value: number | string | null;
  shards?: string | number;
};

/** The row with its numbers as numbers. */
export function figureRow(r: FigureRowJson): MetricPointRow {
  const { shards, ...rest } = r;
  return {
    ...rest,
    window_start_ms: Number(r.window_start_ms),
    window_end_ms: Number(r.window_end_ms),
    count: Number(r.count),
    value: r.value === null ? null : Number(r.value),
    ...(shards === undefined ? {} : { shards: Number(shards) }),
  };
}
