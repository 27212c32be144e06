/**
 * An adversarial delivery order for tests: a LogTransport over the
 * in-process log whose consumers deliver one topic's backlog before any
 * other (as a Kafka consumer catching up may fetch one topic far ahead of
 * another), honouring pause, resume and seek. Single member: it holds every
 * partition of its topics, generation 1. Everything else is the in-process
 * log itself.
 */
import type { MemoryTransport } from '../../adapters/transport/memory.js';
import type {
  BatchHandler,
  ConsumerAssignment,
  ConsumerOptions,
  LogConsumer,
  LogTransport,
  TopicPartitionOffset,
} from '../../adapters/transport/transport.js';

/** The in-process log as a LogTransport, with some of its methods replaced. */
export function delegating(log: MemoryTransport, overrides: Partial<LogTransport>): LogTransport {
  return {
    ensureTopics: (specs) => log.ensureTopics(specs),
    topicSettings: (topic) => log.topicSettings(topic),
    partitionCount: (topic) => log.partitionCount(topic),
    committedOffsets: (group, topic) => log.committedOffsets(group, topic),
    endOffsets: (topic) => log.endOffsets(topic),
    producer: () => log.producer(),
    transactionalProducer: (id) => log.transactionalProducer(id),
    consumer: (options) => log.consumer(options),
    readToEnd: (topic, partitions, onRecords, from) => log.readToEnd(topic, partitions, onRecords, from),
    close: () => log.close(),
    ...overrides,
  };
}

export function greedyTransport(log: MemoryTransport, first: string): LogTransport {
  return delegating(log, { consumer: async (options) => new GreedyConsumer(log, options, (topic) => (topic === first ? 0 : 1)) });
}

/**
 * Delivers partitions in the order given (`topic:partition`, each one's
 * whole backlog before the next), then any other: e.g. one partition's
 * feedback, then another partition's both topics, then the first one's
 * predictions.
 */
export function scriptedTransport(log: MemoryTransport, order: string[]): LogTransport {
  const rank = (topic: string, partition: number) => {
    const i = order.indexOf(`${topic}:${partition}`);
    return i < 0 ? order.length : i;
  };
  return delegating(log, { consumer: async (options) => new GreedyConsumer(log, options, rank) });
}

const key = (topic: string, partition: number) => `${topic}\u0000${partition}`;

class GreedyConsumer implements LogConsumer {
  readonly groupId: string;
  readonly done: Promise<void>;
  /** Batches delivered, by topic, in order (for the test to show the order was adversarial). */
  readonly delivered: string[] = [];
  private readonly positions = new Map<string, { topic: string; partition: number; next: number }>();
  private readonly paused = new Set<string>();
  private stopped = false;
  private resolveDone!: () => void;
  private rejectDone!: (error: unknown) => void;

  constructor(
    private readonly log: MemoryTransport,
    private readonly options: ConsumerOptions,
    /** Lower first: the partition with records and the lowest rank is delivered next. */
    private readonly rank: (topic: string, partition: number) => number,
  ) {
    this.groupId = options.groupId;
    this.done = new Promise<void>((resolve, reject) => {
      this.resolveDone = resolve;
      this.rejectDone = reject;
    });
    this.done.catch(() => {});
  }

  async run(handler: BatchHandler): Promise<void> {
    for (const topic of this.options.topics) {
      const committed = new Map((await this.log.committedOffsets(this.groupId, topic)).map((o) => [o.partition, o.offset]));
      const partitions = await this.log.partitionCount(topic);
      for (let partition = 0; partition < partitions; partition++) {
        this.positions.set(key(topic, partition), { topic, partition, next: committed.get(partition) ?? 0 });
      }
    }
    void this.loop(handler);
  }

  private pick(): { topic: string; partition: number; next: number } | undefined {
    let best: { topic: string; partition: number; next: number } | undefined;
    for (const position of this.positions.values()) {
      if (this.paused.has(key(position.topic, position.partition))) continue;
      if (position.next >= this.log.endOffset(position.topic, position.partition)) continue;
      if (!best || this.rank(position.topic, position.partition) < this.rank(best.topic, best.partition)) best = position;
    }
    return best;
  }

  private async loop(handler: BatchHandler): Promise<void> {
    while (!this.stopped) {
      const position = this.pick();
      if (!position) {
        await new Promise((resolve) => setTimeout(resolve, 1));
        continue;
      }
      const end = this.log.endOffset(position.topic, position.partition);
      const records = this.log.records(position.topic).filter((r) => r.partition === position.partition && r.offset >= position.next).slice(0, 500);
      const nextOffset = records[records.length - 1]!.offset + 1;
      this.delivered.push(position.topic);
      const before = position.next;
      try {
        await handler({ topic: position.topic, partition: position.partition, records, nextOffset, highWatermark: end, generation: 1 });
      } catch (error) {
        this.stopped = true;
        this.rejectDone(error);
        return;
      }
      if (position.next === before) position.next = nextOffset; // unless the handler sought elsewhere
    }
  }

  assignment(): ConsumerAssignment {
    return { generation: 1, partitions: [...this.positions.values()].map(({ topic, partition }) => ({ topic, partition })) };
  }

  async commit(offsets: TopicPartitionOffset[]): Promise<void> {
    this.log.commitOffsets(this.groupId, offsets);
  }

  pause(partitions: Array<{ topic: string; partition: number }>): void {
    for (const p of partitions) this.paused.add(key(p.topic, p.partition));
  }

  resume(partitions: Array<{ topic: string; partition: number }>): void {
    for (const p of partitions) this.paused.delete(key(p.topic, p.partition));
  }

  seek(offsets: TopicPartitionOffset[]): void {
    for (const o of offsets) {
      const position = this.positions.get(key(o.topic, o.partition));
      if (position) position.next = o.offset;
    }
  }

  async heartbeat(): Promise<void> {}

  async stop(): Promise<void> {
    this.stopped = true;
    this.resolveDone();
  }
}
