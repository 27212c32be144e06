/**
 * The log-interface contract against Kafka through @platformatic/kafka
 * (adapters/kafka/platformatic-transport.ts), and the Kafka specifics the
 * kafkajs transport is held to (kafka-transport.test.ts). Transactions to
 * read around are written with kafkajs, an independent client.
 */
import { Kafka, logLevel, type Admin, type Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CO_PARTITIONED_ASSIGNER } from '../../adapters/kafka/co-partitioned-assigner.js';
import { PlatformaticTransport } from '../../adapters/kafka/platformatic-transport.js';
import type { LogRecord } from '../../adapters/transport/transport.js';
import { describeTransportContract } from '../contract/transport-contract.js';
import { uniqueName, waitFor } from '../support/collect.js';
import { requireStack, STACK } from '../support/stack.js';

const CLIENT_ID = 'contract-test-platformatic';

const makeTransport = () =>
  new PlatformaticTransport({ brokers: STACK.brokers, clientId: CLIENT_ID, sessionTimeoutMs: 6000, heartbeatIntervalMs: 500, maxWaitTimeMs: 500 });

describeTransportContract(
  'Kafka (@platformatic/kafka)',
  async () => {
    await requireStack('kafka');
    return makeTransport();
  },
  { quietMs: 3000 },
);

describe('Kafka specifics with @platformatic/kafka: readToEnd with transactions, fencing, assigner', () => {
  let transport: PlatformaticTransport;
  let kafka: Kafka;
  let admin: Admin;
  const producers: Producer[] = [];

  beforeAll(async () => {
    await requireStack('kafka');
    transport = makeTransport();
    kafka = new Kafka({ clientId: `${CLIENT_ID}-kafkajs`, brokers: STACK.brokers, logLevel: logLevel.NOTHING });
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

  async function readAll(topic: string): Promise<{ got: string[]; endOffsets: Map<number, number>; ms: number }> {
    const got: LogRecord[] = [];
    const started = Date.now();
    let timer: NodeJS.Timeout | undefined;
    const result = await Promise.race([
      transport.readToEnd(topic, [0], (records) => {
        got.push(...records);
      }),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error('readToEnd did not return within 15 s')), 15_000);
      }),
    ]).finally(() => clearTimeout(timer));
    return { got: got.map((r) => r.value!.toString()), endOffsets: result.endOffsets, ms: Date.now() - started };
  }

  async function markersWritten(topic: string, end: number): Promise<void> {
    const deadline = Date.now() + 10_000;
    while (Number((await admin.fetchTopicOffsets(topic))[0]!.offset) !== end) {
      if (Date.now() > deadline) throw new Error(`the LSO of ${topic} never reached ${end}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  it('skips aborted records and returns when the partition ends with an abort marker', async () => {
    const topic = uniqueName('p-restore-tx');
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
    expect(endOffsets.get(0)).toBe(12);
  });

  it('a consumer skips aborted records too', async () => {
    const topic = uniqueName('p-consume-tx');
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
      got.push(...batch.records.map((r) => r.value!.toString()));
      next = batch.nextOffset;
    });
    await waitFor(() => next === 16, 'the consumer to reach the end');
    await consumer.stop();
    expect(got).toEqual(['b0', 'b1', 'b2', 'd0', 'd1', 'd2']);
  });

  it('stops at the last stable offset when a transaction is still open', async () => {
    const topic = uniqueName('p-restore-open');
    await transport.ensureTopics([{ name: topic, partitions: 1 }]);
    const plain = await transport.producer();
    await plain.send([{ topic, ...value('before-0') }, { topic, ...value('before-1') }, { topic, ...value('before-2') }]);
    const producer = await txProducer();
    const open = await producer.transaction();
    await open.send({ topic, messages: ['open-0', 'open-1'].map(value) });
    await plain.send([{ topic, ...value('after') }]);
    await plain.close();

    const { got, endOffsets, ms } = await readAll(topic);
    expect(got).toEqual(['before-0', 'before-1', 'before-2']);
    expect(endOffsets.get(0)).toBe(3);
    expect(ms).toBeLessThan(10_000);
    await open.abort();
  });

  it('a new transactional producer fences the old one and ends its open transaction before it is returned', async () => {
    const topic = uniqueName('p-restore-fence');
    await transport.ensureTopics([{ name: topic, partitions: 1 }]);
    const transactionalId = uniqueName('joiner-0');
    const old = await txProducer(transactionalId);
    const done = await old.transaction();
    await done.send({ topic, messages: [value('kept')] });
    await done.commit();
    const open = await old.transaction();
    await open.send({ topic, messages: ['lost-0', 'lost-1'].map(value) });

    const next = await transport.transactionalProducer(transactionalId);
    const { got, endOffsets, ms } = await readAll(topic);
    expect(got).toEqual(['kept']);
    expect(endOffsets.get(0)).toBe(5);
    expect(ms).toBeLessThan(10_000);
    await expect(open.commit()).rejects.toThrow();
    await next.close();
  });

  it('a fenced transactional producer of this transport fails its next transaction', async () => {
    const topic = uniqueName('p-fenced');
    await transport.ensureTopics([{ name: topic, partitions: 1 }]);
    const transactionalId = uniqueName('promoter-0');
    const first = await transport.transactionalProducer(transactionalId);
    await first.sendWithOffsets([{ topic, key: null, value: Buffer.from('one'), partition: 0 }], { groupId: uniqueName('g'), offsets: [] });
    const second = await transport.transactionalProducer(transactionalId);
    await expect(first.sendWithOffsets([{ topic, key: null, value: Buffer.from('zombie'), partition: 0 }], { groupId: uniqueName('g'), offsets: [] })).rejects.toThrow();
    await second.sendWithOffsets([{ topic, key: null, value: Buffer.from('two'), partition: 0 }], { groupId: uniqueName('g'), offsets: [] });
    await first.close();
    await second.close();
    const { got } = await readAll(topic);
    expect(got).toEqual(['one', 'two']);
  });

  it('consumer groups use the co-partitioned protocol (named as the kafkajs assigner)', async () => {
    const topic = uniqueName('p-assigner');
    const groupId = uniqueName('g');
    await transport.ensureTopics([{ name: topic, partitions: 2 }]);
    const consumer = await transport.consumer({ groupId, topics: [topic] });
    await consumer.run(async () => {});
    await waitFor(() => consumer.assignment().generation > 0, 'the consumer to join');
    const { groups } = await admin.describeGroups([groupId]);
    expect(groups[0]?.protocol).toBe(CO_PARTITIONED_ASSIGNER);
    await consumer.stop();
  });

  it('leaves no consumer group behind after readToEnd', async () => {
    const { groups } = await admin.listGroups();
    expect(groups.filter((g) => g.groupId.startsWith(`${CLIENT_ID}-read`))).toEqual([]);
  });
});
