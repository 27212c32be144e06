/**
 * What the processors report as they go, as plain hooks: the Prometheus
 * adapter (adapters/prometheus) turns them into metrics and `run` adds its
 * log lines; a replay or a test passes what it needs, or nothing. Every hook
 * is optional and must not throw.
 */
import type { Evaluator, EvaluatorRows, ShardPartialRow } from './evaluate/index.js';
import type { DeadLetter, LabelledExample, ModelSnapshot, PromotionDecision } from './events.js';
import type { JoinCounters } from './join/index.js';

/** How a partition task built its state at (re)assignment (processors with checkpoints). */
export interface RestoreReport {
  processor: string;
  partition: number;
  /** `checkpoint`: its state, then the input after it; `start`: the input re-read from the partition's start. */
  from: 'checkpoint' | 'start';
  /** Why no checkpoint was used (from `start`). */
  reason?: string;
  /** Input records re-read. */
  reread: number;
  ms: number;
  /** Examples of the re-read that made the state throw, left out (poisons dead-lettered when first processed). */
  skipped?: Array<{ offset: number; error: string }>;
}

/** A partition task opened at a (new) assignment generation: its state restored, or kept from the previous generation. */
export interface TaskOpenedReport {
  processor: string;
  partition: number;
  generation: number;
  /** True: kept (it had committed all it processed, and nobody committed its partition since); false: restored. */
  kept: boolean;
  ms: number;
}

export interface PipelineObserver {
  /** Records a processor read, by topic (processors without a transaction of their own). */
  recordsIn?(topic: string, count: number): void;
  /** A record went to the dead-letter path. */
  deadLetter?(letter: DeadLetter): void;
  /** The joiner committed a batch: the counters' increments. */
  joined?(delta: JoinCounters, partition: number): void;
  /** The learner published snapshots (one transaction). */
  published?(snapshots: ModelSnapshot[], partition: number): void;
  /** The promoter published decisions. */
  decided?(decisions: PromotionDecision[]): void;
  /** The promoter read a manual decision for the first time (every one, at each start). */
  manual?(decision: PromotionDecision): void;
  /** A partition task restored its state (from a checkpoint and the input after it, or from the partition's start, and why). */
  restored?(report: RestoreReport): void;
  /** A partition task was opened (restored) or kept at a new assignment generation. */
  taskOpened?(report: TaskOpenedReport): void;
  /** The evaluator applied a live batch; `evaluators`: those of every task (their live figures include it). */
  evaluated?(partition: number, examples: LabelledExample[], seconds: number, evaluators: Evaluator[]): void;
  /**
   * An evaluator task opened with its state restored (evaluator.write_partials or shard_by: prediction):
   * its partition (the shard), its evaluator, and the partials of its cells' `total` windows as restored.
   */
  shardOpened?(partition: number, evaluator: Evaluator, totals: ShardPartialRow[]): void;
  /**
   * The evaluator wrote its rows and committed their offsets (`seconds`: from the drain; the write is in the
   * background), with the evaluators of every task (for live gauges) and, in the same order, their partitions (the
   * shards of their partials; a partition whose task was replaced since the drain has its partials left out).
   */
  flushed?(evaluators: Evaluator[], rows: EvaluatorRows, seconds: number, partitions?: readonly number[]): void;
  /** A write to a sink table failed and is retried (consumption waits). */
  sinkRetry?(table: string, error: unknown, attempt: number, delayMs: number): void;
  /** A record made a processor fail (not its decoding: its processing); it was dead-lettered and skipped. */
  poisoned?(letter: DeadLetter): void;
  /** A batch of `processor` failed in a way a retry can mend; it is delivered again. */
  retrying?(processor: string, error: unknown): void;
  /** A batch of `processor` succeeded (after `retrying`: it recovered). */
  recovered?(processor: string): void;
  /** A heartbeat or an offset commit failed (not fatal: the records are processed again, to the same result). */
  commitFailed?(processor: string, error: unknown): void;
}
