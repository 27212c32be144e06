/**
 * `feedbackloop status`, what it reads from ClickHouse: champion_history
 * (the registry's champion query) and metric_points (the figures), or for
 * sharded models metric_partials through metric_points_merged's query
 * (merged-figures.ts).
 */
import { sqlString, type ClickHouseStore } from '../../adapters/clickhouse/index.js';
import { ALL_SEGMENTS } from '../../core/contracts/index.js';
import { errorMessage, isRetriable } from '../../core/errors.js';
import { redactUrl } from '../../core/redact.js';
import { CHAMPION_HISTORY_TABLE, registryQueries } from '../../processors/registry.js';
import { latestMoves, type ChampionMove } from './champions.js';
import { STATUS_METRICS, type MetricPointRow } from './figures.js';
import { figureRow, latestMergedFiguresQuery, mergedModels, SHARDS_QUERY, type FigureRowJson } from './merged-figures.js';
import type { Fail } from './report.js';

const UNKNOWN_TABLE = /Code: 60\b|UNKNOWN_TABLE|Table \S+ doesn't exist/i;

/** What to tell a user whose ClickHouse query failed, and whether asking again may help. */
function clickhouseProblem(rawUrl: string, database: string, table: string, error: unknown): [string, boolean] {
  const url = redactUrl(rawUrl);
  const message = errorMessage(error);
  if (/Code: 81\b|UNKNOWN_DATABASE|Database \S+ doesn't exist/i.test(message)) {
    return [`ClickHouse at ${url} has no database ${database}: check clickhouse.database (\`feedbackloop check\` or \`run\` creates it)`, false];
  }
  if (UNKNOWN_TABLE.test(message)) {
    return [`ClickHouse at ${url} has no table ${database}.${table}: check clickhouse.database (\`feedbackloop check\` or \`run\` creates the tables)`, false];
  }
  return [`ClickHouse at ${url}: ${message}`, isRetriable(error)];
}

/** The latest PROMOTE / ROLLBACK per model in champion_history; undefined when it could not be read. */
export async function historyChampions(store: ClickHouseStore, url: string, database: string, fail: Fail): Promise<Map<string, ChampionMove> | undefined> {
  type Row = { model: string; champion: string; deployed_at_ms: string; by_decision: string; by_decision_kind: string; replaced: string; published_at_ms: string; deployed_by: string; decided_by_policy: string; why: string };
  try {
    // The registry's champion query (docs/registry.md); UInt64 columns come back as strings.
    const rows = await store.select<Row>(registryQueries.champions());
    return latestMoves(
      rows.map((r) => ({
        model: r.model,
        decision: r.by_decision_kind === 'ROLLBACK' ? 'ROLLBACK' : 'PROMOTE',
        decision_id: r.by_decision,
        from_version: r.replaced,
        to_version: r.champion,
        actor: r.deployed_by,
        policy: r.decided_by_policy,
        reason: r.why,
        at: Number(r.deployed_at_ms),
        decided_at: Number(r.published_at_ms),
      })),
    );
  } catch (error) {
    const [message, retriable] = clickhouseProblem(url, database, CHAMPION_HISTORY_TABLE, error);
    fail('clickhouse', message, retriable);
    return undefined;
  }
}

/**
 * metric_points, segment ALL_SEGMENTS, the figures status shows: `total`, and per
 * model the latest `window` whose end has passed (the latest one, open,
 * when none has ended yet); models in `exclude` left out (read merged).
 */
export function latestFiguresQuery(window: string, now: number, exclude: readonly string[] = []): string {
  const w = sqlString(window);
  const metrics = STATUS_METRICS.map(sqlString).join(', ');
  const all = sqlString(ALL_SEGMENTS);
  const others = exclude.length === 0 ? '' : ` AND model NOT IN (${exclude.map(sqlString).join(', ')})`;
  return `SELECT model, role, model_version, window, window_start_ms, window_end_ms, metric, value, count
FROM metric_points FINAL
WHERE segment = ${all} AND metric IN (${metrics})${others}
  AND (window = 'total' OR (window = ${w} AND (model, window_start_ms) IN (
    SELECT model, if(countIf(window_end_ms <= ${now}) > 0, maxIf(window_start_ms, window_end_ms <= ${now}), max(window_start_ms))
    FROM metric_points
    WHERE segment = ${all} AND window = ${w}${others}
    GROUP BY model)))
ORDER BY model, window, role, model_version, metric`;
}

/** The figures status shows, and the models among them read merged (with their shard counts). */
export interface LatestFigures {
  rows: MetricPointRow[];
  merged: Map<string, number>;
}

/**
 * The figures: the models mergedModels picks from metric_partials through latestMergedFiguresQuery, the others
 * through latestFiguresQuery; undefined when they could not be read (a database without metric_partials, from
 * before migration 11, has no sharded model).
 */
export async function latestFigures(
  store: ClickHouseStore, url: string, database: string, window: string, now: number, fail: Fail, shardedByPrediction = false,
): Promise<LatestFigures | undefined> {
  let table = 'metric_partials';
  try {
    const shards = await store.select<{ model: string; shards: string | number }>(SHARDS_QUERY).catch((error: unknown) => {
      if (UNKNOWN_TABLE.test(errorMessage(error))) return [];
      throw error;
    });
    const merged = mergedModels(shards.map((r) => ({ model: r.model, shards: Number(r.shards) })), shardedByPrediction);
    table = 'metric_points';
    const [points, partials] = await Promise.all([
      store.select<FigureRowJson>(latestFiguresQuery(window, now, [...merged.keys()])),
      merged.size === 0 ? [] : store.select<FigureRowJson>(latestMergedFiguresQuery([...merged.keys()], window, now)),
    ]);
    return { rows: [...points, ...partials].map(figureRow), merged };
  } catch (error) {
    const [message, retriable] = clickhouseProblem(url, database, table, error);
    fail('clickhouse', message, retriable);
    return undefined;
  }
}
