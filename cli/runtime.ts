/**
 * The composition root: from a validated Config to the transport, codecs,
 * ClickHouse store, logger and metrics the processors are wired with.
 * Kafka when kafka.brokers is set, otherwise the in-process log.
 */
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import type { SASLOptions } from 'kafkajs';
import type { Config } from '../adapters/config/index.js';
import { LocalCodec, RegistryCodec, type Codec } from '../adapters/codec/codec.js';
import type { SchemaName } from '../adapters/codec/schemas.js';
import { KafkaTransport } from '../adapters/kafka/transport.js';
import { MemoryTransport } from '../adapters/log/memory.js';
import type { LogTransport, TopicSpec } from '../adapters/log/transport.js';
import { ClickHouseStore, type ClickHouseOptions } from '../adapters/clickhouse/index.js';
import { createPipelineMetrics, type LaggingGroup, type PipelineMetrics } from '../adapters/http/index.js';
import { kafkaLogCreator, type Logger } from '../adapters/logging/index.js';
import type { JoinerTopics } from '../processors/joiner.js';
import type { LearnerTopics } from '../processors/learner.js';
import type { PromoterTopics } from '../processors/promoter.js';
import type { TrainerOptions } from '../core/learn/index.js';
import type { EvaluatorOptions } from '../core/evaluate/index.js';
import type { PolicyOptions } from '../core/promote/index.js';
import { parseDuration } from '../core/duration.js';
import { DecodeError } from '../core/errors.js';
import type { DeadLetter, Feedback, LabelledExample, ModelSnapshot, Prediction, PromotionDecision } from '../core/events.js';

export interface Codecs {
  prediction: Codec<Prediction>;
  feedback: Codec<Feedback>;
  labelled: Codec<LabelledExample>;
  snapshot: Codec<ModelSnapshot>;
  promotion: Codec<PromotionDecision>;
  deadLetter: Codec<DeadLetter>;
}

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

/** The joiner's topics, from the config's topic names. */
export function joinerTopics(config: Config): JoinerTopics {
  const t = config.topics;
  return {
    predictions: t.predictions,
    feedback: t.feedback,
    labelled: t.labelled_examples,
    unmatched: t.unmatched_feedback,
    deadLetters: t.dead_letters,
    changelog: t.joiner_changelog,
  };
}

/** The evaluator core's options from the config (windows were checked to be durations at load). */
export function evaluatorOptions(config: Config): Partial<EvaluatorOptions> {
  const e = config.evaluator;
  return {
    kindOf: (model) => config.models[model]?.task ?? 'binary',
    windows: e.windows.map((name) => ({ name, ms: parseDuration(name)! })),
    rollingSize: e.rolling_size,
    rollingEmitEvery: e.rolling_emit_every,
    joinWindowMs: config.joiner.join_window,
    graceMs: e.window_grace,
    segments: e.segments,
    fairnessAttributes: e.fairness_attributes,
    calibrationBins: e.calibration_bins,
    aucExactLimit: e.auc_exact_limit,
    aucBins: e.auc_bins,
    drift: {
      referenceSize: e.drift_reference_size,
      windowSize: e.drift_window_size,
      bins: e.drift_bins,
      psiThreshold: e.psi_threshold,
      ksAlpha: e.ks_alpha,
      detectors: e.drift_detectors,
    },
  };
}

/** The learner's topics and options from the config (run and replay). */
export function learnerSettings(config: Config): { topics: LearnerTopics; learner: Partial<TrainerOptions> } {
  const t = config.topics;
  return {
    topics: { labelled: t.labelled_examples, snapshots: t.model_snapshots, deadLetters: t.dead_letters },
    learner: {
      kindOf: (model) => config.models[model]?.task ?? 'binary',
      challengersOf: (model) => config.models[model]?.challengers ?? [],
      trainOnCorrections: config.learner.train_on_corrections,
    },
  };
}

/** The promoter's topics from the config (run and replay). */
export function promoterTopics(config: Config): PromoterTopics {
  const t = config.topics;
  return { labelled: t.labelled_examples, promotions: t.model_promotions, deadLetters: t.dead_letters };
}

