/**
 * Buffers items in front of another sink and writes them in batches of at
 * most `maxRows` items and `maxBytes` bytes (ClickHouse wants few, large
 * inserts). It has no timer: the caller asks `due(now)` on its own schedule,
 * calls `flush()` and commits its input offsets only after a flush resolved.
 *
 * Memory stays bounded: `add` flushes as soon as a limit is reached and
 * resolves only when that flush is durable, so while the inner sink waits
 * (a ClickHouse sink retries for as long as the server is down) the caller
 * awaiting `add` waits too. A failed flush keeps the rows it did not write
 * buffered, in order, for the next flush.
 */
import { systemClock, type Clock } from '../core/clock.js';
import type { Sink } from './sink.js';

export interface BatchPolicy<T> {
  /** Flush once this many items are buffered; also the most items in one inner batch. */
  maxRows: number;
  /** Flush once the buffered items weigh this many bytes; also the most bytes in one inner batch (one larger item goes alone). */
  maxBytes: number;
  /** `due` once the oldest buffered item has waited this long. */
  maxWaitMs: number;
  /** An item's weight in bytes; the length of its JSON by default. */
  size?: (item: T) => number;
}

interface Buffered<T> {
  item: T;
  bytes: number;
  at: number;
}

const jsonLength = (item: unknown) => JSON.stringify(item)?.length ?? 0;

export class BatchingSink<T> implements Sink<T> {
  private buffer: Array<Buffered<T>> = [];
  private bytes = 0;
  /** The flush in progress, if any: flushes run one at a time. */
  private flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly inner: Sink<T>,
    private readonly policy: BatchPolicy<T>,
    /** When an item was added, for `due`. */
    private readonly clock: Clock = systemClock,
  ) {
    if (!(policy.maxRows >= 1) || !(policy.maxBytes >= 1) || !(policy.maxWaitMs >= 0)) {
      throw new RangeError(`batching policy needs maxRows >= 1, maxBytes >= 1 and maxWaitMs >= 0, got ${JSON.stringify(policy)}`);
    }
  }

  async connect(): Promise<void> {
    await this.inner.connect();
  }

  /** Buffers `items`; flushes everything when a limit is reached. Resolves true if it flushed (the rows are durable). */
  async add(items: T[]): Promise<boolean> {
    const at = this.clock.now();
    const size = this.policy.size ?? jsonLength;
    for (const item of items) {
      const bytes = size(item);
      this.buffer.push({ item, bytes, at });
      this.bytes += bytes;
    }
    if (this.buffer.length < this.policy.maxRows && this.bytes < this.policy.maxBytes) return false;
    await this.flush();
    return true;
  }

  /** Writes everything buffered, one inner batch per chunk of at most maxRows items and maxBytes bytes. */
  flush(): Promise<void> {
    const run = this.flushing.catch(() => {}).then(() => this.drain());
    this.flushing = run;
    return run;
  }

  /** Has the oldest buffered item waited maxWaitMs by `now`? */
  due(now: number): boolean {
    const oldest = this.buffer[0];
    return oldest !== undefined && now - oldest.at >= this.policy.maxWaitMs;
  }

  /** How many items are buffered. */
  pending(): number {
    return this.buffer.length;
  }

  /** add + flush: the items (and all buffered before them) are durable on return. */
  async writeBatch(items: T[]): Promise<void> {
    if (!(await this.add(items))) await this.flush();
  }

  /** Flushes what is buffered, then closes the inner sink. */
  async close(): Promise<void> {
    await this.flush();
    await this.inner.close();
  }

  private async drain(): Promise<void> {
    while (this.buffer.length > 0) {
      const chunk = this.nextChunk();
      await this.inner.writeBatch(chunk.map((b) => b.item));
      // Only now, once durable, do the rows leave the buffer (they are its head: adds append).
      this.buffer.splice(0, chunk.length);
      for (const b of chunk) this.bytes -= b.bytes;
    }
  }

  private nextChunk(): Array<Buffered<T>> {
    let count = 0;
    let bytes = 0;
    for (const b of this.buffer) {
      if (count >= this.policy.maxRows || (count > 0 && bytes + b.bytes > this.policy.maxBytes)) break;
      count++;
      bytes += b.bytes;
    }
    return this.buffer.slice(0, count);
  }
}
