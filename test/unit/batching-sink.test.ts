import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../core/clock.js';
import { BatchingSink, type BatchPolicy } from '../../sinks/batching.js';
import type { Sink } from '../../sinks/sink.js';

/** Records every inner batch; fails the next `failures` writes. */
class RecordingSink<T> implements Sink<T> {
  batches: T[][] = [];
  failures = 0;
  closed = false;
  async connect() {}
  async writeBatch(items: T[]) {
    if (this.failures > 0) {
      this.failures--;
      throw new Error('inner sink down');
    }
    this.batches.push([...items]);
  }
  async close() {
    this.closed = true;
  }
  get items(): T[] {
    return this.batches.flat();
  }
}

const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);

function setup(policy: Partial<BatchPolicy<number>> = {}, clock = new ManualClock(1_000)) {
  const inner = new RecordingSink<number>();
  const sink = new BatchingSink<number>(inner, { maxRows: 1_000, maxBytes: 1_000_000, maxWaitMs: 5_000, size: () => 1, ...policy }, clock);
  return { inner, sink, clock };
}

describe('BatchingSink', () => {
  it('buffers below the limits and flushes when the row limit is reached', async () => {
    const { inner, sink } = setup({ maxRows: 5 });
    expect(await sink.add([1, 2])).toBe(false);
    expect(await sink.add([3, 4])).toBe(false);
    expect(inner.batches).toEqual([]);
    expect(sink.pending()).toBe(4);
    expect(await sink.add([5])).toBe(true);
    expect(inner.batches).toEqual([[1, 2, 3, 4, 5]]);
    expect(sink.pending()).toBe(0);
  });

  it('flushes when the byte limit is reached, with the default size (JSON length)', async () => {
    const inner = new RecordingSink<{ s: string }>();
    const sink = new BatchingSink(inner, { maxRows: 1_000, maxBytes: 30, maxWaitMs: 1_000 });
    const item = { s: 'abcdef' }; // {"s":"abcdef"} = 14 bytes
    expect(await sink.add([item, item])).toBe(false); // 28
    expect(await sink.add([item])).toBe(true); // 42 >= 30
    // One inner batch never exceeds maxBytes: 14 + 14 fits, a third does not.
    expect(inner.batches.map((b) => b.length)).toEqual([2, 1]);
  });

  it('is due once the oldest buffered row waited maxWaitMs', async () => {
    const { sink, clock } = setup({ maxWaitMs: 5_000 });
    expect(sink.due(clock.now() + 1_000_000)).toBe(false); // empty: never due
    await sink.add([1]);
    clock.advance(3_000);
    await sink.add([2]); // a younger row does not reset the wait of the oldest
    expect(sink.due(5_999)).toBe(false);
    expect(sink.due(6_000)).toBe(true);
    await sink.flush();
    expect(sink.due(1_000_000)).toBe(false);
    await sink.add([3]); // clock at 4_000
    expect(sink.due(8_999)).toBe(false);
    expect(sink.due(9_000)).toBe(true);
  });

  it('writes in chunks of at most maxRows and maxBytes, in order, losing nothing', async () => {
    const { inner, sink } = setup({ maxRows: 4, maxBytes: 10, size: (n) => (n % 3 === 0 ? 6 : 1) });
    const items = range(0, 23);
    for (const n of items) await sink.add([n]);
    await sink.flush();
    expect(inner.items).toEqual(items);
    for (const batch of inner.batches) {
      expect(batch.length).toBeLessThanOrEqual(4);
      expect(batch.reduce((sum, n) => sum + (n % 3 === 0 ? 6 : 1), 0)).toBeLessThanOrEqual(10);
    }
    expect(sink.pending()).toBe(0);
  });

  it('flush chunks a large buffer into several inner batches', async () => {
    const { inner, sink } = setup({ maxRows: 3 });
    expect(await sink.add(range(0, 10))).toBe(true);
    expect(inner.batches).toEqual([[0, 1, 2], [3, 4, 5], [6, 7, 8], [9]]);
  });

  it('sends an item larger than maxBytes alone', async () => {
    const { inner, sink } = setup({ maxBytes: 10, size: (n) => n });
    await sink.writeBatch([2, 50, 3, 4]);
    expect(inner.batches).toEqual([[2], [50], [3, 4]]);
  });

  it('writeBatch is add + flush: everything buffered is durable on return', async () => {
    const { inner, sink } = setup();
    await sink.add([1, 2]);
    await sink.writeBatch([3]);
    expect(inner.batches).toEqual([[1, 2, 3]]);
    await sink.writeBatch([]);
    expect(inner.batches).toEqual([[1, 2, 3]]);
  });

  it('an inner failure propagates and the unwritten rows stay buffered, in order, for the next flush', async () => {
    const { inner, sink, clock } = setup({ maxRows: 2 });
    await sink.add([1]);
    inner.failures = 1;
    await expect(sink.add([2, 3])).rejects.toThrow('inner sink down');
    expect(sink.pending()).toBe(3);
    expect(sink.due(clock.now() + 5_000)).toBe(true); // the oldest row keeps its age
    // A failure after the first chunk: that chunk is durable and leaves the buffer.
    const write = inner.writeBatch.bind(inner);
    let calls = 0;
    inner.writeBatch = async (items) => {
      if (++calls === 2) throw new Error('inner sink down');
      await write(items);
    };
    await expect(sink.add([4])).rejects.toThrow('inner sink down');
    expect(inner.items).toEqual([1, 2]);
    expect(sink.pending()).toBe(2);
    await sink.flush();
    expect(inner.items).toEqual([1, 2, 3, 4]);
    expect(sink.pending()).toBe(0);
  });

  it('runs concurrent flushes one after the other without writing a row twice', async () => {
    const inner = new RecordingSink<number>();
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => (release = resolve));
    const write = inner.writeBatch.bind(inner);
    inner.writeBatch = async (items) => {
      await gate;
      await write(items);
    };
    const sink = new BatchingSink<number>(inner, { maxRows: 100, maxBytes: 1_000, maxWaitMs: 10 });
    await sink.add([1, 2]);
    const first = sink.flush();
    await sink.add([3]);
    const second = sink.flush();
    release();
    await Promise.all([first, second]);
    expect(inner.items).toEqual([1, 2, 3]);
  });

  it('close flushes what is left and closes the inner sink', async () => {
    const { inner, sink } = setup();
    await sink.add([7, 8]);
    await sink.close();
    expect(inner.items).toEqual([7, 8]);
    expect(inner.closed).toBe(true);
  });

  it('rejects a policy that could never flush', () => {
    expect(() => setup({ maxRows: 0 })).toThrow(RangeError);
  });
});
