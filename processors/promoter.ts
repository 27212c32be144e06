/**
 * The promoter processor: labelled examples -> promotion decisions.
 *
 * One task per partition of `labelled-examples` (keyed by model: a model's
 * examples, and so its decisions, belong to one task — the per-model lock
 * is the partition's ownership), with a PromotionPolicy per model
 * (core/promote). Each batch is one transaction: the decisions it completed
 * (to `model-promotions`, key model), its dead letters and its input offset.
 *
 * Arrival records (joiner.emit_arrivals) are skipped, live and in a re-read:
 * the policies and decisions are the same with or without them. They count
 * as records for `checkpointEvery` (a restore re-reads them).
 *
 * State: the policies are a function of the example sequence alone. Every
 * `checkpointEvery` records a batch's transaction also carries a
 * checkpoint of the partition's state (checkpoint.ts, promoter-state.ts:
 * the policies and decision counts, covering the batch's input offset) to
 * partition p of the compacted checkpoint topic. A task that (re)starts on
 * a partition (partition-tasks.ts: after fencing the previous owner)
 * restores the latest checkpoint and re-reads only the partition after it,
 * up to where it resumes, publishing nothing (those decisions were
 * committed with those offsets); without a usable checkpoint (none yet,
 * another format, other policy settings) it re-reads the partition from
 * the start, and says why (observer `restored`). Two instances therefore
 * never both decide on one example.
 *
 * Manual decisions (`feedbackloop promote | rollback | pin | unpin`: events
 * on `model-promotions` whose decision id starts with `manual:`) reach the
 * policies as requests (PromotionPolicy.request): a task reads the whole
 * topic before it rebuilds, and a feed (its own consumer group, from the
 * start) passes on the ones that arrive later. A request takes effect at the
 * first example at or after its `at` (event time), in a rebuild as live —
 * provided it reached the promoter before such an example did, which holds
 * unless the clock of the host that ran the command is ahead of the event
 * times by more than the pipeline's latency.
 */
import { randomUUID } from 'node:crypto';
import type { Clock } from '../core/clock.js';
import { validateLabelledExample, type DeadLetter, type LabelledExample, type PromotionDecision } from '../core/events.js';
import { DEFAULT_RECORD_LIMITS, type RecordLimits } from '../core/limits.js';
import { PromotionPolicy, toPromotionDecision, type PolicyDecision, type PolicyOptions } from '../core/promote/index.js';
import type { Codec } from '../adapters/codec/codec.js';
import type { LogConsumer, LogTransport, OutgoingRecord, PartitionBatch } from '../adapters/transport/transport.js';
import { checkpointRecords, requireCheckpointPartitions } from './checkpoint.js';
import { restoreCheckpoint } from './checkpoint-restore.js';
import { deadLetterRecords, decodeRecord, type SharedContract } from './decode.js';
import { rebuildSkipping, rereadLabelled } from './reread.js';
import { decodePromoteState, encodePromoteState, type PromoteState } from './promoter-state.js';
import { PartitionTasks, type TaskContext } from './partition-tasks.js';
import type { Processor } from './processor.js';
import type { PipelineObserver } from '../core/observer.js';
import { applyRecords, followTopic } from './topic-feed.js';
import { poisonToTopic, taskHealth, taskOpened } from './poison.js';

export const PROMOTER_STAGE = 'promoter';

/** Decision ids of manual decisions (the CLI's promote, rollback, pin and unpin) start with this. */
export const MANUAL_DECISION_PREFIX = 'manual:';

/** The middle of the manual-request feed's group id, `<groupId>-requests-<uuid>` (runtime/acls.ts grants it by prefix). */
export const REQUEST_FEED_GROUP = 'requests';

export interface PromoterTopics {
  labelled: string;
  promotions: string;
  deadLetters: string;
  /** Compacted, at least as many partitions as `labelled`. */
  checkpoints: string;
}

export interface PromoterProcessorDeps {
  transport: LogTransport;
  topics: PromoterTopics;
  groupId: string;
  /** Transactional ids are `<prefix>-<partition>`. */
  transactionalIdPrefix: string;
  codecs: { labelled: Codec<LabelledExample>; promotion: Codec<PromotionDecision>; deadLetter: Codec<DeadLetter> };
  policyOf: (model: string) => Partial<PolicyOptions>;
  /** Bounds on each input record (limits.*; default: the defaults): a record past them is dead-lettered. */
  limits?: RecordLimits;
  /** Who decided (PromotionDecision.actor). */
  actor: string;
  /** A checkpoint of a partition's state with the batch that reaches this many records since its last one (0: none). */
  checkpointEvery: number;
  clock: Clock;
  /** Keep what is published for takePublished() (default true: the replay and tests; `run` keeps none, or it would pile up). */
  keepPublished?: boolean;
  /** Hooks: `decided` (decisions published), `manual` (a manual decision read for the first time by this instance: every one, at each start). */
  observer?: PipelineObserver;
}

