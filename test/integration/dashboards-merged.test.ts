/**
 * The regression and class dashboards' merged panels (scripts/dashboards-merged.ts) on the real ClickHouse,
 * for sharded models: a regression model (partials-stream.ts) and a multi-class model with a numeric head
 * (class-examples.ts), each split into 2 shards by prediction id, each shard through the evaluator core and
 * the real sink (ClickHouseEvaluatorSink, its drains interleaved, as metric-partials*.test.ts write them:
 * partials only, no metric_points). Each panel's SQL as its dashboard file holds it, for every value of the
 * dashboard's variables (resolved by their own queries, which list the sharded models from metric_partials),
 * the macros expanded as the ClickHouse plugin does (test/support/grafana.ts), gives the TypeScript merge's
 * figures (mergeRuns, windowFigureList) in the panel's rows: counts and figures of counts exactly (examples,
 * shards, support, rejections, confusion cells, accuracy, F1s, kappa, coverage); the figures of float sums
 * (mae, rmse, r2, mape, log_loss) within 1e-12 relative (of max(1, |figure|)): a stored float sum is within an ulp of the written one
 * (18.16's text float parse) and r2's labels' moments merge over k shards at once. A few seconds.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClickHouseStore } from '../../adapters/clickhouse/index.js';
import { mergeRuns, shard } from '../../bench/shards.js';
import { windowFigureList, type EvaluatorOptions, type EvaluatorRows } from '../../core/evaluate/index.js';
import { MERGED_PANELS, DASHBOARDS_DIR, type MergedPanel } from '../../scripts/dashboards-merged.js';
import { CLASSES, MODEL as CLASS_MODEL, multiclassExamples } from '../support/class-examples.js';
import { uniqueName } from '../support/collect.js';
import { allPanels, expandMacros, type Dashboard } from '../support/grafana.js';
import { DELAY_ACCURACY, lastPartials, REGRESSION_MODEL, regressionStream, shardRows, T0 } from '../support/partials-stream.js';
import { storeOfShards } from '../support/partials-store.js';
import { requireStack } from '../support/stack.js';

const OPTIONS: Partial<EvaluatorOptions> = {
  kindOf: (model) => (model === CLASS_MODEL ? 'multiclass' : model === REGRESSION_MODEL ? 'regression' : 'binary'),
  classesOf: () => CLASSES,
  numericTargetOf: (model) => (model === CLASS_MODEL ? 'severity' : null),
};
const DAY = 86_400_000;
const RANGE = { from: T0 - DAY, to: T0 + 5 * DAY };
/** Figures of float sums: within FLOAT_TOLERANCE (relative) of the TypeScript merge's; every other figure exactly. */
const FLOAT = /^(mae|rmse|r2|mape|log_loss|brier)$/;
const FLOAT_TOLERANCE = 1e-12;

/** A merged figure as the TypeScript merge gives it. */
interface Figure {
  model: string; model_version: string; role: string; segment: string; window: string; window_start: number;
  metric: string; value: number | null; shards: number;
}

/** The shards' partials merged in TypeScript, figure by figure, with how many shards wrote each window. */
function mergedFigures(rowsOfShards: EvaluatorRows[][]): Figure[] {
  const last = rowsOfShards.map(lastPartials);
  return [...mergeRuns(last, DELAY_ACCURACY)].flatMap(([key, w]) => {
    const shards = last.filter((m) => m.has(key)).length;
    return windowFigureList(w.partial, DELAY_ACCURACY, w.window).map(([metric, value]) => ({
      model: w.model, model_version: w.model_version, role: w.role, segment: w.segment, window: w.window, window_start: w.window_start, metric, value, shards,
    }));
  });
}

const time = (ms: number) => new Date(ms).toISOString().replace('T', ' ').slice(0, 19);
type Vars = Record<string, string>;
/** A panel's expected rows: cells, and each cell's metric (for its tolerance; undefined: a label). */
type Expected = Array<Array<{ value: unknown; metric?: string }>>;

/** Time series rows [time, series, value] of the figures in the window and segment chosen that `series` names, in the panel's order. */
function timeSeries(figures: Figure[], vars: Vars, series: (f: Figure) => string | undefined): Expected {
  return figures
    .filter((f) => f.model === vars.model && f.window === vars.window && f.segment === vars.segment && f.window_start >= RANGE.from && f.window_start <= RANGE.to)
    .flatMap((f) => {
      const name = series(f);
      return name === undefined ? [] : [{ t: time(f.window_start), name, f }];
    })
    .sort((a, b) => (a.t === b.t ? (a.name < b.name ? -1 : 1) : a.t < b.t ? -1 : 1))
    .map(({ t, name, f }) => [{ value: t }, { value: name }, { value: f.value, metric: f.metric }]);
}

