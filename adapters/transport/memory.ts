/**
 * The in-process log: the embedded default transport. Same contract as the
 * Kafka transport (see test/contract), no servers. Topics are arrays of
 * records per partition; consumer groups hold committed offsets and split
 * partitions among their members.
 *
 * Group assignment is co-partitioned (adapters/log/co-partition.ts): members
 * in join order, partition p of every subscribed topic to member
 * p % memberCount. Every join or leave is a rebalance: each member's
 * generation grows and its positions restart from the committed offsets.
 *
 * Delivery order: a consumer takes the next batch from the partition whose
 * next record has the smallest timestamp (ties: topic order of the
 * subscription, then partition), so a replay of files merged by timestamp is
 * processed in event-time order, deterministically. A batch runs up to the
 * next record of a co-partitioned sibling (same partition number, another
 * topic), so records of different partition numbers may come in larger
 * batches out of global timestamp order: each partition number is one
 * independent task of a processor.
 */
import { FeedbackloopError, ProducerFencedError } from '../../core/errors.js';
import { coPartitionedAssignment } from './co-partition.js';
import { partitionForKey } from './partitioner.js';
import { MemoryConsumer, tpKey } from './memory-consumer.js';
import { LazyRecord } from './lazy-record.js';
import { PartitionLog } from './partition-log.js';
import { topicConfigEntries } from '../kafka/topic-configs.js';
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
} from './transport.js';

interface MemoryTopic {
  spec: TopicSpec;
  partitions: PartitionLog[];
  roundRobin: number;
}

interface MemoryGroup {
  committed: Map<string, number>;
  members: MemoryConsumer[];
}


/** The headers of a record written without any: one object, never written to. */
const NO_HEADERS: Record<string, string> = Object.freeze({});

/** Records per onRecords call of readToEnd. */
const READ_CHUNK = 500;

export class MemoryTransport implements LogTransport {
  private readonly topics = new Map<string, MemoryTopic>();
  private readonly groups = new Map<string, MemoryGroup>();
  private readonly transactionalOwners = new Map<string, MemoryTransactionalProducer>();
  private changeWaiters: Array<() => void> = [];
  private idleWaiters: Array<{ resolve: () => void; reject: (e: unknown) => void }> = [];
  private crashError: unknown = undefined;
  private closed = false;

  /**
   * @param keepDecoded keep each record's `decoded` event beside its bytes,
   * so a reader skips the codec (processors/decode.ts); the replay's choice.
   */
  constructor(
    private readonly now: () => number = Date.now,
    private readonly keepDecoded = false,
  ) {}

  async ensureTopics(specs: TopicSpec[]): Promise<void> {
    const created = new Set<string>();
    for (const spec of specs) {
      if (!Number.isInteger(spec.partitions) || spec.partitions < 1) {
        throw new FeedbackloopError(`topic ${spec.name}: partitions must be a positive integer, got ${spec.partitions}`);
      }
      if (this.topics.has(spec.name)) continue;
      this.topics.set(spec.name, {
        spec: { ...spec },
        partitions: Array.from({ length: spec.partitions }, () => new PartitionLog()),
        roundRobin: 0,
      });
      created.add(spec.name);
    }
    // Only groups subscribed to a new topic change (today none can be: consumer() needs existing topics).
    for (const group of this.groups.values()) {
      if (group.members.some((m) => m.topics.some((t) => created.has(t)))) this.rebalance(group);
    }
  }

  /** No broker: the settings its spec implies, as Kafka would have been given them (adapters/kafka/topic-configs.ts). */
  async topicSettings(topic: string): Promise<Map<string, string>> {
    return new Map(topicConfigEntries(this.topic(topic).spec).map((e) => [e.name, e.value]));
  }

  async partitionCount(topic: string): Promise<number> {
    return this.topic(topic).partitions.length;
  }

  async endOffsets(topic: string): Promise<TopicPartitionOffset[]> {
    return this.topic(topic).partitions.map((records, partition) => ({ topic, partition, offset: records.end }));
  }

