/**
 * Where the evaluator's rows go. writeBatch() resolves once they are durable, so
 * the processor commits its offsets after it.
 *
 * - ClickHouseEvaluatorSink: the evaluator tables (ReplacingMergeTree with
 *   the rows' versions; metric_partials when the rows carry partials,
 *   evaluator.write_partials), in inserts of at most maxRows rows, each
 *   retried for as long as ClickHouse is down or slow.
 * - FileEvaluatorSink: a replay's files; keeps the latest row per key and
 *   writes metrics.jsonl, drift.jsonl, feedback.jsonl and charts.jsonl on close
 *   (partials have no file: they are for ClickHouse's merged view).
 *   Given a spill folder, the points that grow with the input and that the
 *   report does not draw go to disk instead (point-spill.ts).
 */
import { join } from 'node:path';
import type { Clock } from '../core/clock.js';
import type { ChartRow, DriftRecord, EvaluatorRows, FeedbackStat, MetricPoint, Versioned } from '../core/evaluate/index.js';
import { chartRow, driftRow, feedbackStatRow, labelledExampleRow, metricPartialRow, metricPointRow, type ClickHouseStore } from '../adapters/clickhouse/index.js';
import { BatchingSink } from './batching.js';
import { JsonlWriter } from './jsonl-writer.js';
import { comparePoints, isSpilledPoint, PointSpill } from './point-spill.js';
import { ClickHouseTableSink, type ClickHouseTableSinkOptions } from './clickhouse-table.js';
import type { Sink } from './sink.js';

/** A sink of the evaluator's rows: each item of a batch is the rows of one flush. */
export type EvaluatorSink = Sink<EvaluatorRows>;

export const EVALUATOR_TABLES = { points: 'metric_points', drift: 'drift_events', feedback: 'feedback_stats', charts: 'evaluation_charts', partials: 'metric_partials', examples: 'labelled_examples' } as const;

export class ClickHouseEvaluatorSink implements EvaluatorSink {
  private readonly tables: { [K in keyof EvaluatorRows]-?: BatchingSink<object> };

  constructor(
    store: Pick<ClickHouseStore, 'insert'>,
    private readonly clock: Clock,
    options: { maxRows: number; maxBytes: number; table?: (table: string) => ClickHouseTableSinkOptions },
  ) {
    const make = (table: string) =>
      new BatchingSink<object>(new ClickHouseTableSink(store, table, options.table?.(table) ?? {}), { maxRows: options.maxRows, maxBytes: options.maxBytes, maxWaitMs: 0 }, clock);
    this.tables = {
      points: make(EVALUATOR_TABLES.points), drift: make(EVALUATOR_TABLES.drift), feedback: make(EVALUATOR_TABLES.feedback),
      charts: make(EVALUATOR_TABLES.charts), partials: make(EVALUATOR_TABLES.partials), examples: make(EVALUATOR_TABLES.examples),
    };
  }

  async connect(): Promise<void> {}

  async writeBatch(batches: EvaluatorRows[]): Promise<void> {
    for (const rows of batches) await this.write(rows);
  }

  private async write(rows: EvaluatorRows): Promise<void> {
    const now = this.clock.now();
    // The audit trail first, the figures derived from it after.
    await this.tables.examples.writeBatch(rows.examples.map((r) => labelledExampleRow(r.value, r.version)));
    await this.tables.drift.writeBatch(rows.drift.map((r) => driftRow(r.value, r.version)));
    await this.tables.feedback.writeBatch(rows.feedback.map((r) => feedbackStatRow(r.value, r.version)));
    await this.tables.points.writeBatch(rows.points.map((r) => metricPointRow(r.value, r.version, now)));
    await this.tables.charts.writeBatch((rows.charts ?? []).map((r) => chartRow(r.value, r.version)));
    await this.tables.partials.writeBatch((rows.partials ?? []).map((r) => metricPartialRow(r.value, r.version, now)));
  }

  async close(): Promise<void> {}
}

/** The key of a metric point: all but window_end, value and count. */
export function pointKey(p: MetricPoint): string {
  // Concatenated, not a joined list (one per point): the same string, its fields are never null.
  return p.model + '\u0000' + p.model_version + '\u0000' + p.role + '\u0000' + p.segment + '\u0000' + p.window + '\u0000' + p.window_start + '\u0000' + p.metric;
}

export function driftKey(d: DriftRecord): string {
  return [d.model, d.model_version, d.role, d.feature, d.statistic, d.window, d.n].join('\u0000');
}

export function feedbackKey(s: FeedbackStat): string {
  return [s.model, s.day, s.feedback_type, s.source].join('\u0000');
}

/** The key of a chart: all but what it covers and its data. */
export function chartKey(c: ChartRow): string {
  return [c.model, c.model_version, c.role, c.segment, c.window, c.chart, c.subject].join('\u0000');
}