/** A table of one row per `group` of the figures `keep` keeps, its `columns` by metric (null where the group has none), in the group's order. */
function table(figures: Figure[], keep: (f: Figure) => boolean, group: (f: Figure) => string[], columns: Array<(f: Figure) => boolean>, metricOf: (column: number) => string): Expected {
  const groups = new Map<string, { labels: string[]; figures: Figure[] }>();
  for (const f of figures.filter(keep)) {
    const labels = group(f);
    const key = labels.join('\u0000');
    const g = groups.get(key) ?? { labels, figures: [] };
    g.figures.push(f);
    groups.set(key, g);
  }
  return [...groups.entries()]
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([, g]) => [...g.labels.map((value) => ({ value })), ...columns.map((is, i) => ({ value: g.figures.find(is)?.value ?? null, metric: metricOf(i) }))]);
}

/** The whole-history table: per segment, role and version, the shards and the figures `metrics` names (label_coverage the champion's). */
function totals(figures: Figure[], vars: Vars, metrics: string[]): Expected {
  const rows = table(
    figures, (f) => f.model === vars.model && f.window === 'total' && !f.segment.endsWith('=*'), (f) => [f.segment, f.role, f.model_version],
    metrics.map((m) => (f: Figure) => f.metric === m), (i) => metrics[i]!,
  );
  // The shards column: the most shards any figure of the group has (max(shards)).
  return rows.map((row) => {
    const [segment, role, version] = row.map((c) => c.value);
    const shards = figures
      .filter((f) => f.model === vars.model && f.window === 'total' && f.segment === segment && f.role === role && f.model_version === version)
      .reduce((most, f) => Math.max(most, f.shards), 0);
    return [...row.slice(0, 3), { value: shards, metric: 'shards' }, ...row.slice(3)];
  });
}

/** The champion's figures of the total window of the chosen segment. */
const championTotal = (vars: Vars) => (f: Figure) => f.model === vars.model && f.window === 'total' && f.segment === vars.segment && f.role === 'champion';
const inner = (metric: string) => metric.slice(metric.indexOf('[') + 1, -1);

/** Each new panel's expected rows, by file and id: the panel's intent restated over the TypeScript merge's figures. */
const EXPECTED: Record<string, (figures: Figure[], vars: Vars) => Expected> = {
  'feedbackloop-regression.json 8': (fs, vars) => timeSeries(fs, vars, (f) => (f.metric === 'mae' || f.metric === 'rmse' ? `${f.metric} ${f.role} ${f.model_version}` : undefined)),
  'feedbackloop-regression.json 9': (fs, vars) => timeSeries(fs, vars, (f) => (f.metric === 'r2' ? `r2 ${f.role} ${f.model_version}` : undefined)),
  'feedbackloop-regression.json 10': (fs, vars) => totals(fs, vars, ['count', 'mae', 'rmse', 'r2', 'mape', 'label_coverage']),
  'feedbackloop-multiclass.json 10': (fs, vars) =>
    timeSeries(fs, vars, (f) => (['accuracy', 'subset_accuracy', 'macro_f1', 'micro_f1'].includes(f.metric) ? `${f.metric} ${f.role} ${f.model_version}` : undefined)),
  'feedbackloop-multiclass.json 11': (fs, vars) => timeSeries(fs, vars, (f) => (f.role === 'champion' && f.metric.startsWith('f1[') ? `${f.metric} ${f.model_version}` : undefined)),
  'feedbackloop-multiclass.json 12': (fs, vars) =>
    fs.filter((f) => championTotal(vars)(f) && f.metric.startsWith('confusion['))
      .map((f) => [f.model_version, ...inner(f.metric).split('|'), f.value] as const)
      .sort((a, b) => (a.slice(0, 3).join('\u0000') < b.slice(0, 3).join('\u0000') ? -1 : 1))
      .map(([version, truth, decided, value]) => [{ value: version }, { value: truth }, { value: decided }, { value, metric: 'confusion' }]),
  'feedbackloop-multiclass.json 13': (fs, vars) => {
    const figures = ['precision', 'recall', 'f1', 'support'];
    return table(
      fs, (f) => championTotal(vars)(f) && figures.some((name) => f.metric.startsWith(`${name}[`)), (f) => [f.model_version, inner(f.metric)],
      figures.map((name) => (f: Figure) => f.metric.startsWith(`${name}[`)), (i) => figures[i]!,
    );
  },
  'feedbackloop-multiclass.json 14': (fs, vars) => totals(fs, vars, ['count', 'accuracy', 'macro_f1', 'micro_f1', 'weighted_f1', 'log_loss', 'cohen_kappa', 'rejected', 'label_coverage']),
};

