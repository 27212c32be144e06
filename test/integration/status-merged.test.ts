/**
 * `feedbackloop status` reads a sharded model's figures merged from its
 * shards' partials (docs/scale-out.md, "Merging where figures are read"),
 * on the real ClickHouse (and Kafka, which status reads too):
 *  - `hot`: one model's stream (test/support/partials-stream.ts) split into
 *    2 shards by prediction id, each shard's partials written through the
 *    real ClickHouse sink and no metric_points (as a deployment sharded by
 *    prediction writes); status --json must give the latest ended 1h window
 *    and total of every role, figures equal to the unsharded evaluator's
 *    (counts, precision, recall and coverage exactly; log loss within the
 *    core's float tolerance; the label delay within the pow slack) and
 *    auc_binned equal to the TypeScript merge of the same partials, over 2
 *    shards; the text says so; its champion (no decision: the version
 *    upstream serves) is named as read from metric_points_merged;
 *  - `eta`: a regression model's stream, sharded alike: its count and
 *    coverage exactly, rmse and mae within regressionTolerance of the
 *    unsharded evaluator's, over 2 shards; the text's heading and columns;
 *  - `cold`: a model of one shard that writes its points and partials (the
 *    keying by model with evaluator.write_partials): read from metric_points
 *    as before (exact ROC AUC), unless the deployment shards by prediction,
 *    when it is read merged over its one shard.
 * About 5 s (the built CLI: run `npm run build` first).
 */
import { execFile } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClickHouseStore } from '../../adapters/clickhouse/index.js';
import { floatTolerance, mergeRuns, regressionTolerance, shard } from '../../bench/shards.js';
import { systemClock } from '../../core/clock.js';
import { windowFigures, windowPartialKey, type EvaluatorRows, type MetricPoint, type WindowPartialRow } from '../../core/evaluate/index.js';
import { latestFigures } from '../../runtime/status/gather-clickhouse.js';
import { MERGED_BINARY_FIGURES, REGRESSION_FIGURES, type FigureLine, type StatusReport } from '../../runtime/status/index.js';
import type { RegressionPartial } from '../../core/metrics/index.js';
import { ClickHouseEvaluatorSink } from '../../sinks/evaluator-rows.js';
import { uniqueName } from '../support/collect.js';
import { CLI, joinerEnvironment, pipelineTopics } from '../support/joiner-process.js';
import { DELAY_ACCURACY, REGRESSION_BOUNDS, regressionStream, shardRows, stream, unsharded, writeInterleaved } from '../support/partials-stream.js';
import { requireStack, STACK } from '../support/stack.js';

const WINDOW = '1h';

