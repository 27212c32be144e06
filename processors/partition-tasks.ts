/**
 * The partition task every processor runs on (docs/architecture.md, "The
 * partition task"): one task per input partition number this member holds,
 * created when a batch of a new assignment generation arrives and dropped
 * when the partition moves, the processor stops or a batch fails.
 *
 * PartitionTasks owns the lifecycle; a processor supplies only what its
 * state is and what a batch does to it (PartitionWork):
 *
 * - **assignment**: a batch whose generation differs from the task's means
 *   another member may have processed the partition meanwhile: the old task
 *   is dropped and a new one opened, unless it can be kept (below).
 * - **keeping** (task-standing.ts): kafkajs rebalances eagerly, so a member
 *   joining or leaving gives every partition of every member a new
 *   generation, also those a member keeps. A task is kept, not restored,
 *   when (1) it is settled: for every input, what it processed is what it
 *   committed (a learner between two publications, an evaluator between two
 *   flushes, a failed commit: restored); (2) for exactly-once processors, a
 *   new transactional producer `<prefix>-<p>` is created, as for a new task;
 *   (3) the offsets committed for p, read after that, are the task's own last
 *   commit. Then its generation is the batch's, `resumeAt` the committed
 *   offsets, what an aligned task buffered is dropped, every input of p is
 *   sought to the committed offsets and the batch in hand is left (it comes
 *   again from there). Why that is exactly once: every transaction that
 *   changes a partition's state commits input offsets past the previous
 *   ones (a batch's end; the joiner's `advanceTasks`, which commits none, runs
 *   only in the single-member replay). Another member that held p in between
 *   either committed (the offsets moved: (3) fails, the task is restored) or
 *   did not, and then its effects are not in the log: (2) aborted its open
 *   transaction, or waited for the one being committed (so (3) sees it), and
 *   fences it from committing later; a processor without transactions writes
 *   keyed rows, written again to the same values. The state is thus exactly
 *   what is committed, which is what a restore would build, and the seek puts
 *   the consumer where the state ends (the transports start a new generation
 *   at the committed offsets anyway; the seek also covers batches of an older
 *   fetch that kafkajs may still hand on).
 * - **fencing** (exactly-once processors, `transactionalIdPrefix` set): the
 *   new task first creates the transactional producer `<prefix>-<p>`, which
 *   fences the previous owner and aborts its open transaction.
 * - **resuming**: after fencing, the offsets committed for partition p of
 *   each input are read again (kafkajs has no KIP-447: the previous owner may
 *   have committed after our consumer fetched its start offsets); records
 *   below `resumeAt(topic)` are already reflected in the restored state and
 *   are skipped before the processor sees them.
 * - **restoring**: `open` builds the state (from a changelog, snapshots, or
 *   by re-reading the input up to `resumeAt`), heartbeating meanwhile.
 * - **committing**: `commit` sends outputs and input offsets in one
 *   transaction; `commitHeld` commits offsets through the consumer, for the
 *   partitions this member still holds (processors whose outputs are
 *   idempotent rows).
 * - **fenced** (exactly-once processors): a commit refused because the
 *   task's producer was fenced (ProducerFencedError) drops the task like any
 *   failure. Who fenced it is told by whether this member still holds the
 *   partition (the consumer's assignment, of every input). If it does, nobody
 *   else was given the partition since (an assignment gives each partition to
 *   one member; a member that lost it learns so at its next heartbeat and
 *   rejoins): the broker aborted a transaction open longer than the
 *   transaction timeout (an outage, a stalled process) and bumped the
 *   producer's epoch. The task is restored like a failed one: its inputs are
 *   rewound, and the batch delivered again opens it with a new producer (a new
 *   fencing) at the committed offsets; `health` hears of it. If it does not,
 *   the partition's new owner fenced it: this member is a zombie, the error is
 *   not retriable and the processor stops, as before. Either way what is
 *   committed is exactly once: every new producer reads the committed offsets
 *   after it fenced.
 * - **failure**: a batch, open or commit that throws drops the task (its
 *   state may be ahead of what was committed) and rewinds its inputs to the
 *   committed offsets. An error a retry can mend goes on to the consumer,
 *   which delivers again (and `health` hears of it until a batch succeeds);
 *   so does a systemic one (a refused commit: every record would fail), which
 *   stops the processor.
 * - **poison records** (`poison` set): any other error is about the batch's
 *   records. The batch's records are then processed one at a time after the
 *   restore; the one that fails again is dead-lettered (stage, error, the
 *   record) and skipped from then on, and the task goes on (poison.ts).
 *
 * - **event-time alignment** (`align`, for tasks that join their inputs):
 *   batches are buffered per input and handed on in timestamp order across
 *   the inputs (aligned-inputs.ts), waiting a bounded time for an input that
 *   may still deliver older records; an input buffered past `maxBuffered`
 *   records is paused until the others catch up. A failed task's inputs are
 *   rewound to the committed offsets, so nothing it held is lost.
 *
 * Batches, timer jobs (`serially`) and stops never interleave. A
 * processor's work in flight outside them (`settle`: the evaluator's write)
 * is awaited before a task is kept or dropped at a new generation.
 */
