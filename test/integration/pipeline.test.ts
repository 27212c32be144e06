/**
 * Foundation end to end on the real stack: a registry-framed Avro
 * Prediction goes to Kafka, the archive processor consumes it through the
 * Kafka transport and writes a row to ClickHouse, which we read back.
 * Garbage bytes on the same topic become a DeadLetter (on the dead-letter
 * topic and in ClickHouse) while the next good record is still processed.
 */
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RegistryCodec } from '../../adapters/codec/codec.js';
import { ClickHouseStore } from '../../adapters/clickhouse/index.js';
import { KafkaTransport } from '../../adapters/kafka/transport.js';
import type { LogConsumer } from '../../adapters/transport/transport.js';
import { systemClock } from '../../core/clock.js';
import type { DeadLetter, Prediction } from '../../core/events.js';
import { PredictionArchive } from '../../processors/prediction-archive.js';
import { ClickHouseDeadLetterSink, ClickHouseTableSink, FanOutSink, TopicDeadLetterSink } from '../../sinks/index.js';
import { collect, sleep, uniqueName } from '../support/collect.js';
import { samplePrediction } from '../support/samples.js';
import { requireStack, STACK } from '../support/stack.js';

describe('foundation pipeline on real Kafka, registry and ClickHouse', () => {
  let transport: KafkaTransport;
  let store: ClickHouseStore;
  let registry: SchemaRegistry;
  const consumers: Array<Pick<LogConsumer, 'stop'>> = [];
  const database = uniqueName('test').replace(/-/g, '_');

  beforeAll(async () => {
    await requireStack('kafka', 'registry', 'clickhouse');
    transport = new KafkaTransport({ brokers: STACK.brokers, clientId: 'pipeline-test', sessionTimeoutMs: 6000, heartbeatIntervalMs: 500, kafka: { logLevel: logLevel.NOTHING } });
    registry = new SchemaRegistry({ host: STACK.registryUrl });
    store = await ClickHouseStore.open({ url: STACK.clickhouseUrl, database, username: 'default', password: '', requestTimeoutMs: 30_000 });
  });

  afterAll(async () => {
    for (const c of consumers) await c.stop().catch(() => {});
    await transport?.close();
    await store?.command(`DROP DATABASE IF EXISTS ${database}`).catch(() => {});
    await store?.close();
  });

  it('migrations are idempotent: a second open applies nothing', async () => {
    const again = await ClickHouseStore.open({ url: STACK.clickhouseUrl, database, username: 'default', password: '', requestTimeoutMs: 30_000 });
    expect(await again.migrate((await import('../../adapters/clickhouse/index.js')).MIGRATIONS)).toEqual([]);
    const tables = await again.select<{ name: string }>(`SELECT name FROM system.tables WHERE database = '${database}' ORDER BY name`);
    expect(tables.map((t) => t.name)).toEqual([
      'champion_history',
      'dead_letters',
      'drift_events',
      'evaluation_charts',
      'feedback_stats',
      'labelled_examples',
      'metric_partials',
      'metric_points',
      'metric_points_merged',
      'model_versions',
      'predictions',
      'schema_migrations',
    ]);
    await again.close();
  });

  it('archives an Avro prediction from Kafka into ClickHouse and dead-letters garbage without stopping', async () => {
    const topic = uniqueName('predictions');
    const deadTopic = uniqueName('dead-letters');
    await transport.ensureTopics([
      { name: topic, partitions: 1 },
      { name: deadTopic, partitions: 1 },
    ]);
    const codec = new RegistryCodec<Prediction>(registry, 'Prediction', `${topic}-value`);
    const deadCodec = new RegistryCodec<DeadLetter>(registry, 'DeadLetter', `${deadTopic}-value`);

    const first = samplePrediction({ prediction_id: 'p-100', score: 0.91, features: { amount: 10.25, age_days: 3 } });
    const last = samplePrediction({ prediction_id: 'p-101', score: 0.12, segments: { region: 'us', plan: 'pro' } });
    const producer = await transport.producer();
    await producer.send([
      { topic, key: Buffer.from(first.prediction_id), value: await codec.encode(first) },
      { topic, key: Buffer.from('garbage'), value: Buffer.from([0xde, 0xad, 0xbe, 0xef, 0x00, 0x01]) },
      { topic, key: Buffer.from(last.prediction_id), value: await codec.encode(last) },
    ]);

    const consumer = new PredictionArchive({
      transport,
      topic,
      groupId: uniqueName('archive'),
      codec,
      rows: new ClickHouseTableSink(store, 'predictions'),
      deadLetters: new FanOutSink([new TopicDeadLetterSink(producer, deadCodec, deadTopic), new ClickHouseDeadLetterSink(store)]),
      clock: systemClock,
    });
    await consumer.start();
    consumers.push(consumer);

    // The dead letter arrives on its topic, Avro-encoded through the registry.
    const reader = await transport.consumer({ groupId: uniqueName('dl-reader'), topics: [deadTopic] });
    consumers.push(reader);
    const [deadRecord] = await collect(reader, 1, { timeoutMs: 60_000 });
    const letter = await deadCodec.decode(deadRecord!.value);
    expect(letter.topic).toBe(topic);
    expect(letter.offset).toBe(1);
    expect(letter.error_class).toBe('decode');
    expect(letter.error_message).toBe('record does not start with the Confluent magic byte 0 (got 0xde)');
    expect(letter.value).toEqual(Buffer.from([0xde, 0xad, 0xbe, 0xef, 0x00, 0x01]));
    expect(letter.stage).toBe('prediction-archive');

    // Both good predictions are in ClickHouse, the one after the garbage included.
    let rows: Array<Record<string, unknown>> = [];
    for (let i = 0; i < 100 && rows.length < 2; i++) {
      rows = await store.select(`SELECT prediction_id, model, score, feature_names, feature_values, segment_names, segment_values, ts_ms, toUnixTimestamp(ts) AS ts_s FROM predictions FINAL ORDER BY prediction_id`);
      if (rows.length < 2) await sleep(200);
    }
    expect(rows).toEqual([
      {
        prediction_id: 'p-100', model: 'fraud-detector', score: 0.91,
        feature_names: ['age_days', 'amount'], feature_values: [3, 10.25],
        segment_names: ['region'], segment_values: ['eu'],
        ts_ms: String(first.timestamp), ts_s: first.timestamp / 1000,
      },
      {
        prediction_id: 'p-101', model: 'fraud-detector', score: 0.12,
        feature_names: ['age_days', 'amount'], feature_values: [412, 129.5],
        segment_names: ['plan', 'region'], segment_values: ['pro', 'us'],
        ts_ms: String(last.timestamp), ts_s: last.timestamp / 1000,
      },
    ]);
    // The dead letter goes to its topic first, then to ClickHouse: wait for the second write too.
    let letters: Array<{ offset: string; error_class: string }> = [];
    for (let i = 0; i < 100 && letters.length < 1; i++) {
      letters = await store.select<{ offset: string; error_class: string }>(`SELECT offset, error_class FROM dead_letters FINAL`);
      if (letters.length < 1) await sleep(200);
    }
    expect(letters).toEqual([{ offset: '1', error_class: 'decode' }]);
    await producer.close();
  });
});
