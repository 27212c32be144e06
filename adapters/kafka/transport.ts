/**
 * The Kafka transport: the log interface over kafkajs. Bytes in, bytes out;
 * the Confluent wire format is the codecs' business (adapters/codec).
 *
 * - Producers are idempotent and wait for all in-sync replicas (acks=all).
 * - Keyed records go where Kafka's default (murmur2) partitioner puts them,
 *   the same place the in-process log puts them.
 * - Consumers read committed records only (transactions) and never
 *   auto-commit: processors commit after their effects are durable.
 */
import {
  Kafka,
  Partitioners,
  logLevel as KafkaLogLevel,
  type Admin,
  type Consumer,
  type KafkaConfig,
  type Message,
  type Producer,
  type TopicMessages,
} from 'kafkajs';
import { FeedbackloopError } from '../../core/errors.js';
import type {
  BatchHandler,
  ConsumerOptions,
  LogConsumer,
  LogProducer,
  LogRecord,
  LogTransport,
  OutgoingRecord,
  TopicPartitionOffset,
  TopicSpec,
  TransactionalProducer,
} from '../log/transport.js';

export interface KafkaTransportOptions {
  brokers: string[];
  clientId: string;
  /** Extra kafkajs settings (ssl, sasl, logCreator, ...). */
  kafka?: Partial<KafkaConfig>;
  /** Replication factor for topics we create (1 for a single-node test broker). */
  replicationFactor?: number;
  sessionTimeoutMs?: number;
  heartbeatIntervalMs?: number;
}

function toMessages(records: OutgoingRecord[]): TopicMessages[] {
  const byTopic = new Map<string, Message[]>();
  for (const record of records) {
    let messages = byTopic.get(record.topic);
    if (!messages) byTopic.set(record.topic, (messages = []));
    const message: Message = { key: record.key, value: record.value };
    if (record.partition !== undefined) message.partition = record.partition;
    if (record.timestamp !== undefined) message.timestamp = String(record.timestamp);
    if (record.headers) message.headers = record.headers;
    messages.push(message);
  }
  return [...byTopic].map(([topic, messages]) => ({ topic, messages }));
}

function offsetsByTopic(offsets: TopicPartitionOffset[]) {
  const byTopic = new Map<string, Array<{ partition: number; offset: string }>>();
  for (const { topic, partition, offset } of offsets) {
    let partitions = byTopic.get(topic);
    if (!partitions) byTopic.set(topic, (partitions = []));
    partitions.push({ partition, offset: String(offset) });
  }
  return [...byTopic].map(([topic, partitions]) => ({ topic, partitions }));
}

function headersOf(raw: Record<string, unknown> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!raw) return out;
  for (const [name, value] of Object.entries(raw)) {
    if (value === undefined) continue;
    out[name] = Buffer.isBuffer(value) ? value.toString('utf8') : String(value);
  }
  return out;
}

export class KafkaTransport implements LogTransport {
  readonly kafka: Kafka;
  private admin: Admin | undefined;
  private readonly open = new Set<{ disconnect(): Promise<void> }>();

  constructor(private readonly options: KafkaTransportOptions) {
    this.kafka = new Kafka({
      clientId: options.clientId,
      brokers: options.brokers,
      logLevel: KafkaLogLevel.WARN,
      ...options.kafka,
    });
  }

  private async getAdmin(): Promise<Admin> {
    if (!this.admin) {
      const admin = this.kafka.admin();
      await admin.connect();
      this.admin = admin;
    }
    return this.admin;
  }

  async ensureTopics(specs: TopicSpec[]): Promise<void> {
    const admin = await this.getAdmin();
    const existing = new Set(await admin.listTopics());
    const missing = specs.filter((spec) => !existing.has(spec.name));
    if (missing.length === 0) return;
    try {
      await admin.createTopics({
        waitForLeaders: true,
        topics: missing.map((spec) => ({
          topic: spec.name,
          numPartitions: spec.partitions,
          replicationFactor: this.options.replicationFactor ?? 1,
          configEntries: spec.compacted ? [{ name: 'cleanup.policy', value: 'compact' }] : [],
        })),
      });
    } catch (error) {
      // Another instance may have created them in between: fine if they exist now.
      const now = new Set(await admin.listTopics());
      if (!missing.every((spec) => now.has(spec.name))) throw error;
    }
  }

  async partitionCount(topic: string): Promise<number> {
    const admin = await this.getAdmin();
    try {
      const metadata = await admin.fetchTopicMetadata({ topics: [topic] });
      const found = metadata.topics.find((t) => t.name === topic);
      if (!found) throw new FeedbackloopError(`topic ${topic} does not exist`);
      return found.partitions.length;
    } catch (error) {
      if (error instanceof FeedbackloopError) throw error;
      const e = error as { type?: string; retriable?: boolean; message?: string };
      if (e.type === 'UNKNOWN_TOPIC_OR_PARTITION') throw new FeedbackloopError(`topic ${topic} does not exist`, { cause: error });
      throw new FeedbackloopError(`cannot read metadata of topic ${topic}: ${e.message}`, { retriable: e.retriable ?? true, cause: error });
    }
  }

