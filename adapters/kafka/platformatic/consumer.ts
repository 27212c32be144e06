/**
 * LogConsumer over @platformatic/kafka: the library keeps the group
 * membership (join, sync with the co-partitioned assigner, heartbeats on its
 * own timer, rejoin on a rebalance); this class runs the fetch loop itself
 * (fetcher.ts), so it can pause, resume and seek single partitions and hand
 * the handler one partition's records at a time.
 *
 * - Every join (the first and each rejoin) starts a new assignment
 *   generation: what was fetched before is dropped, and each partition then
 *   starts from its committed offset (or the log start or end).
 * - The library heartbeats even while a handler runs (kafkajs only between
 *   batches), so a slow handler keeps its partitions; a rebalance is noticed
 *   by the heartbeat, and heartbeat() below rejects until the rejoin.
 * - A broker fault in a fetch retries from where the loop was; one out of the
 *   handler restarts from the committed offsets; any other handler error ends
 *   the consumer (`done` rejects with it).
 */
import { ConnectionPool, ListOffsetTimestamps, type Consumer, type ConsumerGroupJoinPayload } from '@platformatic/kafka';
import { FeedbackloopError, isRetriable } from '../../../core/errors.js';
import type {
  BatchHandler,
  ConsumerAssignment,
  ConsumerOptions,
  LogConsumer,
  PartitionBatch,
  TopicPartitionOffset,
} from '../../transport/transport.js';
import { backoff, isBrokerFault } from '../errors.js';
import { CO_PARTITIONED_PROTOCOL, coPartitionedPlatformaticAssigner } from './assigner.js';
import { closeForced } from './close.js';
import { fetchPartitions, type FetchedPartition } from './fetcher.js';
import { listOffsets } from './read-to-end.js';

export interface GroupSettings {
  sessionTimeoutMs: number;
  heartbeatIntervalMs: number;
  rebalanceTimeoutMs: number;
  maxWaitMs: number;
}

/** The group membership a transactional offset commit is checked against (KIP-447). */
export interface GroupMembership {
  groupId: string;
  generationId: number;
  memberId: string;
  coordinatorId: number;
}

