/**
 * ClickHouseTableSink against a double of the store's `insert` that fails as
 * the real client does (its ClickHouseError, or the plain Error a 18.16
 * server's response becomes): a refused row is isolated by halving and
 * handed to onRejected while every other row is written in order; a batch
 * over a memory limit is split; only an unavailable server is retried.
 */
import { ClickHouseError } from '@clickhouse/client';
import { describe, expect, it } from 'vitest';
import { ClickHouseCallError, insertFailure } from '../../adapters/clickhouse/store.js';
import { FeedbackloopError } from '../../core/errors.js';
import { ClickHouseTableSink, rejectedRowLetter, type ClickHouseTableSinkOptions } from '../../sinks/clickhouse-table.js';
import { seededRandom } from '../support/random.js';

interface Row {
  id: number;
  bad?: boolean;
  huge?: boolean;
}

const refused = () => new ClickHouseError({ message: 'Cannot parse input: expected \'"\' before: \'bad\': (at row 1)', code: '27', type: 'CANNOT_PARSE_INPUT_ASSERTION_FAILED' });
const memoryLimit = () => new Error('Code: 241, e.displayText() = DB::Exception: Memory limit (for query) exceeded: would use 9.31 GiB, e.what() = DB::Exception\n');

/** The store's insert: all or nothing per call, as one ClickHouse insert block. */
class StoreDouble {
  inserts: number[] = [];
  written: Row[] = [];
  constructor(private readonly fail: (rows: Row[], call: number) => unknown) {}

  async insert(_table: string, rows: object[]): Promise<void> {
    const batch = rows as Row[];
    const error = this.fail(batch, this.inserts.length);
    this.inserts.push(batch.length);
    if (error !== undefined) throw error;
    for (const row of batch) this.written.push(row);
  }
}

/** Refuses any batch holding a row marked bad; too large above `maxRows` rows or with a huge row. */
const contentAndSize = (maxRows = Number.POSITIVE_INFINITY) => (rows: Row[]) => {
  if (rows.length > maxRows || rows.some((r) => r.huge)) return memoryLimit();
  if (rows.some((r) => r.bad)) return refused();
  return undefined;
};

function setup(fail: (rows: Row[], call: number) => unknown, options: ClickHouseTableSinkOptions<Row> & { rejecting?: boolean } = {}) {
  const store = new StoreDouble(fail);
  const rejected: Array<{ row: Row; error: FeedbackloopError }> = [];
  const { rejecting = true, ...rest } = options;
  const sink = new ClickHouseTableSink<Row>(store, 'labelled_examples', {
    initialDelayMs: 1,
    maxDelayMs: 1,
    ...(rejecting ? { onRejected: async (row: Row, error: FeedbackloopError) => void rejected.push({ row, error }) } : {}),
    ...rest,
  });
  return { store, sink, rejected };
}

const rows = (n: number, bad: Iterable<number> = [], huge: Iterable<number> = []) => {
  const out: Row[] = Array.from({ length: n }, (_, id) => ({ id }));
  for (const i of bad) out[i]!.bad = true;
  for (const i of huge) out[i]!.huge = true;
  return out;
};
const ids = (list: Row[]) => list.map((r) => r.id);
const good = (list: Row[]) => list.filter((r) => !r.bad && !r.huge);
/** The most inserts halving may take: the first, then at most two per refused row on each of ⌈log2 n⌉ levels. */
const bound = (bad: number, n: number) => 1 + 2 * bad * Math.ceil(Math.log2(n));

describe('ClickHouseTableSink: rows the server refuses', () => {
  it('writes the 997 good rows of 1,000 in order and hands on the 3 refused ones, each with its own error', async () => {
    const { store, sink, rejected } = setup(contentAndSize());
    const batch = rows(1_000, [0, 517, 999]);
    await sink.writeBatch(batch);
    expect(ids(store.written)).toEqual(ids(good(batch)));
    expect(rejected.map((r) => r.row.id)).toEqual([0, 517, 999]);
    for (const { error } of rejected) {
      expect(error).toBeInstanceOf(ClickHouseCallError);
      expect(error).toMatchObject({ kind: 'rejected_row', serverCode: '27', retriable: false });
      expect(error.message).toContain('insert into labelled_examples (1 rows) failed');
    }
    expect(store.inserts.length).toBeLessThanOrEqual(bound(3, 1_000));
  });

  it('finds one refused row in about log2(n) inserts: a refused batch whose first half went in holds it in its second', async () => {
    const { store, sink, rejected } = setup(contentAndSize());
    await sink.writeBatch(rows(1_024, [1_023]));
    expect(rejected.map((r) => r.row.id)).toEqual([1_023]);
    expect(store.written).toHaveLength(1_023);
    // The whole batch, one first half per level, the row alone.
    expect(store.inserts.length).toBe(1 + 10 + 1);
  });

  it('keeps order and the bound for any refused rows (seeded random batches)', async () => {
    const random = seededRandom(12);
    for (let round = 0; round < 40; round++) {
      const n = 1 + Math.floor(random() * 600);
      const bad = new Set(Array.from({ length: Math.floor(random() * 6) }, () => Math.floor(random() * n)));
      const { store, sink, rejected } = setup(contentAndSize());
      const batch = rows(n, bad);
      await sink.writeBatch(batch);
      expect(ids(store.written)).toEqual(ids(good(batch)));
      expect(rejected.map((r) => r.row.id)).toEqual([...bad].sort((a, b) => a - b));
      expect(store.inserts.length).toBeLessThanOrEqual(bound(bad.size, n));
    }
  });

  it('refuses every row of a batch the server refuses wholly, in a bounded number of inserts', async () => {
    const { store, sink, rejected } = setup(() => refused());
    await sink.writeBatch(rows(100));
    expect(rejected).toHaveLength(100);
    expect(store.written).toEqual([]);
    expect(store.inserts.length).toBeLessThan(2 * 100);
  });

  it('without onRejected, throws the refusal after one insert, as before', async () => {
    const { store, sink } = setup(contentAndSize(), { rejecting: false });
    const error = await sink.writeBatch(rows(50, [7])).catch((e: unknown) => e);
    expect(insertFailure(error)).toBe('rejected_row');
    expect(store.inserts).toEqual([50]);
    expect(store.written).toEqual([]);
  });

  it('a failure of onRejected fails the batch', async () => {
    const store = new StoreDouble(contentAndSize());
    const sink = new ClickHouseTableSink<Row>(store, 't', { onRejected: async () => Promise.reject(new Error('dead-letter topic down')) });
    await expect(sink.writeBatch(rows(10, [3]))).rejects.toThrow('dead-letter topic down');
  });

  it('builds the dead letter of a refused row: clickhouse:<table>, no offset, the row as JSON', () => {
    const error = new FeedbackloopError('clickhouse: insert into t (1 rows) failed: Code: 27, ...');
    expect(rejectedRowLetter('labelled_examples', { id: 3, bad: true }, error, 1_700_000_000_000)).toEqual({
      topic: 'clickhouse:labelled_examples',
      partition: -1,
      offset: -1,
      key: null,
      value: Buffer.from('{"id":3,"bad":true}'),
      error_class: 'clickhouse_rejected',
      error_message: error.message,
      stage: 'clickhouse:labelled_examples',
      failed_at: 1_700_000_000_000,
    });
  });
});

