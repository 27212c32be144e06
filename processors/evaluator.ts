/**
 * The evaluator processor: labelled examples -> metric points, drift records,
 * feedback statistics and the labelled-example audit trail (ClickHouse, or
 * files in a replay), plus live Prometheus gauges.
 *
 * One task per partition of `labelled-examples` (keyed by model, so a model
 * lives in one partition), each with its own Evaluator (core/evaluate).
 *
 * Exactly-once figures without a state changelog: the evaluator's figures
 * are a function of the sequence of examples in the partition alone (see
 * core/evaluate), and every row carries a version (the partition offset it
 * reflects) in a ReplacingMergeTree, so the latest row per key wins. Offsets
 * are committed only after the rows that cover them are durable. A task
 * that (re)starts on a partition rebuilds its state by re-reading the
 * partition from the beginning up to where consumption resumes, writing
 * nothing; from there it writes exactly the rows an uninterrupted run would
 * have written last. The cost is a restart time proportional to the
 * partition's history (documented; labelled-examples must be retained as
 * long as the `total` windows should reach back).
 *
 * Batching: examples are applied as they come; figures are drained and
 * written when the buffered audit rows reach flush.max_rows or
 * flush.max_bytes, or flush.interval after the first unflushed example. A
 * write to a slow or absent ClickHouse waits (retrying, heartbeating the
 * group) and consumption waits with it: memory stays bounded.
 */
import { errorMessage, FeedbackloopError } from '../core/errors.js';
import type { Clock } from '../core/clock.js';
import { validateLabelledExample, type DeadLetter, type LabelledExample } from '../core/events.js';
import type { RecordLimits } from '../core/limits.js';
import { Evaluator, type EvaluatorOptions, type EvaluatorRows, type Versioned } from '../core/evaluate/index.js';
import type { Codec } from '../adapters/codec/codec.js';
import type { LogTransport, PartitionBatch, TopicPartitionOffset } from '../adapters/transport/transport.js';
import type { Sink } from '../sinks/sink.js';
import type { EvaluatorSink } from '../sinks/evaluator-rows.js';
import { decodeRecord, rereadLabelled } from './decode.js';
import { PartitionTasks, type TaskContext } from './partition-tasks.js';
import type { Processor } from './processor.js';
import type { PipelineObserver } from '../core/observer.js';
import { poisonToSink, taskHealth } from './poison.js';

export const EVALUATOR_STAGE = 'evaluator';
/**
 * Examples a rebuild applies between discards. Drained once at the end, its rows
 * piled up with the partition's history (bench/evaluator-restart.ts: 1.0 GiB
 * held for 0.67 M examples, 1.7 GiB for 1.33 M; every 10,000: 0.2-0.5 GiB for both).
 */
const REBUILD_DISCARD_EVERY = 10_000;

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
  /** Hooks: `evaluated` after each live batch, `flushed` after each write, `deadLetter`, `commitFailed`. */
  observer?: PipelineObserver;
  /** Examples a rebuild applies between discards (default 10,000; tests make it small). */
  rebuildDiscardEvery?: number;
}

/** A partition's state: its evaluator, and how far it got. */
interface EvaluateTask {
  partition: number;
  evaluator: Evaluator;
  /** Offset after the last applied record: the version of drained figures and what to commit after a flush. */
  position: number;
  committed: number;
}

