/**
 * Rows into one ClickHouse table. A retriable failure (server down, slow,
 * overloaded) is retried with backoff for as long as it lasts, so the
 * caller — and with it consumption — waits instead of dropping rows or
 * buffering without bound. A non-retriable failure is thrown at once.
 */
import { retry } from '../core/retry.js';
import type { ClickHouseStore } from '../adapters/clickhouse/index.js';
import type { Sink } from './sink.js';

export class ClickHouseTableSink<Row extends object> implements Sink<Row> {
  constructor(
    private readonly store: ClickHouseStore,
    private readonly table: string,
    private readonly onRetry?: (error: unknown, attempt: number, delayMs: number) => void,
  ) {}

  async connect(): Promise<void> {}

  async writeBatch(rows: Row[]): Promise<void> {
    await retry(() => this.store.insert(this.table, rows), {
      retries: Number.POSITIVE_INFINITY,
      initialDelayMs: 250,
      maxDelayMs: 10_000,
      ...(this.onRetry ? { onRetry: this.onRetry } : {}),
    });
  }

  async close(): Promise<void> {}
}
