/**
 * Rows into one ClickHouse table. A retriable failure (server down, slow,
 * overloaded) is retried with backoff for as long as it lasts, so the
 * caller — and with it consumption — waits instead of dropping rows or
 * buffering without bound. A non-retriable failure is thrown at once.
 *
 * While it waits, `heartbeat` (if given) is called at least every
 * `heartbeatIntervalMs`, so a Kafka consumer stays in its group; an error
 * from it ends the wait (e.g. a rebalance: the batch will be redelivered).
 * `signal` stops the waiting: once aborted, writeBatch throws a
 * non-retriable error (an insert in flight is aborted too).
 */
import { FeedbackloopError } from '../core/errors.js';
import { retry } from '../core/retry.js';
import type { ClickHouseStore } from '../adapters/clickhouse/index.js';
import type { Sink } from './sink.js';

export type RetryListener = (error: unknown, attempt: number, delayMs: number) => void;

export interface ClickHouseTableSinkOptions {
  /** Called before each wait; for logging. */
  onRetry?: RetryListener;
  /** Called between retries, at least every heartbeatIntervalMs while waiting. */
  heartbeat?: () => Promise<void>;
  heartbeatIntervalMs?: number;
  /** Once aborted, writeBatch stops retrying and throws. */
  signal?: AbortSignal;
  initialDelayMs?: number;
  maxDelayMs?: number;
}

export class ClickHouseTableSink<Row extends object> implements Sink<Row> {
  private readonly options: ClickHouseTableSinkOptions;

  constructor(
    private readonly store: Pick<ClickHouseStore, 'insert'>,
    private readonly table: string,
    options: RetryListener | ClickHouseTableSinkOptions = {},
  ) {
    this.options = typeof options === 'function' ? { onRetry: options } : options;
  }

  async connect(): Promise<void> {}

  async writeBatch(rows: Row[]): Promise<void> {
    const { onRetry, signal } = this.options;
    await retry(
      () => {
        this.throwIfAborted();
        return this.store.insert(this.table, rows, signal ? { signal } : {});
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
