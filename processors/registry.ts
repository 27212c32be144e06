/**
 * The model registry processor: `model-snapshots` -> the ClickHouse table
 * `model_versions` (every version, its lineage and training data), and
 * `model-promotions` -> `champion_history` (every decision on the champion
 * alias: who or what, when, why, with the evidence). One consumer group
 * reads both topics. Undecodable records go to the dead-letter sink with the
 * reason; offsets are committed only after the rows and dead letters of a
 * batch are durable. Rows are keyed (ReplacingMergeTree), so a re-delivered
 * batch replaces its rows instead of adding to them.
 *
 * Nothing mutable is stored: the current champion, when it was deployed and
 * the metrics it was promoted on are derived from champion_history by the
 * queries below (docs/registry.md).
 *
 * While ClickHouse cannot take the rows, the write retries for as long as it
 * lasts and consumption waits, heartbeating the group meanwhile.
 */
import type { Clock } from '../core/clock.js';
import { validateModelSnapshot, validatePromotionDecision, type DeadLetter, type ModelSnapshot, type PromotionDecision } from '../core/events.js';
import type { Codec } from '../adapters/codec/codec.js';
import type { LogTransport, PartitionBatch } from '../adapters/transport/transport.js';
import { sqlString, type ClickHouseStore } from '../adapters/clickhouse/store.js';
import { championHistoryRow, modelVersionRow } from '../adapters/clickhouse/rows.js';
import { ClickHouseTableSink } from '../sinks/clickhouse-table.js';
import type { Sink } from '../sinks/sink.js';
import { decodeRecord } from './decode.js';
import { PartitionTasks } from './partition-tasks.js';
import type { Processor } from './processor.js';
import type { PipelineObserver } from '../core/observer.js';
import { poisonToSink, taskHealth, taskOpened } from './poison.js';

export const REGISTRY_STAGE = 'model-registry';
export const MODEL_VERSIONS_TABLE = 'model_versions';
export const CHAMPION_HISTORY_TABLE = 'champion_history';

export interface RegistryTopics {
  snapshots: string;
  promotions: string;
}

export interface RegistryProcessorDeps {
  transport: LogTransport;
  topics: RegistryTopics;
  groupId: string;
  codecs: { snapshot: Codec<ModelSnapshot>; promotion: Codec<PromotionDecision> };
  store: Pick<ClickHouseStore, 'insert'>;
  deadLetters: Sink<DeadLetter>;
  clock: Clock;
  /**
   * Hooks: `recordsIn`, `deadLetter`, `sinkRetry` (a ClickHouse insert failed
   * and is retried; consumption waits), `commitFailed` (a heartbeat while
   * waiting for ClickHouse, or an offset commit, failed: not fatal, the rows
   * are keyed, so records committed late are merely written again).
   */
  observer?: PipelineObserver;
  /** Retry timing of the ClickHouse writes (defaults: those of ClickHouseTableSink, heartbeat every second). */
  retry?: { initialDelayMs?: number; maxDelayMs?: number; heartbeatIntervalMs?: number };
}

type VersionRow = ReturnType<typeof modelVersionRow>;
type HistoryRow = ReturnType<typeof championHistoryRow>;

export class RegistryProcessor implements Processor {
  readonly name = 'registry';
  readonly inputs: string[];
  readonly outputs: string[] = [];
  /** No state: a task per partition number only tracks the assignment. */
  private readonly tasks: PartitionTasks<void>;
  private readonly abort = new AbortController();
  private readonly versions: ClickHouseTableSink<VersionRow>;
  private readonly history: ClickHouseTableSink<HistoryRow>;

  constructor(private readonly deps: RegistryProcessorDeps) {
    this.inputs = [deps.topics.snapshots, deps.topics.promotions];
    this.tasks = new PartitionTasks<void>({
      transport: deps.transport,
      groupId: deps.groupId,
      topics: this.inputs,
      work: { open: async () => {}, process: (_, batch) => this.onBatch(batch) },
      onCommitFailed: (error) => deps.observer?.commitFailed?.(REGISTRY_STAGE, error),
      poison: poisonToSink(REGISTRY_STAGE, deps.deadLetters, deps.observer),
      health: taskHealth(REGISTRY_STAGE, deps.observer),
      onOpened: taskOpened(REGISTRY_STAGE, deps.observer),
    });
    const sinkOptions = (table: string) => ({
      ...(deps.observer?.sinkRetry ? { onRetry: (error: unknown, attempt: number, delayMs: number) => deps.observer?.sinkRetry?.(table, error, attempt, delayMs) } : {}),
      // Stay in the consumer group while ClickHouse is down.
      heartbeat: () => this.tasks.heartbeat(),
      signal: this.abort.signal,
      ...(deps.retry?.initialDelayMs !== undefined ? { initialDelayMs: deps.retry.initialDelayMs } : {}),
      ...(deps.retry?.maxDelayMs !== undefined ? { maxDelayMs: deps.retry.maxDelayMs } : {}),
      ...(deps.retry?.heartbeatIntervalMs !== undefined ? { heartbeatIntervalMs: deps.retry.heartbeatIntervalMs } : {}),
    });
    this.versions = new ClickHouseTableSink<VersionRow>(deps.store, MODEL_VERSIONS_TABLE, sinkOptions(MODEL_VERSIONS_TABLE));
    this.history = new ClickHouseTableSink<HistoryRow>(deps.store, CHAMPION_HISTORY_TABLE, sinkOptions(CHAMPION_HISTORY_TABLE));
  }

