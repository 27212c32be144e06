import { describe, expect, it } from 'vitest';
import { MemoryTransport } from '../../adapters/transport/memory.js';
import { collect } from '../support/collect.js';

const send = async (log: MemoryTransport, topic: string, values: Array<[string | null, string | null]>) =>
  (await log.producer()).send(values.map(([key, value], i) => ({ topic, partition: 0, key: key === null ? null : Buffer.from(key), value: value === null ? null : Buffer.from(value), timestamp: i })));

const values = (log: MemoryTransport, topic: string) => log.records(topic).map((r) => `${r.offset}:${r.value?.toString() ?? 'null'}`);

describe('in-process log: release', () => {
  it('frees a plain topic below what every group committed or holds; offsets stay, a freed offset reads from the earliest retained', async () => {
    const log = new MemoryTransport();
    await log.ensureTopics([{ name: 't', partitions: 1 }]);
    await send(log, 't', [[null, 'a'], [null, 'b'], [null, 'c'], [null, 'd']]);
    log.commitOffsets('slow', [{ topic: 't', partition: 0, offset: 3 }]);
    log.commitOffsets('fast', [{ topic: 't', partition: 0, offset: 4 }]);
    log.release();
    expect(values(log, 't')).toEqual(['3:d']);
    expect(log.endOffset('t', 0)).toBe(4);
    // A new group (from the beginning) starts at the earliest retained record.
    const late = await log.consumer({ groupId: 'late', topics: ['t'] });
    expect((await collect(late, 1)).map((r) => r.offset)).toEqual([3]);
    await log.close();
  });

  it('keeps a plain topic nobody reads, and what a reader outside the log has not read', async () => {
    const log = new MemoryTransport();
    await log.ensureTopics([{ name: 'out', partitions: 1 }]);
    await send(log, 'out', [[null, 'a'], [null, 'b']]);
    log.release();
    expect(values(log, 'out')).toEqual(['0:a', '1:b']);
    log.release([{ topic: 'out', partition: 0, offset: 1 }]);
    expect(values(log, 'out')).toEqual(['1:b']);
  });

  it('compacts a compacted topic to the latest record per key, tombstones dropped, once it doubled', async () => {
    const log = new MemoryTransport();
    await log.ensureTopics([{ name: 'c', partitions: 1, compacted: true }]);
    const updates: Array<[string, string | null]> = [];
    for (let i = 0; i < 1200; i++) updates.push([`k${i % 3}`, `v${i}`]);
    updates.push(['k0', null]);
    await send(log, 'c', updates);
    log.release();
    expect(values(log, 'c')).toEqual(['1198:v1198', '1199:v1199']);
    const seen: string[] = [];
    await log.readToEnd('c', [0], (records) => void records.forEach((r) => seen.push(r.key!.toString())));
    expect(seen).toEqual(['k1', 'k2']);
  });
});