import { errorMessage, FeedbackloopError, isProducerFenced, isRetriable, isSystemic } from '../core/errors.js';
import type { DeadLetter } from '../core/events.js';
import { SerialQueue } from '../core/serial.js';
import { AlignedInputs, type AlignedBatch } from './aligned-inputs.js';
import { deadLetterFor } from './decode.js';
import { oneByOne, PoisonLedger, type PoisonLimits } from './poison.js';
import { openedStanding, record, settled, unchanged, type Standing } from './task-standing.js';
import type {
  LogConsumer,
  LogRecord,
  LogTransport,
  OutgoingRecord,
  PartitionBatch,
  TopicPartitionOffset,
  TransactionalProducer,
} from '../adapters/transport/transport.js';

/** What a task knows of its partition, handed to the processor's work. */
export interface TaskContext {
  readonly partition: number;
  readonly generation: number;
  /** The first offset of `topic` (partition p) not yet reflected in the state. */
  resumeAt(topic: string): number;
  /** Keeps the member in its group during long work (a restore, a sink that waits); never throws. */
  heartbeat(): Promise<void>;
  /** One transaction: `records` and the input `offsets` (exactly-once processors only). */
  commit(records: OutgoingRecord[], offsets: TopicPartitionOffset[]): Promise<void>;
}

/** A processor's part: its per-partition state and what a batch does to it. */
export interface PartitionWork<S> {
  /** Builds partition p's state, resuming at `ctx.resumeAt`. */
  open(ctx: TaskContext): Promise<S>;
  /** One batch (records below resumeAt already removed; an aligned task's runs mix its inputs: commit offsetsOf(batch)). */
  process(state: S, batch: PartitionBatch, ctx: TaskContext): Promise<void>;
  /** Releases the state of a dropped task (its store); must not throw. */
  close?(state: S): Promise<void>;
}

export interface PartitionTasksOptions<S> {
  transport: LogTransport;
  groupId: string;
  /** Co-partitioned input topics: partition p of each belongs to task p. */
  topics: string[];
  /** Exactly-once processors: transactional ids are `<prefix>-<partition>`. */
  transactionalIdPrefix?: string;
  work: PartitionWork<S>;
  /** A heartbeat or a consumer commit failed (not fatal: the records are processed again, to the same result). */
  onCommitFailed?: (error: unknown) => void;
  /** Hand on the inputs' records in event-time order (see the file comment). */
  align?: AlignOptions;
  /** A task failed outside a batch (an aligned task's delayed run): it was dropped and its inputs rewound. */
  onFailed?: (error: unknown) => void;
  /** Dead-letter poison records and go on (see the file comment); without it, any failure is thrown. */
  poison?: PoisonOptions;
  /** Told when a batch failed in a way a retry can mend, and when a batch succeeded again. */
  health?: { failing(error: unknown): void; recovered(): void };
  /**
   * Records handed to the work at a time, at most (default DEFAULT_MAX_BATCH):
   * the consumer's batches and an aligned task's runs. An exactly-once
   * processor commits one transaction per batch, so on Kafka this also bounds
   * the records per transaction.
   */
  maxBatch?: number;
  /** Told when a task was opened (its state restored) or kept across a new generation (see the file comment), and how long that took. */
  onOpened?: (event: TaskOpened) => void;
  /**
   * The processor's work in flight outside the queue (the evaluator's write):
   * awaited between batches before a task is kept or dropped at a new
   * generation, so it ends before the partition may change hands. A throw
   * fails the batch, as a batch's own error would.
   */
  settle?: () => Promise<void>;
}

