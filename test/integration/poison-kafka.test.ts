/**
 * A poison record on the real stack: the joiner processor on Kafka (its
 * transactions, its consumer's seek in the middle of a fetch), with a join
 * store that throws for one prediction id — a bug reached by one record,
 * after the record decoded and validated. The store is an in-process double
 * of our own JoinStore interface; Kafka and the registry are real.
 *
 * Before the poison policy, the batch failed at every delivery and the
 * joiner stopped for good. Now the prediction and its feedback (the only
 * two records that reach the bug) are dead-lettered with the stage and the
 * error, every other feedback is labelled exactly once (read_committed), and
 * the processor is still running.
 */
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import type { Admin } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KafkaTransport } from '../../adapters/kafka/transport.js';
import type { OutgoingRecord } from '../../adapters/transport/transport.js';
import { systemClock } from '../../core/clock.js';
import { MemoryJoinStore, type JoinStore } from '../../core/join/index.js';
import { JoinerProcessor } from '../../processors/joiner.js';
import { outcomeDelayedStream } from '../support/backlog.js';
import { uniqueName } from '../support/collect.js';
import { chunks, GroupProgress, joinerCodecs, pipelineTopicSpecs, readTopic, sleep } from '../support/joiner-kafka.js';
import { pipelineTopics } from '../support/joiner-process.js';
import { STACK } from '../support/stack.js';
import { closeStackClients, openStackClients } from '../support/kafka-clients.js';

const PREDICTIONS = 3_000;
const PARTITIONS = 2;
const HOUR = 3_600_000;

/** `store`, except that any call about `id` throws (as a bug reached by that one record would). */
function poisonedStore(store: JoinStore, id: string): JoinStore {
  return new Proxy(store, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver) as unknown;
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        if (args[0] === id) throw new TypeError(`a bug that only ${id} reaches`);
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
}

describe('a poison record on Kafka', () => {
  let transport: KafkaTransport;
  let admin: Admin;
  let joiner: JoinerProcessor | undefined;

  beforeAll(async () => {
    ({ transport, admin } = await openStackClients('poison-test', { maxWaitTimeMs: 500 }));
  });

  afterAll(async () => {
    await joiner?.stop().catch(() => {});
    await closeStackClients({ transport, admin });
  });

  it('is dead-lettered (the prediction and its feedback); every other feedback is labelled exactly once; the joiner keeps running', async () => {
    const prefix = uniqueName('poison');
    const topics = pipelineTopics(prefix);
    await transport.ensureTopics(pipelineTopicSpecs(topics, PARTITIONS));
    const codecs = joinerCodecs(new SchemaRegistry({ host: STACK.registryUrl }), topics);
    const { predictions, feedback } = outcomeDelayedStream(PREDICTIONS, 20_261_205, Date.now() - 5 * 24 * HOUR);
    const poison = predictions[PREDICTIONS / 2]!.prediction_id;
    const records: OutgoingRecord[] = [];
    for (const p of predictions) records.push({ topic: topics.predictions, key: Buffer.from(p.prediction_id), value: await codecs.prediction.encode(p) });
    for (const f of feedback) records.push({ topic: topics.feedback, key: Buffer.from(f.prediction_id), value: await codecs.feedback.encode(f) });
    const producer = await transport.producer();
    for (const chunk of chunks(records, 1_000)) await producer.send(chunk);
    await producer.close();

    const groupId = `${prefix}-joiner`;
    joiner = new JoinerProcessor({
      transport, topics, groupId, transactionalIdPrefix: groupId, codecs,
      joiner: {},
      createStore: () => poisonedStore(new MemoryJoinStore(), poison),
      align: { maxWaitMs: 2_000, maxBuffered: 20_000 },
      clock: systemClock,
    });
    await joiner.start();
    let crashed: unknown;
    joiner.done.catch((error: unknown) => (crashed = error));

    const progress = new GroupProgress(admin, groupId, [topics.predictions, topics.feedback]);
    const deadline = Date.now() + 120_000;
    while ((await progress.committedTotal()) < records.length && Date.now() < deadline && crashed === undefined) await sleep(500);
    expect(crashed).toBeUndefined();
    expect(await progress.committedTotal()).toBe(records.length);

    const decoded = await Promise.all((await readTopic(transport, topics.labelled, PARTITIONS)).map((r) => codecs.labelled.decode(r.value)));
    const ids = decoded.filter((e) => !e.arrival).map((e) => e.prediction_id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.length).toBe(PREDICTIONS - 1);
    expect(ids).not.toContain(poison);
    // One arrival record per prediction but the poison's (joiner.emit_arrivals).
    const arrivals = decoded.filter((e) => e.arrival).map((e) => e.prediction_id);
    expect(new Set(arrivals).size).toBe(PREDICTIONS - 1);
    expect(arrivals.length).toBe(PREDICTIONS - 1);
    expect(arrivals).not.toContain(poison);

    const letters = await Promise.all((await readTopic(transport, topics.deadLetters, PARTITIONS)).map((r) => codecs.deadLetter.decode(r.value)));
    expect(letters.map((l) => [l.topic, l.key?.toString(), l.stage, l.error_class, l.error_message]).sort()).toEqual(
      [
        [topics.feedback, poison, 'joiner', 'processing', `a bug that only ${poison} reaches`],
        [topics.predictions, poison, 'joiner', 'processing', `a bug that only ${poison} reaches`],
      ].sort(),
    );
    expect((await readTopic(transport, topics.unmatched, PARTITIONS)).length).toBe(0);
  }, 180_000);
});