  async committedOffsets(groupId: string, topic: string): Promise<TopicPartitionOffset[]> {
    const admin = await this.getAdmin();
    const result = await admin.fetchOffsets({ groupId, topics: [topic] });
    const out: TopicPartitionOffset[] = [];
    for (const t of result) {
      for (const p of t.partitions) {
        const offset = Number(p.offset);
        if (offset >= 0) out.push({ topic: t.topic, partition: p.partition, offset });
      }
    }
    return out.sort((a, b) => a.partition - b.partition);
  }

  async producer(): Promise<LogProducer> {
    const producer = this.kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      createPartitioner: Partitioners.DefaultPartitioner,
    });
    await producer.connect();
    this.open.add(producer);
    return {
      send: async (records) => {
        if (records.length === 0) return;
        await producer.sendBatch({ topicMessages: toMessages(records), acks: -1 });
      },
      close: async () => {
        this.open.delete(producer);
        await producer.disconnect();
      },
    };
  }

  async transactionalProducer(transactionalId: string): Promise<TransactionalProducer> {
    const producer: Producer = this.kafka.producer({
      transactionalId,
      idempotent: true,
      maxInFlightRequests: 1,
      createPartitioner: Partitioners.DefaultPartitioner,
    });
    await producer.connect();
    this.open.add(producer);
    return {
      sendWithOffsets: async (records, commit) => {
        const transaction = await producer.transaction();
        try {
          if (records.length > 0) await transaction.sendBatch({ topicMessages: toMessages(records), acks: -1 });
          if (commit.offsets.length > 0) {
            await transaction.sendOffsets({ consumerGroupId: commit.groupId, topics: offsetsByTopic(commit.offsets) });
          }
          await transaction.commit();
        } catch (error) {
          await transaction.abort().catch(() => {});
          throw error;
        }
      },
      close: async () => {
        this.open.delete(producer);
        await producer.disconnect();
      },
    };
  }

  async consumer(options: ConsumerOptions): Promise<LogConsumer> {
    const consumer = this.kafka.consumer({
      groupId: options.groupId,
      readUncommitted: false,
      sessionTimeout: this.options.sessionTimeoutMs ?? 10_000,
      heartbeatInterval: this.options.heartbeatIntervalMs ?? 1_000,
      rebalanceTimeout: 30_000,
    });
    await consumer.connect();
    this.open.add(consumer);
    return new KafkaConsumer(consumer, options, () => this.open.delete(consumer));
  }

  async close(): Promise<void> {
    for (const client of [...this.open]) await client.disconnect().catch(() => {});
    this.open.clear();
    if (this.admin) await this.admin.disconnect().catch(() => {});
    this.admin = undefined;
  }
}

class KafkaConsumer implements LogConsumer {
  readonly groupId: string;
  readonly done: Promise<void>;
  private resolveDone!: () => void;
  private rejectDone!: (error: unknown) => void;
  private stopped = false;

  constructor(
    private readonly consumer: Consumer,
    private readonly options: ConsumerOptions,
    private readonly onClose: () => void,
  ) {
    this.groupId = options.groupId;
    this.done = new Promise<void>((resolve, reject) => {
      this.resolveDone = resolve;
      this.rejectDone = reject;
    });
    this.done.catch(() => {});
    consumer.on(consumer.events.CRASH, (event) => {
      // kafkajs restarts by itself after retriable errors; a crash it will not restart from ends the consumer.
      if (!event.payload.restart) this.rejectDone(event.payload.error);
    });
  }

  async run(handler: BatchHandler): Promise<void> {
    const maxBatchSize = this.options.maxBatchSize ?? 500;
    await this.consumer.subscribe({ topics: this.options.topics, fromBeginning: this.options.fromBeginning ?? true });
    await this.consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }) => {
        const messages = batch.messages;
        for (let start = 0; start < messages.length; start += maxBatchSize) {
          if (!isRunning() || isStale()) return;
          const records: LogRecord[] = messages.slice(start, start + maxBatchSize).map((m) => ({
            topic: batch.topic,
            partition: batch.partition,
            offset: Number(m.offset),
            key: m.key,
            value: m.value,
            timestamp: Number(m.timestamp),
            headers: headersOf(m.headers as Record<string, unknown> | undefined),
          }));
          const last = records[records.length - 1]!;
          await handler({ topic: batch.topic, partition: batch.partition, records, nextOffset: last.offset + 1 });
          resolveOffset(String(last.offset));
          await heartbeat();
        }
      },
    });
  }

  async commit(offsets: TopicPartitionOffset[]): Promise<void> {
    await this.consumer.commitOffsets(offsets.map((o) => ({ topic: o.topic, partition: o.partition, offset: String(o.offset) })));
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await this.consumer.disconnect();
    this.onClose();
    this.resolveDone();
  }
}