/** A partition's state, and the input records since its last checkpoint (those a restore would re-read). */
interface PromoteTask extends PromoteState {
  sinceCheckpoint: number;
}

export class PromoterProcessor implements Processor {
  /** Labelled examples: validated under this processor's limits; one copy shared with the other readers of a carried event (processors/decode.ts). */
  private get contract(): SharedContract<LabelledExample> {
    return (this.sharedContract ??= { contract: validateLabelledExample, limits: this.deps.limits ?? DEFAULT_RECORD_LIMITS });
  }
  private sharedContract: SharedContract<LabelledExample> | undefined;

  readonly name = 'promoter';
  readonly inputs: string[];
  readonly outputs: string[];
  private readonly tasks: PartitionTasks<PromoteTask>;
  private requestFeed: LogConsumer | undefined;
  /** Manual decisions seen, per model, in topic order (by decision id: re-deliveries are ignored). */
  private readonly requests = new Map<string, Map<string, PromotionDecision>>();
  /** Every decision this instance published since the last takePublished() (the replay writes them out). */
  readonly published: PromotionDecision[] = [];

  /** Empties `published`, returning what it held (the replay writes them out as it goes, so they do not pile up). */
  takePublished(): PromotionDecision[] {
    return this.published.splice(0);
  }

  constructor(private readonly deps: PromoterProcessorDeps) {
    this.inputs = [deps.topics.labelled];
    this.outputs = [deps.topics.promotions, deps.topics.deadLetters, deps.topics.checkpoints];
    this.tasks = new PartitionTasks<PromoteTask>({
      transport: deps.transport,
      groupId: deps.groupId,
      topics: this.inputs,
      transactionalIdPrefix: deps.transactionalIdPrefix,
      work: { open: (ctx) => this.rebuild(ctx), process: (task, batch, ctx) => this.onBatch(task, batch, ctx) },
      poison: poisonToTopic(PROMOTER_STAGE, deps.topics.deadLetters, deps.codecs.deadLetter, deps.observer),
      health: taskHealth(PROMOTER_STAGE, deps.observer),
      onOpened: taskOpened(PROMOTER_STAGE, deps.observer),
    });
  }

  async start(): Promise<void> {
    const { transport, topics, groupId, codecs } = this.deps;
    await requireCheckpointPartitions(transport, 'promoter', topics.checkpoints, topics.labelled);
    this.requestFeed = await followTopic(transport, {
      topic: topics.promotions,
      groupId: `${groupId}-${REQUEST_FEED_GROUP}-${randomUUID()}`,
      codec: codecs.promotion,
      // Between batches: a request reaches the policies in topic order relative to the examples.
      apply: (decision) => this.tasks.serially(async () => this.onRequest(decision)),
    });
    await this.tasks.start();
  }

  get done(): Promise<void> {
    return this.tasks.done;
  }

  async stop(): Promise<void> {
    await this.tasks.stop();
    await this.requestFeed?.stop();
  }

  /** The policies of the current tasks (for tests and status). */
  policies(): PromotionPolicy[] {
    return this.tasks.all().flatMap((t) => [...t.state.policies.values()]);
  }

  private policy(task: PromoteTask, model: string): PromotionPolicy {
    let policy = task.policies.get(model);
    if (!policy) {
      task.policies.set(model, (policy = new PromotionPolicy(model, this.deps.policyOf(model))));
      for (const request of this.requests.get(model)?.values() ?? []) policy.request(request);
    }
    return policy;
  }

  /** Keeps a manual decision read from `model-promotions` and hands it to the policies (undecodable ones are the registry's to dead-letter). */
  private onRequest(decision: PromotionDecision): void {
    if (!decision.decision_id.startsWith(MANUAL_DECISION_PREFIX)) return;
    let mine = this.requests.get(decision.model);
    if (!mine) this.requests.set(decision.model, (mine = new Map()));
    if (mine.has(decision.decision_id)) return;
    mine.set(decision.decision_id, decision);
    this.deps.observer?.manual?.(decision);
    for (const task of this.tasks.all()) task.state.policies.get(decision.model)?.request(decision);
  }