  async committedOffsets(groupId: string, topic: string): Promise<TopicPartitionOffset[]> {
    const group = this.groups.get(groupId);
    const partitions = this.topic(topic).partitions.length;
    const out: TopicPartitionOffset[] = [];
    for (let partition = 0; partition < partitions; partition++) {
      const offset = group?.committed.get(tpKey(topic, partition));
      if (offset !== undefined) out.push({ topic, partition, offset });
    }
    return out;
  }

  async producer(): Promise<LogProducer> {
    return {
      send: async (records) => this.append(records),
      close: async () => {},
    };
  }

  async transactionalProducer(transactionalId: string): Promise<TransactionalProducer> {
    const producer = new MemoryTransactionalProducer(this, transactionalId);
    this.transactionalOwners.set(transactionalId, producer);
    return producer;
  }

  async consumer(options: ConsumerOptions): Promise<LogConsumer> {
    for (const topic of options.topics) this.topic(topic);
    return new MemoryConsumer(this, options);
  }

  async readToEnd(
    topic: string,
    partitions: number[],
    onRecords: (records: LogRecord[]) => void | Promise<void>,
    from?: ReadonlyMap<number, number>,
  ): Promise<{ endOffsets: Map<number, number> }> {
    const log = this.topic(topic);
    // The ends as of the call: records appended while we deliver are not read.
    const endOffsets = new Map<number, number>();
    for (const partition of partitions) {
      const records = log.partitions[partition];
      if (!records) throw new FeedbackloopError(`topic ${topic} has no partition ${partition}`);
      endOffsets.set(partition, records.end);
    }
    for (const [partition, end] of endOffsets) {
      const records = log.partitions[partition]!;
      // From `from` (or the earliest retained record); positions are looked up again after each await (a release may run meanwhile).
      for (let next = Math.max(0, from?.get(partition) ?? 0); next < end; ) {
        const chunk = records.slice(next, end, READ_CHUNK);
        if (chunk.length === 0) break;
        await onRecords(chunk);
        next = chunk[chunk.length - 1]!.offset + 1;
      }
    }
    return { endOffsets };
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const group of this.groups.values()) {
      for (const member of [...group.members]) await member.stop();
    }
    this.notifyChange();
  }

  /** Number of records in a partition (its end offset). */
  endOffset(topic: string, partition: number): number {
    const records = this.topic(topic).partitions[partition];
    if (!records) throw new FeedbackloopError(`topic ${topic} has no partition ${partition}`);
    return records.end;
  }

  /** All retained records of a topic, partition by partition, in offset order (for tests). */
  records(topic: string): LogRecord[] {
    return this.topic(topic).partitions.flatMap((p) => p.all());
  }

  /** The retained records of a partition from `offset` on (the earliest retained one if it was freed). */
  readFrom(topic: string, partition: number, offset: number): LogRecord[] {
    const log = this.topic(topic).partitions[partition];
    if (!log) throw new FeedbackloopError(`topic ${topic} has no partition ${partition}`);
    return log.slice(offset, log.end);
  }

  /** The record at an offset, if it is retained. */
  recordAt(topic: string, partition: number, offset: number): LogRecord | undefined {
    const found = this.topic(topic).partitions[partition]?.first(offset)?.record;
    return found?.offset === offset ? found : undefined;
  }

  /** Records retained per topic (every partition), e.g. to see what a release left. */
  retained(): Map<string, number> {
    const out = new Map<string, number>();
    for (const [name, topic] of this.topics) out.set(name, topic.partitions.reduce((sum, p) => sum + p.retained, 0));
    return out;
  }

  /**
   * Resolves when every running consumer has caught up with its partitions
   * and is not inside its handler; rejects if a consumer crashed.
   */
  whenIdle(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.idleWaiters.push({ resolve, reject });
      this.checkIdle();
    });
  }

  /** Forgets a consumer's crash, so whenIdle() waits for the members started after it (a restart). */
  forgetCrash(): void {
    this.crashError = undefined;
  }

  /**
   * Frees what every reader has consumed (the replay calls it between its
   * chunks; nothing is freed otherwise). A partition's readers are the
   * consumer groups that read or committed it (their committed offset and
   * each member's next offset) and `readers` (offsets of readers outside
   * the log, e.g. the replay's own, of the topics it reads). Below the
   * lowest of them, a plain topic's records are freed; a compacted topic
   * keeps the latest record per key there (everywhere when it has no
   * reader: a compacted topic is read whole, by restores). A plain topic
   * with no reader keeps everything. A reader that asks for a freed offset
   * gets the earliest retained one. Restores that re-read a partition from
   * its start (the evaluator's, the promoter's, the shadow feeds') then see
   * only what is retained: call it only where no processor restarts.
   */
  release(readers: TopicPartitionOffset[] = []): void {
    for (const [name, topic] of this.topics) {
      topic.partitions.forEach((log, partition) => {
        const own = readers.filter((r) => r.topic === name && r.partition === partition).map((r) => r.offset);
        const below = lowest([...own, ...this.groupOffsets(name, partition)]);
        if (topic.spec.compacted) log.compactBelow(below ?? log.end);
        else if (below !== undefined) log.freeBelow(below);
      });
    }
  }

  /** Where each consumer group that reads or committed a partition stands on it (0 for a reader with neither). */
  private groupOffsets(topic: string, partition: number): number[] {
    const out: number[] = [];
    for (const group of this.groups.values()) {
      const committed = group.committed.get(tpKey(topic, partition));
      const readers = group.members.filter((m) => m.topics.includes(topic));
      const held = readers.map((m) => m.position(topic, partition)).filter((next) => next !== undefined);
      if (committed !== undefined) out.push(committed);
      for (const next of held) out.push(next);
      // Subscribed, but neither held nor committed yet: it will read from the start.
      if (readers.length > 0 && held.length === 0 && committed === undefined) out.push(0);
    }
    return out;
  }

  // ------------------------------------------------------------ internals

  topic(name: string): MemoryTopic {
    const topic = this.topics.get(name);
    if (!topic) throw new FeedbackloopError(`topic ${name} does not exist (create it with ensureTopics first)`);
    return topic;
  }

  append(records: OutgoingRecord[]): void {
    if (this.closed) throw new FeedbackloopError('the in-process log is closed');
    // Place (and encode, where a value is lazy and not kept so) everything first, so a bad record leaves nothing half written.
    const stored = records.map((record) => this.stored(record, this.placeOf(record)));
    for (const record of stored) this.topic(record.topic).partitions[record.partition]!.push(record);
    this.notifyChange();
  }

  /** The partition a record goes to: its own, or by its key (murmur2), or round robin without one. */
  private placeOf(record: OutgoingRecord): number {
    const topic = this.topic(record.topic);
    let partition = record.partition;
    if (partition === undefined) {
      // One partition: no hash of the key to find it (the replay's topics).
      partition = record.key
        ? topic.partitions.length === 1 ? 0 : partitionForKey(record.key, topic.partitions.length)
        : topic.roundRobin++ % topic.partitions.length;
    }
    if (!topic.partitions[partition]) {
      throw new FeedbackloopError(`topic ${record.topic} has no partition ${partition}`);
    }
    return partition;
  }

  /** True when it keeps events beside their bytes: it then takes lazily encoded values (OutgoingRecord.lazyValue). */
  get lazyValues(): boolean {
    return this.keepDecoded;
  }

  /** A record as the log keeps it (its offset is set by the partition). */
  private stored(record: OutgoingRecord, partition: number): LogRecord {
    const timestamp = record.timestamp ?? this.now();
    const headers = record.headers ? { ...record.headers } : NO_HEADERS;
    const { lazyValue } = record;
    if (lazyValue && this.keepDecoded) return new LazyRecord(record.topic, partition, -1, record.key, lazyValue, timestamp, headers, record.decoded, record.validated);
    return {
      topic: record.topic,
      partition,
      offset: -1,
      key: record.key,
      value: lazyValue ? lazyValue.encode() : record.value,
      timestamp,
      headers,
      ...(this.keepDecoded && record.decoded !== undefined ? { decoded: record.decoded, validated: record.validated } : {}),
    };
  }

  commitOffsets(groupId: string, offsets: TopicPartitionOffset[]): void {
    const group = this.group(groupId);
    for (const { topic, partition, offset } of offsets) {
      if (!this.topic(topic).partitions[partition]) {
        throw new FeedbackloopError(`cannot commit ${topic}/${partition}: no such partition`);
      }
      group.committed.set(tpKey(topic, partition), offset);
    }
  }

  isCurrentTransactionalOwner(id: string, producer: MemoryTransactionalProducer): boolean {
    return this.transactionalOwners.get(id) === producer;
  }

  group(groupId: string): MemoryGroup {
    let group = this.groups.get(groupId);
    if (!group) {
      group = { committed: new Map(), members: [] };
      this.groups.set(groupId, group);
    }
    return group;
  }

  join(groupId: string, member: MemoryConsumer): void {
    const group = this.group(groupId);
    group.members.push(member);
    this.rebalance(group);
  }

  leave(groupId: string, member: MemoryConsumer): void {
    const group = this.group(groupId);
    group.members = group.members.filter((m) => m !== member);
    this.rebalance(group);
  }

  /** Co-partitioned assignment over the members in join order: partition p of every topic to member p % count. */
  private rebalance(group: MemoryGroup): void {
    const topics = [...new Set(group.members.flatMap((m) => m.topics))].flatMap((name) => {
      const topic = this.topics.get(name);
      return topic ? [{ topic: name, partitions: topic.partitions.map((_, p) => p) }] : [];
    });
    const assignment = coPartitionedAssignment(
      group.members.map((m) => ({ id: m.memberId, topics: m.topics })),
      topics,
    );
    for (const member of group.members) {
      const partitions: Array<[string, number]> = [];
      for (const topic of member.topics) {
        for (const p of assignment.get(member.memberId)?.get(topic) ?? []) partitions.push([topic, p]);
      }
      member.assign(partitions, group.committed);
    }
    this.notifyChange();
  }

  waitForChange(): Promise<void> {
    return new Promise((resolve) => this.changeWaiters.push(resolve));
  }

  notifyChange(): void {
    const waiters = this.changeWaiters;
    this.changeWaiters = [];
    for (const wake of waiters) wake();
    this.checkIdle();
  }

  reportCrash(error: unknown): void {
    this.crashError = error;
    this.checkIdle();
  }

  checkIdle(): void {
    if (this.idleWaiters.length === 0) return;
    if (this.crashError !== undefined) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w.reject(this.crashError);
      return;
    }
    for (const group of this.groups.values()) {
      for (const member of group.members) if (!member.isIdle()) return;
    }
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    // Resolve on a later tick: a handler that just returned may still be committing.
    setImmediate(() => {
      for (const w of waiters) w.resolve();
    });
  }
}

/** The smallest of the offsets; undefined for none. */
function lowest(offsets: number[]): number | undefined {
  let min: number | undefined;
  for (const o of offsets) if (min === undefined || o < min) min = o;
  return min;
}

class MemoryTransactionalProducer implements TransactionalProducer {
  private closed = false;

  constructor(
    private readonly log: MemoryTransport,
    private readonly transactionalId: string,
  ) {}

  async sendWithOffsets(records: OutgoingRecord[], commit: { groupId: string; offsets: TopicPartitionOffset[] }): Promise<void> {
    if (this.closed) throw new FeedbackloopError(`transactional producer ${this.transactionalId} is closed`);
    if (!this.log.isCurrentTransactionalOwner(this.transactionalId, this)) {
      throw new ProducerFencedError(`transactional producer ${this.transactionalId} was fenced by a newer instance`);
    }
    // Validate offsets before writing anything, so the transaction is all or nothing.
    for (const { topic, partition } of commit.offsets) {
      if (!this.log.topic(topic).partitions[partition]) {
        throw new FeedbackloopError(`cannot commit ${topic}/${partition}: no such partition`);
      }
    }
    this.log.append(records);
    this.log.commitOffsets(commit.groupId, commit.offsets);
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}
