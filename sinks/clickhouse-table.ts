/**
 * Rows into one ClickHouse table. What a failed insert means decides what
 * follows (`insertFailure`, adapters/clickhouse/store.ts):
 *
 * - `unavailable` (server down, slow, overloaded) is retried with backoff for
 *   as long as it lasts, so the caller — and with it consumption — waits
 *   instead of dropping rows or buffering without bound;
 * - `too_large` (a server size or memory limit) splits the rows in halves,
 *   each written on its own; a single row still too large is a rejected row;
 * - `rejected_row` (the server refused a row's content) splits the rows in
 *   halves until each refused row is alone: every other row is written, in
 *   order, and each refused one goes to `onRejected` with its error (without
 *   `onRejected` the error is thrown, as before);
 * - `fatal` is thrown at once.
 *
 * Splitting halves the rows at each level, so it ends after log2(rows)
 * levels; a batch with b refused rows of n costs at most 1 + 2·b·⌈log2 n⌉
 * inserts.
 *
 * While it waits, `heartbeat` (if given) is called at least every
 * `heartbeatIntervalMs`, so a Kafka consumer stays in its group; an error
 * from it ends the wait (e.g. a rebalance: the batch will be redelivered).
 * `signal` stops the waiting: once aborted, writeBatch throws a
 * non-retriable error (an insert in flight is aborted too).
 */
import { deadLetterFor } from '../core/dead-letters.js';
import type { DeadLetter } from '../core/events.js';
import { FeedbackloopError } from '../core/errors.js';
import { retry } from '../core/retry.js';
import type { ClickHouseStore } from '../adapters/clickhouse/index.js';
import { clickhouseError, insertFailure, type ClickHouseErrorKind } from '../adapters/clickhouse/store.js';
import type { Sink } from './sink.js';

export type RetryListener = (error: unknown, attempt: number, delayMs: number) => void;

export interface ClickHouseTableSinkOptions<Row = object> {
  /** Called before each wait; for logging. */
  onRetry?: RetryListener;
  /** Called between retries, at least every heartbeatIntervalMs while waiting. */
  heartbeat?: () => Promise<void>;
  heartbeatIntervalMs?: number;
  /** Once aborted, writeBatch stops retrying and throws. */
  signal?: AbortSignal;
  initialDelayMs?: number;
  maxDelayMs?: number;
  /**
   * A row the server refused for its content (the rest of its batch is
   * written). Without it, such a refusal is thrown. It must not throw for
   * the row itself: whatever it throws fails the batch.
   */
  onRejected?: (row: Row, error: FeedbackloopError) => Promise<void>;
}

/**
 * The dead letter of a row a ClickHouse table refused: no Kafka record to
 * point at (partition and offset -1), the row's JSON as the value, the
 * server's error as the message.
 */
export function rejectedRowLetter(table: string, row: object, error: Error, now: number): DeadLetter {
  const where = `clickhouse:${table}`;
  const record = { topic: where, partition: -1, offset: -1, key: null, value: Buffer.from(JSON.stringify(row), 'utf8') };
  // The same bounds as every dead letter (a value cut past DEAD_LETTER_MAX_VALUE, the message too).
  return deadLetterFor(record, where, 'clickhouse_rejected', error.message, now);
}

export class ClickHouseTableSink<Row extends object> implements Sink<Row> {
  private readonly options: ClickHouseTableSinkOptions<Row>;
  /** When the group was last heartbeated while splitting a batch. */
  private heartbeatAt = 0;

  constructor(
    private readonly store: Pick<ClickHouseStore, 'insert'>,
    private readonly table: string,
    options: RetryListener | ClickHouseTableSinkOptions<Row> = {},
  ) {
    this.options = typeof options === 'function' ? { onRetry: options } : options;
  }

  async connect(): Promise<void> {}

  async writeBatch(rows: Row[]): Promise<void> {
    if (rows.length === 0) return;
    this.heartbeatAt = Date.now();
    await this.write(rows, false);
  }

