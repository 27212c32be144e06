/**
 * The Kafka transport: the log interface over kafkajs. Bytes in, bytes out;
 * the Confluent wire format is the codecs' business (adapters/codec).
 *
 * - Producers are idempotent and wait for all in-sync replicas (acks=all).
 * - Keyed records go where Kafka's default (murmur2) partitioner puts them,
 *   the same place the in-process log puts them.
 * - Consumers read committed records only (transactions) and never
 *   auto-commit: processors commit after their effects are durable.
 * - Group assignment is co-partitioned (co-partitioned-assigner.ts), and
 *   every (re)join starts a new assignment generation, taken from kafkajs's
 *   GROUP_JOIN event (see KafkaConsumer).
 * - A broker fault that passes (errors.ts: the broker restarting, a
 *   coordinator loading or moving, CONCURRENT_TRANSACTIONS) never ends a
 *   consumer: it restarts from the committed offsets until the broker is back.
 */
import kafkajs, {
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

/** Not a named export of kafkajs under ESM (Node's CommonJS detection misses it): from the module object. */
const { ConfigResourceTypes } = kafkajs;
import { FeedbackloopError, isRetriable } from '../../core/errors.js';
import { AuthorizationLog, grant, KafkaAuthorizationError, partitionsNotAttempted } from './authorization.js';
import { SerialQueue } from '../../core/serial.js';
import { coPartitionedAssigner } from './co-partitioned-assigner.js';
import { backoff, isBrokerFault, producerFenced, retryBrokerFaults, retryConcurrentTransaction } from './errors.js';
import { topicConfigEntries } from './topic-configs.js';
import { READ_TO_END_GROUP, readToEnd, toLogRecord } from './read-to-end.js';
import type {
  BatchHandler,
  ConsumerAssignment,
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

/** Kafka's own default transaction timeout (the Java producer's transaction.timeout.ms). */
export const DEFAULT_TRANSACTION_TIMEOUT_MS = 60_000;

export interface KafkaTransportOptions {
  brokers: string[];
  clientId: string;
  /** Extra kafkajs settings (ssl, sasl, logCreator, ...). */
  kafka?: Partial<KafkaConfig>;
  /** Replication factor for topics we create (1 for a single-node test broker). */
  replicationFactor?: number;
  sessionTimeoutMs?: number;
  heartbeatIntervalMs?: number;
  /** How long a transaction may stay open before the broker aborts it and fences the producer (default 60 s, Kafka's). */
  transactionTimeoutMs?: number;
  /**
   * How long a consumer's fetch waits for data (kafkajs maxWaitTimeInMs;
   * default here 500, kafkajs's own is 5000). An idle member only notices a
   * rebalance between fetches, and a stop waits for the fetch in flight, so
   * this also bounds how long a join and a stop wait for it.
   */
  maxWaitTimeMs?: number;
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

/**
 * Splits records into sends of at most MAX_SEND_RECORDS records and about
 * MAX_SEND_BYTES of keys and values: one oversized request would be refused
 * by the broker (message.max.bytes, not retriable), and kafkajs 2.2.4 groups
 * the messages of one send in quadratic time.
 */
export const MAX_SEND_RECORDS = 1000;
export const MAX_SEND_BYTES = 512 * 1024;

export function chunkRecords(records: OutgoingRecord[]): OutgoingRecord[][] {
  const chunks: OutgoingRecord[][] = [];
  let current: OutgoingRecord[] = [];
  let bytes = 0;
  for (const record of records) {
    const size = (record.key?.length ?? 0) + (record.value?.length ?? 0) + 64;
    if (current.length > 0 && (current.length >= MAX_SEND_RECORDS || bytes + size > MAX_SEND_BYTES)) {
      chunks.push(current);
      current = [];
      bytes = 0;
    }
    current.push(record);
    bytes += size;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

/**
 * The retries of a transactional producer's sends. A transaction's first send
 * adds its partitions to the transaction (AddPartitionsToTxn), and right after
 * the previous commit the coordinator answers CONCURRENT_TRANSACTIONS while it
 * writes that transaction's markers (milliseconds). kafkajs retries the whole
 * send after its initialRetryTime, 300 ms by default: a joiner committing a
 * transaction every few tens of milliseconds lost a third of a backlog drain
 * waiting there (20 of 250 transactions, 6.1 s of 18.7 s). Java's producer
 * retries this case after 20 ms; so do we. The backoff still doubles up to
 * kafkajs's 30 s cap, and an idempotent producer retries without limit as
 * before (kafkajs's default for it), so an outage is waited out as long.
 */
export const TRANSACTIONAL_SEND_RETRY = { initialRetryTime: 20, retries: Number.MAX_SAFE_INTEGER } as const;

function offsetsByTopic(offsets: TopicPartitionOffset[]) {
  const byTopic = new Map<string, Array<{ partition: number; offset: string }>>();
  for (const { topic, partition, offset } of offsets) {
    let partitions = byTopic.get(topic);
    if (!partitions) byTopic.set(topic, (partitions = []));
    partitions.push({ partition, offset: String(offset) });
  }
  return [...byTopic].map(([topic, partitions]) => ({ topic, partitions }));
}

export class KafkaTransport implements LogTransport {
  readonly kafka: Kafka;
  private admin: Promise<Admin> | undefined;
  private readonly open = new Set<{ disconnect(): Promise<void> }>();
  /** The refusals kafkajs logged: some of its errors lose them (adapters/kafka/authorization.ts). */
  private readonly authorizations = new AuthorizationLog();

  constructor(private readonly options: KafkaTransportOptions) {
    const logCreator = options.kafka?.logCreator;
    this.kafka = new Kafka({
      clientId: options.clientId,
      brokers: options.brokers,
      logLevel: KafkaLogLevel.WARN,
      ...options.kafka,
      ...(logCreator ? { logCreator: this.authorizations.wrap(logCreator) } : {}),
    });
  }

  /** One admin client for the transport, also when the first calls come concurrently (a second one would leak its connection). */
  private getAdmin(): Promise<Admin> {
    if (!this.admin) {
      const admin = this.kafka.admin();
      this.admin = admin.connect().then(
        () => admin,
        (error: unknown) => {
          this.admin = undefined;
          throw error;
        },
      );
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
          configEntries: topicConfigEntries(spec),
        })),
      });
    } catch (error) {
      // Another instance may have created them in between: fine if they exist now.
      const now = new Set(await admin.listTopics());
      const absent = missing.filter((spec) => !now.has(spec.name)).map((spec) => spec.name);
      if (absent.length === 0) return;
      const refusal = this.authorizations.explain(error, []);
      if (refusal) {
        throw new KafkaAuthorizationError(refusal, `creating the missing topics ${absent.join(', ')}`, `have an administrator create them (or ${grant(`CREATE on TOPIC ${absent.join(', ')}`)})`, error);
      }
      throw error;
    }
  }

  async topicSettings(topic: string): Promise<Map<string, string>> {
    const admin = await this.getAdmin();
    const { resources } = await retryBrokerFaults(() => admin.describeConfigs({ includeSynonyms: false, resources: [{ type: ConfigResourceTypes.TOPIC, name: topic }] }));
    const entries = resources.find((r) => r.resourceName === topic)?.configEntries;
    if (!entries) throw new FeedbackloopError(`Kafka did not describe the settings of topic ${topic}`, { retriable: true });
    return new Map(entries.flatMap((e) => (e.configValue === null ? [] : [[e.configName, e.configValue] as const])));
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

  /**
   * admin.fetchTopicOffsets, one call at a time and retried when kafkajs finds no partition
   * leader to ask. kafkajs sends ListOffsets twice (latest, earliest) to the leaders its metadata
   * names; when that metadata lacks the topic or a leader (a refresh joined from another call, a
   * leader moving), a request goes nowhere and kafkajs fails with a TypeError ("Cannot
   * destructure property 'partitions' of 'low.pop(...)'") — seen once crashing `run` at start.
   */
  private topicOffsets(topic: string): ReturnType<Admin['fetchTopicOffsets']> {
    return this.offsetQueue.run(async () => {
      for (let attempt = 1; ; attempt++) {
        const admin = await this.getAdmin();
        try {
          return await retryBrokerFaults(() => admin.fetchTopicOffsets(topic));
        } catch (error) {
          if (!(error instanceof TypeError) || !/\.pop\(/.test(error.message)) throw error;
          if (attempt >= 10) {
            throw new FeedbackloopError(`offsets of topic ${topic}: Kafka named no leader for its partitions after ${attempt} tries`, { retriable: true, cause: error });
          }
          await new Promise((resolve) => setTimeout(resolve, Math.min(1000, 100 * attempt)));
        }
      }
    });
  }

  private readonly offsetQueue = new SerialQueue();

  async endOffsets(topic: string): Promise<TopicPartitionOffset[]> {
    const offsets = await this.topicOffsets(topic);
    return offsets.map((p) => ({ topic, partition: p.partition, offset: Number(p.high) })).sort((a, b) => a.partition - b.partition);
  }

  async committedOffsets(groupId: string, topic: string): Promise<TopicPartitionOffset[]> {
    const admin = await this.getAdmin();
    // Right after a broker restart the group coordinator answers "loading" or "not the coordinator" for a while.
    const result = await retryBrokerFaults(() => admin.fetchOffsets({ groupId, topics: [topic] }));
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
        for (const chunk of chunkRecords(records)) await producer.sendBatch({ topicMessages: toMessages(chunk), acks: -1 });
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
      transactionTimeout: this.options.transactionTimeoutMs ?? DEFAULT_TRANSACTION_TIMEOUT_MS,
      idempotent: true,
      maxInFlightRequests: 1,
      createPartitioner: Partitioners.DefaultPartitioner,
      retry: TRANSACTIONAL_SEND_RETRY,
    });
    await producer.connect();
    this.open.add(producer);
    // kafkajs's connect() does not register the transactional id (its InitProducerId there is
    // the plain idempotent one); the first transaction() does. Do it now, with an empty
    // transaction (aborting it sends nothing), so that, as the interface promises, creating
    // the producer fences an older one with this id, and the broker has finished that one's
    // open transaction (aborted it) before we return: a reader at read_committed, e.g.
    // readToEnd, is then no longer held back by it.
    try {
      await (await producer.transaction()).abort();
    } catch (error) {
      this.open.delete(producer);
      await producer.disconnect().catch(() => {});
      const refusal = this.authorizations.explain(error, ['TRANSACTIONAL_ID_AUTHORIZATION_FAILED']);
      if (refusal) throw new KafkaAuthorizationError(refusal, `the transactional id ${transactionalId}`, grant(`WRITE and DESCRIBE on TRANSACTIONAL_ID ${transactionalId}`), error);
      throw error;
    }
    return {
      sendWithOffsets: async (records, commit) => {
        const transaction = await producer.transaction();
        try {
          // Several sends, one transaction: all of them commit together or none does.
          for (const chunk of chunkRecords(records)) await transaction.sendBatch({ topicMessages: toMessages(chunk), acks: -1 });
          if (commit.offsets.length > 0) {
            await retryConcurrentTransaction(() => transaction.sendOffsets({ consumerGroupId: commit.groupId, topics: offsetsByTopic(commit.offsets) }));
          }
          await transaction.commit();
        } catch (error) {
          await transaction.abort().catch(() => {});
          throw this.transactionRefusal(error, transactionalId, records, commit.groupId) ?? producerFenced(error, transactionalId) ?? error;
        }
      },
      close: async () => {
        this.open.delete(producer);
        await producer.disconnect();
      },
    };
  }

  /** The refusal behind a failed transaction, naming what it wrote to, its group or its id. */
  private transactionRefusal(error: unknown, transactionalId: string, records: OutgoingRecord[], groupId: string): KafkaAuthorizationError | undefined {
    const topics = [...new Set(records.map((r) => r.topic))].join(', ');
    const refusal = this.authorizations.explain(error, ['TRANSACTIONAL_ID_AUTHORIZATION_FAILED', 'GROUP_AUTHORIZATION_FAILED']);
    if (refusal === 'GROUP_AUTHORIZATION_FAILED') return new KafkaAuthorizationError(refusal, `the offsets of group ${groupId} in a transaction`, grant(`READ on GROUP ${groupId}`), error);
    if (refusal === 'TRANSACTIONAL_ID_AUTHORIZATION_FAILED') return new KafkaAuthorizationError(refusal, `the transactional id ${transactionalId}`, grant(`WRITE and DESCRIBE on TRANSACTIONAL_ID ${transactionalId}`), error);
    if (refusal || partitionsNotAttempted(error)) {
      const why = refusal ?? 'OPERATION_NOT_ATTEMPTED: a topic refused or missing';
      return new KafkaAuthorizationError(why, `a transaction of ${transactionalId} writing to ${topics} (one of them at least)`, grant(`WRITE and DESCRIBE on TOPIC ${topics}`), error);
    }
    return undefined;
  }

  async consumer(options: ConsumerOptions): Promise<LogConsumer> {
    const consumer = this.kafka.consumer({
      groupId: options.groupId,
      readUncommitted: false,
      sessionTimeout: this.options.sessionTimeoutMs ?? 10_000,
      heartbeatInterval: this.options.heartbeatIntervalMs ?? 1_000,
      rebalanceTimeout: 30_000,
      partitionAssigners: [coPartitionedAssigner],
      // A fetch waits this long for records at the broker, and a stop waits for the fetch: kafkajs's 5 s made
      // every idle consumer (the feeds of the shadow scorer and the promoter) hold a SIGTERM for 5 s each.
      maxWaitTimeInMs: this.options.maxWaitTimeMs ?? 500,
      // KafkaConsumer restarts a crashed consumer itself (after broker faults kafkajs calls non-retriable too),
      // and never once it is stopping: kafkajs's own restart timer outlived disconnect() and kept `run` alive.
      retry: { retries: 5, restartOnFailure: async () => false },
    });
    await consumer.connect();
    this.open.add(consumer);
    return new KafkaConsumer(consumer, options, () => this.open.delete(consumer), this.authorizations);
  }

  async readToEnd(
    topic: string,
    partitions: number[],
    onRecords: (records: LogRecord[]) => void | Promise<void>,
    from?: ReadonlyMap<number, number>,
  ): Promise<{ endOffsets: Map<number, number> }> {
    return readToEnd(
      {
        kafka: this.kafka,
        admin: await this.getAdmin(),
        topicOffsets: (t) => this.topicOffsets(t),
        groupPrefix: this.options.clientId,
        partitionCount: (t) => this.partitionCount(t),
        refusal: (error, groupId) => {
          const refusal = this.authorizations.explain(error, ['GROUP_AUTHORIZATION_FAILED']);
          if (!refusal) return undefined;
          const prefix = `${this.options.clientId}-${READ_TO_END_GROUP}-`;
          return new KafkaAuthorizationError(refusal, `re-reading ${topic} in group ${groupId}`, grant(`READ and DELETE on GROUP prefix ${prefix}, READ and DESCRIBE on TOPIC ${topic}`), error);
        },
        track: (client) => {
          this.open.add(client);
          return () => this.open.delete(client);
        },
      },
      topic,
      partitions,
      onRecords,
      from,
    );
  }

  async close(): Promise<void> {
    for (const client of [...this.open]) await client.disconnect().catch(() => {});
    this.open.clear();
    const admin = this.admin;
    this.admin = undefined;
    if (admin) await admin.then((a) => a.disconnect()).catch(() => {});
  }
}