describe('ClickHouseTableSink: batches over a server limit', () => {
  it('splits a batch over the memory limit (241) into halves until each part fits, all rows in order', async () => {
    const { store, sink, rejected } = setup(contentAndSize(100), { rejecting: false });
    const batch = rows(1_000);
    await sink.writeBatch(batch);
    expect(ids(store.written)).toEqual(ids(batch));
    expect(rejected).toEqual([]);
    expect(store.inserts.filter((n) => n <= 100)).toHaveLength(16);
    // 1,000 → 500 → 250 → 125 → 63/62: 1 + 2 + 4 + 8 failed, 16 written.
    expect(store.inserts.length).toBe(1 + 2 + 4 + 8 + 16);
  });

  it('treats a single row still too large as a refused row', async () => {
    const { store, sink, rejected } = setup(contentAndSize(), {});
    await sink.writeBatch(rows(8, [2], [5]));
    expect(ids(store.written)).toEqual([0, 1, 3, 4, 6, 7]);
    expect(rejected.map((r) => [r.row.id, (r.error as ClickHouseCallError).kind])).toEqual([
      [2, 'rejected_row'],
      [5, 'too_large'],
    ]);
  });

  it('without onRejected, throws for a single row too large', async () => {
    const { store, sink } = setup(contentAndSize(), { rejecting: false });
    const error = await sink.writeBatch(rows(4, [], [1])).catch((e: unknown) => e);
    expect(insertFailure(error)).toBe('too_large');
    expect(ids(store.written)).toEqual([0]);
  });
});

describe('ClickHouseTableSink: what is retried', () => {
  it('retries an unavailable server (busy, or refusing connections) until the insert goes in', async () => {
    const busy = new ClickHouseError({ message: 'Too many simultaneous queries', code: '202', type: 'TOO_MANY_SIMULTANEOUS_QUERIES' });
    const down = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:8123'), { code: 'ECONNREFUSED' });
    const retries: number[] = [];
    const { store, sink } = setup((_, call) => [busy, down, busy][call], { onRetry: (_, attempt) => retries.push(attempt) });
    await sink.writeBatch(rows(5));
    expect(retries).toEqual([1, 2, 3]);
    expect(store.inserts).toEqual([5, 5, 5, 5]);
    expect(store.written).toHaveLength(5);
  });

  it('does not retry an error whose message says timeout when its code is a syntax error (62)', async () => {
    const syntax = new Error('Code: 62, e.displayText() = DB::Exception: Syntax error: failed at position 1: timeout, e.what() = DB::Exception\n');
    const retries: number[] = [];
    const { store, sink, rejected } = setup(() => syntax, { onRetry: (_, attempt) => retries.push(attempt) });
    const error = await sink.writeBatch(rows(5)).catch((e: unknown) => e);
    expect(error).toMatchObject({ kind: 'fatal', serverCode: '62', retriable: false });
    expect(retries).toEqual([]);
    expect(store.inserts).toEqual([5]);
    expect(rejected).toEqual([]);
  });

  it('heartbeats while it splits a batch', async () => {
    let beats = 0;
    const { sink, rejected } = setup(contentAndSize(), { heartbeat: async () => void beats++, heartbeatIntervalMs: 0 });
    await sink.writeBatch(rows(64, [10, 40]));
    expect(rejected).toHaveLength(2);
    expect(beats).toBeGreaterThan(0);
  });

  it('stops retrying once its signal aborts', async () => {
    const abort = new AbortController();
    const down = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    const { sink } = setup(() => down, { signal: abort.signal, onRetry: () => abort.abort(new Error('stopping')) });
    await expect(sink.writeBatch(rows(3))).rejects.toThrow('aborted while retrying');
  });
});
