/**
 * The Kafka transport over @platformatic/kafka (kafka.client: platformatic),
 * beside the kafkajs one (transport.ts), with the same inputs and the same
 * contract (test/contract/transport-contract.ts).
 *
 * - Producers are idempotent and wait for all in-sync replicas (acks=all);
 *   keyed records go where Kafka's murmur2 partitioner puts them.
 * - Consumers (platformatic/consumer.ts) read committed records only, never
 *   auto-commit, and are co-partitioned (platformatic/assigner.ts).
 * - A transaction's offsets are committed with the consuming member's group
 *   generation and member id when that consumer is of this transport
 *   (KIP-447): a member that lost its partitions in a rebalance cannot commit
 *   them. Without one (another process consumes), the offsets are committed
 *   unchecked, as kafkajs does.
 * - readToEnd fetches directly, without a consumer group.
 *
 * Not done here (the kafkajs transport does them): naming the ACL to grant
 * when Kafka refuses something (adapters/kafka/authorization.ts reads kafkajs's
 * logs), and forwarding the client's logs to ours.
 */
import { Admin, ConfigResourceTypes, ConnectionPool, Consumer, FetchIsolationLevels, FindCoordinatorKeyTypes, ListOffsetTimestamps, Producer, type Message, type ProducerOptions } from '@platformatic/kafka';
import { FeedbackloopError } from '../../core/errors.js';
import type {
  ConsumerOptions,
  LogConsumer,
  LogProducer,
  LogRecord,
  LogTransport,
  OutgoingRecord,
  TopicPartitionOffset,
  TopicSpec,
  TransactionalProducer,
} from '../transport/transport.js';
import { isBrokerFault, producerFenced, retryBrokerFaults } from './errors.js';
import { topicConfigEntries } from './topic-configs.js';
import { CO_PARTITIONED_PROTOCOL, coPartitionedPlatformaticAssigner } from './platformatic/assigner.js';
import { PlatformaticConsumer, type GroupMembership } from './platformatic/consumer.js';
import { listOffsets, readToEnd } from './platformatic/read-to-end.js';
import { murmur2Partitioner, toMessage } from './platformatic/records.js';
import { connectionSecurity, type KafkaSecurity } from './platformatic/security.js';
import { chunkRecords, DEFAULT_TRANSACTION_TIMEOUT_MS } from './transport.js';
import { closeForced } from './platformatic/close.js';

export interface PlatformaticTransportOptions {
  brokers: string[];
  clientId: string;
  /** TLS and SASL, as the kafkajs transport takes them (runtime/client-options.ts). */
  kafka?: KafkaSecurity;
  replicationFactor?: number;
  sessionTimeoutMs?: number;
  heartbeatIntervalMs?: number;
  /** How long a transaction may stay open before the broker aborts it and fences the producer (default 60 s, Kafka's). */
  transactionTimeoutMs?: number;
  /** How long a consumer's fetch waits for data (default 500 ms, as the kafkajs transport). */
  maxWaitTimeMs?: number;
}

/** Protocol errors after which the member must rejoin: its batch may be another member's now. */
const REJOIN = ['ILLEGAL_GENERATION', 'UNKNOWN_MEMBER_ID', 'REBALANCE_IN_PROGRESS'];

/** Does the library error say the member must rejoin its group? */
function needsRejoin(error: unknown): boolean {
  const e = error as { findBy?: (property: string, value: unknown) => unknown };
  return REJOIN.some((id) => e?.findBy?.('apiId', id));
}

/** A library error as ours: retriable when it is a broker fault or a rebalance. */
function failure(what: string, error: unknown): FeedbackloopError {
  const e = error as { message?: string };
  const rejoin = needsRejoin(error);
  return new FeedbackloopError(`${what}: ${e?.message ?? String(error)}`, { retriable: rejoin || isBrokerFault(error), cause: error });
}