/** A model's promotion policy from the config. */
export function policyOptions(config: Config, model: string): Partial<PolicyOptions> {
  const p = config.promoter;
  return {
    kind: config.models[model]?.task ?? 'binary',
    alpha: p.alpha,
    ...(p.metric === 'default' ? {} : { metric: p.metric }),
    minSamples: p.min_samples,
    minEffect: p.min_effect,
    maxRecallDrop: p.max_recall_drop,
    maxEce: p.max_ece,
    cooldownMs: p.cooldown,
    watchExamples: p.watch_examples,
  };
}

/**
 * Each processor's consumer group (`<kafka.client_id>-<processor>`) and the
 * topics it consumes: for the consumer-lag gauge of `run` and for `status`.
 */
export function consumerGroups(config: Config, processors: readonly string[]): Array<LaggingGroup & { processor: string }> {
  const t = config.topics;
  const inputs: Record<string, string[]> = {
    joiner: [t.predictions, t.feedback],
    learner: [t.labelled_examples],
    promoter: [t.labelled_examples],
    evaluator: [t.labelled_examples],
    archive: [t.predictions],
    registry: [t.model_snapshots, t.model_promotions],
  };
  return processors.map((processor) => ({ processor, groupId: `${config.kafka.client_id}-${processor}`, topics: inputs[processor] ?? [] }));
}

/** How to reach ClickHouse, when clickhouse.url is set. */
export function clickhouseOptions(config: Config): ClickHouseOptions | undefined {
  const c = config.clickhouse;
  if (!c.url) return undefined;
  return { url: c.url, database: c.database, username: c.username, password: c.password, requestTimeoutMs: c.request_timeout };
}

export function topicSpecs(config: Config): TopicSpec[] {
  const t = config.topics;
  return [
    { name: t.predictions, partitions: t.partitions },
    { name: t.feedback, partitions: t.partitions },
    // The evaluator rebuilds its windows from the whole topic: never delete it by age.
    { name: t.labelled_examples, partitions: t.partitions, keepForever: true },
    { name: t.model_snapshots, partitions: t.partitions, compacted: true },
    { name: t.model_promotions, partitions: t.partitions },
    { name: t.dead_letters, partitions: t.partitions },
    { name: t.unmatched_feedback, partitions: t.partitions },
    { name: t.joiner_changelog, partitions: t.partitions, compacted: true },
  ];
}

function saslOf(config: Config): SASLOptions | undefined {
  const k = config.kafka;
  if (k.sasl_mechanism === 'none') return undefined;
  return { mechanism: k.sasl_mechanism, username: k.sasl_username!, password: k.sasl_password! } as SASLOptions;
}

export function makeCodecs(config: Config, registry: SchemaRegistry | undefined): Codecs {
  const t = config.topics;
  const make = <T>(schema: SchemaName, topic: string): Codec<T> =>
    registry ? new RegistryCodec<T>(registry, schema, `${topic}-value`) : new LocalCodec<T>(schema);
  return {
    prediction: make('Prediction', t.predictions),
    feedback: make('Feedback', t.feedback),
    labelled: make('LabelledExample', t.labelled_examples),
    snapshot: make('ModelSnapshot', t.model_snapshots),
    promotion: make('PromotionDecision', t.model_promotions),
    deadLetter: make('DeadLetter', t.dead_letters),
  };
}

export async function openRuntime(config: Config, logger: Logger, options: { defaultMetrics?: boolean; clickhouse?: boolean } = {}): Promise<Runtime> {
  const metrics = createPipelineMetrics(options);
  let transport: LogTransport;
  let registry: SchemaRegistry | undefined;
  if (config.kafka.brokers.length > 0) {
    const sasl = saslOf(config);
    transport = new KafkaTransport({
      brokers: config.kafka.brokers,
      clientId: config.kafka.client_id,
      replicationFactor: config.kafka.replication_factor,
      sessionTimeoutMs: config.kafka.session_timeout,
      heartbeatIntervalMs: Math.max(100, Math.floor(config.kafka.session_timeout / 10)),
      kafka: { ssl: config.kafka.ssl, logCreator: kafkaLogCreator(logger), ...(sasl ? { sasl } : {}) },
    });
    registry = new SchemaRegistry({ host: config.kafka.schema_registry_url! });
  } else {
    transport = new MemoryTransport();
  }
  const clickhouseSettings = options.clickhouse === false ? undefined : clickhouseOptions(config);
  const clickhouse = clickhouseSettings ? await ClickHouseStore.open(clickhouseSettings) : undefined;
  return {
    config,
    logger,
    metrics,
    transport,
    codecs: makeCodecs(config, registry),
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
