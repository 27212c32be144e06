/**
 * The learner processor: labelled examples -> model snapshots.
 *
 * One task per partition p of `labelled-examples` (keyed by model, so a
 * model's examples all reach one task), with its own ChallengerTrainer (core/learn).
 * Snapshots of partition p's models go to partition p of `model-snapshots`
 * (the two topics have the same partition count; checked at start).
 *
 * Exactly once: examples are learned as they come, but offsets move only
 * with snapshots. Every `snapshotEvery` records of a partition, arrival
 * records not counted (so snapshots follow the same examples whether the
 * joiner writes arrivals or not, and a replay's shadow scores too), (or
 * `snapshotIntervalMs` after the first unpublished one) the task publishes
 * a snapshot of every challenger that learned since its last one, the dead
 * letters, and the input offset in one transaction. A task that (re)starts
 * on a partition (partition-tasks.ts: after fencing the previous owner)
 * restores the latest snapshot of each challenger from partition p of
 * `model-snapshots`, and resumes from the committed offset: exactly the
 * state the published snapshots hold.
 */
import type { Clock } from '../core/clock.js';
import { DecodeError, FeedbackloopError, ValidationError } from '../core/errors.js';
import { validateLabelledExample, type DeadLetter, type LabelledExample, type ModelSnapshot } from '../core/events.js';
import { DEFAULT_RECORD_LIMITS, type RecordLimits } from '../core/limits.js';
import { ChallengerTrainer, type TrainerOptions } from '../core/learn/index.js';
import { parseSnapshotVersion } from '../core/contracts/index.js';
import type { Codec } from '../adapters/codec/codec.js';
import type { LogRecord, OutgoingRecord, LogTransport, PartitionBatch } from '../adapters/transport/transport.js';
import { deadLetterFor, deadLetterRecords, decodeRecord, type SharedContract } from './decode.js';
import { PartitionTasks, type TaskContext } from './partition-tasks.js';
import type { Processor } from './processor.js';
import type { PipelineObserver } from '../core/observer.js';
import { poisonToTopic, taskHealth, taskOpened } from './poison.js';

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
  /** Bounds on each input record (limits.*; default: the defaults): a record past them is dead-lettered. */
  limits?: RecordLimits;
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
  /** Keep what is published for takePublished() (default true: the replay and tests; `run` keeps none, or it would pile up). */
  keepPublished?: boolean;
  /** Hooks: `published` after each published transaction. */
  observer?: PipelineObserver;
}

/** A partition's state: its challengers, and what they learned since the last publication. */
interface LearnTask {
  learner: ChallengerTrainer;
  ctx: TaskContext;
  /** Offset after the last learned record, and what is committed. */
  position: number;
  committed: number;
  pending: number;
  firstPendingAt: number | undefined;
  letters: DeadLetter[];
}

export class LearnerProcessor implements Processor {
  /** Labelled examples: validated under this processor's limits; one copy shared with the other readers of a carried event (processors/decode.ts). */
  private get contract(): SharedContract<LabelledExample> {
    return (this.sharedContract ??= { contract: validateLabelledExample, limits: this.deps.limits ?? DEFAULT_RECORD_LIMITS });
  }
  private sharedContract: SharedContract<LabelledExample> | undefined;

  readonly name = 'learner';
  readonly inputs: string[];
  readonly outputs: string[];
  private readonly tasks: PartitionTasks<LearnTask>;
  private timer: NodeJS.Timeout | undefined;
  /** Every snapshot this instance published since the last takePublished() (the replay writes them out). */
  readonly published: ModelSnapshot[] = [];

  /** Empties `published`, returning what it held (the replay writes them out as it goes, so they do not pile up). */
  takePublished(): ModelSnapshot[] {
    return this.published.splice(0);
  }

  constructor(private readonly deps: LearnerProcessorDeps) {
    this.inputs = [deps.topics.labelled];
    this.outputs = [deps.topics.snapshots, deps.topics.deadLetters];
    this.tasks = new PartitionTasks<LearnTask>({
      transport: deps.transport,
      groupId: deps.groupId,
      topics: this.inputs,
      transactionalIdPrefix: deps.transactionalIdPrefix,
      work: { open: (ctx) => this.restore(ctx), process: (task, batch) => this.onBatch(task, batch) },
      poison: poisonToTopic(LEARNER_STAGE, deps.topics.deadLetters, deps.codecs.deadLetter, deps.observer),
      health: taskHealth(LEARNER_STAGE, deps.observer),
      onOpened: taskOpened(LEARNER_STAGE, deps.observer),
    });
  }

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

  async start(): Promise<void> {
    await this.checkCoPartitioning();
    await this.tasks.start();
    const every = Math.max(50, Math.floor(this.deps.snapshotIntervalMs / 4));
    if (every <= 2 ** 31 - 1) {
      this.timer = setInterval(() => {
        // A failed commit already dropped the task and rewound its inputs (PartitionTasks): its records come
        // again and are published again, by a batch (whose failure the consumer classifies) or by this timer.
        // Here there is no consumer to hand the error to, so it is reported, as the joiner's timed drains are.
        this.tasks.serially(() => this.publishDue()).catch((error: unknown) => this.deps.observer?.commitFailed?.(LEARNER_STAGE, error));
      }, every);
      this.timer.unref();
    }
  }

