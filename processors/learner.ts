/**
 * The learner processor: labelled examples -> model snapshots.
 *
 * One task per partition p of `labelled-examples` (keyed by model, so a
 * model's examples all reach one task), with its own ChallengerTrainer (core/learn).
 * Snapshots of partition p's models go to partition p of `model-snapshots`
 * (the two topics have the same partition count; checked at start).
 *
 * Exactly once: examples are learned as they come, but offsets move only
 * with snapshots. Every `snapshotEvery` records of a partition (or
 * `snapshotIntervalMs` after the first unpublished one) the task publishes
 * a snapshot of every challenger that learned since its last one, the dead
 * letters, and the input offset in one transaction. A task that (re)starts
 * on a partition fences the previous owner (transactional id
 * `<prefix>-<p>`), restores the latest snapshot of each challenger from
 * partition p of `model-snapshots`, and resumes from the committed offset:
 * exactly the state the published snapshots hold.
 */
import { SerialQueue } from '../core/serial.js';
import { parseSnapshotVersion } from '../core/contracts/index.js';
import type { Clock } from '../core/clock.js';
import { FeedbackloopError } from '../core/errors.js';
import { validateLabelledExample, type DeadLetter, type LabelledExample, type ModelSnapshot } from '../core/events.js';
import { ChallengerTrainer, type TrainerOptions } from '../core/learn/index.js';
import type { Codec } from '../adapters/codec/codec.js';
import type { LogConsumer, LogTransport, OutgoingRecord, PartitionBatch, TransactionalProducer } from '../adapters/log/transport.js';
import { decodeRecord } from './decode.js';

export const LEARNER_STAGE = 'learner';

export interface LearnerTopics {
  labelled: string;
  snapshots: string;
  deadLetters: string;
}

export interface LearnerProcessorDeps {
  transport: LogTransport;
  topics: LearnerTopics;
  groupId: string;
  /** Transactional ids are `<prefix>-<partition>`. */
  transactionalIdPrefix: string;
  codecs: { labelled: Codec<LabelledExample>; snapshot: Codec<ModelSnapshot>; deadLetter: Codec<DeadLetter> };
  learner: Partial<TrainerOptions>;
  /** Publish after this many examples of a partition. */
  snapshotEvery: number;
  /** ... or this long after the first unpublished example. */
  snapshotIntervalMs: number;
  /**
   * `event-time`: a snapshot's created_at is the event time of the newest
   * example it learned (replay: the shadow scorer then knows which snapshots
   * existed at a prediction's time). `clock`: the wall clock (run).
   */
  createdAt: 'event-time' | 'clock';
  clock: Clock;
  /** After each published transaction (for metrics and tests). */
  onPublished?: (partition: number, snapshots: ModelSnapshot[]) => void;
}

interface Task {
  partition: number;
  generation: number;
  learner: ChallengerTrainer;
  producer: TransactionalProducer;
  /** Offset after the last learned record, and what is committed. */
  position: number;
  committed: number;
  pending: number;
  firstPendingAt: number | undefined;
  letters: DeadLetter[];
}

export class LearnerProcessor {
  private readonly tasks = new Map<number, Task>();
  private consumer: LogConsumer | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly queue = new SerialQueue();
  /** Every snapshot this instance published (the replay writes them out). */
  readonly published: ModelSnapshot[] = [];

  constructor(private readonly deps: LearnerProcessorDeps) {}

  async checkCoPartitioning(): Promise<void> {
    const { transport, topics } = this.deps;
    const labelled = await transport.partitionCount(topics.labelled);
    const snapshots = await transport.partitionCount(topics.snapshots);
    if (labelled !== snapshots) {
      throw new FeedbackloopError(
        `topics ${topics.labelled} (${labelled} partitions) and ${topics.snapshots} (${snapshots} partitions) must have the same partition count: ` +
          "the learner restores partition p's models from partition p of the snapshots",
      );
    }
  }

  async start(): Promise<LogConsumer> {
    await this.checkCoPartitioning();
    const consumer = await this.deps.transport.consumer({ groupId: this.deps.groupId, topics: [this.deps.topics.labelled] });
    this.consumer = consumer;
    await consumer.run((batch) => this.queue.run(() => this.onBatch(batch)));
    const every = Math.max(50, Math.floor(this.deps.snapshotIntervalMs / 4));
    if (every <= 2 ** 31 - 1) {
      this.timer = setInterval(() => {
        this.queue.run(() => this.publishDue()).catch(() => {});
      }, every);
      this.timer.unref();
    }
    return consumer;
  }

  /** Publishes what is pending (a graceful stop loses nothing), then leaves the group. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.queue.run(async () => {
      for (const task of this.tasks.values()) if (task.position > task.committed || task.letters.length > 0) await this.publish(task);
    });
    await this.consumer?.stop();
    for (const task of this.tasks.values()) await task.producer.close().catch(() => {});
    this.tasks.clear();
  }

  /** Stops as a crash would: nothing pending is published (for tests). */
  async abandon(): Promise<void> {
    clearInterval(this.timer);
    await this.consumer?.stop();
    for (const task of this.tasks.values()) await task.producer.close().catch(() => {});
    this.tasks.clear();
  }