/** Heartbeat errors after which kafkajs rejoins the group (its isRebalancing(), plus UNKNOWN_MEMBER_ID). */
const REJOIN_ERRORS = new Set(['REBALANCE_IN_PROGRESS', 'NOT_COORDINATOR_FOR_GROUP', 'ILLEGAL_GENERATION', 'UNKNOWN_MEMBER_ID']);

const tpKey = (topic: string, partition: number) => `${topic}\u0000${partition}`;

type ConsumerRunConfig = Parameters<Consumer['run']>[0];

/** The innermost cause (kafkajs wraps the error it gave up on), as kafkajs looks at it to decide a restart. */
function rootCause(error: unknown): unknown {
  let e = error;
  for (let depth = 0; depth < 10 && typeof e === 'object' && e !== null && (e as { cause?: unknown }).cause !== undefined; depth++) {
    e = (e as { cause?: unknown }).cause;
  }
  return e;
}

class KafkaConsumer implements LogConsumer {
  readonly groupId: string;
  readonly done: Promise<void>;
  private resolveDone!: () => void;
  private rejectDone!: (error: unknown) => void;
  private stopped = false;
  private generation = 0;
  private partitions: ConsumerAssignment['partitions'] = [];
  private held = new Set<string>();
  /** A heartbeat said the group is rebalancing: deliver nothing until the next GROUP_JOIN. */
  private rejoining = false;
  /** kafkajs's heartbeat of the latest eachBatch call (it heartbeats the current member of the group). */
  private sendHeartbeat: (() => Promise<void>) | undefined;
  /** What `run` gave kafkajs, to run it again after a broker fault. */
  private runConfig: ConsumerRunConfig | undefined;
  /** A broker fault stopped the kafkajs consumer: it runs again after `restartTimer`; deliver nothing meanwhile. */
  private restartPending = false;
  private restartTimer: NodeJS.Timeout | undefined;
  /** The kafkajs run (its join) of a restart in flight: a stop waits for it, then disconnects. */
  private restarting: Promise<void> | undefined;
  /** Restarts since the last successful join (the backoff grows with them). */
  private restarts = 0;

