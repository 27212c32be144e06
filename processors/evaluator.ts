/**
 * The evaluator processor: labelled examples -> metric points, drift records,
 * feedback statistics and the labelled-example audit trail (ClickHouse, or
 * files in a replay), plus live Prometheus gauges.
 *
 * One task per partition of `labelled-examples` (keyed by model, so a model
 * lives in one partition), each with its own Evaluator (core/evaluate). With
 * evaluator.shard_by: prediction it reads the joiner's copy keyed by
 * prediction_id instead, so a model's examples spread over every partition:
 * each task is one shard and writes only its partials and audit rows
 * (`sharded`; docs/scale-out.md).
 *
 * Exactly-once figures: the evaluator's figures and state are a function
 * of the sequence of examples in the partition alone (see core/evaluate),
 * and every row carries a version (the partition offset it reflects) in a
 * ReplacingMergeTree, so the latest row per key wins. Offsets are committed
 * only after the rows that cover them are durable, and only by the task
 * that drained them (one dropped meanwhile was rewound to its commit).
 *
 * Checkpoints (docs/architecture.md, "Checkpoints"): at a flush, once
 * `checkpoints.intervalMs` passed since a partition's last one, its drained
 * state is written to the compacted checkpoint topic with the offset it
 * reflects, after the rows are durable and before the offsets are
 * committed (not in one transaction: any checkpoint is the state at its
 * offset, and the rows before it are written, so a checkpoint ahead of the
 * committed offset is as good as one behind it). A task that (re)starts on
 * a partition restores the latest checkpoint and re-reads only the input
 * after it, writing nothing (records below a checkpoint ahead of the
 * commit are skipped); without a usable one (none yet, other settings) it
 * re-reads the partition from its start, and says why (observer
 * `restored`). From there it writes exactly the rows an uninterrupted run
 * would have written last.
 *
 * Batching: examples are applied as they come; figures are drained when
 * the examples applied since the last drain (arrival records included,
 * though they get no audit row) reach flush.max_rows or flush.max_bytes, or
 * flush.interval after the first undrained example. The drain is
 * synchronous (between batches), and so is the encoding of the checkpoints
 * due: both are the state at the drained offsets. Then the rows are written,
 * the checkpoints sent and the offsets committed in the background while
 * batches go on being applied. At most one write is in flight: the next
 * flush waits for it before it drains, and consumption waits with it
 * (inside the batch or timer job that made the flush due). So memory holds
 * at most one drain's rows being written and flush.max_rows examples (plus
 * a batch) applied since; a write to a slow or absent ClickHouse waits
 * (retrying, heartbeating the group) and consumption stops at the next
 * flush. A write that fails fails every task (rewound to its commit) and
 * the processor, with a systemic error thrown where it is awaited (the next
 * flush, a stop, a new generation) or, if nothing awaits it, from a job of
 * its own; nothing it drained is committed. A stop, and a task's new
 * generation (the partition may move), wait for the write in flight first.
 */
import { errorMessage, FeedbackloopError } from '../core/errors.js';
import type { Clock } from '../core/clock.js';
import { validateLabelledExample, type DeadLetter, type LabelledExample } from '../core/events.js';
import { DEFAULT_RECORD_LIMITS, type RecordLimits } from '../core/limits.js';
import { Evaluator, shardPartialRow, type EvaluatorOptions, type EvaluatorOutput, type EvaluatorRows, type Versioned } from '../core/evaluate/index.js';
import type { Codec } from '../adapters/codec/codec.js';
import { valueLength, type LogProducer, type LogTransport, type OutgoingRecord, type PartitionBatch, type TopicPartitionOffset } from '../adapters/transport/transport.js';
import type { Sink } from '../sinks/sink.js';
import type { EvaluatorSink } from '../sinks/evaluator-rows.js';
import { decodeRecord, type SharedContract } from './decode.js';
import { rebuildSkipping, rereadLabelled } from './reread.js';
import { PartitionTasks, type TaskContext } from './partition-tasks.js';
import type { Processor } from './processor.js';
import type { PipelineObserver } from '../core/observer.js';
import { poisonToSink, taskHealth, taskOpened } from './poison.js';
import { checkpointRecords, requireCheckpointPartitions } from './checkpoint.js';
import { restoreCheckpoint } from './checkpoint-restore.js';
import { decodeEvaluatorState, encodeEvaluatorState } from '../adapters/state/evaluator-checkpoint.js';

