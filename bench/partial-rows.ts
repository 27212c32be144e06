/**
 * How big the evaluator's partial rows are in ClickHouse (docs/scale-out.md):
 * one hot model's stream (bench/labelled.ts: 7 days, `--per-hour` examples
 * an hour, 2 segment attributes, a challenger, every ninth label corrected)
 * through the evaluator core at the default settings (1,000 score bins, 10
 * calibration bins), its partials and points written through the ClickHouse
 * sink as `run` writes them (a drain every evaluator.flush_rows examples,
 * version = the example's position), into a scratch database of the stack's
 * ClickHouse. After OPTIMIZE ... FINAL (one row per key left), the hourly
 * windows' rows are copied into tables of their own, merged into one part,
 * and system.parts gives their compressed and uncompressed bytes per row:
 * a partial row against the metric_points rows of the same windows.
 *
 *   npx tsx bench/partial-rows.ts [--per-hour 300] [--url http://127.0.0.1:8123]
 */
import { ClickHouseStore } from '../adapters/clickhouse/index.js';
import { systemClock } from '../core/clock.js';
import { DEFAULT_EVALUATOR_OPTIONS, Evaluator, shardPartialRow, type EvaluatorRows } from '../core/evaluate/index.js';
import { ClickHouseEvaluatorSink } from '../sinks/evaluator-rows.js';
import { labelledStream } from './labelled.js';
import { numberOption } from './options.js';
import { printTable } from './table.js';

const PER_HOUR = numberOption('per-hour', 300);
const URL = process.argv.includes('--url') ? process.argv[process.argv.indexOf('--url') + 1]! : (process.env.FEEDBACKLOOP_CLICKHOUSE_URL ?? 'http://127.0.0.1:8123');
const DAYS = 7;
const FLUSH_ROWS = 5000;

interface PartSize {
  rows: string;
  compressed: string;
  uncompressed: string;
}

async function main(): Promise<void> {
  const database = `bench_partials_${Date.now().toString(36)}`;
  const store = await ClickHouseStore.open({ url: URL, database, username: 'default', password: '', requestTimeoutMs: 120_000 });
  try {
    const stream = labelledStream(PER_HOUR * 24 * DAYS, 7, undefined, DAYS, ['hot']);
    const sink = new ClickHouseEvaluatorSink(store, systemClock, { maxRows: FLUSH_ROWS, maxBytes: 8_000_000 });
    const evaluator = new Evaluator();
    const flush = async (version: number) => {
      const partials = evaluator.partials().map((p) => ({ value: shardPartialRow(evaluator.options, p, 0), version }));
      const points = evaluator.drain().points.map((value) => ({ value, version }));
      const rows: EvaluatorRows = { points, drift: [], feedback: [], charts: [], examples: [], partials };
      await sink.writeBatch([rows]);
    };
    for (let i = 0; i < stream.length; i++) {
      evaluator.onExample(stream[i]!);
      if ((i + 1) % FLUSH_ROWS === 0) await flush(i + 1);
    }
    await flush(stream.length);
    const sizes: string[][] = [['table', 'hourly windows', 'rows', 'rows/window', 'compressed B/window', 'uncompressed B/window', 'compressed B/row']];
    for (const table of ['metric_partials', 'metric_points']) {
      await store.command(`OPTIMIZE TABLE ${table} FINAL`);
      const hourly = `${table}_1h`;
      await store.command(`CREATE TABLE ${hourly} AS ${table}`);
      await store.command(`INSERT INTO ${hourly} SELECT * FROM ${table} FINAL WHERE window = '1h'`);
      await store.command(`OPTIMIZE TABLE ${hourly} FINAL`);
      const windows = Number((await store.select<{ n: string }>(`SELECT count() AS n FROM (SELECT DISTINCT model_version, role, segment, window_start FROM ${hourly})`))[0]!.n);
      const [part] = await store.select<PartSize>(
        `SELECT sum(rows) AS rows, sum(data_compressed_bytes) AS compressed, sum(data_uncompressed_bytes) AS uncompressed FROM system.parts WHERE database = '${database}' AND table = '${hourly}' AND active`,
      );
      const rows = Number(part!.rows);
      const per = (bytes: string, n: number) => String(Math.round(Number(bytes) / n));
      sizes.push([table, String(windows), String(rows), (rows / windows).toFixed(1), per(part!.compressed, windows), per(part!.uncompressed, windows), per(part!.compressed, rows)]);
    }
    const [bins] = await store.select<{ score: number; calibration: number; delay: number }>(
      `SELECT avg(length(score_bins)) AS score, avg(length(calibration_bins)) AS calibration, avg(length(delay_buckets)) AS delay FROM metric_partials FINAL WHERE window = '1h'`,
    );
    const [examples] = await store.select<{ n: number }>(`SELECT avg(tp + fp + tn + fn) AS n FROM metric_partials FINAL WHERE window = '1h' AND segment = '*' AND role = 'champion'`);
    console.log(`${stream.length} examples (${PER_HOUR}/hour, ${DAYS} days, one model), default bins (${DEFAULT_EVALUATOR_OPTIONS.aucBins} score, ${DEFAULT_EVALUATOR_OPTIONS.calibrationBins} calibration); ClickHouse ${URL}`);
    console.log(`hourly windows: ${examples!.n.toFixed(0)} examples in the champion's '*' cell on average; non-zero bins per partial row: score ${bins!.score.toFixed(1)}, calibration ${bins!.calibration.toFixed(1)}, delay buckets ${bins!.delay.toFixed(1)}`);
    printTable(sizes);
  } finally {
    await store.command(`DROP DATABASE IF EXISTS ${database}`).catch(() => {});
    await store.close();
  }
}

await main();