  /**
   * Writes `rows`, splitting them as their failure asks; resolves the number
   * of rows refused. `knownRefused`: the rows hold a refused row (their
   * batch was refused and its first half went in whole), so their own insert
   * is skipped; a single row is always tried alone, so it is refused for its
   * own error.
   */
  private async write(rows: Row[], knownRefused: boolean): Promise<number> {
    if (knownRefused && rows.length > 1) return this.split(rows, 'rejected_row', undefined);
    const failure = await this.attempt(rows);
    if (failure === undefined) return 0;
    if (rows.length === 1) return this.reject(rows[0]!, failure);
    return this.split(rows, insertFailure(failure), failure);
  }

  /** Writes each half of `rows` (at least two), which failed (or are known to fail) as `kind`. */
  private async split(rows: Row[], kind: ClickHouseErrorKind, failure: FeedbackloopError | undefined): Promise<number> {
    if (kind === 'rejected_row' && !this.options.onRejected && failure) throw failure;
    await this.keepAlive();
    const middle = Math.ceil(rows.length / 2);
    const refusedFirst = await this.write(rows.slice(0, middle), false);
    // ClickHouse refuses a batch for its first bad row: if the first half went in whole, that row is in the second.
    return refusedFirst + (await this.write(rows.slice(middle), kind === 'rejected_row' && refusedFirst === 0));
  }

  /** A single row the server refused (or that alone exceeds a limit): to onRejected, or thrown without it. */
  private async reject(row: Row, failure: FeedbackloopError): Promise<number> {
    const onRejected = this.options.onRejected;
    if (!onRejected) throw failure;
    await onRejected(row, failure);
    return 1;
  }

  /** Splitting a large batch takes many inserts: stay in the consumer group meanwhile. */
  private async keepAlive(): Promise<void> {
    const { heartbeat } = this.options;
    if (!heartbeat || Date.now() - this.heartbeatAt < (this.options.heartbeatIntervalMs ?? 1_000)) return;
    this.heartbeatAt = Date.now();
    await heartbeat();
  }

  /** One insert (retried while the server is unavailable); the error if it failed for another reason. */
  private async attempt(rows: Row[]): Promise<FeedbackloopError | undefined> {
    try {
      await this.insertRetrying(rows);
      return undefined;
    } catch (error) {
      const kind = insertFailure(error);
      if (kind === 'too_large' || kind === 'rejected_row') return error as FeedbackloopError;
      throw error;
    }
  }

  private async insertRetrying(rows: Row[]): Promise<void> {
    const { onRetry, signal } = this.options;
    await retry(
      () => {
        this.throwIfAborted();
        return this.store.insert(this.table, rows, signal ? { signal } : {}).catch((error: unknown) => {
          throw clickhouseError(`insert into ${this.table} (${rows.length} rows) failed`, error);
        });
      },
      {
        retries: Number.POSITIVE_INFINITY,
        initialDelayMs: this.options.initialDelayMs ?? 250,
        maxDelayMs: this.options.maxDelayMs ?? 10_000,
        sleep: (ms) => this.wait(ms),
        ...(onRetry ? { onRetry } : {}),
      },
    ).catch((error: unknown) => {
      // An insert cut short by the signal fails as a network error: say why.
      this.throwIfAborted();
      throw error;
    });
  }

  async close(): Promise<void> {}

  private throwIfAborted(): void {
    const signal = this.options.signal;
    if (signal?.aborted) {
      throw new FeedbackloopError(`clickhouse: insert into ${this.table} aborted while retrying`, { retriable: false, cause: signal.reason });
    }
  }

  /** Waits `ms` in slices, heartbeating before each; ends early (throwing) once the signal aborts. */
  private async wait(ms: number): Promise<void> {
    const { heartbeat, signal } = this.options;
    const slice = heartbeat ? Math.max(1, this.options.heartbeatIntervalMs ?? 1_000) : ms;
    for (let left = ms; left > 0; left -= slice) {
      this.throwIfAborted();
      await heartbeat?.();
      await abortableSleep(Math.min(slice, left), signal);
    }
    this.throwIfAborted();
  }
}

function abortableSleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}
