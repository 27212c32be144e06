/**
 * Regression windows' partials on the real ClickHouse (migration 15's
 * columns of metric_partials; metric_points_merged as migration 17 makes
 * it): one regression model's stream (test/support/partials-stream.ts:
 * corrections, some twice, expired predictions, two segments, a
 * challenger) split into 2 shards by prediction id, each through the
 * evaluator core and the real sink with its own offsets as versions. The
 * view gives every window the unsharded evaluator wrote: its regression
 * figures (count, mae, rmse, r2, mape) and the champion's (labelled,
 * expired, coverage, delays), no binary figure; count exactly, the float
 * figures within regressionTolerance of the unsharded points and of the
 * TypeScript merge; rows read back give the written partials (the float
 * sums within an ulp: ClickHouse 18.16's text float parse);
 * mergedPointsQuery gives the view's rows; a database made before
 * migration 15 keeps its binary rows (kind 'binary') and their figures
 * after it. A few seconds.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClickHouseStore, MERGED_METRICS, MERGED_REGRESSION_METRICS, MIGRATIONS, mergedPointsQuery, metricPartialRow, shardPartialOf, type MetricPartialRow } from '../../adapters/clickhouse/index.js';
import { mergeRuns, regressionTolerance, shard } from '../../bench/shards.js';
import { isRegressionPartial, windowFigures, windowPartialKey } from '../../core/evaluate/index.js';
import type { RegressionPartial } from '../../core/metrics/index.js';
import { uniqueName } from '../support/collect.js';
import { byWindow, mergedWindowKey, type MergedRow } from '../support/merged-points.js';
import { DELAY_ACCURACY, lastPartials, MODEL, REGRESSION_BOUNDS, REGRESSION_MODEL, regressionStream, shardRows, stream, unsharded } from '../support/partials-stream.js';
import { storeOfShards } from '../support/partials-store.js';
import { requireStack, STACK } from '../support/stack.js';

const CHAMPION_ONLY = ['labelled', 'expired', 'label_coverage', 'label_delay_p50', 'label_delay_p95'];
const FLOAT = new Set(['mae', 'rmse', 'r2', 'mape']);
/** A stored float sum is within an ulp of the written one (18.16's text parse): a few ulps on a figure of them. */
const parseSlack = (value: number) => 8 * Number.EPSILON * Math.abs(value);