const tpKey = (topic: string, partition: number) => `${topic}\u0000${partition}`;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export class PlatformaticConsumer implements LogConsumer {
  readonly groupId: string;
  readonly done: Promise<void>;
  private resolveDone!: () => void;
  private rejectDone!: (error: unknown) => void;
  private stopped = false;
  private generation = 0;
  private partitions: ConsumerAssignment['partitions'] = [];
  /** Next offset to fetch per held partition; empty until loaded from the committed offsets after a join. */
  private positions = new Map<string, number>();
  private positionsLoaded = false;
  private readonly paused = new Set<string>();
  /** Grows at every join, seek and restart: a fetch or batch of an older epoch is dropped. */
  private epoch = 0;
  private rebalancing = false;
  private rejoining = false;
  private loop: Promise<void> | undefined;
  private readonly pool: ConnectionPool;

  constructor(
    private readonly client: Consumer,
    private readonly options: ConsumerOptions,
    private readonly settings: GroupSettings,
    private readonly onClose: () => void,
    connectionPool: ConnectionPool,
  ) {
    this.groupId = options.groupId;
    this.pool = connectionPool;
    this.done = new Promise<void>((resolve, reject) => {
      this.resolveDone = resolve;
      this.rejectDone = reject;
    });
    this.done.catch(() => {});
    client.on('consumer:group:join', (payload) => this.joined(payload));
    client.on('consumer:group:rebalance', () => {
      this.rebalancing = true;
    });
    client.on('consumer:heartbeat:error', () => this.rejoin());
  }

  /**
   * Joins the group again. @platformatic/kafka 1.35.0 stops heartbeating
   * after a heartbeat that failed for any other reason than a rebalance (a
   * broker away): it cancels its timer, then refreshes the cancelled one. The
   * coordinator then drops the member once its session times out, every
   * commit is refused (UNKNOWN_MEMBER_ID) and nothing rejoins: a member that
   * outlived a broker restart stalled for good. Called on each such heartbeat
   * failure, and by the transport when a commit says the member must rejoin.
   */
  rejoin(): void {
    if (this.stopped || this.rejoining) return;
    this.rejoining = true;
    this.rebalancing = true;
    this.join()
      .catch((error: unknown) => this.crash(error))
      .finally(() => {
        this.rejoining = false;
      });
  }

  private joined(payload: ConsumerGroupJoinPayload): void {
    this.generation++;
    this.epoch++;
    this.rebalancing = false;
    const assigned = new Map((payload.assignments ?? []).map((a) => [a.topic, a.partitions]));
    this.partitions = this.options.topics.flatMap((topic) =>
      [...(assigned.get(topic) ?? [])].sort((a, b) => a - b).map((partition) => ({ topic, partition })),
    );
    this.positions = new Map();
    this.positionsLoaded = false;
  }

  /** The membership of the current generation (for a transaction's offset commit). */
  membership(): GroupMembership | undefined {
    const { memberId, generationId, coordinatorId } = this.client;
    if (this.stopped || !memberId || coordinatorId === null) return undefined;
    return { groupId: this.groupId, generationId, memberId, coordinatorId };
  }

  /** Is this partition assigned to this member now? */
  holds(topic: string, partition: number): boolean {
    return this.partitions.some((tp) => tp.topic === topic && tp.partition === partition);
  }

  assignment(): ConsumerAssignment {
    return { generation: this.generation, partitions: this.partitions.map((tp) => ({ ...tp })) };
  }

  async run(handler: BatchHandler): Promise<void> {
    for (const topic of this.options.topics) this.client.topics.track(topic);
    await this.join();
    this.loop = this.fetchLoop(handler);
  }

  /** Joins the group, retrying broker faults until it is in or stopped. */
  private async join(): Promise<void> {
    for (let attempt = 0; !this.stopped; attempt++) {
      try {
        await this.client.joinGroup({
          sessionTimeout: this.settings.sessionTimeoutMs,
          heartbeatInterval: this.settings.heartbeatIntervalMs,
          rebalanceTimeout: this.settings.rebalanceTimeoutMs,
          protocols: [CO_PARTITIONED_PROTOCOL],
          partitionAssigner: coPartitionedPlatformaticAssigner,
        });
        return;
      } catch (error) {
        if (!isBrokerFault(error)) throw error;
        await sleep(backoff(attempt, 5_000));
      }
    }
  }

  private async fetchLoop(handler: BatchHandler): Promise<void> {
    let faults = 0;
    while (!this.stopped) {
      try {
        if (!this.positionsLoaded) await this.loadPositions();
        const epoch = this.epoch;
        const wanted = this.partitions.filter((tp) => !this.paused.has(tpKey(tp.topic, tp.partition)));
        if (wanted.length === 0) {
          await sleep(Math.min(100, this.settings.maxWaitMs));
          continue;
        }
        const positions = wanted.map((tp) => ({ ...tp, offset: this.positions.get(tpKey(tp.topic, tp.partition)) ?? 0 }));
        const fetched = await fetchPartitions(this.client, positions, { maxWaitMs: this.settings.maxWaitMs, maxBytesPerPartition: 1024 * 1024, pool: this.pool });
        for (const part of fetched) {
          if (this.stopped || epoch !== this.epoch) break;
          await this.deliver(part, epoch, handler);
        }
        faults = 0;
      } catch (error) {
        if (this.stopped) return;
        const cause = error instanceof HandlerError ? error.cause : error;
        if (!isBrokerFault(cause) && !isRetriable(cause)) return this.crash(cause);
        // Start again from the committed offsets (the handler may have kept records it did not commit).
        if (error instanceof HandlerError) this.positionsLoaded = false;
        await sleep(backoff(faults++, 5_000));
      }
    }
  }

  /** Hands one fetched partition to the handler, in chunks of at most maxBatchSize records. */
  private async deliver(part: FetchedPartition, epoch: number, handler: BatchHandler): Promise<void> {
    const key = tpKey(part.topic, part.partition);
    const maxBatchSize = this.options.maxBatchSize ?? 500;
    if (part.records.length === 0) {
      const at = this.positions.get(key);
      if (at === undefined || part.next <= at || this.paused.has(key)) return;
      // Only a commit marker (or an aborted transaction) past the position: hand the handler an empty
      // batch, so the processor commits past it. Skipping it unseen left a caught-up group one offset
      // behind for good when the marker came in a fetch of its own (the broker-restart test, 24,015 of 24,016).
      await this.handle(handler, { topic: part.topic, partition: part.partition, records: [], nextOffset: part.next, highWatermark: part.highWatermark, generation: this.generation });
      if (this.epoch === epoch) this.positions.set(key, part.next);
      return;
    }
    for (let start = 0; start < part.records.length; start += maxBatchSize) {
      if (this.stopped || epoch !== this.epoch || this.paused.has(key) || !this.positions.has(key)) return;
      const records = part.records.slice(start, start + maxBatchSize);
      // After the last chunk, resume past a trailing commit marker (it takes an offset of its own).
      const nextOffset = start + maxBatchSize >= part.records.length ? part.next : records[records.length - 1]!.offset + 1;
      await this.handle(handler, { topic: part.topic, partition: part.partition, records, nextOffset, highWatermark: part.highWatermark, generation: this.generation });
      // The handler rewound this partition (seek) or the group moved on: the new position stands.
      if (this.epoch !== epoch) return;
      this.positions.set(key, nextOffset);
    }
  }

  private async handle(handler: BatchHandler, batch: PartitionBatch): Promise<void> {
    try {
      await handler(batch);
    } catch (error) {
      throw new HandlerError(error);
    }
  }

  /** Each held partition's committed offset, or the log start (fromBeginning) or end. */
  private async loadPositions(): Promise<void> {
    const epoch = this.epoch;
    const held = this.partitions;
    const topics = [...new Set(held.map((tp) => tp.topic))];
    const committed = topics.length === 0 ? new Map<string, bigint[]>() : await this.client.listCommittedOffsets({
      topics: topics.map((topic) => ({ topic, partitions: held.filter((tp) => tp.topic === topic).map((tp) => tp.partition) })),
    });
    const positions = new Map<string, number>();
    for (const topic of topics) {
      const fallback = await listOffsets(this.client, topic, this.options.fromBeginning === false ? ListOffsetTimestamps.LATEST : ListOffsetTimestamps.EARLIEST);
      for (const { partition } of held.filter((tp) => tp.topic === topic)) {
        const offset = committed.get(topic)?.[partition];
        positions.set(tpKey(topic, partition), offset !== undefined && offset >= 0n ? Number(offset) : (fallback[partition] ?? 0));
      }
    }
    if (epoch !== this.epoch) return;
    this.positions = positions;
    this.positionsLoaded = true;
  }

  /** The handler failed in a way a retry cannot mend: the consumer ends and `done` rejects. */
  private async crash(cause: unknown): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await closeForced(this.client);
    await this.pool.close().catch(() => {});
    this.onClose();
    this.rejectDone(cause);
  }

  async heartbeat(): Promise<void> {
    if (this.rebalancing) throw new FeedbackloopError(`group ${this.groupId} is rebalancing`, { retriable: true });
  }

  pause(partitions: Array<{ topic: string; partition: number }>): void {
    for (const { topic, partition } of partitions) this.paused.add(tpKey(topic, partition));
  }

  resume(partitions: Array<{ topic: string; partition: number }>): void {
    for (const { topic, partition } of partitions) this.paused.delete(tpKey(topic, partition));
  }

  /** The next fetch of each partition starts there; the rest of a fetch in hand is dropped. */
  seek(offsets: TopicPartitionOffset[]): void {
    if (!this.positionsLoaded) return;
    this.epoch++;
    for (const { topic, partition, offset } of offsets) {
      if (this.positions.has(tpKey(topic, partition))) this.positions.set(tpKey(topic, partition), offset);
    }
  }

  async commit(offsets: TopicPartitionOffset[]): Promise<void> {
    if (offsets.length === 0) return;
    await this.client.commit({ offsets: offsets.map((o) => ({ topic: o.topic, partition: o.partition, offset: BigInt(o.offset), leaderEpoch: -1 })) });
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await this.loop?.catch(() => {});
    await closeForced(this.client);
    await this.pool.close().catch(() => {});
    this.partitions = [];
    this.onClose();
    this.resolveDone();
  }
}

/** An error out of the batch handler (not the fetch). */
class HandlerError extends Error {
  constructor(override readonly cause: unknown) {
    super((cause as Error)?.message ?? String(cause));
    this.name = 'HandlerError';
  }
}
