/**
 * A backlog on both input topics, on the real stack: a start after an outage,
 * or a new deployment on existing topics. 150,000 predictions over two days and
 * their feedback (positives labelled a day later, negatives within the hour)
 * are all produced before `feedbackloop run --only joiner` starts, the
 * feedback first, so the feedback records even carry the earlier log
 * timestamps. With the default settings (early_feedback_ttl 1h), a joiner
 * that reads feedback ahead of predictions moves its watermark with the
 * feedback and expires the feedback waiting for predictions it has not read
 * yet (measured before alignment: a third of the feedback went to
 * unmatched-feedback). Every feedback here has its prediction: the joiner
 * must label every one and leave nothing unmatched.
 */
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import type { Admin } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KafkaTransport } from '../../adapters/kafka/transport.js';
import type { OutgoingRecord } from '../../adapters/transport/transport.js';
import { uniqueName } from '../support/collect.js';
import { JoinerProcess, joinerEnvironment, pipelineTopics } from '../support/joiner-process.js';
import { chunks, GroupProgress, joinerCodecs, pipelineTopicSpecs, readTopic } from '../support/joiner-kafka.js';
import { outcomeDelayedStream } from '../support/backlog.js';
import { STACK } from '../support/stack.js';
import { closeStackClients, openStackClients } from '../support/kafka-clients.js';

const PREDICTIONS = 150_000;
const PARTITIONS = 3;
const HOUR = 3_600_000;


describe('joiner: a backlog on both topics, feedback produced first', () => {
  let transport: KafkaTransport;
  let admin: Admin;
  let child: JoinerProcess | undefined;

  beforeAll(async () => {
    ({ transport, admin } = await openStackClients('joiner-backlog-test'));
  });

  afterAll(async () => {
    await child?.stop();
    await closeStackClients({ transport, admin });
  });

  it(`labels all ${PREDICTIONS} feedback and leaves none unmatched`, async () => {
    const prefix = uniqueName('backlog');
    const topics = pipelineTopics(prefix);
    await transport.ensureTopics(pipelineTopicSpecs(topics, PARTITIONS));
    const codecs = joinerCodecs(new SchemaRegistry({ host: STACK.registryUrl }), topics);
    // Event time ends three days ago: nothing is stamped in the future.
    const { predictions, feedback } = outcomeDelayedStream(PREDICTIONS, 20_261_205, Date.now() - 5 * 24 * HOUR);
    const records: OutgoingRecord[] = [];
    for (const f of feedback) records.push({ topic: topics.feedback, key: Buffer.from(f.prediction_id), value: await codecs.feedback.encode(f) });
    for (const p of predictions) records.push({ topic: topics.predictions, key: Buffer.from(p.prediction_id), value: await codecs.prediction.encode(p) });
    const producer = await transport.producer();
    for (const chunk of chunks(records, 5_000)) await producer.send(chunk);
    await producer.close();

    const started = Date.now();
    const env = joinerEnvironment({ clientId: prefix, topics, partitions: PARTITIONS });
    child = await JoinerProcess.start({ name: `${prefix}-run`, env });
    const running = child;
    const progress = new GroupProgress(admin, `${prefix}-joiner`, [topics.predictions, topics.feedback]);
    await progress.waitCaughtUp({
      timeoutMs: 240_000,
      check: () => {
        if (running.diedOnItsOwn()) throw new Error(`${running.name} exited (${JSON.stringify(running.exit)}); log ${running.logFile}:\n${running.tail()}`);
      },
    });
    const seconds = (Date.now() - started) / 1000;
    const labelled = await readTopic(transport, topics.labelled, PARTITIONS);
    const unmatched = await readTopic(transport, topics.unmatched, PARTITIONS);
    console.log(JSON.stringify({ inputRecords: records.length, seconds, recordsPerSecond: Math.round(records.length / seconds), labelled: labelled.length, unmatched: unmatched.length }));
    expect(unmatched.length).toBe(0);
    // Each prediction's example and its arrival record (joiner.emit_arrivals).
    expect(labelled.length).toBe(2 * PREDICTIONS);
    const ids = new Set<string>();
    const arrivals = new Set<string>();
    for (const record of labelled) {
      const example = await codecs.labelled.decode(record.value);
      (example.arrival ? arrivals : ids).add(example.prediction_id);
    }
    expect(ids.size).toBe(PREDICTIONS);
    expect(arrivals.size).toBe(PREDICTIONS);
  });
});
