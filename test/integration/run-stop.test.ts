/**
 * A supervisor stopping `feedbackloop run` must see it exit promptly and
 * cleanly: every processor (ClickHouse on), with a stream going through it,
 * gets SIGTERM and must exit 0 within 10 s. It took 16.7 s when idle before
 * the consumers' broker wait was shortened (kafkajs's 5 s fetch wait held the
 * stop once per idle consumer), and 20–50 s under load.
 */
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KafkaTransport } from '../../adapters/kafka/transport.js';
import type { OutgoingRecord } from '../../adapters/transport/transport.js';
import { uniqueName } from '../support/collect.js';
import { outcomeDelayedStream } from '../support/backlog.js';
import { JoinerProcess, joinerEnvironment, pipelineTopics } from '../support/joiner-process.js';
import { joinerCodecs, pipelineTopicSpecs, sleep } from '../support/joiner-kafka.js';
import { requireStack, STACK } from '../support/stack.js';

const PARTITIONS = 3;

describe('feedbackloop run: SIGTERM', () => {
  let transport: KafkaTransport;
  let child: JoinerProcess | undefined;

  beforeAll(async () => {
    await requireStack('kafka', 'registry', 'clickhouse');
    transport = new KafkaTransport({ brokers: STACK.brokers, clientId: uniqueName('run-stop-test'), kafka: { logLevel: logLevel.NOTHING } });
  });

  afterAll(async () => {
    await child?.stop('SIGKILL', 5_000).catch(() => {});
    await transport?.close();
  });

  it('every processor running, a stream going through: exits 0 within 10 s', async () => {
    const prefix = uniqueName('runstop');
    const topics = pipelineTopics(prefix);
    await transport.ensureTopics(pipelineTopicSpecs(topics, PARTITIONS));
    const env = joinerEnvironment({
      clientId: prefix, topics, partitions: PARTITIONS,
      extra: { FEEDBACKLOOP_CLICKHOUSE_URL: STACK.clickhouseUrl, FEEDBACKLOOP_CLICKHOUSE_DATABASE: prefix.replace(/-/g, '_') },
    });
    child = await JoinerProcess.start({ name: `${prefix}-run`, env, processors: ['joiner', 'learner', 'promoter', 'evaluator', 'archive', 'registry'] });
    const codecs = joinerCodecs(new SchemaRegistry({ host: STACK.registryUrl }), topics);
    const { predictions, feedback } = outcomeDelayedStream(5_000, 7, Date.now() - 5 * 24 * 3_600_000);
    const records: OutgoingRecord[] = [];
    for (const p of predictions) records.push({ topic: topics.predictions, key: Buffer.from(p.prediction_id), value: await codecs.prediction.encode(p) });
    for (const f of feedback) records.push({ topic: topics.feedback, key: Buffer.from(f.prediction_id), value: await codecs.feedback.encode(f) });
    const producer = await transport.producer();
    await producer.send(records);
    await producer.close();
    await sleep(3_000); // mid-stream: the processors are busy with it
    const started = Date.now();
    const exit = await child.stop('SIGTERM', 30_000);
    const seconds = (Date.now() - started) / 1000;
    console.log(JSON.stringify({ exit, seconds }));
    expect(exit).toMatchObject({ code: 0 });
    expect(seconds).toBeLessThan(10);
  });
});