/** What every client of the transport is given: its id, the brokers, TLS and SASL. */
function clientBase(options: PlatformaticTransportOptions, suffix = '') {
  return { clientId: `${options.clientId}${suffix}`, bootstrapBrokers: options.brokers, ...connectionSecurity(options.kafka) };
}

/**
 * A producer's options. The library sends its request `timeout` (default 5 s) as the
 * transaction timeout of InitProducerId, so a transactional producer left at the default had
 * every transaction open longer than 5 s aborted by the broker, and was fenced at its next
 * request (measured: a transaction held 15 s failed its EndTxn with PRODUCER_FENCED; with
 * 60 s it committed). Such a producer takes the transaction timeout as its request timeout.
 */
export function producerOptions(options: PlatformaticTransportOptions, transactionalId?: string): ProducerOptions<Buffer, Buffer, Buffer, Buffer> {
  return {
    ...clientBase(options),
    idempotent: true,
    partitioner: murmur2Partitioner(),
    ...(transactionalId ? { transactionalId, timeout: options.transactionTimeoutMs ?? DEFAULT_TRANSACTION_TIMEOUT_MS } : {}),
  };
}

export class PlatformaticTransport implements LogTransport {
  private adminClient: Admin | undefined;
  /** Fetches and lists offsets for readToEnd and endOffsets; never joins its group. */
  private readerClient: Consumer | undefined;
  private readonly open = new Set<Producer>();
  private readonly consumersOpen = new Set<PlatformaticConsumer>();
  /** The latest consumer of each group in this transport (for a transaction's offsets). */
  private readonly consumers = new Map<string, PlatformaticConsumer>();

  constructor(private readonly options: PlatformaticTransportOptions) {}

  private base(suffix = '') {
    return clientBase(this.options, suffix);
  }

  private get admin(): Admin {
    return (this.adminClient ??= new Admin(this.base()));
  }

  private get reader(): Consumer {
    return (this.readerClient ??= new Consumer({ ...this.base(), groupId: `${this.options.clientId}-reader`, autocommit: false }));
  }

  async ensureTopics(specs: TopicSpec[]): Promise<void> {
    const existing = new Set(await this.admin.listTopics());
    for (const spec of specs.filter((s) => !existing.has(s.name))) {
      const configs = topicConfigEntries(spec);
      try {
        await this.admin.createTopics({ topics: [spec.name], partitions: spec.partitions, replicas: this.options.replicationFactor ?? 1, configs });
      } catch (error) {
        // Another instance may have created it in between: fine if it exists now.
        if (!(await this.admin.listTopics()).includes(spec.name)) throw failure(`creating topic ${spec.name}`, error);
      }
    }
    // createTopics returns before the leaders are elected: wait for them, as kafkajs's waitForLeaders does.
    for (const spec of specs) await retryBrokerFaults(() => this.partitionCount(spec.name));
  }

  async topicSettings(topic: string): Promise<Map<string, string>> {
    try {
      const described = await retryBrokerFaults(() => this.admin.describeConfigs({ resources: [{ resourceType: ConfigResourceTypes.TOPIC, resourceName: topic }] }));
      const configs = described.find((d) => d.resourceName === topic)?.configs;
      if (!configs) throw new FeedbackloopError(`Kafka did not describe the settings of topic ${topic}`, { retriable: true });
      return new Map(configs.flatMap((c) => (typeof c.value === 'string' ? [[c.name, c.value] as const] : [])));
    } catch (error) {
      throw failure(`cannot read the settings of topic ${topic}`, error);
    }
  }

  async partitionCount(topic: string): Promise<number> {
    try {
      const metadata = await this.admin.metadata({ topics: [topic], forceUpdate: true });
      const found = metadata.topics.get(topic);
      if (!found) throw new FeedbackloopError(`topic ${topic} does not exist`);
      if (found.partitions.some((p) => p.leader < 0)) throw new FeedbackloopError(`topic ${topic} has partitions without a leader`, { retriable: true });
      return found.partitionsCount;
    } catch (error) {
      if (error instanceof FeedbackloopError) throw error;
      // The library answers a topic missing from the metadata with a UserError "Unknown topic <name>.".
      const unknown = (error as { findBy?: (p: string, v: unknown) => unknown }).findBy?.('apiId', 'UNKNOWN_TOPIC_OR_PARTITION');
      if (unknown || (error as Error)?.message === `Unknown topic ${topic}.`) {
        throw new FeedbackloopError(`topic ${topic} does not exist`, { cause: error });
      }
      throw failure(`cannot read metadata of topic ${topic}`, error);
    }
  }