export interface TaskOpened {
  partition: number;
  generation: number;
  /** True: the task was kept across a new generation, nothing restored; false: `open` built its state. */
  kept: boolean;
  ms: number;
}

export interface PoisonOptions {
  /** The dead letters' `stage`. */
  stage: string;
  /** Exactly-once processors: a dead letter as a record of their transaction (it goes out with the task's next commit). */
  encode?: (letter: DeadLetter) => Promise<OutgoingRecord>;
  /** The others: writes a dead letter at once (at least once: it is written again if the process dies before a commit passes the record). */
  write?: (letter: DeadLetter) => Promise<void>;
  /** Told of each poison record, once (log line, metric). */
  onPoisoned?: (letter: DeadLetter) => void;
  limits?: PoisonLimits;
}

export interface AlignOptions {
  /** The longest wait for an input that may still deliver older records. */
  maxWaitMs: number;
  /** Records buffered for one input before it is paused. */
  maxBuffered: number;
  /** A record's event time (default: its log timestamp); must not throw (fall back to the log timestamp). */
  eventTime?: (record: LogRecord) => Promise<number>;
}

/**
 * The input offsets to commit once `batch` is processed: its own, or for an
 * aligned task's run, those of every input it took records from.
 */
export function offsetsOf(batch: PartitionBatch): TopicPartitionOffset[] {
  return 'offsets' in batch ? (batch as AlignedBatch).offsets : [{ topic: batch.topic, partition: batch.partition, offset: batch.nextOffset }];
}

/** Records handed to the work at a time, at most, unless maxBatch says otherwise. */
export const DEFAULT_MAX_BATCH = 500;

/** The longest wait between retries of a rewind the broker refused. */
const REWIND_RETRY_MAX_MS = 5_000;

export interface Task<S> {
  readonly context: TaskContext;
  readonly state: S;
}

/** A task as PartitionTasks holds it: with its fencing producer, opened once, dropped once. */
interface OpenTask<S> extends Task<S> {
  producer: TransactionalProducer | undefined;
  /** Its generation, and what it processed and committed (task-standing.ts). */
  standing: Standing;
  dropped: boolean;
  /** With `align`: the buffered inputs, the paused ones, and the timer of a wait. */
  aligned: AlignedInputs | undefined;
  paused: Set<string>;
  timer: NodeJS.Timeout | undefined;
  /** Dead letters of poison records skipped, for the task's next transaction. */
  letters: OutgoingRecord[];
  /** Failed: dropped, and its inputs rewound (or being rewound) to the committed offsets. */
  failed: boolean;
}

export class PartitionTasks<S> {
  private readonly tasks = new Map<number, OpenTask<S>>();
  private readonly queue = new SerialQueue();
  private consumer: LogConsumer | undefined;
  private stopping = false;
  /** Time spent handling batches and delayed runs (see idleClock). */
  private busyMs = 0;
  private readonly poisons: PoisonLedger | undefined;
  /** Partitions of a failed task whose rewind could not read the committed offsets (the broker away): rewound at their next batch. */
  private readonly unwound = new Map<number, (topic: string) => number>();
  /** Rejects when crash() is called: work outside batches (a timer's write) failed for good. */
  private readonly crashed: Promise<never>;
  private rejectCrashed!: (error: unknown) => void;

  constructor(private readonly options: PartitionTasksOptions<S>) {
    this.poisons = options.poison ? new PoisonLedger(options.poison.limits) : undefined;
    this.crashed = new Promise<never>((_resolve, reject) => (this.rejectCrashed = reject));
    this.crashed.catch(() => {});
  }

  /** Poison records remembered until a commit passes them (for tests). */
  poisonsKnown(): number {
    return this.poisons?.size() ?? 0;
  }

