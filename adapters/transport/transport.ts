/**
 * The log interface every processor is written against (docs/architecture.md,
 * "The pipeline"). Two implementations: Kafka (kafkajs) and the in-process
 * log (MemoryTransport), the embedded default. Values and keys
 * are bytes here; codecs (adapters/codec) turn them into events.
 *
 * Offsets follow Kafka: a committed offset is the offset of the NEXT record
 * to read, so committing `record.offset + 1` marks `record` as done.
 */

export interface TopicSpec {
  name: string;
  partitions: number;
  /** Log compaction (keep the latest value per key). */
  compacted?: boolean;
  /**
   * Keep records for ever (retention.ms = -1) instead of the broker's
   * default (7 days, counted from each record's timestamp, which is event
   * time for our outputs: history replayed through Kafka would be deleted
   * at once).
   */
  keepForever?: boolean;
  /**
   * Delete records this long after they were appended (retention.ms, with
   * message.timestamp.type = LogAppendTime: the broker stamps each record
   * with its arrival, so records that carry an old event time, e.g. history
   * replayed through Kafka, are not deleted at once). Ignored with keepForever.
   */
  retentionMs?: number;
  /**
   * Roll a new log segment at least this often (segment.ms). Compaction never
   * touches the active segment, so on a topic of large values replaced often
   * (the checkpoints) a reader would otherwise read every value written since
   * the segment began (up to 1 GB or 7 days by the broker's defaults).
   */
  segmentMs?: number;
  /** What feedbackloop reads from the topic, for `check`'s report of settings that delete it (runtime/topic-settings.ts); not a broker setting. */
  reads?: string;
}

export interface OutgoingRecord {
  topic: string;
  key: Buffer | null;
  value: Buffer | null;
  /** Explicit partition; otherwise chosen from the key (murmur2, as Kafka's default partitioner) or round robin without a key. */
  partition?: number;
  /** Epoch ms; defaults to now. */
  timestamp?: number;
  headers?: Record<string, string>;
  /**
   * The validated event `value` encodes, for the in-process log to carry
   * beside the bytes (MemoryTransport's `keepDecoded`); Kafka ignores it.
   */
  decoded?: unknown;
  /**
   * In place of `value` (then null), for a transport with `lazyValues` only: the
   * bytes of `decoded`, made when a reader first reads the record's `value`
   * (and `length` weighs them without making them).
   */
  lazyValue?: LazyValue;
  /** `decoded` is this validated copy already (its writer validated it; processors/decode.ts): in-process log only. */
  validated?: ValidatedCopy;
}

/**
 * A validated copy of a record's `decoded` event, with the contract and the limits it was made
 * under (processors/decode.ts's SharedContract; opaque here): a reader under the same takes it.
 */
export interface ValidatedCopy {
  contract: unknown;
  limits: unknown;
  value: unknown;
}

/** A record value encoded only when read (OutgoingRecord.lazyValue). */
export interface LazyValue {
  encode(): Buffer;
  length(): number;
}

export interface LogRecord {
  topic: string;
  partition: number;
  offset: number;
  key: Buffer | null;
  value: Buffer | null;
  timestamp: number;
  headers: Record<string, string>;
  /** The event `value` encodes, as it was produced (OutgoingRecord.decoded; the in-process log only). */
  decoded?: unknown;
  /** The first validated copy of `decoded` a reader made, or its writer's (OutgoingRecord.validated; in-process log only). */
  validated?: ValidatedCopy | undefined;
  /** The length of `value` without reading it (a lazily encoded record: reading `value` encodes it). */
  valueLength?(): number;
}

/** The bytes of a record's value; a lazily encoded one is weighed, not encoded. */
export function valueLength(record: LogRecord): number {
  return record.valueLength ? record.valueLength() : (record.value?.length ?? 0);
}

/** Records of one partition, in offset order. */
export interface PartitionBatch {
  topic: string;
  partition: number;
  records: LogRecord[];
  /** What to commit once every record of the batch is done: last offset + 1. */
  nextOffset: number;
  /**
   * The partition's end offset (the next offset to be written) when the batch
   * was fetched: a consumer at or past it has read everything there was.
   */
  highWatermark: number;
  /**
   * The consumer's assignment generation when the batch was delivered (equal
   * to `assignment().generation` at that moment). It changes whenever the
   * group rebalances (this member joined or rejoined), so a processor seeing a
   * new value knows its partitions may have been processed by another member
   * in between and must restore their state again before going on.
   */
  generation: number;
}

/** What a consumer holds right now (see PartitionBatch.generation). */
export interface ConsumerAssignment {
  /** 0 before the consumer first joined its group; grows by at least one at every (re)join. */
  generation: number;
  /** Assigned partitions, sorted by topic (subscription order) then partition. */
  partitions: Array<{ topic: string; partition: number }>;
}

export interface TopicPartitionOffset {
  topic: string;
  partition: number;
  /** The next offset to read. */
  offset: number;
}

/**
 * Group assignment is co-partitioned on both transports: partition p of every
 * subscribed topic goes to the same member, namely member p % memberCount
 * (members ordered by member id on Kafka, by join order in-process). So a
 * processor joining two topics keyed alike (same partition count, same key
 * partitioner) sees both sides of a key. Members with different subscriptions
 * split each topic among the members subscribed to it.
 */