  async start(): Promise<void> {
    await this.tasks.start();
  }

  get done(): Promise<void> {
    return this.tasks.done;
  }

  /**
   * Leaves the group. A write still waiting for ClickHouse is abandoned
   * uncommitted (its records are re-delivered to whoever reads next).
   */
  async stop(): Promise<void> {
    this.abort.abort(new Error('registry processor stopping'));
    await this.tasks.stop();
  }

  private async onBatch(batch: PartitionBatch): Promise<void> {
    const deps = this.deps;
    const now = deps.clock.now();
    const letters: DeadLetter[] = [];
    try {
      if (batch.topic === deps.topics.snapshots) {
        const rows: VersionRow[] = [];
        for (const record of batch.records) {
          const decoded = await decodeRecord(record, deps.codecs.snapshot as Codec<unknown>, validateModelSnapshot, REGISTRY_STAGE, now);
          if (decoded.ok) rows.push(modelVersionRow(decoded.value, now));
          else letters.push(decoded.letter);
        }
        await this.versions.writeBatch(rows);
      } else {
        const rows: HistoryRow[] = [];
        for (const record of batch.records) {
          const decoded = await decodeRecord(record, deps.codecs.promotion as Codec<unknown>, validatePromotionDecision, REGISTRY_STAGE, now);
          if (decoded.ok) rows.push(championHistoryRow(decoded.value));
          else letters.push(decoded.letter);
        }
        await this.history.writeBatch(rows);
      }
      await deps.deadLetters.writeBatch(letters);
    } catch (error) {
      // Stopping: leave the batch uncommitted (re-delivered), without crashing the consumer.
      if (this.abort.signal.aborted) return;
      throw error;
    }
    deps.observer?.recordsIn?.(batch.topic, batch.records.length);
    for (const letter of letters) deps.observer?.deadLetter?.(letter);
    // The rows are durable and keyed: records whose commit is lost are written again, replacing themselves.
    await this.tasks.commitHeld([{ topic: batch.topic, partition: batch.partition, offset: batch.nextOffset }]);
  }
}

// --------------------------------------------------------------------- queries

/**
 * The registry's derived facts, as SQL for ClickHouse 18.16 and current
 * releases (docs/registry.md shows them for model 'fraud-detector'). The
 * order of decisions is (decided_at_ms, at_ms): decisions published together
 * share decided_at, and a replay gives them all one.
 */
const LATEST = '(decided_at_ms, at_ms)';
const CHAMPION_MOVES = "decision IN ('PROMOTE', 'ROLLBACK')";

export const registryQueries = {
  /**
   * The current champion of every model (or of `model`): the to_version of
   * its latest PROMOTE or ROLLBACK; deployed_at is that decision's at (event
   * time of the evidence); the metric deltas and guardrails are those it
   * was decided on.
   */
  champions(model?: string): string {
    return `SELECT
  model,
  argMax(to_version, ${LATEST}) AS champion,
  argMax(at, ${LATEST}) AS deployed_at,
  argMax(at_ms, ${LATEST}) AS deployed_at_ms,
  argMax(decision_id, ${LATEST}) AS by_decision,
  argMax(decision, ${LATEST}) AS by_decision_kind,
  argMax(from_version, ${LATEST}) AS replaced,
  max(decided_at_ms) AS published_at_ms,
  argMax(actor, ${LATEST}) AS deployed_by,
  argMax(policy, ${LATEST}) AS decided_by_policy,
  argMax(reason, ${LATEST}) AS why,
  argMax(metric_names, ${LATEST}) AS decision_metric_names,
  argMax(metric_values, ${LATEST}) AS decision_metric_values,
  argMax(guardrail_names, ${LATEST}) AS decision_guardrail_names,
  argMax(guardrail_values, ${LATEST}) AS decision_guardrail_values
FROM champion_history FINAL
WHERE ${model === undefined ? '' : `model = ${sqlString(model)} AND `}${CHAMPION_MOVES}
GROUP BY model
ORDER BY model`;
  },

  /** The versions of a model with their lineage, oldest first; deployed = 1 for the current champion. */
  versions(model: string): string {
    const m = sqlString(model);
    return `SELECT
  version,
  challenger,
  algorithm,
  parent_version,
  training_count,
  data_hash,
  created_at,
  created_at_ms,
  version IN (
    SELECT argMax(to_version, ${LATEST}) FROM champion_history FINAL
    WHERE model = ${m} AND ${CHAMPION_MOVES}
  ) AS deployed
FROM model_versions FINAL
WHERE model = ${m}
ORDER BY created_at_ms, version`;
  },

  /** Who or what moved (or pinned) the champion of a model, when and why, in order. */
  history(model: string): string {
    return `SELECT
  decision_id,
  decision,
  from_version,
  to_version,
  actor,
  reason,
  policy,
  statistic,
  bound,
  alpha,
  sample_size,
  at,
  at_ms,
  decided_at,
  decided_at_ms
FROM champion_history FINAL
WHERE model = ${sqlString(model)}
ORDER BY decided_at_ms, at_ms, decision_id`;
  },

  /** The metric deltas (challenger minus champion) each decision of a model was taken on, one row per metric. */
  metricsAtDecision(model: string): string {
    return `SELECT
  decision_id,
  decision,
  to_version,
  metric,
  delta
FROM champion_history FINAL
ARRAY JOIN metric_names AS metric, metric_values AS delta
WHERE model = ${sqlString(model)}
ORDER BY decided_at_ms, at_ms, decision_id, metric`;
  },
};