  learners(): Map<number, ChallengerTrainer> {
    return new Map([...this.tasks].map(([p, t]) => [p, t.learner]));
  }


  private async task(batch: PartitionBatch): Promise<Task> {
    const existing = this.tasks.get(batch.partition);
    if (existing && existing.generation === batch.generation) return existing;
    if (existing) await existing.producer.close().catch(() => {});
    // Fence the previous owner (its open transaction is aborted), then restore what it published.
    const producer = await this.deps.transport.transactionalProducer(`${this.deps.transactionalIdPrefix}-${batch.partition}`);
    const learner = new ChallengerTrainer(this.deps.learner);
    // The newest snapshot of each challenger (the partition holds its whole history).
    const latest = new Map<string, { sequence: number; snapshot: ModelSnapshot }>();
    await this.deps.transport.readToEnd(this.deps.topics.snapshots, [batch.partition], async (records) => {
      await this.consumer?.heartbeat().catch(() => {});
      for (const record of records) {
        let snapshot: ModelSnapshot;
        try {
          snapshot = await this.deps.codecs.snapshot.decode(record.value);
        } catch {
          continue; // Not a snapshot we can read: nothing to restore from it.
        }
        const sequence = parseSnapshotVersion(snapshot.version)?.sequence ?? 0; // 0 for another version: never taken.
        const key = `${snapshot.model}\u0000${snapshot.challenger}`;
        if (!((latest.get(key)?.sequence ?? 0) >= sequence)) latest.set(key, { sequence, snapshot });
      }
    });
    for (const { snapshot } of latest.values()) learner.restore(snapshot);
    // The previous owner may have committed after our consumer fetched its start offset and
    // before the fencing above (kafkajs has no KIP-447): resume after whatever is committed now.
    const committed = (await this.deps.transport.committedOffsets(this.deps.groupId, batch.topic)).find((o) => o.partition === batch.partition)?.offset ?? 0;
    const resumeAt = Math.max(batch.records[0]?.offset ?? batch.nextOffset, committed);
    const task: Task = {
      partition: batch.partition, generation: batch.generation, learner, producer,
      position: resumeAt, committed: resumeAt, pending: 0, firstPendingAt: undefined, letters: [],
    };
    this.tasks.set(batch.partition, task);
    return task;
  }

  private async onBatch(batch: PartitionBatch): Promise<void> {
    const task = await this.task(batch);
    const now = this.deps.clock.now();
    for (const record of batch.records) {
      if (record.offset < task.committed) continue; // Already in the restored snapshots.
      const decoded = await decodeRecord(record, this.deps.codecs.labelled as Codec<unknown>, validateLabelledExample, LEARNER_STAGE, now);
      if (decoded.ok) task.learner.learn(decoded.value);
      else task.letters.push(decoded.letter);
      task.position = record.offset + 1;
      // Every snapshotEvery records of the partition, wherever batches happen to end: the
      // snapshots' contents then depend on the input alone (a replay is deterministic).
      if (++task.pending >= this.deps.snapshotEvery) await this.publish(task);
    }
    task.position = Math.max(task.position, batch.nextOffset);
    // What is left after the last publication waits at most snapshotIntervalMs.
    if (task.position > task.committed || task.letters.length > 0) task.firstPendingAt ??= now;
  }

  private async publishDue(): Promise<void> {
    const now = this.deps.clock.now();
    for (const task of this.tasks.values()) {
      if (task.firstPendingAt !== undefined && now - task.firstPendingAt >= this.deps.snapshotIntervalMs) await this.publish(task);
    }
  }

  /** One transaction: the snapshots of every challenger that learned, the dead letters, the input offset. */
  private async publish(task: Task): Promise<void> {
    const now = this.deps.clock.now();
    const snapshots = task.learner.snapshot(this.deps.createdAt === 'clock' ? now : undefined);
    const out: OutgoingRecord[] = [];
    for (const snapshot of snapshots) {
      out.push({ topic: this.deps.topics.snapshots, partition: task.partition, key: Buffer.from(snapshot.version), value: await this.deps.codecs.snapshot.encode(snapshot), timestamp: now });
    }
    for (const letter of task.letters) {
      out.push({ topic: this.deps.topics.deadLetters, key: letter.key, value: await this.deps.codecs.deadLetter.encode(letter), timestamp: now });
    }
    try {
      await task.producer.sendWithOffsets(out, { groupId: this.deps.groupId, offsets: [{ topic: this.deps.topics.labelled, partition: task.partition, offset: task.position }] });
    } catch (error) {
      // The learner is now ahead of what was published: forget the task, so the partition is restored.
      this.tasks.delete(task.partition);
      await task.producer.close().catch(() => {});
      throw error;
    }
    task.committed = task.position;
    task.pending = 0;
    task.firstPendingAt = undefined;
    task.letters = [];
    this.published.push(...snapshots);
    this.deps.onPublished?.(task.partition, snapshots);
  }
}