export const EVALUATOR_STAGE = 'evaluator';
/**
 * Examples a rebuild applies between discards. Drained once at the end, its rows
 * piled up with the partition's history (bench/evaluator-restart.ts: 1.0 GiB
 * held for 0.67 M examples, 1.7 GiB for 1.33 M; every 10,000: 0.2-0.5 GiB for both).
 */
const REBUILD_DISCARD_EVERY = 10_000;

/** A shard's drain: its figures are in its partials. */
const NOTHING_DRAINED: EvaluatorOutput = Object.freeze({ points: [], drift: [], feedback: [], charts: [] });

export interface EvaluatorFlushPolicy {
  maxRows: number;
  maxBytes: number;
  intervalMs: number;
}

export interface EvaluatorProcessorDeps {
  transport: LogTransport;
  topic: string;
  groupId: string;
  codec: Codec<LabelledExample>;
  evaluator: Partial<EvaluatorOptions>;
  /** Bounds on each input record (limits.*; default: the defaults): a record past them is dead-lettered. */
  limits?: RecordLimits;
  sink: EvaluatorSink;
  deadLetters: Sink<DeadLetter>;
  flush: EvaluatorFlushPolicy;
  /** The input ends when it stops (a replay): stop() also writes the sliding windows' last figures. */
  finalAtStop?: boolean;
  clock: Clock;
  /** Hooks: `evaluated` after each live batch, `flushed` after each write and its commit, `deadLetter`, `commitFailed`. */
  observer?: PipelineObserver;
  /** Examples a rebuild applies between discards (default 10,000; tests make it small). */
  rebuildDiscardEvery?: number;
  /**
   * Also write the mergeable partials of the binary and regression windows each flush changed
   * (evaluator.write_partials; docs/scale-out.md), shard = the partition, versioned by its offset as the
   * points are. Class windows have none (not built): Evaluator.partials() leaves them out.
   */
  writePartials?: boolean;
  /**
   * One shard of its models' examples (evaluator.shard_by: prediction; the input keyed by prediction_id): it
   * writes only what sums over shards, the partials (as writePartials) and the examples' audit rows; no
   * points, drift, feedback statistics or charts (another shard's rows of the same keys would replace them).
   */
  sharded?: boolean;
  /** Checkpoint each partition's state to this compacted topic at the first flush `intervalMs` after its last one (absent: restarts re-read from the start). */
  checkpoints?: { topic: string; intervalMs: number };
}

/** A partition's state: its evaluator, and how far it got. */
interface EvaluateTask {
  partition: number;
  evaluator: Evaluator;
  /** Offset after the last applied record: the version of drained figures and what to commit after a flush. */
  position: number;
  committed: number;
  /** Clock time of its last checkpoint (-Infinity: none since a re-read from the start, so the next flush writes one). */
  checkpointedAt: number;
}

/** What a flush drained, for its write: the rows, the offsets they cover (with the task that reached them), the checkpoints due. */
interface Drained {
  rows: EvaluatorRows;
  offsets: DrainedOffset[];
  /** The tasks drained, in partition order. */
  tasks: EvaluateTask[];
  checkpoints: DueCheckpoints | undefined;
  started: number;
}

interface DrainedOffset {
  task: EvaluateTask;
  offset: TopicPartitionOffset;
}

/** Checkpoints encoded at a drain, the tasks they are of, and when. */
interface DueCheckpoints {
  records: OutgoingRecord[];
  tasks: EvaluateTask[];
  at: number;
}

export class EvaluatorProcessor implements Processor {
  /** Labelled examples: validated under this processor's limits; one copy shared with the other readers of a carried event (processors/decode.ts). */
  private get contract(): SharedContract<LabelledExample> {
    return (this.sharedContract ??= { contract: validateLabelledExample, limits: this.deps.limits ?? DEFAULT_RECORD_LIMITS });
  }
  private sharedContract: SharedContract<LabelledExample> | undefined;

  readonly name = 'evaluator';
  readonly inputs: string[];
  readonly outputs: string[] = [];
  private readonly tasks: PartitionTasks<EvaluateTask>;
  private examples: Array<Versioned<LabelledExample>> = [];
  /** Examples applied since the last flush, arrival records included (they have no audit row, but figures to drain). */
  private applied = 0;
  private bufferedBytes = 0;
  private firstBufferedAt: number | undefined;
  private timer: NodeJS.Timeout | undefined;
  private checkpointProducer: LogProducer | undefined;
  /** The write in flight (rows, checkpoints, offsets of one drain): at most one. */
  private writing: Promise<void> | undefined;