describe('regression partials in metric_partials and metric_points_merged on the real ClickHouse', () => {
  let store: ClickHouseStore;
  const database = uniqueName('test_partials_reg').replace(/-/g, '_');
  const examples = regressionStream();
  const reference = unsharded(examples);
  const rowsOfShards = shard(examples, 2).map((s, i) => shardRows(s, i));
  const merged = mergeRuns(rowsOfShards.map(lastPartials), DELAY_ACCURACY);
  const terms = 2 * examples.length;
  const select = (sql: string) => store.select<MergedRow>(`${sql} ORDER BY role, model_version, segment, window, window_start_ms, metric`);

  beforeAll(async () => {
    await requireStack('clickhouse');
    store = await storeOfShards(database, [{ rowsOfShards }]);
  });

  afterAll(async () => {
    await store?.command(`DROP DATABASE IF EXISTS ${database}`).catch(() => {});
    await store?.close();
  });

  it('the stream is what the test needs: corrections, expired predictions, both shards, regression windows of every role', () => {
    expect(examples.filter((e) => e.correction_of !== null).length).toBeGreaterThan(50);
    expect(examples.filter((e) => e.label === null).length).toBeGreaterThan(20);
    expect([...reference.windows.values()].every((w) => isRegressionPartial(w.partial.metric))).toBe(true);
    expect(new Set([...reference.windows.values()].map((w) => w.role))).toEqual(new Set(['champion', 'challenger']));
  });

  it('every window the unsharded evaluator wrote, merged from both shards: its regression and champion figures, as its points', async () => {
    const rows = await select(`SELECT * FROM metric_points_merged WHERE model = '${REGRESSION_MODEL}'`);
    const windows = byWindow(REGRESSION_MODEL, rows);
    expect(new Set(windows.keys())).toEqual(new Set(reference.windows.keys()));
    expect(rows.reduce((m, r) => Math.max(m, Number(r.shards)), 0)).toBe(2);
    let floats = 0;
    let r2 = 0;
    for (const [key, figures] of windows) {
      const window = reference.windows.get(key)!;
      const partial = window.partial.metric as RegressionPartial;
      const mine = windowFigures(merged.get(key)!.partial, DELAY_ACCURACY) as unknown as Record<string, number | null>;
      const champion = window.role === 'champion';
      expect(figures.map((f) => f.metric).sort()).toEqual(MERGED_REGRESSION_METRICS.filter((m) => champion || !CHAMPION_ONLY.includes(m)).sort());
      for (const f of figures) {
        const where = `${key.split('\u0000').join('|')} ${f.metric}`;
        const point = reference.points.get(`${key}\u0000${f.metric}`);
        expect(point, where).toBeDefined();
        expect(Number(f.window_end_ms), where).toBe(point!.window_end);
        expect(f.count, where).toBe(point!.count);
        if (FLOAT.has(f.metric) && point!.value !== null) {
          const tolerance = regressionTolerance(f.metric, partial, terms, REGRESSION_BOUNDS);
          if (tolerance === undefined) continue;
          floats++;
          if (f.metric === 'r2') r2++;
          expect(Math.abs(f.value! - point!.value), where).toBeLessThanOrEqual(tolerance + parseSlack(point!.value));
          expect(Math.abs(f.value! - mine[f.metric]!), `${where} (TypeScript merge)`).toBeLessThanOrEqual(tolerance + parseSlack(point!.value));
        } else if (f.metric.startsWith('label_delay_')) {
          expect(Math.abs(f.value! - point!.value!), where).toBeLessThanOrEqual(4 * Number.EPSILON * Math.abs(point!.value!));
        } else {
          expect(f.value, where).toBe(point!.value);
          expect(f.value, `${where} (TypeScript merge)`).toBe(mine[f.metric]);
        }
      }
    }
    expect(floats).toBeGreaterThan(100);
    expect(r2).toBeGreaterThan(20);
  });

  it('rows read back give the written partials (the float sums within an ulp), kind regression and the binary columns empty', async () => {
    const read = await store.select<MetricPartialRow>(`SELECT * FROM metric_partials FINAL WHERE model = '${REGRESSION_MODEL}'`);
    const last = rowsOfShards.map(lastPartials);
    expect(read.length).toBe(last.reduce((n, m) => n + m.size, 0));
    for (const row of read) {
      expect(row.kind).toBe('regression');
      expect([row.tp, row.fp, row.tn, row.fn, row.score_bins.length, Number(row.score_bin_count)]).toEqual([0, 0, 0, 0, 0, 0]);
      const back = shardPartialOf(row);
      const written = last[back.shard]!.get(windowPartialKey(back))!;
      const a = back.partial.metric as RegressionPartial;
      const b = written.partial.metric as RegressionPartial;
      expect(a.n).toBe(b.n);
      for (const k of ['absErrorSum', 'squaredErrorSum', 'labelMean', 'labelSquares', 'percentSum'] as const) {
        expect(Math.abs(a[k] - b[k]), `${k}: ${a[k]} read, ${b[k]} written`).toBeLessThanOrEqual(Number.EPSILON * Math.abs(b[k]));
      }
      expect({ ...back.partial, metric: null }).toEqual({ ...written.partial, metric: null });
    }
  });

  it('mergedPointsQuery with the filter inside gives the view\'s rows', async () => {
    const where = `model = '${REGRESSION_MODEL}' AND window = 'total'`;
    const viaQuery = await select(`SELECT * FROM (${mergedPointsQuery(where)})`);
    const viaView = await select(`SELECT * FROM metric_points_merged WHERE ${where}`);
    expect(viaQuery.length).toBeGreaterThan(10);
    expect(viaQuery).toEqual(viaView);
    expect(new Set(viaQuery.map((r) => mergedWindowKey(REGRESSION_MODEL, r))).size).toBeGreaterThan(1);
  });

  it('migrations 15-17 on a database made before them: its binary rows read as kind binary, with their figures, beside new regression rows', async () => {
    const options = { url: STACK.clickhouseUrl, database: `${database}_before`, username: 'default', password: '', requestTimeoutMs: 30_000 };
    const before = await ClickHouseStore.open(options, MIGRATIONS.filter((m) => m.id < 15));
    try {
      const binary = shardRows(stream(MODEL), 0).at(-1)!.partials!.find((p) => p.value.window === 'total' && p.value.role === 'champion' && p.value.segment === '*')!;
      const oldRow: Record<string, unknown> = { ...metricPartialRow(binary.value, binary.version, 0) };
      for (const column of Object.keys(oldRow)) if (['kind', 'classes', 'class_head'].includes(column) || /^(reg|mc|ml)_/.test(column)) delete oldRow[column];
      await before.insert('metric_partials', [oldRow]);
      const figure = async (store: ClickHouseStore, model: string) =>
        store.select<{ metric: string; value: number | null }>(`SELECT metric, value FROM metric_points_merged WHERE model = '${model}' AND window = 'total' AND role = 'champion' AND segment = '*' ORDER BY metric`);
      const old = await figure(before, MODEL);
      // The new version opens the same database: migrations 15-17 run.
      const after = await ClickHouseStore.open(options);
      try {
        const regression = rowsOfShards[0]!.at(-1)!.partials!.find((p) => p.value.window === 'total' && p.value.role === 'champion' && p.value.segment === '*')!;
        await after.insert('metric_partials', [metricPartialRow(regression.value, regression.version, 0)]);
        expect(await after.select(`SELECT model, kind FROM metric_partials ORDER BY model`)).toEqual([{ model: REGRESSION_MODEL, kind: 'regression' }, { model: MODEL, kind: 'binary' }]);
        const now = await figure(after, MODEL);
        expect(now.map((r) => r.metric)).toEqual([...MERGED_METRICS].sort());
        expect(now).toEqual(old);
        expect(now.find((r) => r.metric === 'count')!.value).toBeGreaterThan(50);
        expect((await figure(after, REGRESSION_MODEL)).map((r) => r.metric)).toEqual([...MERGED_REGRESSION_METRICS].sort());
      } finally {
        await after.close();
      }
    } finally {
      await before.command(`DROP DATABASE IF EXISTS ${options.database}`).catch(() => {});
      await before.close();
    }
  });
});