  /** Joins the group and starts handing batches to the work. */
  async start(): Promise<void> {
    const { transport, groupId, topics } = this.options;
    const consumer = await transport.consumer({ groupId, topics, maxBatchSize: this.options.maxBatch ?? DEFAULT_MAX_BATCH });
    this.consumer = consumer;
    await consumer.run((batch) => this.queue.run(() => this.busy(() => this.onBatch(batch))));
  }

  /** Settles when the consumer stops: rejects when a batch (or, see crash(), other work) failed in a way a retry cannot mend. */
  get done(): Promise<void> {
    return Promise.race([this.consumer?.done ?? Promise.resolve(), this.crashed]);
  }

  /**
   * Work outside a batch (a timer's write) failed in a way a retry cannot
   * mend: leaves the group, and `done` rejects with `error`.
   */
  crash(error: unknown): void {
    this.rejectCrashed(error);
    this.stopping = true;
    void this.consumer?.stop().catch(() => {});
  }

  /**
   * Drops every task and rewinds its inputs to the committed offsets, for
   * work that failed after it changed every task's state (a write of rows
   * drained from all of them): they are rebuilt, and what was lost is
   * computed again. Call it between batches (inside `serially` or a batch).
   */
  async failAll(): Promise<void> {
    for (const task of this.inOrder()) await this.fail(task);
  }

  /** Runs `job` between batches (timers, a final flush, advancing event time). */
  serially<T>(job: () => Promise<T>): Promise<T> {
    return this.queue.run(job);
  }

  /**
   * Runs `job` on every open task in partition order, between batches; a
   * task whose job throws is dropped (its state moved past what was
   * committed) and the error is thrown.
   */
  async forEach(job: (state: S, ctx: TaskContext) => Promise<void>): Promise<void> {
    await this.queue.run(async () => {
      for (const task of this.inOrder()) {
        try {
          await job(task.state, task.context);
        } catch (error) {
          await this.fail(task);
          throw error;
        }
      }
    });
  }

  /** The open tasks, in partition order. */
  all(): Array<Task<S>> {
    return this.inOrder();
  }

  /** The open tasks of the partitions this member holds in its current generation (of all inputs), in partition order. */
  held(): Array<Task<S>> {
    const current = this.consumer?.assignment();
    if (!current) return [];
    const held = new Set(current.partitions.map((tp) => `${tp.topic}\u0000${tp.partition}`));
    return this.inOrder().filter(
      (task) => task.context.generation === current.generation && this.options.topics.every((topic) => held.has(`${topic}\u0000${task.context.partition}`)),
    );
  }

  /** Does this member's consumer hold `partition` of every input now (see the file comment, "fenced")? */
  private holds(partition: number): boolean {
    const current = this.consumer?.assignment();
    if (!current) return false;
    return this.options.topics.every((topic) => current.partitions.some((tp) => tp.topic === topic && tp.partition === partition));
  }

  private inOrder(): Array<OpenTask<S>> {
    return [...this.tasks.values()].sort((a, b) => a.context.partition - b.context.partition);
  }

  /**
   * Leaves the group: `before` runs first, between batches (a graceful stop
   * publishing what is pending); then every task is dropped.
   */
  async stop(before?: () => Promise<void>): Promise<void> {
    if (before) await this.queue.run(before);
    this.stopping = true;
    await this.consumer?.stop();
    await this.queue.run(async () => {
      for (const task of [...this.tasks.values()]) await this.drop(task);
    });
  }

  /** Heartbeats the group; a failure (a rebalance is coming) is reported, not thrown. */
  async heartbeat(): Promise<void> {
    await this.consumer?.heartbeat().catch((error: unknown) => this.options.onCommitFailed?.(error));
  }

