/**
 * The log-interface contract: the same cases run against every transport
 * (the in-process log in the unit suite, Kafka in the integration suite).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FeedbackloopError } from '../../core/errors.js';
import { partitionForKey } from '../../adapters/transport/partitioner.js';
import type { LogConsumer, LogRecord, LogTransport, PartitionBatch, TopicSpec } from '../../adapters/transport/transport.js';
import { topicConfigEntries } from '../../adapters/kafka/topic-configs.js';
import { judgeTopicSettings } from '../../runtime/topic-settings.js';
import { collect, sleep, uniqueName, waitFor } from '../support/collect.js';

export interface ContractOptions {
  /** How long to wait to be sure nothing more arrives. */
  quietMs: number;
}

const text = (b: Buffer | null) => (b === null ? null : b.toString('utf8'));

/** The consumers' assignments split all `total` partitions between them, each holding some. */
function settled(consumers: LogConsumer[], total: number): boolean {
  const held = consumers.map((c) => c.assignment().partitions.map((tp) => `${tp.topic}/${tp.partition}`));
  const all = new Set(held.flat());
  return held.every((h) => h.length > 0) && all.size === total && held.flat().length === total;
}

function byPartition(records: LogRecord[]): Map<number, LogRecord[]> {
  const out = new Map<number, LogRecord[]>();
  for (const r of records) {
    let list = out.get(r.partition);
    if (!list) out.set(r.partition, (list = []));
    list.push(r);
  }
  return out;
}