/** Keeps, per key, the row with the highest version (the later one among equals), as ReplacingMergeTree does. */
class Latest<T> {
  readonly rows = new Map<string, Versioned<T>>();

  constructor(private readonly key: (value: T) => string) {}

  add(rows: Array<Versioned<T>>): void {
    for (const row of rows) {
      const key = this.key(row.value);
      const current = this.rows.get(key);
      if (!current || row.version >= current.version) this.rows.set(key, row);
    }
  }

  values(): T[] {
    return [...this.rows.values()].map((r) => r.value);
  }
}

const compare = (a: Array<string | number>, b: Array<string | number>) => {
  for (let i = 0; i < a.length; i++) {
    if (a[i]! < b[i]!) return -1;
    if (a[i]! > b[i]!) return 1;
  }
  return 0;
};

/** Rows as a JSON Lines file, written as a stream. */
async function writeJsonl(path: string, rows: unknown[]): Promise<void> {
  const out = new JsonlWriter(path);
  for (const row of rows) await out.row(row);
  await out.close();
}

export class FileEvaluatorSink implements EvaluatorSink {
  /** The points (with a spill folder: those the report draws). */
  readonly points = new Latest<MetricPoint>(pointKey);
  readonly drift = new Latest<DriftRecord>(driftKey);
  readonly feedback = new Latest<FeedbackStat>(feedbackKey);
  readonly charts = new Latest<ChartRow>(chartKey);
  private readonly spill: PointSpill | undefined;

  /** `spill.dir`: where the points the report does not draw wait (run files of `spill.rows` rows, removed by close()). */
  constructor(
    private readonly dir: string,
    spill?: { dir: string; rows?: number },
  ) {
    this.spill = spill === undefined ? undefined : new PointSpill(spill.dir, 'points', spill.rows);
  }

  /** Metric points, one per key (with a spill folder: known after close()). */
  get pointCount(): number {
    return this.points.rows.size + (this.spill?.written ?? 0);
  }

  get files() {
    return { metrics: join(this.dir, 'metrics.jsonl'), drift: join(this.dir, 'drift.jsonl'), feedback: join(this.dir, 'feedback.jsonl'), charts: join(this.dir, 'charts.jsonl') };
  }

  async connect(): Promise<void> {}

  async writeBatch(batches: EvaluatorRows[]): Promise<void> {
    for (const rows of batches) {
      if (this.spill) {
        this.points.add(rows.points.filter((r) => !isSpilledPoint(r.value)));
        for (const r of rows.points) if (isSpilledPoint(r.value)) await this.spill.add(r);
      } else {
        this.points.add(rows.points);
      }
      this.drift.add(rows.drift);
      this.feedback.add(rows.feedback);
      this.charts.add(rows.charts ?? []);
    }
  }

  /**
   * The final rows, in a stable order. With a spill folder, of the points
   * it holds only the earliest of each series (all the report reads of
   * them): metrics.jsonl gets them all.
   */
  final(): { points: MetricPoint[]; drift: DriftRecord[]; feedback: FeedbackStat[]; charts: ChartRow[] } {
    return {
      points: [...this.points.values(), ...(this.spill?.earliest.values() ?? [])].sort(comparePoints),
      drift: this.drift.values().sort((a, b) => compare([a.model, a.n, a.role, a.model_version, a.feature, a.statistic], [b.model, b.n, b.role, b.model_version, b.feature, b.statistic])),
      feedback: this.feedback.values().sort((a, b) => compare([a.model, a.day, a.feedback_type, a.source], [b.model, b.day, b.feedback_type, b.source])),
      charts: this.charts.values().sort((a, b) =>
        compare([a.model, a.chart, a.subject, a.role, a.model_version, a.segment, a.window], [b.model, b.chart, b.subject, b.role, b.model_version, b.segment, b.window]),
      ),
    };
  }

  /** Writes the files a line at a time (metrics.jsonl outgrows a string long before memory). */
  async close(): Promise<void> {
    const { points, drift, feedback, charts } = this.final();
    if (this.spill) await this.writeMetrics(this.spill);
    else await writeJsonl(this.files.metrics, points);
    await writeJsonl(this.files.drift, drift);
    await writeJsonl(this.files.feedback, feedback);
    await writeJsonl(this.files.charts, charts);
  }

  /** metrics.jsonl: the points kept here merged with the spilled ones, in final()'s order. */
  private async writeMetrics(spill: PointSpill): Promise<void> {
    const kept = this.points.values().sort(comparePoints);
    const out = new JsonlWriter(this.files.metrics);
    let i = 0;
    for await (const { point, json } of spill.sorted()) {
      while (i < kept.length && comparePoints(kept[i]!, point) < 0) await out.row(kept[i++]);
      await out.line(json);
    }
    while (i < kept.length) await out.row(kept[i++]);
    await out.close();
  }
}