  constructor(
    private readonly consumer: Consumer,
    private readonly options: ConsumerOptions,
    private readonly onClose: () => void,
    private readonly authorizations: AuthorizationLog,
  ) {
    this.groupId = options.groupId;
    this.done = new Promise<void>((resolve, reject) => {
      this.resolveDone = resolve;
      this.rejectDone = reject;
    });
    this.done.catch(() => {});
    // kafkajs has disconnected a crashed consumer and leaves the restart to us (restartOnFailure: false): a broker
    // fault, or what kafkajs itself would restart from (a retriable error, its "retries exceeded"), runs it again;
    // anything else ends the consumer.
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      if (this.stopped) return;
      const refusal = this.authorizations.explain(payload.error, ['GROUP_AUTHORIZATION_FAILED']);
      if (refusal) {
        const topics = options.topics.join(', ');
        this.rejectDone(new KafkaAuthorizationError(refusal, `consumer group ${this.groupId} reading ${topics}`, grant(`READ on GROUP ${this.groupId}, READ and DESCRIBE on TOPIC ${topics}`), payload.error));
        return;
      }
      if (isBrokerFault(payload.error) || isRetriable(rootCause(payload.error))) this.scheduleRestart(payload.error);
      else this.rejectDone(payload.error);
    });
    // kafkajs (2.2.4, consumerGroup.joinAndSync) emits GROUP_JOIN synchronously once join and sync
    // succeeded, and (re)joins only when no batch of the group is in flight: in runner.start before
    // the first fetch, and after a rebalance error once the fetch manager has stopped, i.e. every
    // fetcher finished handing its batches to eachBatch; a restart after a crash builds a new
    // runner that joins first. So batches delivered after this event were fetched for the new
    // assignment, and the counter below is current for them. (One path joins inside a fetch,
    // consumerGroup.recoverFromFetch on stale metadata; with several brokers another fetcher's
    // old batches may then still be queued: the `held` check drops those of partitions we lost,
    // those of partitions we kept are delivered with the new generation, from where we were.)
    consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
      this.generation++;
      this.partitions = this.options.topics.flatMap((topic) =>
        [...(payload.memberAssignment[topic] ?? [])].sort((a, b) => a - b).map((partition) => ({ topic, partition })),
      );
      this.held = new Set(this.partitions.map((tp) => tpKey(tp.topic, tp.partition)));
      this.rejoining = false;
      this.restarts = 0;
    });
  }

  assignment(): ConsumerAssignment {
    return { generation: this.generation, partitions: this.partitions.map((tp) => ({ ...tp })) };
  }

  async run(handler: BatchHandler): Promise<void> {
    const maxBatchSize = this.options.maxBatchSize ?? 500;
    await this.consumer.subscribe({ topics: this.options.topics, fromBeginning: this.options.fromBeginning ?? true });
    this.runConfig = {
      autoCommit: false,
      eachBatchAutoResolve: false,
      eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }) => {
        this.sendHeartbeat = heartbeat;
        const messages = batch.messages;
        for (let start = 0; start < messages.length; start += maxBatchSize) {
          if (this.stopped || this.restartPending || !isRunning() || isStale()) return;
          // Returning without resolving leaves the records to whoever holds the partition next.
          if (this.rejoining || !this.held.has(tpKey(batch.topic, batch.partition))) return;
          // Sent only when the heartbeat interval elapsed. Once a heartbeat reports a rebalance,
          // kafkajs would still hand us the rest of the fetch (it stops at the first error only
          // after the whole fetch went through eachBatch), while the coordinator waits for this
          // member to rejoin: skipping those batches shortens the rebalance, and keeps a member
          // that overran the rebalance timeout from processing partitions already given away.
          await this.beat(heartbeat);
          const records: LogRecord[] = messages
            .slice(start, start + maxBatchSize)
            .map((m) => toLogRecord(batch.topic, batch.partition, m));
          const last = records[records.length - 1]!;
          // After the last chunk, resume past whatever trailed it in the fetch: a transaction's commit
          // marker takes an offset of its own, and committing short of it would show a caught-up
          // group one record behind on every transactional topic (lag 1 per partition).
          const isLast = start + maxBatchSize >= messages.length;
          const nextOffset = isLast ? Math.max(last.offset + 1, Number(batch.lastOffset()) + 1) : last.offset + 1;
          try {
            await handler({
              topic: batch.topic,
              partition: batch.partition,
              records,
              nextOffset,
              highWatermark: Number(batch.highWatermark),
              generation: this.generation,
            });
          } catch (error) {
            // A broker fault: start again from the committed offsets. (Re-delivering from kafkajs's resolved
            // offsets would skip what an aligned task had buffered, if its rewind could not reach the broker.)
            if (isBrokerFault(error)) {
              this.restartAfterBatch(error);
              return;
            }
            // kafkajs would retry any error forever; only what says it is retriable gets that.
            if (isRetriable(error)) throw error;
            this.crash(error);
            return;
          }
          // The handler rewound this partition (a failed task, a poison record): the seek decides where it goes on.
          if (isStale()) return;
          resolveOffset(String(nextOffset - 1));
        }
      },
    };
    await this.consumer.run(this.runConfig);
  }

  /** A batch failed on a broker fault: stop the kafkajs consumer once eachBatch has returned, then run it again. */
  private restartAfterBatch(error: unknown): void {
    if (this.stopped || this.restartPending) return;
    this.restartPending = true;
    setImmediate(() => {
      this.consumer
        .disconnect()
        .catch(() => {})
        .finally(() => this.scheduleRestart(error));
    });
  }

  /** Runs the (disconnected) kafkajs consumer again after a backoff; a failed join crashes it again (CRASH above). */
  private scheduleRestart(error: unknown): void {
    if (this.stopped) return;
    this.restartPending = true;
    const delay = backoff(this.restarts++, 5_000);
    this.consumer.logger().warn('Kafka unavailable; restarting the consumer from its committed offsets', {
      groupId: this.groupId,
      error: (error as Error)?.message ?? String(error),
      restarts: this.restarts,
      delayMs: delay,
    });
    clearTimeout(this.restartTimer);
    this.restartTimer = setTimeout(() => {
      if (this.stopped || !this.runConfig) return;
      this.restartPending = false;
      this.restarting = this.consumer.run(this.runConfig).catch((e: unknown) => this.scheduleRestart(e));
    }, delay);
  }

  private async beat(send: () => Promise<void>): Promise<void> {
    try {
      await send();
    } catch (error) {
      if (REJOIN_ERRORS.has((error as { type?: string }).type ?? '')) this.rejoining = true;
      throw error;
    }
  }

  /** The handler failed in a way a retry cannot mend: the consumer ends and `done` rejects. */
  private crash(error: unknown): void {
    if (this.stopped) return;
    this.stopped = true;
    this.rejectDone(error);
    // Leave the group once eachBatch has returned (disconnect waits for it).
    setImmediate(() => {
      this.consumer
        .disconnect()
        .catch(() => {})
        .finally(() => this.onClose());
    });
  }

  async heartbeat(): Promise<void> {
    if (this.stopped || !this.sendHeartbeat) return;
    await this.beat(this.sendHeartbeat);
  }

  pause(partitions: Array<{ topic: string; partition: number }>): void {
    this.whileRunning(() => this.consumer.pause(partitions.map(({ topic, partition }) => ({ topic, partitions: [partition] }))));
  }

  resume(partitions: Array<{ topic: string; partition: number }>): void {
    this.whileRunning(() => this.consumer.resume(partitions.map(({ topic, partition }) => ({ topic, partitions: [partition] }))));
  }

  /** The next fetch of each partition starts there; the rest of a fetch in hand is skipped (kafkajs marks it stale). */
  seek(offsets: TopicPartitionOffset[]): void {
    this.whileRunning(() => {
      for (const { topic, partition, offset } of offsets) this.consumer.seek({ topic, partition, offset: String(offset) });
    });
  }

  /**
   * Pausing, resuming and seeking act on the running kafkajs consumer. One crashed or stopped for a restart
   * has none (kafkajs throws "not initialized"), and its restart starts from the committed offsets with
   * nothing paused: there is nothing to do.
   */
  private whileRunning(act: () => void): void {
    if (this.stopped || this.restartPending) return;
    try {
      act();
    } catch (error) {
      if (!/not initialized/.test((error as Error)?.message ?? '')) throw error;
    }
  }

  async commit(offsets: TopicPartitionOffset[]): Promise<void> {
    await this.consumer.commitOffsets(offsets.map((o) => ({ topic: o.topic, partition: o.partition, offset: String(o.offset) })));
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearTimeout(this.restartTimer);
    // A restart's join in flight would leave a running consumer behind the disconnect: let it finish first.
    await this.restarting;
    await this.consumer.disconnect();
    this.partitions = [];
    this.held.clear();
    this.onClose();
    this.resolveDone();
  }
}