export class EvaluatorProcessor implements Processor {
  readonly name = 'evaluator';
  readonly inputs: string[];
  readonly outputs: string[] = [];
  private readonly tasks: PartitionTasks<EvaluateTask>;
  private examples: Array<Versioned<LabelledExample>> = [];
  private bufferedBytes = 0;
  private firstBufferedAt: number | undefined;
  private timer: NodeJS.Timeout | undefined;

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
    });
  }

  async start(): Promise<void> {
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
   * Flushes what is buffered (committing its offsets), then leaves the group.
   * `final` (a replay's end of input; default: finalAtStop): the sliding windows' last figures too.
   */
  async stop(options: { final?: boolean } = {}): Promise<void> {
    clearInterval(this.timer);
    await this.tasks.stop(() => this.flush(options.final ?? this.deps.finalAtStop ?? false));
  }

  /** Stops as a crash would: nothing buffered is written or committed (for tests). */
  async abandon(): Promise<void> {
    clearInterval(this.timer);
    await this.tasks.stop();
  }

  /** Evaluators of the current tasks (for gauges and tests). */
  evaluators(): Evaluator[] {
    return this.tasks.all().map((t) => t.state.evaluator);
  }

  /** Rebuilds partition p's evaluator from the partition's start up to where this task resumes. */
  private async rebuild(ctx: TaskContext): Promise<EvaluateTask> {
    const evaluator = new Evaluator(this.deps.evaluator);
    const resumeAt = ctx.resumeAt(this.deps.topic);
    // The rows of a rebuild were written before the records were committed: restore() computes
    // no sliding figures, and discard() drops the rest as it goes, so nothing piles up (the state
    // does not depend on when it drains).
    const discardEvery = this.deps.rebuildDiscardEvery ?? REBUILD_DISCARD_EVERY;
    let applied = 0;
    await rereadLabelled(this.deps.transport, this.deps.topic, ctx.partition, resumeAt, this.deps.codec, () => ctx.heartbeat(), (example) => {
      evaluator.restore(example);
      if (++applied % discardEvery === 0) evaluator.discard();
    }, this.deps.limits);
    evaluator.discard();
    return { partition: ctx.partition, evaluator, position: resumeAt, committed: resumeAt };
  }

  private async onBatch(task: EvaluateTask, batch: PartitionBatch): Promise<void> {
    const started = performance.now();
    const now = this.deps.clock.now();
    const letters: DeadLetter[] = [];
    const applied: LabelledExample[] = [];
    for (const record of batch.records) {
      const decoded = await decodeRecord(record, this.deps.codec as Codec<unknown>, (v) => validateLabelledExample(v, this.deps.limits), EVALUATOR_STAGE, now);
      if (!decoded.ok) {
        letters.push(decoded.letter);
        continue;
      }
      const example = decoded.value;
      task.evaluator.onExample(example);
      applied.push(example);
      this.examples.push({ value: example, version: record.offset });
      this.bufferedBytes += record.value?.length ?? 0;
    }
    task.position = batch.nextOffset;
    this.firstBufferedAt ??= now;
    if (letters.length > 0) {
      await this.deps.deadLetters.writeBatch(letters);
      for (const letter of letters) this.deps.observer?.deadLetter?.(letter);
    }
    this.deps.observer?.evaluated?.(batch.partition, applied, (performance.now() - started) / 1000, this.evaluators());
    if (this.examples.length >= this.deps.flush.maxRows || this.bufferedBytes >= this.deps.flush.maxBytes) await this.flush();
  }

  /**
   * Drains every task, writes the rows, then commits the offsets they cover.
   * A write that fails lost what was drained: every task is dropped and
   * rewound to its commit, so the rows are computed again by the tasks
   * rebuilt after it; the error is thrown, systemic (it is no record's fault).
   */
  private async flush(final = false): Promise<void> {
    try {
      await this.drainAndWrite(final);
    } catch (error) {
      await this.tasks.failAll();
      this.forgetBuffered();
      throw new FeedbackloopError(`evaluator: writing its rows failed (the drained figures are computed again after the restart): ${errorMessage(error)}`, {
        systemic: true,
        cause: error,
      });
    }
  }

  private async drainAndWrite(final: boolean): Promise<void> {
    const started = performance.now();
    const rows: EvaluatorRows = { points: [], drift: [], feedback: [], examples: this.examples };
    const offsets: TopicPartitionOffset[] = [];
    for (const { state: task } of this.tasks.all()) {
      const out = final ? task.evaluator.finish() : task.evaluator.drain();
      const version = task.position;
      for (const value of out.points) rows.points.push({ value, version });
      for (const value of out.drift) rows.drift.push({ value, version });
      for (const value of out.feedback) rows.feedback.push({ value, version });
      if (task.position > task.committed) offsets.push({ topic: this.deps.topic, partition: task.partition, offset: task.position });
    }
    if (rows.points.length + rows.drift.length + rows.feedback.length + rows.examples.length === 0 && offsets.length === 0) return;
    await this.deps.sink.writeBatch([rows]);
    this.forgetBuffered();
    // Only what this member still holds: a task of an older assignment may have been taken over.
    for (const o of await this.tasks.commitHeld(offsets)) {
      const task = this.tasks.all().find((t) => t.context.partition === o.partition);
      if (task) task.state.committed = o.offset;
    }
    this.deps.observer?.flushed?.(this.evaluators(), rows, (performance.now() - started) / 1000);
  }

  /** Empties the buffer of examples: written, or given up with the tasks that applied them. */
  private forgetBuffered(): void {
    this.examples = [];
    this.bufferedBytes = 0;
    this.firstBufferedAt = undefined;
  }

  /** Heartbeats the group while a write waits (ClickHouse down): errors only mean a rebalance is coming. */
  async heartbeat(): Promise<void> {
    await this.tasks.heartbeat();
  }
}
