/**
 * The connections of a command: from a validated Config to the transport,
 * codecs, ClickHouse store, logger and Prometheus metrics. Kafka when
 * kafka.brokers is set, otherwise the in-process log.
 */
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { modelKindOf, readTlsFiles, type Config } from '../adapters/config/index.js';
import { makeCodecs, type Codecs } from '../adapters/codec/codecs.js';
import { KafkaTransport } from '../adapters/kafka/transport.js';
import { MemoryTransport } from '../adapters/transport/memory.js';
import type { LogTransport } from '../adapters/transport/transport.js';
import { ClickHouseStore } from '../adapters/clickhouse/index.js';
import { createPipelineMetrics, type PipelineMetrics } from '../adapters/prometheus/index.js';
import { kafkaLogCreator, type Logger } from '../adapters/logging/index.js';
import { DecodeError } from '../core/errors.js';
import type { PromotionDecision } from '../core/events.js';
import { clickhouseOptions, kafkaSecurity, registryClientArgs } from './client-options.js';

export { clickhouseOptions } from './client-options.js';

export interface Runtime {
  config: Config;
  logger: Logger;
  metrics: PipelineMetrics;
  transport: LogTransport;
  codecs: Codecs;
  /** Present when clickhouse.url is set. */
  clickhouse: ClickHouseStore | undefined;
  close(): Promise<void>;
}

export async function openRuntime(config: Config, logger: Logger, options: { defaultMetrics?: boolean; clickhouse?: boolean } = {}): Promise<Runtime> {
  const metrics = createPipelineMetrics({ ...options, segments: config.evaluator.prometheus_segments, kindOf: (model) => modelKindOf(config, model) });
  let transport: LogTransport;
  let registry: SchemaRegistry | undefined;
  // Read once per process: a rotated certificate or key takes a restart (README, Rotating credentials).
  const tls = readTlsFiles(config);
  if (config.kafka.brokers.length > 0) {
    const settings = {
      brokers: config.kafka.brokers,
      clientId: config.kafka.client_id,
      replicationFactor: config.kafka.replication_factor,
      sessionTimeoutMs: config.kafka.session_timeout,
      transactionTimeoutMs: config.kafka.transaction_timeout,
      heartbeatIntervalMs: Math.max(100, Math.floor(config.kafka.session_timeout / 10)),
    };
    transport =
      config.kafka.client === 'platformatic'
        ? // Loaded only when chosen: every other process (the CLI's commands included) skips its start-up cost.
          new (await import('../adapters/kafka/platformatic-transport.js')).PlatformaticTransport({ ...settings, kafka: kafkaSecurity(config, tls) })
        : new KafkaTransport({ ...settings, kafka: { ...kafkaSecurity(config, tls), logCreator: kafkaLogCreator(logger) } });
    registry = new SchemaRegistry(registryClientArgs(config, tls));
  } else {
    transport = new MemoryTransport();
  }
  const clickhouseSettings = options.clickhouse === false ? undefined : clickhouseOptions(config, tls);
  const clickhouse = clickhouseSettings ? await ClickHouseStore.open(clickhouseSettings) : undefined;
  return {
    config,
    logger,
    metrics,
    transport,
    codecs: makeCodecs(config.topics, registry),
    clickhouse,
    close: async () => {
      await transport.close();
      await clickhouse?.close();
    },
  };
}

/**
 * Every decision on the model-promotions topic, in topic order (by
 * partition, then offset: one model's decisions share a key, hence a
 * partition). Records that are not decodable decisions are counted and
 * skipped (the registry processor dead-letters them); a schema registry that
 * does not answer fails the read instead of passing for "no decisions".
 */
export async function readPromotionDecisions(runtime: Pick<Runtime, 'config' | 'transport' | 'codecs'>): Promise<{ decisions: PromotionDecision[]; undecodable: number }> {
  const topic = runtime.config.topics.model_promotions;
  const partitions = Array.from({ length: await runtime.transport.partitionCount(topic) }, (_, p) => p);
  const read: Array<{ decision: PromotionDecision; partition: number; offset: number }> = [];
  let undecodable = 0;
  await runtime.transport.readToEnd(topic, partitions, async (records) => {
    for (const record of records) {
      try {
        read.push({ decision: await runtime.codecs.promotion.decode(record.value), partition: record.partition, offset: record.offset });
      } catch (error) {
        if (!(error instanceof DecodeError)) throw error;
        undecodable++;
      }
    }
  });
  read.sort((a, b) => a.partition - b.partition || a.offset - b.offset);
  return { decisions: read.map((r) => r.decision), undecodable };
}