  constructor(private readonly deps: EvaluatorProcessorDeps) {
    this.inputs = [deps.topic];
    this.tasks = new PartitionTasks<EvaluateTask>({
      transport: deps.transport,
      groupId: deps.groupId,
      topics: this.inputs,
      work: { open: (ctx) => this.rebuild(ctx), process: (task, batch) => this.onBatch(task, batch) },
      onCommitFailed: (error) => deps.observer?.commitFailed?.(EVALUATOR_STAGE, error),
      poison: poisonToSink(EVALUATOR_STAGE, deps.deadLetters, deps.observer),
      health: taskHealth(EVALUATOR_STAGE, deps.observer),
      onOpened: taskOpened(EVALUATOR_STAGE, deps.observer),
      settle: () => this.settle(),
    });
  }

  async start(): Promise<void> {
    const { checkpoints, transport, topic } = this.deps;
    if (checkpoints) {
      await requireCheckpointPartitions(transport, 'evaluator', checkpoints.topic, topic);
      this.checkpointProducer = await transport.producer();
    }
    await this.tasks.start();
    // Checks four times per interval; an interval too long for a timer (a replay) means at the end only.
    const every = Math.max(50, Math.floor(this.deps.flush.intervalMs / 4));
    if (every > 2 ** 31 - 1) return;
    this.timer = setInterval(() => {
      if (this.firstBufferedAt !== undefined && this.deps.clock.now() - this.firstBufferedAt >= this.deps.flush.intervalMs) {
        // A failed write crashes the processor (a retry cannot mend it: the sink retries what it can).
        this.tasks.serially(() => this.flush()).catch((error: unknown) => this.tasks.crash(error));
      }
    }, every);
    this.timer.unref();
  }

  get done(): Promise<void> {
    return this.tasks.done;
  }

  /**
   * Flushes what is buffered (after the write in flight) and waits for that
   * write and its commit, then leaves the group.
   * `final` (a replay's end of input; default: finalAtStop): the sliding windows' last figures too.
   */
  async stop(options: { final?: boolean } = {}): Promise<void> {
    clearInterval(this.timer);
    await this.tasks.stop(async () => {
      await this.flush(options.final ?? this.deps.finalAtStop ?? false);
      await this.settle();
    });
    await this.closeProducer();
  }

  private async closeProducer(): Promise<void> {
    await this.checkpointProducer?.close().catch(() => {});
    this.checkpointProducer = undefined;
  }

  /** Stops as a crash would: nothing buffered is written or committed (for tests); a write already in flight ends first, as in a flush. */
  async abandon(): Promise<void> {
    clearInterval(this.timer);
    await this.writing?.catch(() => {});
    await this.tasks.stop();
    await this.closeProducer();
  }

  /** Evaluators of the current tasks (for gauges and tests). */
  evaluators(): Evaluator[] {
    return this.tasks.all().map((t) => t.state.evaluator);
  }

  /** Partition p's evaluator where this task resumes: its checkpoint and the input after it, or the input from its start. */
  private async rebuild(ctx: TaskContext): Promise<EvaluateTask> {
    const started = performance.now();
    const { topic } = this.deps;
    const resumeAt = ctx.resumeAt(topic);
    const { built, skipped } = await rebuildSkipping(async (skip) => {
      const restored = await this.restore(ctx);
      const evaluator = restored.state ?? new Evaluator(this.deps.evaluator);
      const from = restored.from[topic] ?? 0;
      const reread = from < resumeAt ? await this.reread(ctx, evaluator, from, resumeAt, skip) : 0;
      return { restored, evaluator, from, reread };
    });
    const { restored, evaluator, from, reread } = built;
    this.deps.observer?.restored?.({
      processor: this.name, partition: ctx.partition, from: restored.state ? 'checkpoint' : 'start',
      ...(restored.reason === undefined ? {} : { reason: restored.reason }), reread, ms: performance.now() - started,
      ...(skipped.length === 0 ? {} : { skipped }),
    });
    if (this.deps.writePartials || this.deps.sharded) {
      const totals = evaluator.totalPartials().map((p) => shardPartialRow(evaluator.options, p, ctx.partition));
      this.deps.observer?.shardOpened?.(ctx.partition, evaluator, totals);
    }
    // A checkpoint ahead of the commit: the records up to it are in the state and their rows written.
    const position = Math.max(from, resumeAt);
    const checkpointedAt = restored.state ? this.deps.clock.now() : Number.NEGATIVE_INFINITY;
    return { partition: ctx.partition, evaluator, position, committed: resumeAt, checkpointedAt };
  }