function run(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { env, timeout: 60_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? Number((error as { code?: unknown }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

/** The last partial of each window in a shard's rows. */
function lastOf(rows: EvaluatorRows[]): Map<string, WindowPartialRow> {
  const last = new Map<string, WindowPartialRow>();
  for (const r of rows) for (const p of r.partials!) last.set(windowPartialKey(p.value), p.value);
  return last;
}

/** The windows status shows of a model's points: segment *, total and the latest `WINDOW` window (all ended long ago). */
function shownWindows(points: Iterable<MetricPoint>): string[] {
  const all = [...points].filter((p) => p.segment === '*');
  const latest = all.reduce((m, p) => (p.window === WINDOW ? Math.max(m, p.window_start) : m), Number.NEGATIVE_INFINITY);
  const keys = all.filter((p) => p.window === 'total' || (p.window === WINDOW && p.window_start === latest)).map((p) => windowPartialKey(p));
  return [...new Set(keys)].sort();
}

const lineKey = (model: string, l: FigureLine) => windowPartialKey({ model, model_version: l.version, role: l.role, segment: '*', window: l.window, window_start: l.window_start_ms });

describe('status reads sharded models merged from metric_partials', () => {
  const prefix = uniqueName('status-merged');
  const database = uniqueName('test_status_merged').replace(/-/g, '_');
  const env = joinerEnvironment({ clientId: prefix, topics: pipelineTopics(prefix), partitions: 1, extra: { FEEDBACKLOOP_CLICKHOUSE_URL: STACK.clickhouseUrl, FEEDBACKLOOP_CLICKHOUSE_DATABASE: database } });
  const hot = stream('hot');
  const hotReference = unsharded(hot);
  const hotShards = shard(hot, 2).map((s, i) => shardRows(s, i));
  const hotMerged = mergeRuns(hotShards.map(lastOf), DELAY_ACCURACY);
  const eta = regressionStream();
  const etaReference = unsharded(eta);
  const etaShards = shard(eta, 2).map((s, i) => shardRows(s, i));
  const cold = stream('cold');
  const coldReference = unsharded(cold);
  const coldRows = shardRows(cold, 0, { points: true });
  let store: ClickHouseStore;

  beforeAll(async () => {
    await requireStack('kafka', 'clickhouse');
    store = await ClickHouseStore.open({ url: STACK.clickhouseUrl, database, username: 'default', password: '', requestTimeoutMs: 30_000 });
    const sink = new ClickHouseEvaluatorSink(store, systemClock, { maxRows: 1000, maxBytes: 8_000_000 });
    for (const shards of [hotShards, etaShards]) await writeInterleaved(sink, shards);
    await sink.writeBatch(coldRows);
  }, 60_000);

  afterAll(async () => {
    await store?.command(`DROP DATABASE IF EXISTS ${database}`).catch(() => {});
    await store?.close();
  });

  it('--json: the sharded model\'s figures are the unsharded evaluator\'s (counts exactly), merged over 2 shards; the one-shard model\'s come from metric_points', async () => {
    const result = await run(['status', '--json', '--window', WINDOW], env);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout) as StatusReport;
    expect(report.problems).toEqual([]);
    const byModel = new Map(report.figures!.models.map((m) => [m.model, m]));
    expect([...byModel.keys()]).toEqual(['cold', 'eta', 'hot']);
    // No promotion decision: each champion is the version upstream serves, named with the rows it was read from.
    expect(report.champions.map((c) => [c.model, c.version, c.sources, c.decision])).toEqual([
      ['cold', 'v1', ['metric_points'], null],
      ['eta', 'v1', ['metric_points_merged'], null],
      ['hot', 'v1', ['metric_points_merged'], null],
    ]);

    const model = byModel.get('hot')!;
    expect(model).toMatchObject({ task: 'binary', shards: 2 });
    expect(model.lines.map((l) => lineKey('hot', l)).sort()).toEqual(shownWindows(hotReference.points.values()));
    expect(model.lines.length).toBeGreaterThanOrEqual(4); // champion and challenger, total and 1h
    let exact = 0;
    for (const line of model.lines) {
      const key = lineKey('hot', line);
      const point = (metric: string) => hotReference.points.get(`${key}\u0000${metric}`);
      expect(line.shards, key).toBe(2);
      expect(line.window_end_ms, key).toBe(point('count')!.window_end);
      expect(Object.keys(line.figures).sort(), key).toEqual(MERGED_BINARY_FIGURES.filter((f) => line.role === 'champion' || !f.startsWith('label_')).sort());
      for (const [metric, value] of Object.entries(line.figures)) {
        const where = `${key.split('\u0000').join('|')} ${metric}`;
        if (metric === 'auc_binned') {
          expect(value, where).toBe((windowFigures(hotMerged.get(key)!.partial, DELAY_ACCURACY) as unknown as Record<string, number | null>).auc_binned);
        } else if (metric === 'log_loss') {
          const expected = point(metric)!;
          expect(Math.abs(value! - expected.value!), where).toBeLessThanOrEqual(floatTolerance(metric, expected.value!, expected.count, 2 * hot.length));
        } else if (metric === 'label_delay_p50') {
          expect(Math.abs(value! - point(metric)!.value!), where).toBeLessThanOrEqual(4 * Number.EPSILON * point(metric)!.value!);
        } else {
          expect(value, where).toBe(point(metric)!.value);
          exact++;
        }
      }
    }
    expect(exact).toBeGreaterThanOrEqual(4 * 3);
    expect(model.lines.find((l) => l.window === 'total' && l.role === 'champion')!.figures.count).toBeGreaterThan(300);

    const one = byModel.get('cold')!;
    expect(one.shards).toBeNull();
    expect(one.lines.map((l) => lineKey('cold', l)).sort()).toEqual(shownWindows(coldReference.points.values()));
    for (const line of one.lines) {
      expect(line.shards).toBeUndefined();
      const key = lineKey('cold', line);
      for (const metric of ['count', 'roc_auc', 'precision']) expect(line.figures[metric], `${key} ${metric}`).toBe(coldReference.points.get(`${key}\u0000${metric}`)!.value);
    }
  });

  it('--json: the sharded regression model\'s figures are the unsharded evaluator\'s (count and coverage exactly, rmse and mae within their bound), merged over 2 shards', async () => {
    const result = await run(['status', '--json', '--window', WINDOW], env);
    expect(result.code).toBe(0);
    const model = (JSON.parse(result.stdout) as StatusReport).figures!.models.find((m) => m.model === 'eta')!;
    expect(model).toMatchObject({ task: 'regression', shards: 2 });
    expect(model.lines.map((l) => lineKey('eta', l)).sort()).toEqual(shownWindows(etaReference.points.values()));
    expect(model.lines.length).toBeGreaterThanOrEqual(4);
    let floats = 0;
    for (const line of model.lines) {
      const key = lineKey('eta', line);
      const point = (metric: string) => etaReference.points.get(`${key}\u0000${metric}`)!;
      const sums = etaReference.windows.get(key)!.partial.metric as RegressionPartial;
      expect(line.shards, key).toBe(2);
      expect(Object.keys(line.figures).sort(), key).toEqual(REGRESSION_FIGURES.filter((f) => line.role === 'champion' || !f.startsWith('label_')).sort());
      for (const [metric, value] of Object.entries(line.figures)) {
        const where = `${key.split('\u0000').join('|')} ${metric}`;
        if (metric === 'rmse' || metric === 'mae') {
          floats++;
          expect(Math.abs(value! - point(metric).value!), where).toBeLessThanOrEqual(regressionTolerance(metric, sums, 2 * eta.length, REGRESSION_BOUNDS)! + 8 * Number.EPSILON * point(metric).value!);
        } else if (metric === 'label_delay_p50') {
          expect(Math.abs(value! - point(metric).value!), where).toBeLessThanOrEqual(4 * Number.EPSILON * point(metric).value!);
        } else expect(value, where).toBe(point(metric).value);
      }
    }
    expect(floats).toBeGreaterThanOrEqual(8);
  });

  it('text: the sharded model\'s heading says it is merged over 2 shards, with the binned AUC and a shards column', async () => {
    const result = await run(['status', '--window', WINDOW], env);
    expect(result.code).toBe(0);
    const total = hotReference.points.get(`hot\u0000v1\u0000champion\u0000*\u0000total\u00000\u0000count`)!.value!;
    expect(result.stdout).toContain('\n  hot (binary; merged over 2 shards: metric_partials summed as metric_points_merged)\n');
    expect(result.stdout).toMatch(/\n {4}window +role +version +n +auc_binned +log_loss +precision +recall +coverage +delay p50 +shards\n/);
    expect(result.stdout).toMatch(new RegExp(`\\n {4}total +champion +v1 +${total} .* 2\\n`));
    expect(result.stdout).toContain('\n  cold (binary)\n');
    expect(result.stdout).toContain('\n  eta (regression; merged over 2 shards: metric_partials summed as metric_points_merged)\n');
    expect(result.stdout).toMatch(/\n {4}window +role +version +n +rmse +mae +coverage +delay p50 +shards\n/);
    expect(result.stdout).toMatch(/\n {2}hot +v1 +– +metric_points_merged\n/);
    expect(result.stdout).toMatch(/\n {2}eta +v1 +– +metric_points_merged\n/);
    expect(result.stdout).toMatch(/\n {2}cold +v1 +– +metric_points\n/);
  });

  it('sharded by prediction (the caller says so), a model with partials of one shard is read merged too', async () => {
    const fail = (server: string, message: string) => expect.fail(`${server}: ${message}`);
    const byRule = await latestFigures(store, STACK.clickhouseUrl, database, WINDOW, Date.now(), fail);
    expect([...byRule!.merged]).toEqual([['eta', 2], ['hot', 2]]);
    const figures = await latestFigures(store, STACK.clickhouseUrl, database, WINDOW, Date.now(), fail, true);
    expect([...figures!.merged]).toEqual([['cold', 1], ['eta', 2], ['hot', 2]]);
    const rows = figures!.rows.filter((r) => r.model === 'cold' && r.metric === 'count');
    expect(rows.length).toBeGreaterThanOrEqual(4);
    for (const r of rows) {
      expect(r.shards).toBe(1);
      const key = windowPartialKey({ model: 'cold', model_version: r.model_version, role: r.role, segment: '*', window: r.window, window_start: r.window_start_ms });
      expect(r.value).toBe(coldReference.points.get(`${key}\u0000count`)!.value);
    }
    expect(figures!.rows.some((r) => r.model === 'cold' && r.metric === 'roc_auc')).toBe(false);
  });
});
