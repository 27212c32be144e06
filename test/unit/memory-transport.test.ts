import { describe, expect, it } from 'vitest';
import { MemoryTransport } from '../../adapters/log/memory.js';
import { describeTransportContract } from '../contract/transport-contract.js';
import { collect } from '../support/collect.js';

describeTransportContract('in-process log', async () => new MemoryTransport(), { quietMs: 50 });

describe('in-process log specifics', () => {
  it('delivers across partitions and topics in timestamp order', async () => {
    const log = new MemoryTransport();
    await log.ensureTopics([
      { name: 'a', partitions: 2 },
      { name: 'b', partitions: 1 },
    ]);
    const producer = await log.producer();
    await producer.send([
      { topic: 'a', partition: 0, key: null, value: Buffer.from('a0@10'), timestamp: 10 },
      { topic: 'a', partition: 0, key: null, value: Buffer.from('a0@40'), timestamp: 40 },
      { topic: 'a', partition: 1, key: null, value: Buffer.from('a1@20'), timestamp: 20 },
      { topic: 'b', partition: 0, key: null, value: Buffer.from('b0@20'), timestamp: 20 },
      { topic: 'b', partition: 0, key: null, value: Buffer.from('b0@30'), timestamp: 30 },
    ]);
    const consumer = await log.consumer({ groupId: 'g', topics: ['a', 'b'] });
    const got = await collect(consumer, 5);
    // Ties go to the topic subscribed first (a before b).
    expect(got.map((r) => r.value!.toString())).toEqual(['a0@10', 'a1@20', 'b0@20', 'b0@30', 'a0@40']);
    await log.close();
  });

  it('whenIdle resolves once consumers caught up, and rejects when a handler crashed', async () => {
    const log = new MemoryTransport();
    await log.ensureTopics([{ name: 't', partitions: 1 }]);
    const producer = await log.producer();
    await producer.send([1, 2, 3].map((i) => ({ topic: 't', key: null, value: Buffer.from(String(i)) })));
    const seen: string[] = [];
    const ok = await log.consumer({ groupId: 'ok', topics: ['t'] });
    await ok.run(async (batch) => {
      seen.push(...batch.records.map((r) => r.value!.toString()));
    });
    await log.whenIdle();
    expect(seen).toEqual(['1', '2', '3']);

    const bad = await log.consumer({ groupId: 'bad', topics: ['t'] });
    await bad.run(async () => {
      throw new Error('handler failed');
    });
    await expect(log.whenIdle()).rejects.toThrow('handler failed');
    await expect(bad.done).rejects.toThrow('handler failed');
  });

  it('fences a transactional producer when a newer one takes its id', async () => {
    const log = new MemoryTransport();
    await log.ensureTopics([{ name: 't', partitions: 1 }]);
    const old = await log.transactionalProducer('joiner-0');
    await log.transactionalProducer('joiner-0');
    await expect(
      old.sendWithOffsets([{ topic: 't', key: null, value: Buffer.from('x') }], { groupId: 'g', offsets: [] }),
    ).rejects.toThrow(/fenced/);
    expect(log.endOffset('t', 0)).toBe(0);
  });

  it('writes nothing of a batch that names a missing partition', async () => {
    const log = new MemoryTransport();
    await log.ensureTopics([{ name: 't', partitions: 1 }]);
    const producer = await log.producer();
    await expect(
      producer.send([
        { topic: 't', key: null, value: Buffer.from('ok') },
        { topic: 't', key: null, value: Buffer.from('bad'), partition: 3 },
      ]),
    ).rejects.toThrow(/no partition 3/);
    expect(log.endOffset('t', 0)).toBe(0);
  });
});