  /**
   * Partition p's policies, from every manual decision so far, the latest checkpoint (if usable)
   * and the examples after it before resumeAt (publishing nothing).
   */
  private async rebuild(ctx: TaskContext): Promise<PromoteTask> {
    const started = performance.now();
    // Every manual decision so far, before the rebuild applies them (the feed may not have caught up).
    const promotions = this.deps.topics.promotions;
    const all = Array.from({ length: await this.deps.transport.partitionCount(promotions) }, (_, p) => p);
    await this.deps.transport.readToEnd(promotions, all, (records) => applyRecords(records, { codec: this.deps.codecs.promotion, apply: (d) => this.onRequest(d) }));
    const { built, skipped } = await rebuildSkipping((skip) => this.restoreTask(ctx, skip));
    const { restored, task } = built;
    this.deps.observer?.restored?.({
      processor: this.name, partition: ctx.partition, from: restored.state ? 'checkpoint' : 'start',
      ...(restored.reason === undefined ? {} : { reason: restored.reason }), reread: task.sinceCheckpoint, ms: performance.now() - started,
      ...(skipped.length === 0 ? {} : { skipped }),
    });
    return task;
  }

  /** The latest usable checkpoint, then the examples after it before resumeAt (but those at `skip`). */
  private async restoreTask(ctx: TaskContext, skip: ReadonlySet<number>) {
    const { transport, topics, codecs, limits } = this.deps;
    const labelled = topics.labelled;
    const restored = await restoreCheckpoint({ transport, topic: topics.checkpoints, inputs: [labelled], ctx, decode: (bytes) => decodePromoteState(bytes, this.deps.policyOf) });
    const task: PromoteTask = { ...(restored.state ?? { policies: new Map(), decided: new Map() }), sinceCheckpoint: 0 };
    // The requests a checkpointed policy has not seen (it ignores those it has, by id).
    for (const [model, policy] of task.policies) for (const request of this.requests.get(model)?.values() ?? []) policy.request(request);
    const options = { transport, topic: labelled, partition: ctx.partition, from: restored.from[labelled]!, until: ctx.resumeAt(labelled), codec: codecs.labelled, limits, heartbeat: () => ctx.heartbeat(), skip };
    task.sinceCheckpoint = await rereadLabelled(options, (example) => {
      if (example.arrival) return; // as live: no policy for it
      for (const d of this.policy(task, example.model).observe(example)) this.count(task, d);
    });
    return { restored, task };
  }

  /** The checkpoint records of a task whose batch reached checkpointEvery records since the last one (none otherwise). */
  private checkpoint(task: PromoteTask, batch: PartitionBatch): OutgoingRecord[] {
    task.sinceCheckpoint += batch.records.length;
    const every = this.deps.checkpointEvery;
    if (every <= 0 || task.sinceCheckpoint < every) return [];
    task.sinceCheckpoint = 0;
    const state = encodePromoteState(task);
    return checkpointRecords(this.deps.topics.checkpoints, batch.partition, { state, offsets: { [batch.topic]: batch.nextOffset } });
  }

  private count(task: PromoteTask, d: PolicyDecision): number {
    const k = (task.decided.get(d.model) ?? 0) + 1;
    task.decided.set(d.model, k);
    return k;
  }

  private async onBatch(task: PromoteTask, batch: PartitionBatch, ctx: TaskContext): Promise<void> {
    const now = this.deps.clock.now();
    const letters: DeadLetter[] = [];
    const decisions: PromotionDecision[] = [];
    for (const record of batch.records) {
      const decoded = await decodeRecord(record, this.deps.codecs.labelled as Codec<unknown>, this.contract, PROMOTER_STAGE, now);
      if (!decoded.ok) {
        letters.push(decoded.letter);
        continue;
      }
      // An arrival record is not a label: not even a policy for its model (the state is the same without it).
      if (decoded.value.arrival) continue;
      for (const d of this.policy(task, decoded.value.model).observe(decoded.value)) {
        const k = this.count(task, d);
        decisions.push(toPromotionDecision(d, { decision_id: `${d.model}#${k}`, actor: this.deps.actor, decided_at: now }));
      }
    }
    const out: OutgoingRecord[] = [];
    for (const d of decisions) out.push({ topic: this.deps.topics.promotions, key: Buffer.from(d.model), value: await this.deps.codecs.promotion.encode(d), timestamp: now });
    for (const letter of await deadLetterRecords(letters, this.deps.topics.deadLetters, this.deps.codecs.deadLetter, now)) out.push(letter);
    for (const record of this.checkpoint(task, batch)) out.push(record);
    await ctx.commit(out, [{ topic: batch.topic, partition: batch.partition, offset: batch.nextOffset }]);
    if (this.deps.keepPublished ?? true) for (const d of decisions) this.published.push(d);
    if (decisions.length > 0) this.deps.observer?.decided?.(decisions);
  }
}