/** ClickHouse's JSON cell as a value: 64-bit integers come as strings. */
const cell = (v: unknown) => (typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : v);

function expectRows(actual: Array<Record<string, unknown>>, expected: Expected, where: string): void {
  expect(actual.map((r) => Object.values(r).length), where).toEqual(expected.map((r) => r.length));
  actual.forEach((row, i) => {
    Object.values(row).forEach((raw, j) => {
      const { value, metric } = expected[i]![j]!;
      const got = cell(raw);
      const at = `${where} row ${i} column ${Object.keys(row)[j]}: ${String(got)} vs the TypeScript merge's ${String(value)}`;
      if (metric !== undefined && FLOAT.test(metric) && typeof value === 'number' && typeof got === 'number') {
        expect(Math.abs(got - value), at).toBeLessThanOrEqual(FLOAT_TOLERANCE * Math.max(1, Math.abs(value)));
      } else {
        expect(got, at).toBe(value);
      }
    });
  });
}

describe("the regression and class dashboards' merged panels on the real ClickHouse: a sharded model's figures", () => {
  const database = uniqueName('test_dash_merged').replace(/-/g, '_');
  const models = [
    { model: REGRESSION_MODEL, examples: regressionStream(), file: 'feedbackloop-regression.json' },
    { model: CLASS_MODEL, examples: multiclassExamples(300, 7).examples, file: 'feedbackloop-multiclass.json' },
  ].map((m) => ({ ...m, rowsOfShards: shard(m.examples, 2).map((s, i) => shardRows(s, i, { evaluator: OPTIONS })) }));
  const figures = models.flatMap((m) => mergedFigures(m.rowsOfShards));
  let store: ClickHouseStore;

  beforeAll(async () => {
    await requireStack('clickhouse');
    store = await storeOfShards(database, models);
  });

  afterAll(async () => {
    await store?.command(`DROP DATABASE IF EXISTS ${database}`).catch(() => {});
    await store?.close();
  });

  it('every merged panel of both dashboards is checked here, and the shards wrote partials only', async () => {
    const files = [...new Set(models.map((m) => m.file))];
    expect(MERGED_PANELS.filter((p) => files.includes(p.file)).map((p) => `${p.file} ${p.id}`).sort()).toEqual(Object.keys(EXPECTED).sort());
    const [points] = await store.select<{ n: string }>('SELECT count() AS n FROM metric_points');
    expect(Number(points!.n)).toBe(0);
    expect(figures.reduce((most, f) => Math.max(most, f.shards), 0)).toBe(2);
  });

  for (const m of models) {
    it(`${m.file}: the variables list the sharded ${m.model}; each merged panel, for every value of them, gives the TypeScript merge's figures`, async () => {
      const dashboard = JSON.parse(readFileSync(join(DASHBOARDS_DIR, m.file), 'utf8')) as Dashboard;
      let assignments: Vars[] = [{}];
      for (const variable of dashboard.templating.list) {
        const next: Vars[] = [];
        for (const vars of assignments) {
          for (const row of await store.select<Record<string, unknown>>(expandMacros(variable.query!, { ...RANGE, vars }))) next.push({ ...vars, [variable.name]: String(Object.values(row)[0]) });
        }
        assignments = next;
      }
      expect([...new Set(assignments.map((v) => v.model))]).toEqual([m.model]);
      const own = figures.filter((f) => f.model === m.model);
      expect(new Set(assignments.map((v) => v.segment))).toEqual(new Set(own.map((f) => f.segment).filter((s) => !s.endsWith('=*'))));
      expect(new Set(assignments.map((v) => v.window))).toEqual(new Set(['1h', '1d']));
      const panels: MergedPanel[] = MERGED_PANELS.filter((p) => p.file === m.file);
      let rows = 0;
      let twoShards = 0;
      for (const panel of panels) {
        const sql = allPanels(dashboard).find((p) => p.id === panel.id)!.targets![0]!.rawSql!;
        for (const vars of assignments) {
          const where = `${m.file} panel ${panel.id} ${JSON.stringify(vars)}`;
          const actual = await store.select<Record<string, unknown>>(expandMacros(sql, { ...RANGE, vars }));
          const expected = EXPECTED[`${m.file} ${panel.id}`]!(figures, vars);
          expect(expected.length, `${where}: the merge has figures for it`).toBeGreaterThan(0);
          expectRows(actual, expected, where);
          rows += actual.length;
          twoShards += actual.filter((r) => cell(r.shards) === 2).length;
        }
      }
      console.log(`${m.file}: ${panels.length} merged panels × ${assignments.length} variable values, ${rows} rows equal to the TypeScript merge's`);
      expect(rows).toBeGreaterThan(50);
      expect(twoShards).toBeGreaterThan(3);
    });
  }
});