  /**
   * Commits offsets through the consumer for the partitions this member still
   * holds in its current generation; a failure is reported, not thrown.
   * Returns the offsets committed.
   */
  async commitHeld(offsets: TopicPartitionOffset[]): Promise<TopicPartitionOffset[]> {
    const current = this.consumer?.assignment();
    if (!this.consumer || !current) return [];
    const held = new Set(current.partitions.map((tp) => `${tp.topic}\u0000${tp.partition}`));
    const mine = offsets.filter(
      (o) => held.has(`${o.topic}\u0000${o.partition}`) && this.tasks.get(o.partition)?.context.generation === current.generation,
    );
    if (mine.length === 0) return [];
    try {
      await this.consumer.commit(mine);
      for (const o of mine) record(this.tasks.get(o.partition)!.standing.committed, o.partition, [o]);
      this.poisons?.committed(mine);
      return mine;
    } catch (error) {
      this.options.onCommitFailed?.(error);
      return [];
    }
  }

  private async onBatch(batch: PartitionBatch): Promise<void> {
    if (this.stopping) return;
    // Its records may lie past what a failed task held uncommitted: rewind first (the seek delivers them again).
    const unwound = this.unwound.get(batch.partition);
    if (unwound) return this.rewind(batch.partition, unwound);
    const task = await this.task(batch);
    // A task kept across a new generation: its inputs were sought to its position, this batch comes again from there.
    if (!task) return;
    const from = task.context.resumeAt(batch.topic);
    const unread = (batch.records[0]?.offset ?? from) < from ? { ...batch, records: batch.records.filter((r) => r.offset >= from) } : batch;
    const fresh = await this.withoutPoisons(task, unread);
    if (!task.aligned) return this.process(task, fresh);
    const eventTime = this.options.align?.eventTime;
    const times: number[] = [];
    for (const record of fresh.records) times.push(eventTime ? await eventTime(record) : record.timestamp);
    task.aligned.push(fresh, times, this.idleClock());
    await this.drain(task);
  }

  /**
   * One batch through the work (one record at a time where a poison is
   * being looked for). A failure drops the task and rewinds its inputs; see
   * `failed` for what happens next.
   */
  private async process(task: OpenTask<S>, batch: PartitionBatch): Promise<void> {
    if (batch.records.length > 1 && this.poisons?.isolating(batch)) {
      for (const one of oneByOne(batch, offsetsOf(batch))) {
        if (task.dropped) return;
        await this.process(task, one);
      }
      return;
    }
    try {
      await this.options.work.process(task.state, batch, task.context);
    } catch (error) {
      await this.fail(task);
      await this.failed(batch, error);
      return;
    }
    record(task.standing.processed, task.context.partition, offsetsOf(batch));
    this.poisons?.succeeded(batch.partition);
    this.options.health?.recovered();
  }

  /**
   * After a failed batch: an error a retry can mend, or a systemic one, is
   * thrown (to the consumer); otherwise the batch is looked through one
   * record at a time once delivered again, and a single record that failed
   * is a poison.
   */
  private async failed(batch: PartitionBatch, error: unknown): Promise<void> {
    if (isRetriable(error)) this.options.health?.failing(error);
    // Fenced by the transaction timeout: the task is dropped and its inputs rewound; the batch comes again.
    if (error instanceof FencedCommitError && error.restored) return;
    if (!this.poisons || isRetriable(error) || isSystemic(error) || batch.records.length === 0) throw error;
    if (batch.records.length > 1) return this.poisons.isolate(batch.partition, offsetsOf(batch));
    const stop = this.poisons.poisoned(batch.records[0]!, error);
    if (stop !== undefined) {
      throw new FeedbackloopError(`${this.options.groupId}: ${stop}: that is a fault of the processor, not of the records; the last error: ${errorMessage(error)}`, {
        systemic: true,
        cause: error,
      });
    }
  }

  /**
   * The batch without the poison records it holds: their dead letters go
   * into the task's next transaction (exactly-once processors) or are written
   * now, once. The batch keeps its end offset, so a commit passes them.
   */
  private async withoutPoisons(task: OpenTask<S>, batch: PartitionBatch): Promise<PartitionBatch> {
    const poisons = this.poisons;
    const policy = this.options.poison;
    if (!poisons || !policy || poisons.size() === 0) return batch;
    const records: LogRecord[] = [];
    for (const record of batch.records) {
      const poison = poisons.find(record);
      if (!poison) {
        records.push(record);
        continue;
      }
      const letter = deadLetterFor(record, policy.stage, 'processing', errorMessage(poison.error), Date.now());
      if (policy.encode) task.letters.push(await policy.encode(letter));
      else if (!poison.written) await policy.write?.(letter);
      if (!poison.written) policy.onPoisoned?.(letter);
      poison.written = true;
    }
    return records.length === batch.records.length ? batch : { ...batch, records };
  }

