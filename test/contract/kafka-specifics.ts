/**
 * What a Kafka transport must do beyond the log-interface contract, run
 * against each Kafka client we support (kafka-transport.test.ts: kafkajs;
 * kafka-transport-platformatic.test.ts: @platformatic/kafka): readToEnd
 * around committed, aborted and open transactions, fencing, the
 * co-partitioned assigner, the topic settings it creates, and no consumer
 * group left behind. Transactions to read around are written with kafkajs
 * directly, an independent client.
 */
import { ConfigResourceTypes, Kafka, logLevel, type Admin, type Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CO_PARTITIONED_ASSIGNER } from '../../adapters/kafka/co-partitioned-assigner.js';
import type { LogRecord, LogTransport } from '../../adapters/transport/transport.js';
import { uniqueName, waitFor } from '../support/collect.js';
import { requireStack, STACK } from '../support/stack.js';

export function describeKafkaSpecifics(name: string, clientId: string, makeTransport: () => LogTransport & { close(): Promise<void> }): void {
  describe(`Kafka specifics (${name}): readToEnd with transactions, fencing, assigner, topic settings`, () => {
    let transport: LogTransport & { close(): Promise<void> };
    let kafka: Kafka;
    let admin: Admin;
    const producers: Producer[] = [];

    beforeAll(async () => {
      await requireStack('kafka');
      transport = makeTransport();
      kafka = new Kafka({ clientId: `${clientId}-kafkajs`, brokers: STACK.brokers, logLevel: logLevel.NOTHING });
      admin = kafka.admin();
      await admin.connect();
    });

    afterAll(async () => {
      for (const p of producers) await p.disconnect().catch(() => {});
      await admin?.disconnect();
      await transport?.close();
    });

    async function txProducer(transactionalId = uniqueName('tx')): Promise<Producer> {
      const producer = kafka.producer({ transactionalId, idempotent: true, maxInFlightRequests: 1 });
      await producer.connect();
      producers.push(producer);
      return producer;
    }

    const value = (v: string) => ({ key: null, value: Buffer.from(v), partition: 0 });

    /** Fails instead of hanging the suite if readToEnd does not return. */
    async function readAll(topic: string): Promise<{ got: string[]; endOffsets: Map<number, number>; ms: number }> {
      const got: LogRecord[] = [];
      const started = Date.now();
      let timer: NodeJS.Timeout | undefined;
      const result = await Promise.race([
        transport.readToEnd(topic, [0], (records) => {
          for (const r of records) got.push(r); // a fetch's records: no spread into a call
        }),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error('readToEnd did not return within 15 s')), 15_000);
        }),
      ]).finally(() => clearTimeout(timer));
      expect(got.map((r) => r.offset)).toEqual([...got.map((r) => r.offset)].sort((a, b) => a - b));
      return { got: got.map((r) => r.value!.toString()), endOffsets: result.endOffsets, ms: Date.now() - started };
    }

    /**
     * commit() and abort() resolve once the transaction coordinator decided, before the markers
     * are written to the partitions; until then the LSO (and so readToEnd) stays before the
     * transaction. Wait for the markers so the test reads what it means to.
     */
    async function markersWritten(topic: string, end: number): Promise<void> {
      let lso = -1;
      const deadline = Date.now() + 10_000;
      while (Date.now() < deadline) {
        lso = Number((await admin.fetchTopicOffsets(topic))[0]!.offset);
        if (lso === end) return;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      throw new Error(`LSO of ${topic} stayed at ${lso}, expected ${end}`);
    }

    const topicSettings = async (topic: string) => {
      const { resources } = await admin.describeConfigs({ includeSynonyms: false, resources: [{ type: ConfigResourceTypes.TOPIC, name: topic }] });
      return new Map(resources[0]!.configEntries.map((e) => [e.configName, e.configValue]));
    };

    it('skips aborted records and returns when the partition ends with an abort marker', async () => {
      const topic = uniqueName('restore-tx');
      await transport.ensureTopics([{ name: topic, partitions: 1 }]);
      const plain = await transport.producer();
      await plain.send([{ topic, ...value('plain-0') }, { topic, ...value('plain-1') }]);
      await plain.close();
      const producer = await txProducer();
      const committed = await producer.transaction();
      await committed.send({ topic, messages: ['c0', 'c1', 'c2', 'c3', 'c4'].map(value) });
      await committed.commit();
      const aborted = await producer.transaction();
      await aborted.send({ topic, messages: ['a0', 'a1', 'a2'].map(value) });
      await aborted.abort();
      await markersWritten(topic, 12);

      const { got, endOffsets } = await readAll(topic);
      expect(got).toEqual(['plain-0', 'plain-1', 'c0', 'c1', 'c2', 'c3', 'c4']);
      // 2 plain, 5 committed, commit marker, 3 aborted, abort marker.
      expect(endOffsets.get(0)).toBe(12);
    });

    it('returns when the partition ends with a commit marker', async () => {
      const topic = uniqueName('restore-commit');
      await transport.ensureTopics([{ name: topic, partitions: 1 }]);
      const producer = await txProducer();
      const tx = await producer.transaction();
      await tx.send({ topic, messages: ['c0', 'c1'].map(value) });
      await tx.commit();
      await markersWritten(topic, 3);

      const { got, endOffsets } = await readAll(topic);
      expect(got).toEqual(['c0', 'c1']);
      expect(endOffsets.get(0)).toBe(3);
    });

    it('a consumer skips aborted records too, two aborted transactions of one producer in one fetch included', async () => {
      const topic = uniqueName('consume-tx');
      await transport.ensureTopics([{ name: topic, partitions: 1 }]);
      const producer = await txProducer();
      for (const [name, commit] of [['a', false], ['b', true], ['c', false], ['d', true]] as const) {
        const tx = await producer.transaction();
        await tx.send({ topic, messages: [0, 1, 2].map((i) => value(`${name}${i}`)) });
        await (commit ? tx.commit() : tx.abort());
      }
      await markersWritten(topic, 16);
      const consumer = await transport.consumer({ groupId: uniqueName('g'), topics: [topic] });
      const got: string[] = [];
      let next = 0;
      await consumer.run(async (batch) => {
        for (const r of batch.records) got.push(r.value!.toString());
        next = batch.nextOffset;
      });
      await waitFor(() => next === 16, 'the consumer to reach the end');
      await consumer.stop();
      expect(got).toEqual(['b0', 'b1', 'b2', 'd0', 'd1', 'd2']);
    });

    it('stops at the last stable offset when a transaction is still open', async () => {
      const topic = uniqueName('restore-open');
      await transport.ensureTopics([{ name: topic, partitions: 1 }]);
      const plain = await transport.producer();
      await plain.send([{ topic, ...value('before-0') }, { topic, ...value('before-1') }, { topic, ...value('before-2') }]);
      const producer = await txProducer();
      const open = await producer.transaction();
      await open.send({ topic, messages: ['open-0', 'open-1'].map(value) });
      // Committed, but after the open transaction's first record: above the LSO too.
      await plain.send([{ topic, ...value('after') }]);
      await plain.close();

      const { got, endOffsets, ms } = await readAll(topic);
      expect(got).toEqual(['before-0', 'before-1', 'before-2']);
      expect(endOffsets.get(0)).toBe(3);
      expect(ms).toBeLessThan(10_000);
      await open.abort();
    });

    it('a new transactional producer fences the old one and ends its open transaction before it is returned', async () => {
      const topic = uniqueName('restore-fence');
      await transport.ensureTopics([{ name: topic, partitions: 1 }]);
      const transactionalId = uniqueName('joiner-0');
      // The previous incarnation: committed one record, then died inside a transaction.
      const old = await txProducer(transactionalId);
      const done = await old.transaction();
      await done.send({ topic, messages: [value('kept')] });
      await done.commit();
      const open = await old.transaction();
      await open.send({ topic, messages: ['lost-0', 'lost-1'].map(value) });

      const next = await transport.transactionalProducer(transactionalId);
      // No waiting for markers here: creating the producer completed the old transaction.
      const { got, endOffsets, ms } = await readAll(topic);
      expect(got).toEqual(['kept']);
      // kept, commit marker, 2 aborted, abort marker.
      expect(endOffsets.get(0)).toBe(5);
      expect(ms).toBeLessThan(10_000);
      await expect(open.commit()).rejects.toThrow();
      await next.close();
    });

    it('a fenced transactional producer of this transport fails its next transaction', async () => {
      const topic = uniqueName('fenced');
      await transport.ensureTopics([{ name: topic, partitions: 1 }]);
      const transactionalId = uniqueName('promoter-0');
      const first = await transport.transactionalProducer(transactionalId);
      await first.sendWithOffsets([{ topic, key: null, value: Buffer.from('one'), partition: 0 }], { groupId: uniqueName('g'), offsets: [] });
      const second = await transport.transactionalProducer(transactionalId);
      await expect(first.sendWithOffsets([{ topic, key: null, value: Buffer.from('zombie'), partition: 0 }], { groupId: uniqueName('g'), offsets: [] })).rejects.toThrow();
      await second.sendWithOffsets([{ topic, key: null, value: Buffer.from('two'), partition: 0 }], { groupId: uniqueName('g'), offsets: [] });
      await first.close();
      await second.close();
      // The commit resolves before its marker is written (markersWritten): read until 'two' is stable, 10 s at most.
      let got = (await readAll(topic)).got;
      for (const deadline = Date.now() + 10_000; !got.includes('two') && Date.now() < deadline; ) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        got = (await readAll(topic)).got;
      }
      expect(got).toEqual(['one', 'two']);
    });

    it('consumer groups use the co-partitioned assigner', async () => {
      const topic = uniqueName('assigner');
      const groupId = uniqueName('g');
      await transport.ensureTopics([{ name: topic, partitions: 2 }]);
      const consumer = await transport.consumer({ groupId, topics: [topic] });
      await consumer.run(async () => {});
      await waitFor(() => consumer.assignment().generation > 0, 'the consumer to join');
      const { groups } = await admin.describeGroups([groupId]);
      expect(groups[0]?.protocol).toBe(CO_PARTITIONED_ASSIGNER);
      await consumer.stop();
    });

    it('creates a compacted topic with the segment.ms it asks for (the checkpoint topics roll often so compaction keeps up)', async () => {
      const topic = uniqueName('segments');
      await transport.ensureTopics([{ name: topic, partitions: 1, compacted: true, segmentMs: 600_000 }]);
      const entries = await topicSettings(topic);
      expect([entries.get('cleanup.policy'), entries.get('segment.ms')]).toEqual(['compact', '600000']);
    });

    it('keeps records of a finite-retention topic by arrival, not by the old time they carry (replayed history)', async () => {
      const topic = uniqueName('retention');
      await transport.ensureTopics([{ name: topic, partitions: 1, retentionMs: 86_400_000 }]);
      const entries = await topicSettings(topic);
      expect([entries.get('retention.ms'), entries.get('message.timestamp.type')]).toEqual(['86400000', 'LogAppendTime']);
      const yearAgo = Date.now() - 365 * 86_400_000;
      const producer = await transport.producer();
      const before = Date.now();
      await producer.send([{ topic, key: null, value: Buffer.from('old'), timestamp: yearAgo }]);
      await producer.close();
      const read: LogRecord[] = [];
      await transport.readToEnd(topic, [0], (records) => {
        for (const r of records) read.push(r);
      });
      expect(read.map((r) => r.value?.toString())).toEqual(['old']);
      // Stamped on arrival: retention counts from now, not from a year ago.
      expect(read[0]!.timestamp).toBeGreaterThanOrEqual(before - 1_000);
    });

    it('reads the settings an administrator gave a topic as an independent client reads them, the broker defaults included', async () => {
      const topic = uniqueName('admin-settings');
      await admin.createTopics({
        waitForLeaders: true,
        topics: [{ topic, numPartitions: 1, configEntries: [{ name: 'cleanup.policy', value: 'compact,delete' }, { name: 'retention.ms', value: '3600000' }] }],
      });
      const read = await transport.topicSettings(topic);
      const expected = await topicSettings(topic);
      expect([read.get('cleanup.policy'), read.get('retention.ms'), read.get('message.timestamp.type')]).toEqual(['compact,delete', '3600000', 'CreateTime']);
      for (const name of ['cleanup.policy', 'retention.ms', 'message.timestamp.type', 'segment.ms', 'retention.bytes']) expect(read.get(name), name).toBe(expected.get(name));
    });

    it('leaves no consumer group behind after readToEnd', async () => {
      const { groups } = await admin.listGroups();
      expect(groups.filter((g) => g.groupId.startsWith(`${clientId}-read`))).toEqual([]);
    });
  });
}
