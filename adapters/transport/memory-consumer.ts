/**
 * A member of a consumer group of the in-process log (memory.ts): it holds
 * the partitions the group's rebalance gave it and delivers batches from the
 * partition whose next record has the smallest timestamp (see memory.ts for
 * the delivery order), honouring pause, resume and seek.
 */
import { FeedbackloopError } from '../../core/errors.js';
import type { MemoryTransport } from './memory.js';
import type {
  BatchHandler,
  ConsumerAssignment,
  ConsumerOptions,
  LogConsumer,
  LogRecord,
  PartitionBatch,
  TopicPartitionOffset,
} from './transport.js';

export const tpKey = (topic: string, partition: number) => `${topic}\u0000${partition}`;

let memberSequence = 0;

export class MemoryConsumer implements LogConsumer {
  readonly groupId: string;
  readonly memberId = `member-${++memberSequence}`;
  readonly topics: string[];
  readonly done: Promise<void>;
  private readonly fromBeginning: boolean;
  private readonly maxBatchSize: number;
  /** Next offset to deliver, per assigned partition. */
  private positions = new Map<string, { topic: string; partition: number; next: number }>();
  /** Paused partitions (by tpKey): not delivered until resumed. */
  private readonly paused = new Set<string>();
  /** Partitions sought since the batch in hand was taken: their position is the seek's, not past the batch. */
  private readonly sought = new Set<string>();
  private generation = 0;
  private running = false;
  private busy = false;
  private stopped = false;
  private resolveDone!: () => void;
  private rejectDone!: (error: unknown) => void;

  constructor(
    private readonly log: MemoryTransport,
    options: ConsumerOptions,
  ) {
    this.groupId = options.groupId;
    this.topics = [...options.topics];
    this.fromBeginning = options.fromBeginning ?? true;
    this.maxBatchSize = options.maxBatchSize ?? 500;
    this.done = new Promise<void>((resolve, reject) => {
      this.resolveDone = resolve;
      this.rejectDone = reject;
    });
    // A crash is reported through `done` and whenIdle(); never an unhandled rejection.
    this.done.catch(() => {});
  }

  async run(handler: BatchHandler): Promise<void> {
    if (this.running) throw new FeedbackloopError(`consumer of group ${this.groupId} is already running`);
    if (this.stopped) throw new FeedbackloopError(`consumer of group ${this.groupId} was stopped`);
    this.running = true;
    this.log.join(this.groupId, this);
    void this.loop(handler);
  }

  assignment(): ConsumerAssignment {
    return {
      generation: this.generation,
      partitions: [...this.positions.values()].map(({ topic, partition }) => ({ topic, partition })),
    };
  }

  /** Nothing to tell: in-process members never time out. */
  async heartbeat(): Promise<void> {}

  async commit(offsets: TopicPartitionOffset[]): Promise<void> {
    this.log.commitOffsets(this.groupId, offsets);
  }

  pause(partitions: Array<{ topic: string; partition: number }>): void {
    for (const { topic, partition } of partitions) this.paused.add(tpKey(topic, partition));
  }

  resume(partitions: Array<{ topic: string; partition: number }>): void {
    for (const { topic, partition } of partitions) this.paused.delete(tpKey(topic, partition));
    this.log.notifyChange();
  }

  seek(offsets: TopicPartitionOffset[]): void {
    for (const { topic, partition, offset } of offsets) {
      const position = this.positions.get(tpKey(topic, partition));
      if (position) position.next = offset;
      this.sought.add(tpKey(topic, partition));
    }
    this.log.notifyChange();
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.running) this.log.leave(this.groupId, this);
    this.positions.clear();
    this.log.notifyChange();
    this.resolveDone();
  }

  assign(partitions: Array<[string, number]>, committed: Map<string, number>): void {
    this.generation++;
    const next = new Map<string, { topic: string; partition: number; next: number }>();
    for (const [topic, partition] of partitions) {
      const key = tpKey(topic, partition);
      const start = committed.get(key) ?? (this.fromBeginning ? 0 : this.log.endOffset(topic, partition));
      next.set(key, { topic, partition, next: start });
    }
    this.positions = next;
  }

  /** The next offset this member will deliver of a partition it holds (undefined: not held). */
  position(topic: string, partition: number): number | undefined {
    return this.positions.get(tpKey(topic, partition))?.next;
  }

  isIdle(): boolean {
    if (!this.running || this.stopped) return true;
    return !this.busy && this.pickPartition() === undefined;
  }

  private pickPartition(): { topic: string; partition: number; next: number } | undefined {
    let best: { topic: string; partition: number; next: number } | undefined;
    let bestTs = Infinity;
    let bestRank = Infinity;
    for (const position of this.positions.values()) {
      if (this.paused.has(tpKey(position.topic, position.partition))) continue;
      const head = this.log.topic(position.topic).partitions[position.partition]!.first(position.next)?.record;
      if (!head) continue;
      const rank = this.topics.indexOf(position.topic) * 1e6 + position.partition;
      if (head.timestamp < bestTs || (head.timestamp === bestTs && rank < bestRank)) {
        best = position;
        bestTs = head.timestamp;
        bestRank = rank;
      }
    }
    return best;
  }

  private nextBatch(): PartitionBatch | undefined {
    const position = this.pickPartition();
    if (!position) return undefined;
    const log = this.log.topic(position.topic).partitions[position.partition]!;
    const first = log.first(position.next)!;
    // Stay in event-time order among co-partitioned siblings (partition p of the other topics, which a
    // processor handles as one task): take records up to the next head of any of them. Partitions with
    // other numbers are independent tasks, so their heads do not cut the batch short.
    let limit = Infinity;
    for (const other of this.positions.values()) {
      if (other === position || other.partition !== position.partition) continue;
      const head = this.log.topic(other.topic).partitions[other.partition]!.first(other.next)?.record;
      if (head && head.timestamp < limit) limit = head.timestamp;
    }
    const records: LogRecord[] = [];
    for (let index = first.index; records.length < this.maxBatchSize; index++) {
      const record = log.at(index);
      if (!record) break;
      if (records.length > 0 && record.timestamp > limit) break;
      records.push(record);
    }
    const last = records[records.length - 1]!;
    return {
      topic: position.topic,
      partition: position.partition,
      records,
      nextOffset: last.offset + 1,
      highWatermark: log.end,
      generation: this.generation,
    };
  }

  private async loop(handler: BatchHandler): Promise<void> {
    let lastYield = performance.now();
    while (!this.stopped) {
      const batch = this.nextBatch();
      if (!batch) {
        await this.log.waitForChange();
        continue;
      }
      const generation = batch.generation;
      this.sought.clear();
      this.busy = true;
      try {
        await handler(batch);
      } catch (error) {
        this.busy = false;
        this.stopped = true;
        // The crash first: leaving makes every member idle, and whenIdle() must not resolve on that.
        this.rejectDone(error);
        this.log.reportCrash(error);
        this.log.leave(this.groupId, this);
        return;
      }
      this.busy = false;
      // After a rebalance the partition may belong to someone else now; they start from the committed offset.
      const position = this.positions.get(tpKey(batch.topic, batch.partition));
      if (position && generation === this.generation && !this.sought.has(tpKey(batch.topic, batch.partition))) position.next = batch.nextOffset;
      this.log.checkIdle();
      // Let other consumers and timers run, every few milliseconds of work.
      if (performance.now() - lastYield > 5) {
        await new Promise<void>((resolve) => setImmediate(resolve));
        lastYield = performance.now();
      }
    }
  }
}
