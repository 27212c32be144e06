/**
 * A replay's metric points that grow with the input and that the report
 * does not draw (issue 13), on disk: the sliding windows' (`last_<n>`, one
 * point per cell every evaluator.rolling_emit_every examples, each with its
 * own window_start: 90% of metrics.jsonl) and the segments' tumbling
 * windows' (one per segment, window and metric). FileEvaluatorSink hands
 * them here instead of keeping them on the heap.
 *
 * At most `maxBuffered` keys are held, the latest row of each; each time
 * the buffer fills it is sorted (metrics.jsonl's order, then version, then
 * arrival) and written to a run file in `dir`. sorted() merges the runs and keeps, per key, the row
 * with the highest version, the later among equals: what FileEvaluatorSink
 * keeps in memory (its Latest) and ClickHouse's ReplacingMergeTree do.
 *
 * The report reads of these points only each series' earliest window_start
 * (report/series.ts orders the series by it; its other readers take the
 * segments' total windows, or the whole model's tumbling windows, which
 * span every segment's). `earliest` keeps that point per series: bounded by
 * the cells, windows and metrics, not the input.
 */
import { createReadStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { ALL_SEGMENTS } from '../core/contracts/index.js';
import { mergeSorted } from '../core/merge-sorted.js';
import type { MetricPoint, Versioned } from '../core/evaluate/index.js';
import { JsonlWriter } from './jsonl-writer.js';

/** Rows held before a run is written: a few tens of MB. */
export const POINT_SPILL_ROWS = 50_000;

/** A point as it sorts: its fields in metrics.jsonl's order, then version and arrival. */
interface Row {
  point: MetricPoint;
  version: number;
  seq: number;
  /** The point as JSON (what metrics.jsonl gets), once written to a run. */
  json?: string;
}

/** Is this point one the report draws nothing from: a sliding window's, or a segment's outside the total window? */
export const isSpilledPoint = (p: MetricPoint) => p.window.startsWith('last_') || (p.window !== 'total' && p.segment !== ALL_SEGMENTS);

const order = (x: string | number, y: string | number) => (x < y ? -1 : x > y ? 1 : 0);

/** metrics.jsonl's order (FileEvaluatorSink.final): model, version, role, segment, window, window_start, metric. */
export function comparePoints(a: MetricPoint, b: MetricPoint): number {
  return (
    order(a.model, b.model) || order(a.model_version, b.model_version) || order(a.role, b.role) || order(a.segment, b.segment) ||
    order(a.window, b.window) || order(a.window_start, b.window_start) || order(a.metric, b.metric)
  );
}

const compareRows = (a: Row, b: Row) => comparePoints(a.point, b.point) || a.version - b.version || a.seq - b.seq;

/** The series a point belongs to: its key but window_start. */
const seriesKey = (p: MetricPoint) => [p.model, p.model_version, p.role, p.segment, p.window, p.metric].join('\u0000');

/** A point's key: the fields metrics.jsonl sorts by. */
const keyOf = (p: MetricPoint) => [p.model, p.model_version, p.role, p.segment, p.window, p.window_start, p.metric].join('\u0000');

export class PointSpill {
  /** The rows since the last run, the latest per key (a window's points come again at every flush). */
  private buffer = new Map<string, Row>();
  private readonly runs: string[] = [];
  private seq = 0;
  /** Per series, its point with the earliest window_start (the first such on ties). */
  readonly earliest = new Map<string, MetricPoint>();
  /** Points written by sorted() (one per key). */
  written = 0;

  constructor(
    private readonly dir: string,
    private readonly name = 'points',
    private readonly maxBuffered = POINT_SPILL_ROWS,
  ) {}

  async add(row: Versioned<MetricPoint>): Promise<void> {
    const p = row.value;
    const key = seriesKey(p);
    const first = this.earliest.get(key);
    if (!first || p.window_start < first.window_start) this.earliest.set(key, p);
    const k = keyOf(p);
    const held = this.buffer.get(k);
    const seq = this.seq++;
    if (!held || row.version >= held.version) this.buffer.set(k, { point: p, version: row.version, seq });
    if (this.buffer.size >= this.maxBuffered) await this.spill();
  }

  /** Every key's latest point (and its JSON), in metrics.jsonl's order; then removes the runs. */
  async *sorted(): AsyncGenerator<{ point: MetricPoint; json: string }> {
    const sources = [...this.runs.map((path) => readRun(path)), rowsOf(this.takeBuffer())];
    let held: Row | undefined;
    for await (const row of mergeSorted(sources, compareRows)) {
      if (held && comparePoints(held.point, row.point) !== 0) {
        this.written++;
        yield { point: held.point, json: held.json ?? JSON.stringify(held.point) };
      }
      held = row;
    }
    if (held) {
      this.written++;
      yield { point: held.point, json: held.json ?? JSON.stringify(held.point) };
    }
    for (const run of this.runs) await rm(run, { force: true });
  }

  /** The buffered rows, sorted; the buffer emptied. */
  private takeBuffer(): Row[] {
    const rows = [...this.buffer.values()].sort(compareRows);
    this.buffer = new Map();
    return rows;
  }

  private async spill(): Promise<void> {
    const rows = this.takeBuffer();
    const path = join(this.dir, `${this.name}.run-${this.runs.length}`);
    this.runs.push(path);
    const out = new JsonlWriter(path);
    for (const r of rows) await out.line(`${r.version}\t${r.seq}\t${JSON.stringify(r.point)}`);
    await out.close();
  }
}

async function* rowsOf(rows: Row[]): AsyncGenerator<Row> {
  yield* rows;
}

async function* readRun(path: string): AsyncGenerator<Row> {
  for await (const text of createInterface({ input: createReadStream(path, 'utf8'), crlfDelay: Infinity })) {
    const a = text.indexOf('\t');
    const b = text.indexOf('\t', a + 1);
    const json = text.slice(b + 1);
    yield { version: Number(text.slice(0, a)), seq: Number(text.slice(a + 1, b)), json, point: JSON.parse(json) as MetricPoint };
  }
}
