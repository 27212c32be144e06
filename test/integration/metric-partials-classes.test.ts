/**
 * Multi-class and multi-label windows' partials on the real ClickHouse
 * (migration 18's columns of metric_partials; metric_points_merged as
 * migration 20 makes it): a multi-class model's stream (test/support/
 * class-examples.ts: three classes, a numeric head, a challenger,
 * rejections, corrections between classes and of rejections) and a
 * multi-label model's (generated-class-stream.ts: class names with the
 * view's separators and Object.prototype's names), each split into 2 shards
 * by prediction id, each shard through the evaluator core and the real sink
 * with its own offsets as versions. The view gives every window the
 * unsharded evaluator wrote with exactly its points' names; every figure
 * equals the TypeScript merge's (counts and figures of counts bit for bit;
 * the float sums' figures within a few ulps: 18.16's text float parse; the
 * head's r2 within 1e-12: the view merges the labels' moments over k shards
 * at once) and the unsharded points (counts exactly, floats as above or
 * within floatTolerance); rows read back give the written partials;
 * mergedPointsQuery gives the view's rows; a database made before migration
 * 18 keeps its rows and their figures after it. A few seconds.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClickHouseStore, MIGRATIONS, mergedPointsQuery, metricPartialRow, shardPartialOf, type MetricPartialRow } from '../../adapters/clickhouse/index.js';
import { floatTolerance, mergeRuns, shard } from '../../bench/shards.js';
import { isClassPartial, windowFigureList, windowPartialKey, type EvaluatorOptions, type EvaluatorRows } from '../../core/evaluate/index.js';
import type { LabelledExample } from '../../core/events.js';
import { CLASSES, MODEL as MULTICLASS_MODEL, multiclassExamples } from '../support/class-examples.js';
import { uniqueName } from '../support/collect.js';
import { CLASS_MODEL as MULTILABEL_MODEL, CLASS_NAMES, classStreamOf, type ClassEvent } from '../support/generated-class-stream.js';
import { byWindow, type MergedRow } from '../support/merged-points.js';
import { DELAY_ACCURACY, lastPartials, MODEL, REGRESSION_MODEL, regressionStream, shardRows, stream, unsharded } from '../support/partials-stream.js';
import { storeOfShards } from '../support/partials-store.js';
import { seededRandom } from '../support/random.js';
import { requireStack, STACK } from '../support/stack.js';

const OPTIONS: Partial<EvaluatorOptions> = {
  kindOf: (model) => (model === MULTICLASS_MODEL ? 'multiclass' : model === MULTILABEL_MODEL ? 'multilabel' : model === REGRESSION_MODEL ? 'regression' : 'binary'),
  classesOf: (model) => (model === MULTICLASS_MODEL ? CLASSES : CLASS_NAMES),
  numericTargetOf: (model) => (model === MULTICLASS_MODEL ? 'severity' : null),
};

/** 300 predictions over 5 hours of the multi-label model: a tenth expired, a fifth corrected (some twice). */
function multilabelStream(): LabelledExample[] {
  const random = seededRandom(11);
  const events: ClassEvent[] = [];
  const pick = () => Math.floor(random() * 8);
  for (let i = 0; i < 300; i++) {
    const scores = [0, 1, 2].map(() => Math.round(random() * 100) / 100);
    events.push({ pid: i, truth: random() < 0.1 ? null : pick(), decided: pick(), scores, shadow: scores, region: random() < 0.5 ? 'eu' : 'us', at: i * 60_000, delay: Math.floor(random() * 3_600_000) });
  }
  for (let i = 0; i < 300; i += 5) events.push({ ...events[i]!, truth: pick() }, ...(i % 15 === 0 ? [{ ...events[i]!, truth: pick() }] : []));
  return classStreamOf('multilabel', events);
}

/** Figures of float sums (not bit for bit: a stored sum is within an ulp of the written one). */
const FLOAT = /^(log_loss|brier|samples_precision|samples_recall|samples_f1|jaccard|severity_(mae|rmse|mape|r2)|label_delay_p\d+)$/;
const close = (a: number | null, b: number | null, relative: number) => a === b || (a !== null && b !== null && Math.abs(a - b) <= relative * Math.max(Math.abs(b), 1e-300));