  get done(): Promise<void> {
    return this.tasks.done;
  }

  /** Publishes what is pending (a graceful stop loses nothing), then leaves the group. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.tasks.stop(async () => {
      for (const { state: task } of this.tasks.all()) if (task.position > task.committed || task.letters.length > 0) await this.publish(task);
    });
  }

  /** Stops as a crash would: nothing pending is published (for tests). */
  async abandon(): Promise<void> {
    clearInterval(this.timer);
    await this.tasks.stop();
  }

  learners(): Map<number, ChallengerTrainer> {
    return new Map(this.tasks.all().map((t) => [t.context.partition, t.state.learner]));
  }

  /** The newest snapshot of each challenger of partition p (the snapshots partition holds its whole history). */
  private async restore(ctx: TaskContext): Promise<LearnTask> {
    const learner = new ChallengerTrainer(this.deps.learner);
    const latest = new Map<string, { sequence: number; snapshot: ModelSnapshot }>();
    await this.deps.transport.readToEnd(this.deps.topics.snapshots, [ctx.partition], async (records) => {
      await ctx.heartbeat();
      for (const record of records) {
        let snapshot: ModelSnapshot;
        try {
          snapshot = await this.deps.codecs.snapshot.decode(record.value);
        } catch (error) {
          // Not a snapshot we can read: nothing to restore from it. But a registry that is down is
          // no reason to start afresh (and publish version numbers already taken): the open fails, and is retried.
          if (error instanceof DecodeError) continue;
          throw error;
        }
        const sequence = parseSnapshotVersion(snapshot.version)?.sequence ?? 0; // 0 for another version: never taken.
        const key = `${snapshot.model}\u0000${snapshot.challenger}`;
        if (!((latest.get(key)?.sequence ?? 0) >= sequence)) latest.set(key, { sequence, snapshot });
      }
    });
    for (const { snapshot } of latest.values()) learner.restore(snapshot);
    const resumeAt = ctx.resumeAt(this.deps.topics.labelled);
    return { learner, ctx, position: resumeAt, committed: resumeAt, pending: 0, firstPendingAt: undefined, letters: [] };
  }

  private async onBatch(task: LearnTask, batch: PartitionBatch): Promise<void> {
    const now = this.deps.clock.now();
    for (const record of batch.records) {
      const decoded = await decodeRecord(record, this.deps.codecs.labelled as Codec<unknown>, this.contract, LEARNER_STAGE, now);
      task.position = record.offset + 1;
      // An arrival record (joiner.emit_arrivals) is not an example: nothing learned, not counted below.
      if (decoded.ok && decoded.value.arrival) continue;
      if (decoded.ok) this.learn(task, decoded.value, record, now);
      else task.letters.push(decoded.letter);
      // Every snapshotEvery records of the partition, wherever batches happen to end: the
      // snapshots' contents then depend on the input alone (a replay is deterministic).
      if (++task.pending >= this.deps.snapshotEvery) await this.publish(task);
    }
    task.position = Math.max(task.position, batch.nextOffset);
    // What is left after the last publication waits at most snapshotIntervalMs.
    if (task.position > task.committed || task.letters.length > 0) task.firstPendingAt ??= now;
  }

  /**
   * One example through the trainer. An example beyond learner.max_feature_magnitude
   * (a ValidationError: nothing learned) and a challenger the trainer's last guard
   * rebuilt from its last snapshot become dead letters of this record, published
   * with the snapshots.
   */
  private learn(task: LearnTask, example: LabelledExample, record: LogRecord, now: number): void {
    let reverted: string[];
    try {
      reverted = task.learner.learn(example);
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      task.letters.push(deadLetterFor(record, LEARNER_STAGE, 'validation', error.message, now));
      return;
    }
    for (const message of reverted) task.letters.push(deadLetterFor(record, LEARNER_STAGE, 'non_finite', message, now));
  }

  private async publishDue(): Promise<void> {
    const now = this.deps.clock.now();
    for (const { state: task } of this.tasks.all()) {
      if (task.firstPendingAt !== undefined && now - task.firstPendingAt >= this.deps.snapshotIntervalMs) await this.publish(task);
    }
  }

  /** One transaction: the snapshots of every challenger that learned, the dead letters, the input offset. */
  private async publish(task: LearnTask): Promise<void> {
    const now = this.deps.clock.now();
    const snapshots = task.learner.snapshot(this.deps.createdAt === 'clock' ? now : undefined);
    const out: OutgoingRecord[] = [];
    for (const snapshot of snapshots) {
      out.push({ topic: this.deps.topics.snapshots, partition: task.ctx.partition, key: Buffer.from(snapshot.version), value: await this.deps.codecs.snapshot.encode(snapshot), timestamp: now });
    }
    for (const letter of await deadLetterRecords(task.letters, this.deps.topics.deadLetters, this.deps.codecs.deadLetter, now)) out.push(letter);
    await task.ctx.commit(out, [{ topic: this.deps.topics.labelled, partition: task.ctx.partition, offset: task.position }]);
    task.committed = task.position;
    task.pending = 0;
    task.firstPendingAt = undefined;
    task.letters = [];
    if (this.deps.keepPublished ?? true) for (const snapshot of snapshots) this.published.push(snapshot);
    this.deps.observer?.published?.(snapshots, task.ctx.partition);
  }
}