  private async restore(ctx: TaskContext): Promise<{ state: Evaluator | undefined; from: Record<string, number>; reason?: string }> {
    const { checkpoints, transport, topic } = this.deps;
    if (!checkpoints) return { state: undefined, from: {}, reason: 'checkpoints are off' };
    const decode = (bytes: Buffer) => decodeEvaluatorState(bytes, this.deps.evaluator);
    return restoreCheckpoint({ transport, topic: checkpoints.topic, inputs: [topic], ctx, decode, acceptAhead: true });
  }

  /**
   * Applies the input from `from` up to `resumeAt`, writing nothing: those rows were written
   * before the records were committed. restore() computes no sliding figures and discard()
   * drops the rest as it goes, so nothing piles up (the state does not depend on when it drains).
   */
  private async reread(ctx: TaskContext, evaluator: Evaluator, from: number, until: number, skip: ReadonlySet<number>): Promise<number> {
    const discardEvery = this.deps.rebuildDiscardEvery ?? REBUILD_DISCARD_EVERY;
    let applied = 0;
    const { transport, topic, codec, limits } = this.deps;
    const options = { transport, topic, partition: ctx.partition, from, until, codec, limits, heartbeat: () => ctx.heartbeat(), skip };
    const read = await rereadLabelled(options, (example) => {
      evaluator.restore(example);
      if (++applied % discardEvery === 0) evaluator.discard();
    });
    evaluator.discard();
    return read;
  }

  private async onBatch(task: EvaluateTask, batch: PartitionBatch): Promise<void> {
    const started = performance.now();
    const now = this.deps.clock.now();
    const letters: DeadLetter[] = [];
    const applied: LabelledExample[] = [];
    for (const record of batch.records) {
      if (record.offset < task.position) continue; // in the restored checkpoint already
      const decoded = await decodeRecord(record, this.deps.codec as Codec<unknown>, this.contract, EVALUATOR_STAGE, now);
      if (!decoded.ok) {
        letters.push(decoded.letter);
        continue;
      }
      const example = decoded.value;
      task.evaluator.onExample(example);
      applied.push(example);
      this.applied++;
      if (example.arrival) continue; // arrival records: no audit row (ClickHouse labelled_examples holds labels and expiries)
      this.examples.push({ value: example, version: record.offset });
      this.bufferedBytes += valueLength(record); // weighed, not encoded, when the bytes are lazy (the replay)
    }
    task.position = Math.max(task.position, batch.nextOffset);
    this.firstBufferedAt ??= now;
    if (letters.length > 0) {
      await this.deps.deadLetters.writeBatch(letters);
      for (const letter of letters) this.deps.observer?.deadLetter?.(letter);
    }
    this.deps.observer?.evaluated?.(batch.partition, applied, (performance.now() - started) / 1000, this.evaluators());
    if (this.applied >= this.deps.flush.maxRows || this.bufferedBytes >= this.deps.flush.maxBytes) await this.flush();
  }

  /**
   * Drains every task now and starts writing what it drained in the
   * background (write(): rows, checkpoints, offsets), after the previous
   * write finished: at most one is in flight, so a flush that comes due
   * while one is holds consumption until it is done.
   */
  private async flush(final = false): Promise<void> {
    await this.settle();
    const drained = this.drain(final);
    if (!drained) return;
    const writing = this.write(drained);
    this.writing = writing;
    // Nobody may come to await it (no next flush, no stop): its failure is then handled here, and crashes the processor.
    writing.catch(() => {
      this.tasks.serially(async () => (this.writing === writing ? this.settle() : undefined)).catch((error: unknown) => this.tasks.crash(error));
    });
  }

  /**
   * Awaits the write in flight. One that failed lost what was drained:
   * every task is dropped and rewound to its commit, so the rows are computed
   * again by the tasks rebuilt after it; the error is thrown, systemic (it is
   * no record's fault), to the one settle that found it. Call it between
   * batches (a batch, `serially`).
   */
  private async settle(): Promise<void> {
    const writing = this.writing;
    if (!writing) return;
    try {
      await writing;
    } catch (error) {
      this.writing = undefined;
      await this.tasks.failAll();
      this.forgetBuffered();
      throw new FeedbackloopError(`evaluator: writing its rows failed (the drained figures are computed again after the restart): ${errorMessage(error)}`, {
        systemic: true,
        cause: error,
      });
    } finally {
      if (this.writing === writing) this.writing = undefined;
    }
  }