export interface ConsumerOptions {
  groupId: string;
  topics: string[];
  /** Where to start when the group has no committed offset for a partition: true (default) = earliest, false = latest. */
  fromBeginning?: boolean;
  /** Upper bound on records per batch handed to the handler (default 500). */
  maxBatchSize?: number;
}

export type BatchHandler = (batch: PartitionBatch) => Promise<void>;

export interface LogConsumer {
  readonly groupId: string;
  /**
   * Starts delivering batches to `handler`, one at a time. Nothing is
   * committed automatically: call commit(), or commit through a
   * TransactionalProducer. Resolves once the consumer is running.
   */
  run(handler: BatchHandler): Promise<void>;
  /** The current generation and assigned partitions. */
  assignment(): ConsumerAssignment;
  /** Commits offsets for this consumer's group. */
  commit(offsets: TopicPartitionOffset[]): Promise<void>;
  /** Stops fetching these partitions until resume() (what was delivered stays delivered). */
  pause(partitions: Array<{ topic: string; partition: number }>): void;
  resume(partitions: Array<{ topic: string; partition: number }>): void;
  /**
   * Delivers these partitions again from the given offsets (records delivered
   * but not processed, e.g. held by a task that failed, come again).
   */
  seek(offsets: TopicPartitionOffset[]): void;
  /**
   * Tells the group this member is alive (Kafka: a heartbeat, sent only when
   * the heartbeat interval elapsed). For a handler or flush that waits long
   * (e.g. for ClickHouse) so the member keeps its partitions meanwhile.
   * Rejects when the group is rebalancing; then the member rejoins once the
   * handler returns.
   */
  heartbeat(): Promise<void>;
  /** Settles when the consumer stops: resolves on stop(), rejects if the handler threw (the consumer crashed). */
  readonly done: Promise<void>;
  /** Leaves the group; uncommitted work is re-delivered to whoever takes the partitions. */
  stop(): Promise<void>;
}

export interface LogProducer {
  /** Writes records; resolves when they are durable (acks=all on Kafka). */
  send(records: OutgoingRecord[]): Promise<void>;
  close(): Promise<void>;
}

/** Consume-transform-produce, exactly once: output records and input offsets commit together or not at all. */
export interface TransactionalProducer {
  sendWithOffsets(records: OutgoingRecord[], commit: { groupId: string; offsets: TopicPartitionOffset[] }): Promise<void>;
  close(): Promise<void>;
}

export interface LogTransport {
  /**
   * True when the transport takes OutgoingRecord.lazyValue (the in-process log
   * that keeps events beside their bytes); a writer gives it only then.
   */
  readonly lazyValues?: boolean;
  /** Creates the topics that do not exist yet (existing ones are left as they are). */
  ensureTopics(specs: TopicSpec[]): Promise<void>;
  /**
   * The settings in effect for an existing topic, by name (on Kafka its own and the broker's
   * defaults: cleanup.policy, retention.ms, message.timestamp.type, …; the in-process log: those
   * its spec implies), for `check`'s report of settings that delete what feedbackloop reads.
   * Throws if the topic does not exist.
   */
  topicSettings(topic: string): Promise<Map<string, string>>;
  /** Partition count of an existing topic; throws if the topic does not exist. */
  partitionCount(topic: string): Promise<number>;
  /** Committed offsets of a group for a topic (partitions without a commit are left out). */
  committedOffsets(groupId: string, topic: string): Promise<TopicPartitionOffset[]>;
  /** The end (high watermark: the next offset to be written) of every partition of a topic. */
  endOffsets(topic: string): Promise<TopicPartitionOffset[]>;
  producer(): Promise<LogProducer>;
  /**
   * A producer whose writes are transactional. Creating one with an id in use
   * fences the older producer (its later sends fail) and aborts that one's
   * open transaction before resolving.
   */
  transactionalProducer(transactionalId: string): Promise<TransactionalProducer>;
  consumer(options: ConsumerOptions): Promise<LogConsumer>;
  /**
   * Reads `partitions` of `topic` from the start of the log up to their end
   * offsets as of the call, for restoring state: committed records only
   * (records of aborted or still open transactions never appear), in offset
   * order per partition, then resolves with the end offset read up to (the
   * next offset, exclusive) of each partition. Records written after the
   * call are not delivered. Commits nothing and leaves no consumer group
   * behind. An empty partition resolves at once.
   *
   * On Kafka the end is the last stable offset: a transaction still open at
   * the call bounds the read at its first record, and committed records of
   * other producers after that point are not read either. That includes a
   * transaction whose commit() just resolved: the broker writes the commit
   * markers to the partitions right after. A caller that needs everything
   * must have such transactions ended first; creating a
   * transactionalProducer with the writer's id does that (it aborts the
   * open one, and returns once the broker completed it).
   *
   * `from` (partition -> offset) starts those partitions there instead of at
   * the log start (a restore that has a checkpoint re-reads only the tail
   * after it); records below it are not delivered.
   */
  readToEnd(
    topic: string,
    partitions: number[],
    onRecords: (records: LogRecord[]) => void | Promise<void>,
    from?: ReadonlyMap<number, number>,
  ): Promise<{ endOffsets: Map<number, number> }>;
  close(): Promise<void>;
}