  async committedOffsets(groupId: string, topic: string): Promise<TopicPartitionOffset[]> {
    const count = await this.partitionCount(topic);
    const groups = await retryBrokerFaults(() =>
      this.admin.listConsumerGroupOffsets({ groups: [{ groupId, topics: [{ name: topic, partitionIndexes: Array.from({ length: count }, (_, p) => p) }] }] }),
    );
    const out: TopicPartitionOffset[] = [];
    for (const t of groups[0]?.topics ?? []) {
      for (const p of t.partitions) if (p.committedOffset >= 0n) out.push({ topic: t.name, partition: p.partitionIndex, offset: Number(p.committedOffset) });
    }
    return out.sort((a, b) => a.partition - b.partition);
  }

  /** As the kafkajs transport: ListOffsets(latest) at read_committed, i.e. the last stable offset. */
  async endOffsets(topic: string): Promise<TopicPartitionOffset[]> {
    const ends = await retryBrokerFaults(() => listOffsets(this.reader, topic, ListOffsetTimestamps.LATEST));
    return ends.map((offset, partition) => ({ topic, partition, offset }));
  }

  private newProducer(transactionalId?: string): Producer {
    const producer = new Producer(producerOptions(this.options, transactionalId));
    this.open.add(producer);
    return producer;
  }

  private async closeProducer(producer: Producer): Promise<void> {
    this.open.delete(producer);
    await closeForced(producer);
  }

  async producer(): Promise<LogProducer> {
    const producer = this.newProducer();
    return {
      send: async (records) => {
        try {
          for (const chunk of chunkRecords(records)) await producer.send({ messages: chunk.map(toMessage), acks: -1 });
        } catch (error) {
          throw failure('producing', error);
        }
      },
      close: () => this.closeProducer(producer),
    };
  }

  async transactionalProducer(transactionalId: string): Promise<TransactionalProducer> {
    const producer = this.newProducer(transactionalId);
    // The first transaction registers the id (InitProducerId): that fences an older producer with it and
    // waits until the broker has aborted its open transaction. Nothing is sent in it: cancel, not abort.
    try {
      // No producer id and epoch (-1): the library would send 0 and 0, which the broker refuses (PRODUCER_FENCED)
      // once the id has a producer already, i.e. exactly when fencing is what we want.
      await (await producer.beginTransaction({ producerId: -1n, producerEpoch: -1 })).cancel();
    } catch (error) {
      await this.closeProducer(producer).catch(() => {});
      throw failure(`registering the transactional id ${transactionalId}`, error);
    }
    return {
      sendWithOffsets: (records, commit) => this.sendWithOffsets(producer, transactionalId, records, commit),
      close: () => this.closeProducer(producer),
    };
  }

  private async sendWithOffsets(
    producer: Producer,
    transactionalId: string,
    records: OutgoingRecord[],
    commit: { groupId: string; offsets: TopicPartitionOffset[] },
  ): Promise<void> {
    const transaction = await producer
      .beginTransaction()
      .catch((error: unknown) => Promise.reject(producerFenced(error, transactionalId) ?? failure('beginning a transaction', error)));
    try {
      for (const chunk of chunkRecords(records)) await transaction.send({ messages: chunk.map(toMessage) });
      if (commit.offsets.length > 0) {
        const membership = await this.membership(commit.groupId, commit.offsets);
        await transaction.addConsumer({ groupId: commit.groupId } as Consumer);
        // One at a time: the library deduplicates concurrent offset commits of a transaction into one.
        for (const o of commit.offsets) await transaction.addOffset(offsetMessage(o, membership));
      }
      await transaction.commit();
    } catch (error) {
      await transaction.abort().catch(() => transaction.cancel().catch(() => {}));
      if (needsRejoin(error)) this.consumers.get(commit.groupId)?.rejoin();
      if (error instanceof FeedbackloopError) throw error;
      throw producerFenced(error, transactionalId) ?? failure(`a transaction committing offsets of group ${commit.groupId}`, error);
    }
  }