  /** Hands an aligned task's buffered records on in event-time order, until it must wait or is empty. */
  private async drain(task: OpenTask<S>): Promise<void> {
    clearTimeout(task.timer);
    task.timer = undefined;
    for (;;) {
      if (task.dropped || !task.aligned) return;
      const now = this.idleClock();
      const step = task.aligned.next(now);
      if (step.kind === 'batch') {
        await this.process(task, step.batch);
        continue;
      }
      if (step.kind === 'wait') task.timer = setTimeout(() => this.drainLater(task), step.until - now);
      break;
    }
    this.flowControl(task);
  }

  /** A wait ran out: drain between batches; a failure here has no consumer to go to, so it is reported. */
  private drainLater(task: OpenTask<S>): void {
    this.queue.run(() => this.busy(() => this.drain(task))).catch((error: unknown) => this.options.onFailed?.(error));
  }

  /**
   * The clock of an aligned task's waits: wall time minus the time this
   * processor spent handling batches. While it works on other partitions'
   * batches (a backlog on a loaded machine: seconds), its consumer is not
   * fetching, so an input that lags is not slow to deliver: that time must
   * not use up its wait (it did: 1,571 feedback of one partition read ahead
   * of their predictions and left unmatched, in a broker-restart test).
   */
  private idleClock(): number {
    return Date.now() - this.busyMs;
  }

  private async busy<T>(job: () => Promise<T>): Promise<T> {
    const started = Date.now();
    try {
      return await job();
    } finally {
      this.busyMs += Date.now() - started;
    }
  }

  /** Pauses an input buffered past maxBuffered; resumes it once it is down to half. */
  private flowControl(task: OpenTask<S>): void {
    const { align } = this.options;
    if (!task.aligned || !align || !this.consumer) return;
    for (const topic of this.options.topics) {
      const buffered = task.aligned.buffered(topic);
      const tp = [{ topic, partition: task.context.partition }];
      if (!task.paused.has(topic) && buffered > align.maxBuffered) {
        task.paused.add(topic);
        this.consumer.pause(tp);
      } else if (task.paused.has(topic) && buffered <= align.maxBuffered / 2) {
        task.paused.delete(topic);
        this.consumer.resume(tp);
      }
    }
  }

  /**
   * Drops a failed task and rewinds its inputs to the committed offsets (or
   * where the task resumed): what it processed since its last commit (a
   * learner commits every n examples, an aligned task holds records back)
   * is delivered again, to the task reopened after it.
   */
  private async fail(task: OpenTask<S>): Promise<void> {
    if (task.failed) return;
    task.failed = true;
    await this.drop(task);
    if (!this.consumer || this.stopping) return;
    const resumeAt = (topic: string) => task.context.resumeAt(topic);
    this.unwound.set(task.context.partition, resumeAt);
    await this.rewind(task.context.partition, resumeAt);
  }

  /**
   * Seeks every input of `partition` to its committed offset (`fallback`
   * where nothing is committed). Until that succeeds the partition stays in
   * `unwound`, and its next batch tries again instead of being processed:
   * a delayed run that failed while the broker was away has no consumer to
   * restart, and its records must not be skipped.
   */
  private async rewind(partition: number, fallback: (topic: string) => number): Promise<void> {
    const committed = await this.committed(partition);
    this.consumer?.seek(this.options.topics.map((topic) => ({ topic, partition, offset: committed.get(topic) ?? fallback(topic) })));
    this.unwound.delete(partition);
  }

  /** Retries the rewind of an `unwound` partition between batches, after a backoff, until it succeeds or the processor stops. */
  private rewindLater(partition: number, attempt: number): void {
    const timer = setTimeout(() => {
      this.queue
        .run(async () => {
          const fallback = this.unwound.get(partition);
          if (fallback && !this.stopping) await this.rewind(partition, fallback);
        })
        .catch(() => this.rewindLater(partition, attempt + 1));
    }, Math.min(REWIND_RETRY_MAX_MS, 250 * 2 ** Math.min(attempt, 5)));
    timer.unref();
  }

