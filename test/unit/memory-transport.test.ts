import { AssignerProtocol, type Cluster } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { coPartitionedAssigner } from '../../adapters/kafka/co-partitioned-assigner.js';
import { coPartitionedAssignment } from '../../adapters/transport/co-partition.js';
import { MemoryTransport } from '../../adapters/transport/memory.js';
import type { LogConsumer } from '../../adapters/transport/transport.js';
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

// With 3 partitions a round robin over the flat (topic, partition) list is NOT co-partitioned
// (a/0, b/1, a/2 -> member 0; a/1, b/0, b/2 -> member 1), so these cases tell the rules apart.
describe('co-partitioned assignment', () => {
  const topics = [
    { topic: 'predictions', partitions: [0, 1, 2] },
    { topic: 'feedback', partitions: [2, 1, 0] },
  ];
  const plain = (m: Map<string, Map<string, number[]>>) =>
    Object.fromEntries([...m].map(([id, t]) => [id, Object.fromEntries(t)]));

  it('gives partition p of every topic to member p % count', () => {
    const members = [
      { id: 'm0', topics: ['predictions', 'feedback'] },
      { id: 'm1', topics: ['predictions', 'feedback'] },
      { id: 'm2', topics: ['predictions', 'feedback'] },
      { id: 'm3', topics: ['predictions', 'feedback'] },
    ];
    expect(plain(coPartitionedAssignment(members.slice(0, 2), topics))).toEqual({
      m0: { predictions: [0, 2], feedback: [0, 2] },
      m1: { predictions: [1], feedback: [1] },
    });
    // More members than partitions: the last ones get nothing (but are listed).
    expect(plain(coPartitionedAssignment(members, topics))).toEqual({
      m0: { predictions: [0], feedback: [0] },
      m1: { predictions: [1], feedback: [1] },
      m2: { predictions: [2], feedback: [2] },
      m3: {},
    });
  });

  it('splits a topic only among the members subscribed to it', () => {
    const members = [
      { id: 'm0', topics: ['predictions'] },
      { id: 'm1', topics: ['predictions', 'feedback'] },
    ];
    expect(plain(coPartitionedAssignment(members, topics))).toEqual({
      m0: { predictions: [0, 2] },
      m1: { predictions: [1], feedback: [0, 1, 2] },
    });
  });

  it('kafkajs assigner: members sorted by id, metadata round-trips through the group protocol', async () => {
    const cluster = {
      findTopicPartitionMetadata: (topic: string) =>
        [0, 1, 2].map((partitionId) => ({ partitionId, leader: 0, replicas: [0], isr: [0], topic })),
    } as unknown as Cluster;
    const assigner = coPartitionedAssigner({ cluster, groupId: 'g', logger: undefined as never });
    const subscription = assigner.protocol({ topics: ['predictions', 'feedback'] });
    expect(subscription.name).toBe('FeedbackloopCoPartitioned');
    const result = await assigner.assign({
      members: [
        { memberId: 'member-b', memberMetadata: subscription.metadata },
        { memberId: 'member-a', memberMetadata: subscription.metadata },
      ],
      topics: ['predictions', 'feedback'],
    });
    const decoded = Object.fromEntries(
      result.map(({ memberId, memberAssignment }) => [memberId, AssignerProtocol.MemberAssignment.decode(memberAssignment)?.assignment]),
    );
    expect(decoded).toEqual({
      'member-a': { predictions: [0, 2], feedback: [0, 2] },
      'member-b': { predictions: [1], feedback: [1] },
    });
  });

  it('in-process: members in join order; leaving rebalances the rest and bumps generations', async () => {
    const log = new MemoryTransport();
    await log.ensureTopics([
      { name: 'predictions', partitions: 3 },
      { name: 'feedback', partitions: 3 },
    ]);
    const members: LogConsumer[] = [];
    for (let i = 0; i < 3; i++) {
      const c = await log.consumer({ groupId: 'joiner', topics: ['predictions', 'feedback'] });
      await c.run(async () => {});
      members.push(c);
    }
    const held = (c: LogConsumer) => c.assignment().partitions.map((tp) => `${tp.topic}/${tp.partition}`);
    expect(members.map(held)).toEqual([
      ['predictions/0', 'feedback/0'],
      ['predictions/1', 'feedback/1'],
      ['predictions/2', 'feedback/2'],
    ]);
    expect(members.map((c) => c.assignment().generation)).toEqual([3, 2, 1]);
    await members[0]!.stop();
    expect(members.slice(1).map(held)).toEqual([
      ['predictions/0', 'predictions/2', 'feedback/0', 'feedback/2'],
      ['predictions/1', 'feedback/1'],
    ]);
    expect(members.slice(1).map((c) => c.assignment().generation)).toEqual([3, 2]);
    expect(members[0]!.assignment()).toEqual({ generation: 3, partitions: [] });
    await log.close();
  });

  it('in-process readToEnd refuses a missing topic and delivers large partitions in chunks', async () => {
    const log = new MemoryTransport();
    await expect(log.readToEnd('nope', [0], () => {})).rejects.toThrow(/does not exist/);
    await log.ensureTopics([{ name: 'changelog', partitions: 1 }]);
    const producer = await log.producer();
    await producer.send(Array.from({ length: 1200 }, (_, i) => ({ topic: 'changelog', key: null, value: Buffer.from(String(i)) })));
    const sizes: number[] = [];
    const offsets: number[] = [];
    const { endOffsets } = await log.readToEnd('changelog', [0], (records) => {
      sizes.push(records.length);
      offsets.push(...records.map((r) => r.offset));
    });
    expect(sizes).toEqual([500, 500, 200]);
    expect(offsets).toEqual(Array.from({ length: 1200 }, (_, i) => i));
    expect(endOffsets.get(0)).toBe(1200);
  });
});