describe('class partials in metric_partials and metric_points_merged on the real ClickHouse', () => {
  let store: ClickHouseStore;
  const database = uniqueName('test_partials_cls').replace(/-/g, '_');
  const models = [
    { model: MULTICLASS_MODEL, examples: multiclassExamples(300, 7).examples },
    { model: MULTILABEL_MODEL, examples: multilabelStream() },
  ].map((m) => {
    const rowsOfShards = shard(m.examples, 2).map((s, i) => shardRows(s, i, { evaluator: OPTIONS }));
    return { ...m, reference: unsharded(m.examples, OPTIONS), rowsOfShards, merged: mergeRuns(rowsOfShards.map(lastPartials), DELAY_ACCURACY) };
  });
  const select = (sql: string) => store.select<MergedRow>(`${sql} ORDER BY role, model_version, segment, window, window_start_ms, metric`);

  beforeAll(async () => {
    await requireStack('clickhouse');
    store = await storeOfShards(database, models);
  });

  afterAll(async () => {
    await store?.command(`DROP DATABASE IF EXISTS ${database}`).catch(() => {});
    await store?.close();
  });

  it('the streams are what the test needs: class windows of both roles (the multi-class champion with its head), corrections, rejections, expired predictions', () => {
    const [mc, ml] = models;
    for (const m of models) {
      expect([...m.reference.windows.values()].every((w) => isClassPartial(w.partial.metric))).toBe(true);
      expect(m.examples.filter((e) => e.correction_of !== null).length).toBeGreaterThan(40);
    }
    expect(new Set([...mc!.reference.windows.values()].map((w) => w.role))).toEqual(new Set(['champion', 'challenger']));
    expect(mc!.examples.some((e) => e.rejected_class !== null)).toBe(true);
    expect(ml!.examples.filter((e) => e.labels === null).length).toBeGreaterThan(20);
  });

  for (const name of [MULTICLASS_MODEL, MULTILABEL_MODEL]) {
    it(`${name}: every window the unsharded evaluator wrote, merged from both shards: its points' names, the TypeScript merge's figures, the unsharded points`, async () => {
      const m = models.find((x) => x.model === name)!;
      const rows = await select(`SELECT * FROM metric_points_merged WHERE model = '${name}'`);
      const windows = byWindow(name, rows);
      expect(new Set(windows.keys())).toEqual(new Set(m.reference.windows.keys()));
      expect(rows.reduce((n, r) => Math.max(n, Number(r.shards)), 0)).toBe(2);
      let exact = 0;
      let floats = 0;
      for (const [key, figures] of windows) {
        const window = m.merged.get(key)!;
        const mine = new Map(windowFigureList(window.partial, DELAY_ACCURACY, window.window));
        expect(figures.map((f) => f.metric).sort(), key).toEqual([...mine.keys()].sort());
        for (const f of figures) {
          const where = `${key.split('\u0000').join('|')} ${f.metric}`;
          const point = m.reference.points.get(`${key}\u0000${f.metric}`);
          expect(point, where).toBeDefined();
          expect(Number(f.window_end_ms), where).toBe(point!.window_end);
          expect(f.count, where).toBe(point!.count);
          if (FLOAT.test(f.metric)) {
            floats++;
            expect(close(f.value, mine.get(f.metric)!, f.metric === 'severity_r2' ? 1e-12 : 16 * Number.EPSILON), `${where}: ${f.value} vs the TypeScript merge's ${mine.get(f.metric)}`).toBe(true);
            const tolerance = point!.value === null ? 0 : floatTolerance(f.metric, point!.value, point!.count, 2 * m.examples.length * 3) / Math.max(1, Math.abs(point!.value));
            expect(close(f.value, point!.value, Math.max(1e-9, tolerance)), `${where}: ${f.value} vs the unsharded point ${point!.value}`).toBe(true);
          } else {
            exact++;
            expect(f.value, `${where} (TypeScript merge)`).toBe(mine.get(f.metric));
            expect(f.value, `${where} (unsharded point)`).toBe(point!.value);
          }
        }
      }
      expect(exact).toBeGreaterThan(300);
      expect(floats).toBeGreaterThan(50);
      if (name === MULTICLASS_MODEL) {
        expect(rows.some((r) => r.metric === 'confusion[drift|outage]' && r.window === 'total')).toBe(true);
        expect(rows.some((r) => r.metric === 'severity_r2' && r.value !== null)).toBe(true);
        expect(rows.some((r) => r.metric === 'rejected' && (r.value ?? 0) > 0)).toBe(true);
      }
    });
  }

  it('rows read back give the written partials (the float sums within an ulp), the binary and regression columns empty but the head', async () => {
    const read = await store.select<MetricPartialRow>(`SELECT * FROM metric_partials FINAL WHERE model IN ('${MULTICLASS_MODEL}', '${MULTILABEL_MODEL}')`);
    const last = models.map((m) => m.rowsOfShards.map(lastPartials));
    expect(read.length).toBe(last.flat().reduce((n, x) => n + x.size, 0));
    for (const row of read) {
      expect([row.tp, row.fp, row.tn, row.fn, row.score_bins.length]).toEqual([0, 0, 0, 0, 0]);
      const back = shardPartialOf(row);
      const written = last[row.model === MULTICLASS_MODEL ? 0 : 1]![back.shard]!.get(windowPartialKey(back))!;
      const near = (x: unknown, y: unknown): unknown => (typeof x === 'number' && typeof y === 'number' && Math.abs(x - y) <= Number.EPSILON * Math.abs(y) ? y : x);
      const a = JSON.parse(JSON.stringify(back.partial, (k, v) => (v instanceof Float64Array ? Array.from(v) : v)));
      const b = JSON.parse(JSON.stringify(written.partial, (k, v) => (v instanceof Float64Array ? Array.from(v) : v)));
      const approx = (x: unknown, y: unknown): unknown => {
        if (Array.isArray(x) && Array.isArray(y)) return x.map((v, i) => approx(v, y[i]));
        if (x && y && typeof x === 'object' && typeof y === 'object') return Object.fromEntries(Object.entries(x).map(([k, v]) => [k, approx(v, (y as Record<string, unknown>)[k])]));
        return near(x, y);
      };
      expect(approx(a, b)).toEqual(b);
    }
  });

  it('mergedPointsQuery with the filter inside gives the view\'s rows', async () => {
    for (const name of [MULTICLASS_MODEL, MULTILABEL_MODEL]) {
      const where = `model = '${name}' AND window = 'total'`;
      const viaQuery = await select(`SELECT * FROM (${mergedPointsQuery(where)})`);
      expect(viaQuery.length).toBeGreaterThan(50);
      expect(viaQuery).toEqual(await select(`SELECT * FROM metric_points_merged WHERE ${where}`));
    }
  });

  it('migrations 18-20 on a database made before them: its binary and regression rows keep their figures, beside new class rows', async () => {
    const options = { url: STACK.clickhouseUrl, database: `${database}_before`, username: 'default', password: '', requestTimeoutMs: 30_000 };
    const before = await ClickHouseStore.open(options, MIGRATIONS.filter((m) => m.id < 18));
    try {
      const total = (rows: EvaluatorRows[]) => rows.at(-1)!.partials!.find((p) => p.value.window === 'total' && p.value.role === 'champion' && p.value.segment === '*')!;
      const oldRows = [total(shardRows(stream(MODEL), 0)), total(shardRows(regressionStream(), 0))].map((p) => {
        const row: Record<string, unknown> = { ...metricPartialRow(p.value, p.version, 0) };
        for (const column of Object.keys(row)) if (column === 'classes' || column === 'class_head' || column.startsWith('mc_') || column.startsWith('ml_')) delete row[column];
        return row;
      });
      await before.insert('metric_partials', oldRows);
      const figures = async (s: ClickHouseStore) =>
        s.select<{ model: string; metric: string; value: number | null }>(`SELECT model, metric, value FROM metric_points_merged WHERE window = 'total' AND role = 'champion' AND segment = '*' ORDER BY model, metric`);
      const old = await figures(before);
      expect(old.length).toBeGreaterThan(20);
      const after = await ClickHouseStore.open(options);
      try {
        const cls = total(models[0]!.rowsOfShards[0]!);
        await after.insert('metric_partials', [metricPartialRow(cls.value, cls.version, 0)]);
        const now = await figures(after);
        expect(now.filter((r) => r.model !== MULTICLASS_MODEL)).toEqual(old);
        expect(now.filter((r) => r.model === MULTICLASS_MODEL).map((r) => r.metric)).toContain('confusion[spike|drift]');
      } finally {
        await after.close();
      }
    } finally {
      await before.command(`DROP DATABASE IF EXISTS ${options.database}`).catch(() => {});
      await before.close();
    }
  });
});