  /** The consuming member's group membership, or an unchecked one (generation -1) when it is not in this transport. */
  private async membership(groupId: string, offsets: TopicPartitionOffset[]): Promise<GroupMembership> {
    const consumer = this.consumers.get(groupId);
    const current = consumer?.membership();
    if (consumer && current) {
      const lost = offsets.find((o) => !consumer.holds(o.topic, o.partition));
      if (lost) throw new FeedbackloopError(`group ${groupId}: ${lost.topic}/${lost.partition} is no longer assigned to this member`, { retriable: true });
      return current;
    }
    const [coordinator] = await retryBrokerFaults(() => this.admin.findCoordinator({ keyType: FindCoordinatorKeyTypes.GROUP, keys: [groupId] }));
    if (!coordinator) throw new FeedbackloopError(`no coordinator for group ${groupId}`, { retriable: true });
    return { groupId, generationId: -1, memberId: '', coordinatorId: coordinator.nodeId };
  }

  async consumer(options: ConsumerOptions): Promise<LogConsumer> {
    const sessionTimeoutMs = this.options.sessionTimeoutMs ?? 10_000;
    const heartbeatIntervalMs = this.options.heartbeatIntervalMs ?? 1_000;
    const client = new Consumer({
      ...this.base(),
      groupId: options.groupId,
      autocommit: false,
      isolationLevel: FetchIsolationLevels.READ_COMMITTED,
      sessionTimeout: sessionTimeoutMs,
      heartbeatInterval: heartbeatIntervalMs,
      rebalanceTimeout: 30_000,
      protocols: [CO_PARTITIONED_PROTOCOL],
      partitionAssigner: coPartitionedPlatformaticAssigner,
    });
    const pool = new ConnectionPool(`${this.options.clientId}-fetch`, connectionSecurity(this.options.kafka));
    const consumer = new PlatformaticConsumer(
      client,
      options,
      { sessionTimeoutMs, heartbeatIntervalMs, rebalanceTimeoutMs: 30_000, maxWaitMs: this.options.maxWaitTimeMs ?? 500 },
      () => {
        this.consumersOpen.delete(consumer);
        if (this.consumers.get(options.groupId) === consumer) this.consumers.delete(options.groupId);
      },
      pool,
    );
    this.consumersOpen.add(consumer);
    this.consumers.set(options.groupId, consumer);
    return consumer;
  }

  readToEnd(
    topic: string,
    partitions: number[],
    onRecords: (records: LogRecord[]) => void | Promise<void>,
    from?: ReadonlyMap<number, number>,
  ): Promise<{ endOffsets: Map<number, number> }> {
    return readToEnd(this.reader, (t) => this.partitionCount(t), topic, partitions, onRecords, from);
  }

  async close(): Promise<void> {
    for (const consumer of [...this.consumersOpen]) await consumer.stop().catch(() => {});
    for (const producer of [...this.open]) await closeForced(producer);
    this.open.clear();
    for (const client of [this.adminClient, this.readerClient]) await client?.close().catch(() => {});
    this.adminClient = undefined;
    this.readerClient = undefined;
  }
}

/** The message @platformatic/kafka commits `offset - 1 + 1` for, in the group membership given. */
function offsetMessage(o: TopicPartitionOffset, consumer: GroupMembership): Message {
  return { topic: o.topic, partition: o.partition, offset: BigInt(o.offset) - 1n, metadata: { consumer } } as unknown as Message;
}