export function describeTransportContract(name: string, makeTransport: () => Promise<LogTransport>, options: ContractOptions): void {
  describe(`log transport contract: ${name}`, () => {
    let transport: LogTransport;
    const consumers: LogConsumer[] = [];
    const track = (c: LogConsumer) => {
      consumers.push(c);
      return c;
    };

    beforeAll(async () => {
      transport = await makeTransport();
    });

    afterAll(async () => {
      for (const c of consumers) await c.stop().catch(() => {});
      await transport?.close();
    });

    it('delivers one partition in offset order with keys, values, timestamps and headers', async () => {
      const topic = uniqueName('order');
      await transport.ensureTopics([{ name: topic, partitions: 1 }]);
      const producer = await transport.producer();
      const records = Array.from({ length: 50 }, (_, i) => ({
        topic,
        key: Buffer.from(`k${i % 5}`),
        value: Buffer.from(`v${i}`),
        timestamp: 1_700_000_000_000 + i,
        headers: { n: String(i) },
      }));
      await producer.send(records.slice(0, 20));
      await producer.send(records.slice(20));
      await producer.close();

      const consumer = track(await transport.consumer({ groupId: uniqueName('g'), topics: [topic] }));
      const got = await collect(consumer, 50);
      expect(got.map((r) => text(r.value))).toEqual(records.map((r) => `v${records.indexOf(r)}`));
      expect(got.map((r) => r.offset)).toEqual(Array.from({ length: 50 }, (_, i) => i));
      expect(got.map((r) => text(r.key))).toEqual(records.map((r) => text(r.key)));
      expect(got.map((r) => r.timestamp)).toEqual(records.map((r) => r.timestamp));
      expect(got[7]!.headers).toEqual({ n: '7' });
      expect(await transport.partitionCount(topic)).toBe(1);
    });

    it('places keyed records by murmur2 like Kafka and keeps per-partition order across partitions', async () => {
      const topic = uniqueName('keys');
      await transport.ensureTopics([{ name: topic, partitions: 3 }]);
      expect(await transport.partitionCount(topic)).toBe(3);
      const producer = await transport.producer();
      const keys = Array.from({ length: 30 }, (_, i) => `prediction-${i}`);
      const sent = [];
      for (let round = 0; round < 3; round++) {
        for (const key of keys) sent.push({ topic, key: Buffer.from(key), value: Buffer.from(`${key}#${round}`) });
      }
      await producer.send(sent);
      await producer.close();

      const consumer = track(await transport.consumer({ groupId: uniqueName('g'), topics: [topic] }));
      const got = await collect(consumer, sent.length);
      expect(got).toHaveLength(90);
      for (const record of got) {
        expect(record.partition).toBe(partitionForKey(record.key!, 3));
      }
      // Every key's three values arrive in the order sent.
      for (const key of keys) {
        const values = got.filter((r) => text(r.key) === key).map((r) => text(r.value));
        expect(values).toEqual([`${key}#0`, `${key}#1`, `${key}#2`]);
      }
      const parts = byPartition(got);
      expect([...parts.keys()].sort()).toEqual([0, 1, 2]);
      for (const list of parts.values()) {
        expect(list.map((r) => r.offset)).toEqual(list.map((_, i) => i));
      }
    });

    it('restarts from the committed offset, and reports it', async () => {
      const topic = uniqueName('commit');
      const groupId = uniqueName('g');
      await transport.ensureTopics([{ name: topic, partitions: 1 }]);
      const producer = await transport.producer();
      await producer.send(Array.from({ length: 20 }, (_, i) => ({ topic, key: null, value: Buffer.from(`m${i}`), partition: 0 })));
      await producer.close();

      const first = await transport.consumer({ groupId, topics: [topic] });
      const firstGot = await collect(first, 20);
      expect(firstGot).toHaveLength(20);
      await first.commit([{ topic, partition: 0, offset: 12 }]);
      await first.stop();
      expect(await transport.committedOffsets(groupId, topic)).toEqual([{ topic, partition: 0, offset: 12 }]);

      const second = track(await transport.consumer({ groupId, topics: [topic] }));
      const secondGot = await collect(second, 8);
      expect(secondGot.map((r) => text(r.value))).toEqual(Array.from({ length: 8 }, (_, i) => `m${i + 12}`));
      await sleep(options.quietMs);
      expect(secondGot).toHaveLength(8);
    });

    it('without a committed offset and fromBeginning=false, reads only what comes after it joined', async () => {
      const topic = uniqueName('latest');
      await transport.ensureTopics([{ name: topic, partitions: 1 }]);
      const producer = await transport.producer();
      await producer.send([{ topic, key: null, value: Buffer.from('old'), partition: 0 }]);
      const consumer = track(await transport.consumer({ groupId: uniqueName('g'), topics: [topic], fromBeginning: false }));
      const received: string[] = [];
      await consumer.run(async (batch) => {
        received.push(...batch.records.map((r) => text(r.value)!));
      });
      // Give the group time to join and take its position at the end.
      await sleep(options.quietMs);
      await producer.send([{ topic, key: null, value: Buffer.from('new'), partition: 0 }]);
      await producer.close();
      const deadline = Date.now() + 30_000;
      while (received.length < 1 && Date.now() < deadline) await sleep(50);
      expect(received).toEqual(['new']);
    });

    it('commits output records and input offsets together in a transaction', async () => {
      const input = uniqueName('tx-in');
      const output = uniqueName('tx-out');
      const groupId = uniqueName('g');
      await transport.ensureTopics([
        { name: input, partitions: 2 },
        { name: output, partitions: 2 },
      ]);
      const producer = await transport.producer();
      await producer.send(Array.from({ length: 10 }, (_, i) => ({ topic: input, key: Buffer.from(`k${i}`), value: Buffer.from(`${i}`) })));
      await producer.close();

      const tx = await transport.transactionalProducer(uniqueName('txid'));
      const consumer = track(await transport.consumer({ groupId, topics: [input] }));
      await collect(consumer, 10, {
        onBatch: async (batch) => {
          await tx.sendWithOffsets(
            batch.records.map((r) => ({ topic: output, key: r.key, value: Buffer.from(`out-${text(r.value)}`) })),
            { groupId, offsets: [{ topic: input, partition: batch.partition, offset: batch.nextOffset }] },
          );
        },
      });
      await tx.close();

      const reader = track(await transport.consumer({ groupId: uniqueName('g'), topics: [output] }));
      const out = await collect(reader, 10);
      expect(out.map((r) => text(r.value)).sort()).toEqual(Array.from({ length: 10 }, (_, i) => `out-${i}`).sort());
      for (const r of out) expect(r.partition).toBe(partitionForKey(r.key!, 2));
      const committed = await transport.committedOffsets(groupId, input);
      const total = committed.reduce((sum, c) => sum + c.offset, 0);
      expect(total).toBe(10);
    });

    it('splits partitions between two consumers of a group; each record reaches one of them', async () => {
      const topic = uniqueName('group');
      const groupId = uniqueName('g');
      await transport.ensureTopics([{ name: topic, partitions: 4 }]);
      const a = track(await transport.consumer({ groupId, topics: [topic] }));
      const b = track(await transport.consumer({ groupId, topics: [topic] }));
      const seen: Array<{ who: string; value: string }> = [];
      const handler = (who: string, consumer: LogConsumer) => async (batch: { records: LogRecord[]; partition: number; nextOffset: number }) => {
        for (const r of batch.records) seen.push({ who, value: text(r.value)! });
        await consumer.commit([{ topic, partition: batch.partition, offset: batch.nextOffset }]);
      };
      await a.run(handler('a', a));
      await b.run(handler('b', b));
      await sleep(options.quietMs);
      const producer = await transport.producer();
      await producer.send(Array.from({ length: 40 }, (_, i) => ({ topic, key: Buffer.from(`key-${i}`), value: Buffer.from(`${i}`) })));
      await producer.close();
      const deadline = Date.now() + 60_000;
      while (seen.length < 40 && Date.now() < deadline) await sleep(50);
      await sleep(options.quietMs);
      expect(seen.map((s) => Number(s.value)).sort((x, y) => x - y)).toEqual(Array.from({ length: 40 }, (_, i) => i));
    });

    it('assigns partition p of every subscribed topic to the same member (co-partitioned), each record once', async () => {
      const left = uniqueName('copart-left');
      const right = uniqueName('copart-right');
      const groupId = uniqueName('g');
      await transport.ensureTopics([
        { name: left, partitions: 4 },
        { name: right, partitions: 4 },
      ]);
      const a = track(await transport.consumer({ groupId, topics: [left, right] }));
      const b = track(await transport.consumer({ groupId, topics: [left, right] }));
      const deliveries: Array<{ who: string; topic: string; partition: number; offset: number }> = [];
      const staleGenerations: string[] = [];
      const handler = (who: string, consumer: LogConsumer) => async (batch: PartitionBatch) => {
        const current = consumer.assignment().generation;
        if (batch.generation !== current) staleGenerations.push(`${who}: batch ${batch.generation}, assignment ${current}`);
        for (const r of batch.records) deliveries.push({ who, topic: r.topic, partition: r.partition, offset: r.offset });
        await consumer.commit([{ topic: batch.topic, partition: batch.partition, offset: batch.nextOffset }]);
      };
      await a.run(handler('a', a));
      await b.run(handler('b', b));
      await waitFor(() => settled([a, b], 8), 'the group to settle');

      // p % 2 over the two members: one holds partitions 0 and 2 of both topics, the other 1 and 3.
      const numbers = [a, b].map((c) => {
        const held = c.assignment().partitions;
        expect(held.filter((tp) => tp.topic === left).map((tp) => tp.partition)).toEqual(
          held.filter((tp) => tp.topic === right).map((tp) => tp.partition),
        );
        return held.filter((tp) => tp.topic === left).map((tp) => tp.partition);
      });
      expect(numbers.map((n) => n.join(',')).sort()).toEqual(['0,2', '1,3']);

      const producer = await transport.producer();
      const keys = Array.from({ length: 40 }, (_, i) => `prediction-${i}`);
      await producer.send(keys.map((k) => ({ topic: left, key: Buffer.from(k), value: Buffer.from(`p:${k}`) })));
      await producer.send(keys.map((k) => ({ topic: right, key: Buffer.from(k), value: Buffer.from(`f:${k}`) })));
      await producer.close();
      await waitFor(() => deliveries.length >= 80, '80 records');
      await sleep(options.quietMs);

      expect(deliveries).toHaveLength(80);
      expect(new Set(deliveries.map((d) => `${d.topic}/${d.partition}/${d.offset}`)).size).toBe(80);
      for (let p = 0; p < 4; p++) {
        const owners = new Set(deliveries.filter((d) => d.partition === p).map((d) => d.who));
        expect(owners.size, `partition ${p} of both topics goes to one member`).toBe(1);
      }
      expect(staleGenerations).toEqual([]);
    });

    it('starts a new assignment generation when the group rebalances, and stamps every batch with it', async () => {
      const topic = uniqueName('generation');
      const groupId = uniqueName('g');
      await transport.ensureTopics([{ name: topic, partitions: 2 }]);
      const a = track(await transport.consumer({ groupId, topics: [topic] }));
      const b = track(await transport.consumer({ groupId, topics: [topic] }));
      expect(a.assignment()).toEqual({ generation: 0, partitions: [] });
      type Seen = { generation: number; current: number; held: boolean; count: number };
      const seen: Record<'a' | 'b', Seen[]> = { a: [], b: [] };
      const handler = (who: 'a' | 'b', consumer: LogConsumer) => async (batch: PartitionBatch) => {
        const now = consumer.assignment();
        seen[who].push({
          generation: batch.generation,
          current: now.generation,
          held: now.partitions.some((tp) => tp.topic === batch.topic && tp.partition === batch.partition),
          count: batch.records.length,
        });
        await consumer.commit([{ topic: batch.topic, partition: batch.partition, offset: batch.nextOffset }]);
      };
      const received = (who: 'a' | 'b') => seen[who].reduce((sum, s) => sum + s.count, 0);
      const send = async (round: string) => {
        const producer = await transport.producer();
        await producer.send(
          Array.from({ length: 10 }, (_, i) => ({ topic, key: null, partition: i % 2, value: Buffer.from(`${round}${i}`) })),
        );
        await producer.close();
      };

      await a.run(handler('a', a));
      await waitFor(() => a.assignment().partitions.length === 2, 'a to hold both partitions');
      // Seen once under load (kafkajs): a first-round batch stamped with another generation than the one
      // read as soon as `a` held both partitions, i.e. the group rebalanced once more right after the first
      // join. Start from a generation that held for quietMs.
      let first = a.assignment().generation;
      for (let tries = 0; tries < 10; tries++) {
        await sleep(options.quietMs);
        if (a.assignment().generation === first) break;
        first = a.assignment().generation;
      }
      expect(first).toBeGreaterThan(0);
      await send('x');
      await waitFor(() => received('a') >= 10, 'a to read the first round');
      expect(seen.a.every((s) => s.generation === first)).toBe(true);
      const before = seen.a.length;

      await b.run(handler('b', b));
      await waitFor(() => settled([a, b], 2), 'the group to settle with b');
      expect(a.assignment().generation).not.toBe(first);
      await send('y');
      await waitFor(() => received('a') + received('b') >= 20, 'the second round');
      await sleep(options.quietMs);

      const later = seen.a.slice(before);
      expect(later.length).toBeGreaterThan(0);
      expect(later.every((s) => s.generation !== first)).toBe(true);
      for (const s of [...seen.a, ...seen.b]) {
        expect(s.generation).toBe(s.current);
        expect(s.held).toBe(true);
      }
      expect(received('a') + received('b')).toBe(20);
    });

    it('readToEnd reads a partition from its start to its end as of the call, in order, and nothing else', async () => {
      const topic = uniqueName('restore');
      await transport.ensureTopics([{ name: topic, partitions: 3 }]);
      const producer = await transport.producer();
      await producer.send([
        ...Array.from({ length: 25 }, (_, i) => ({ topic, partition: 1, key: Buffer.from(`k${i}`), value: Buffer.from(`r${i}`) })),
        ...Array.from({ length: 7 }, (_, i) => ({ topic, partition: 0, key: null, value: Buffer.from(`other${i}`) })),
      ]);
      const got: LogRecord[] = [];
      let calls = 0;
      const { endOffsets } = await transport.readToEnd(topic, [1], async (records) => {
        // Written after the call: must not be read.
        if (calls++ === 0) await producer.send([{ topic, partition: 1, key: null, value: Buffer.from('late') }]);
        got.push(...records);
      });
      await producer.close();
      expect([...endOffsets]).toEqual([[1, 25]]);
      expect(got.map((r) => r.partition)).toEqual(Array(25).fill(1));
      expect(got.map((r) => r.offset)).toEqual(Array.from({ length: 25 }, (_, i) => i));
      expect(got.map((r) => text(r.value))).toEqual(Array.from({ length: 25 }, (_, i) => `r${i}`));
      expect(text(got[3]!.key)).toBe('k3');
    });

    it('readToEnd from an offset delivers only the records from there, and nothing when it is at the end', async () => {
      const topic = uniqueName('restore-from');
      await transport.ensureTopics([{ name: topic, partitions: 2 }]);
      const producer = await transport.producer();
      await producer.send([
        ...Array.from({ length: 30 }, (_, i) => ({ topic, partition: 0, key: null, value: Buffer.from(`a${i}`) })),
        ...Array.from({ length: 5 }, (_, i) => ({ topic, partition: 1, key: null, value: Buffer.from(`b${i}`) })),
      ]);
      await producer.close();
      const got: LogRecord[] = [];
      const { endOffsets } = await transport.readToEnd(topic, [0, 1], (records) => {
        for (const r of records) got.push(r);
      }, new Map([[0, 27], [1, 5]]));
      expect([...endOffsets].sort()).toEqual([[0, 30], [1, 5]]);
      expect(got.map((r) => `${r.partition}/${r.offset}/${text(r.value)}`)).toEqual(['0/27/a27', '0/28/a28', '0/29/a29']);
    });

    it('readToEnd returns at once for an empty partition, and refuses a missing one', async () => {
      const topic = uniqueName('restore-empty');
      await transport.ensureTopics([{ name: topic, partitions: 2 }]);
      const got: LogRecord[] = [];
      const started = Date.now();
      const { endOffsets } = await transport.readToEnd(topic, [0, 1], (records) => {
        got.push(...records);
      });
      expect(Date.now() - started).toBeLessThan(5000);
      expect(got).toEqual([]);
      expect([...endOffsets].sort()).toEqual([
        [0, 0],
        [1, 0],
      ]);
      await expect(transport.readToEnd(topic, [2], () => {})).rejects.toThrow(/no partition 2/);
    });

    it('ends the consumer when the handler throws an error a retry cannot mend: done rejects with it', async () => {
      const topic = uniqueName('poison');
      await transport.ensureTopics([{ name: topic, partitions: 1 }]);
      const producer = await transport.producer();
      await producer.send([{ topic, key: null, value: Buffer.from('x'), partition: 0 }]);
      await producer.close();
      const consumer = track(await transport.consumer({ groupId: uniqueName('g'), topics: [topic] }));
      let calls = 0;
      await consumer.run(async () => {
        calls++;
        throw new FeedbackloopError('poison record');
      });
      await expect(consumer.done).rejects.toThrow('poison record');
      await sleep(options.quietMs);
      expect(calls).toBe(1);
    });

    it('refuses to describe a topic that does not exist', async () => {
      await expect(transport.partitionCount(uniqueName('missing'))).rejects.toThrow(/does not exist/);
    });

    it('reads back the settings ensureTopics wrote (none of which check judges lossy), and an existing topic keeps its own', async () => {
      const specs: TopicSpec[] = [
        { name: uniqueName('set-compacted'), partitions: 1, compacted: true, segmentMs: 600_000 },
        { name: uniqueName('set-forever'), partitions: 1, keepForever: true },
        { name: uniqueName('set-retention'), partitions: 1, retentionMs: 86_400_000 },
      ];
      await transport.ensureTopics(specs);
      for (const spec of specs) {
        const settings = await transport.topicSettings(spec.name);
        for (const { name, value } of topicConfigEntries(spec)) expect(settings.get(name), `${spec.name} ${name}`).toBe(value);
        expect(judgeTopicSettings(spec, settings)).toEqual([]);
      }
      // ensureTopics never alters an existing topic: asked for ever, a plain topic keeps what it had.
      const plain = uniqueName('set-plain');
      await transport.ensureTopics([{ name: plain, partitions: 1 }]);
      await transport.ensureTopics([{ name: plain, partitions: 1, keepForever: true }]);
      expect((await transport.topicSettings(plain)).get('retention.ms')).not.toBe('-1');
      await expect(transport.topicSettings(uniqueName('missing'))).rejects.toThrow();
    });
  });
}