  /** The task of the batch's partition, opened (restored) if need be; undefined if it was kept and the batch must come again. */
  private async task(batch: PartitionBatch): Promise<OpenTask<S> | undefined> {
    const existing = this.tasks.get(batch.partition);
    if (existing?.context.generation === batch.generation) return existing;
    if (existing) await this.options.settle?.();
    const started = performance.now();
    const report = (kept: boolean) =>
      this.options.onOpened?.({ partition: batch.partition, generation: batch.generation, kept, ms: performance.now() - started });
    if (existing && settled(existing.standing, this.options.topics) && (await this.keep(existing, batch))) {
      report(true);
      return undefined;
    }
    if (existing) await this.drop(existing);
    const producer = await this.fence(batch.partition);
    try {
      const { resume, committed } = await this.resumeOffsets(batch, producer !== undefined);
      const standing = openedStanding(batch.generation, resume, committed);
      const context = this.context(batch.partition, standing, () => task);
      const { align } = this.options;
      const aligned = align ? await this.alignedInputs(batch, context, align) : undefined;
      const state = await this.options.work.open(context);
      const task: OpenTask<S> = { context, producer, standing, dropped: false, failed: false, state, aligned, paused: new Set(), timer: undefined, letters: [] };
      this.tasks.set(batch.partition, task);
      report(false);
      return task;
    } catch (error) {
      await producer?.close().catch(() => {});
      throw error;
    }
  }

  /**
   * Keeps a settled task across the new generation of `batch` if nobody
   * committed its partition meanwhile (the file comment, "keeping"): fences
   * again, reads the committed offsets, and on a match seeks every input of
   * the partition to them (the task's position) and clears what an aligned
   * task buffered. False (the caller drops it) otherwise; a failure drops it.
   */
  private async keep(task: OpenTask<S>, batch: PartitionBatch): Promise<boolean> {
    const { partition } = task.context;
    const { topics, align } = this.options;
    try {
      await task.producer?.close().catch(() => {});
      task.producer = undefined;
      task.producer = await this.fence(partition);
      const now = await this.committed(partition);
      if (!unchanged(task.standing, now, topics)) return false;
      task.standing.generation = batch.generation;
      task.standing.resume = now;
      clearTimeout(task.timer);
      task.timer = undefined;
      if (task.paused.size > 0) this.consumer?.resume([...task.paused].map((topic) => ({ topic, partition })));
      task.paused.clear();
      task.aligned = align ? await this.alignedInputs(batch, task.context, align) : undefined;
      task.letters = [];
      this.consumer?.seek(topics.map((topic) => ({ topic, partition, offset: now.get(topic)! })));
      return true;
    } catch (error) {
      await this.drop(task);
      throw error;
    }
  }

  /** The buffers of an aligned task, knowing where each input partition ends now. */
  private async alignedInputs(batch: PartitionBatch, context: TaskContext, align: AlignOptions): Promise<AlignedInputs> {
    const ends = new Map<string, number>();
    for (const topic of this.options.topics) {
      ends.set(topic, (await this.options.transport.endOffsets(topic)).find((o) => o.partition === batch.partition)?.offset ?? 0);
    }
    return new AlignedInputs(this.options.topics, batch.partition, batch.generation, context.resumeAt, (topic) => ends.get(topic) ?? 0, this.idleClock(), {
      maxWaitMs: align.maxWaitMs,
      maxBatch: this.options.maxBatch ?? DEFAULT_MAX_BATCH,
    });
  }

  private async fence(partition: number): Promise<TransactionalProducer | undefined> {
    const prefix = this.options.transactionalIdPrefix;
    return prefix === undefined ? undefined : this.options.transport.transactionalProducer(`${prefix}-${partition}`);
  }

