/**
 * The Grafana merged panels (scripts/dashboards-merged.ts) against the same
 * queries over the view metric_points_merged: 4 models' streams
 * (bench/labelled.ts: 7 days, `--per-hour` examples an hour, 2 segment
 * attributes, a challenger) through the evaluator core, their partials
 * written through the ClickHouse sink into a scratch database of the stack's
 * ClickHouse (dropped after), then each panel for one model, `--reps` times
 * each form alternately: the median wall time of a select.
 *
 *   npm run bench:merged-panels -- [--per-hour 300] [--reps 7]
 */
import { ClickHouseStore } from '../adapters/clickhouse/index.js';
import { systemClock } from '../core/clock.js';
import { Evaluator, shardPartialRow } from '../core/evaluate/index.js';
import { ClickHouseEvaluatorSink } from '../sinks/evaluator-rows.js';
import { expandMacros } from '../test/support/grafana.js';
import { MERGED_PANELS, panelSql, viewSql } from '../scripts/dashboards-merged.js';
import { labelledStream } from './labelled.js';
import { numberOption } from './options.js';
import { printTable } from './table.js';

const PER_HOUR = numberOption('per-hour', 300);
const REPS = numberOption('reps', 7);
const URL = process.env.FEEDBACKLOOP_CLICKHOUSE_URL ?? 'http://127.0.0.1:8123';
const DAYS = 7;
const MODELS = ['a', 'b', 'c', 'd'];
const FLUSH_ROWS = 5000;

async function write(store: ClickHouseStore): Promise<number> {
  const stream = labelledStream(PER_HOUR * 24 * DAYS * MODELS.length, 7, undefined, DAYS, MODELS);
  const sink = new ClickHouseEvaluatorSink(store, systemClock, { maxRows: FLUSH_ROWS, maxBytes: 8_000_000 });
  const evaluator = new Evaluator();
  const flush = async (version: number) => {
    const partials = evaluator.partials().map((p) => ({ value: shardPartialRow(evaluator.options, p, 0), version }));
    evaluator.drain();
    await sink.writeBatch([{ points: [], drift: [], feedback: [], charts: [], examples: [], partials }]);
  };
  for (let i = 0; i < stream.length; i++) {
    evaluator.onExample(stream[i]!);
    if ((i + 1) % FLUSH_ROWS === 0) await flush(i + 1);
  }
  await flush(stream.length);
  await store.command('OPTIMIZE TABLE metric_partials FINAL');
  return stream.length;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  const database = `bench_merged_panels_${Date.now().toString(36)}`;
  const store = await ClickHouseStore.open({ url: URL, database, username: 'default', password: '', requestTimeoutMs: 120_000 });
  try {
    const examples = await write(store);
    const [{ n, from, to }] = (await store.select<{ n: string; from: string; to: string }>(
      'SELECT count() AS n, toUInt64(min(window_start)) AS from, toUInt64(max(window_start)) AS to FROM metric_partials FINAL',
    )) as [{ n: string; from: string; to: string }];
    const context = { from: Number(from) * 1000, to: (Number(to) + 3600) * 1000, vars: { model: 'b', window: '1h', segment: '*' } };
    const table = [['panel', 'rows', 'filtered ms', 'view ms', 'view / filtered']];
    for (const panel of MERGED_PANELS) {
      const times = { filtered: [] as number[], view: [] as number[] };
      let rows = 0;
      for (let i = 0; i < REPS; i++) {
        for (const [form, sql] of [['filtered', panelSql(panel)], ['view', viewSql(panel)]] as const) {
          const started = performance.now();
          rows = (await store.select(expandMacros(sql, context))).length;
          times[form].push(performance.now() - started);
        }
      }
      const [f, v] = [median(times.filtered), median(times.view)];
      table.push([`${panel.file} #${panel.id}`, String(rows), f.toFixed(0), v.toFixed(0), (v / f).toFixed(2)]);
    }
    console.log(`${examples} examples of ${MODELS.length} models (${PER_HOUR}/hour each, ${DAYS} days), ${n} partial rows; model b, window 1h, segment *; median of ${REPS}; ClickHouse ${URL}`);
    printTable(table);
  } finally {
    await store.command(`DROP DATABASE IF EXISTS ${database}`).catch(() => {});
    await store.close();
  }
}

await main();