  /**
   * Drains every task (synchronously: no batch comes in between) into the
   * rows of one write, with the offsets they cover and the checkpoints due,
   * encoded now (the state moves on while the rows are written); undefined
   * when there is nothing to write or commit.
   */
  private drain(final: boolean): Drained | undefined {
    const started = performance.now();
    const rows: EvaluatorRows = { points: [], drift: [], feedback: [], charts: [], partials: [], examples: this.examples };
    const offsets: DrainedOffset[] = [];
    const tasks = this.tasks.all().map((t) => t.state);
    for (const task of tasks) {
      const version = task.position;
      // Before the drain, which clears the marks of the changed windows.
      if (this.deps.writePartials || this.deps.sharded) {
        for (const p of task.evaluator.partials()) rows.partials!.push({ value: shardPartialRow(task.evaluator.options, p, task.partition), version });
      }
      if (this.deps.sharded) task.evaluator.discard();
      const out = this.deps.sharded ? NOTHING_DRAINED : final ? task.evaluator.finish() : task.evaluator.drain();
      for (const value of out.points) rows.points.push({ value, version });
      for (const value of out.drift) rows.drift.push({ value, version });
      for (const value of out.feedback) rows.feedback.push({ value, version });
      for (const value of out.charts) rows.charts!.push({ value, version });
      if (task.position > task.committed) offsets.push({ task, offset: { topic: this.deps.topic, partition: task.partition, offset: task.position } });
    }
    if (rows.points.length + rows.drift.length + rows.feedback.length + rows.charts!.length + rows.partials!.length + rows.examples.length === 0 && offsets.length === 0) return undefined;
    this.forgetBuffered();
    return { rows, offsets, tasks, checkpoints: this.dueCheckpoints(), started };
  }

  /**
   * Writes the rows, then the checkpoints, then commits the offsets they
   * cover: only those of tasks still open (a task dropped meanwhile was
   * rewound to its commit; its successor commits for itself) and held by
   * this member (a task of an older assignment may have been taken over).
   */
  private async write(drained: Drained): Promise<void> {
    const { rows, offsets, tasks, checkpoints, started } = drained;
    await this.deps.sink.writeBatch([rows]);
    await this.sendCheckpoints(checkpoints);
    const open = new Set(this.tasks.all().map((t) => t.state));
    for (const o of await this.tasks.commitHeld(offsets.filter((o) => open.has(o.task)).map((o) => o.offset))) {
      const task = offsets.find((d) => d.offset.partition === o.partition)?.task;
      if (task && open.has(task)) task.committed = o.offset;
    }
    const now = this.tasks.all().map((t) => t.state);
    // A partition whose task was replaced since the drain: its partials were the old task's, not the gauges' of the new one.
    const replaced = new Set(tasks.filter((t) => !open.has(t)).map((t) => t.partition));
    const shown = replaced.size === 0 ? rows : { ...rows, partials: rows.partials?.filter((p) => !replaced.has(p.value.shard)) };
    this.deps.observer?.flushed?.(now.map((t) => t.evaluator), shown, (performance.now() - started) / 1000, now.map((t) => t.partition));
  }

  /**
   * The checkpoints of every task held whose interval passed, encoded now
   * (right after a drain: toState needs drained evaluators).
   */
  private dueCheckpoints(): DueCheckpoints | undefined {
    const { checkpoints, clock, topic } = this.deps;
    if (!checkpoints || !this.checkpointProducer) return undefined;
    const now = clock.now();
    const due = this.tasks.held().map((t) => t.state).filter((t) => now - t.checkpointedAt >= checkpoints.intervalMs && t.position > 0);
    const records: OutgoingRecord[] = [];
    for (const t of due) {
      const state = encodeEvaluatorState(t.evaluator);
      for (const r of checkpointRecords(checkpoints.topic, t.partition, { state, offsets: { [topic]: t.position } })) records.push(r);
    }
    return records.length === 0 ? undefined : { records, tasks: due, at: now };
  }

  /** Sends the checkpoints (after the rows they are past are durable). A failure is reported, not thrown: a restart just re-reads more. */
  private async sendCheckpoints(due: DueCheckpoints | undefined): Promise<void> {
    if (!due || !this.checkpointProducer) return;
    try {
      await this.checkpointProducer.send(due.records);
      for (const t of due.tasks) t.checkpointedAt = due.at;
    } catch (error) {
      this.deps.observer?.commitFailed?.(EVALUATOR_STAGE, error);
    }
  }

  /** Empties the buffer of examples: written, or given up with the tasks that applied them. */
  private forgetBuffered(): void {
    this.examples = [];
    this.applied = 0;
    this.bufferedBytes = 0;
    this.firstBufferedAt = undefined;
  }

  /** Heartbeats the group while a write waits (ClickHouse down): errors only mean a rebalance is coming. */
  async heartbeat(): Promise<void> {
    await this.tasks.heartbeat();
  }
}