  /**
   * Where each input resumes: the batch's first offset, and after fencing
   * whatever the previous owner committed last (it may be further); and the
   * offsets committed for the partition (read either way: a task keeps them,
   * see task-standing.ts).
   */
  private async resumeOffsets(batch: PartitionBatch, fenced: boolean): Promise<{ resume: Map<string, number>; committed: Map<string, number> }> {
    const resume = new Map<string, number>([[batch.topic, batch.records[0]?.offset ?? batch.nextOffset]]);
    const committed = await this.committed(batch.partition);
    if (fenced) for (const [topic, offset] of committed) resume.set(topic, Math.max(resume.get(topic) ?? 0, offset));
    return { resume, committed };
  }

  /** The offsets committed for `partition` of every input (those without a commit left out). */
  private async committed(partition: number): Promise<Map<string, number>> {
    const committed = new Map<string, number>();
    for (const topic of this.options.topics) {
      const offset = (await this.options.transport.committedOffsets(this.options.groupId, topic)).find((o) => o.partition === partition);
      if (offset) committed.set(topic, offset.offset);
    }
    return committed;
  }

  /** The context of a task (`task()` gives the task once it is open: commit needs its producer); generation and resumeAt follow `standing`. */
  private context(partition: number, standing: Standing, task: () => OpenTask<S>): TaskContext {
    const { groupId } = this.options;
    return {
      partition,
      get generation() {
        return standing.generation;
      },
      resumeAt: (topic) => standing.resume.get(topic) ?? 0,
      heartbeat: () => this.heartbeat(),
      commit: async (records, offsets) => {
        const open = task();
        if (!open.producer) throw new FeedbackloopError(`processor group ${groupId} is not transactional: it commits with commitHeld`, { systemic: true });
        try {
          await open.producer.sendWithOffsets(open.letters.length > 0 ? records.concat(open.letters) : records, { groupId, offsets });
        } catch (error) {
          // The state is now ahead of what was committed: the task is restored from the commit, and
          // its inputs rewound to it. Outside a batch (a timer's commit) nothing else would rewind
          // them: the consumer would go on past what the task held uncommitted (a stall at the
          // partition's end, or those records skipped by the next task). A rewind the broker refuses
          // is retried until it succeeds (the partition waits in `unwound` meanwhile).
          const held = this.holds(partition);
          await this.fail(open).catch(() => this.rewindLater(partition, 0));
          throw commitFailure(groupId, partition, error, held);
        }
        record(standing.committed, partition, offsets);
        open.letters = [];
        this.poisons?.committed(offsets);
      },
    };
  }

  /** Forgets a task: its state may be ahead of what was committed, or the partition went elsewhere. */
  private async drop(task: OpenTask<S>): Promise<void> {
    if (task.dropped) return;
    task.dropped = true;
    clearTimeout(task.timer);
    if (task.paused.size > 0) this.consumer?.resume([...task.paused].map((topic) => ({ topic, partition: task.context.partition })));
    if (this.tasks.get(task.context.partition) === task) this.tasks.delete(task.context.partition);
    await task.producer?.close().catch(() => {});
    await this.options.work.close?.(task.state);
  }
}

/** A commit refused because the task's producer was fenced; `restored`: fenced by the broker's transaction timeout, the task is restored (see "fenced"). */
export class FencedCommitError extends FeedbackloopError {
  constructor(
    message: string,
    readonly restored: boolean,
    cause: unknown,
  ) {
    super(message, { retriable: restored, systemic: true, cause });
  }
}

/**
 * A refused commit is about the transport, not the batch's records (never a
 * poison); retriable if the cause is, or if the producer was fenced while
 * this member still `held` the partition.
 */
function commitFailure(groupId: string, partition: number, error: unknown, held: boolean): FeedbackloopError {
  const failed = `${groupId}: the commit of partition ${partition} failed`;
  if (isProducerFenced(error)) {
    const why = held
      ? 'its producer was fenced while this member holds the partition (the broker aborted a transaction open longer than the transaction timeout): the task is restored from its last commit'
      : "its producer was fenced by the partition's new owner (this member no longer holds it)";
    return new FencedCommitError(`${failed}: ${why}: ${errorMessage(error)}`, held, error);
  }
  return new FeedbackloopError(`${failed}: ${errorMessage(error)}`, {
    retriable: isRetriable(error),
    systemic: true,
    cause: error,
  });
}
