/**
 * The promoter processor: labelled examples -> promotion decisions.
 *
 * One task per partition of `labelled-examples` (keyed by model: a model's
 * examples, and so its decisions, belong to one task — the per-model lock
 * is the partition's ownership), with a PromotionPolicy per model
 * (core/promote). Each batch is one transaction: the decisions it completed
 * (to `model-promotions`, key model), its dead letters and its input offset.
 *
 * State: the policies are a function of the example sequence alone, so a
 * task that (re)starts on a partition fences the previous owner
 * (transactional id `<prefix>-<p>`) and rebuilds them by re-reading the
 * partition from the start up to where it resumes, publishing nothing (those
 * decisions were committed with those offsets). Two instances therefore
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
import { PromotionPolicy, toPromotionDecision, type PolicyDecision, type PolicyOptions } from '../core/promote/index.js';
import type { Codec } from '../adapters/codec/codec.js';
import type { LogConsumer, LogRecord, LogTransport, OutgoingRecord, PartitionBatch, TransactionalProducer } from '../adapters/log/transport.js';
import { decodeRecord, rereadLabelled } from './decode.js';
import { SerialQueue } from '../core/serial.js';

export const PROMOTER_STAGE = 'promoter';

/** Decision ids of manual decisions (the CLI's promote, rollback, pin and unpin) start with this. */
export const MANUAL_DECISION_PREFIX = 'manual:';

export interface PromoterTopics {
  labelled: string;
  promotions: string;
  deadLetters: string;
}

export interface PromoterProcessorDeps {
  transport: LogTransport;
  topics: PromoterTopics;
  groupId: string;
  /** Transactional ids are `<prefix>-<partition>`. */
  transactionalIdPrefix: string;
  codecs: { labelled: Codec<LabelledExample>; promotion: Codec<PromotionDecision>; deadLetter: Codec<DeadLetter> };
  policyOf: (model: string) => Partial<PolicyOptions>;
  /** Who decided (PromotionDecision.actor). */
  actor: string;
  clock: Clock;
  onDecided?: (decisions: PromotionDecision[]) => void;
  /** A manual decision was read from the topic for the first time by this instance (every one, at each start). */
  onManual?: (decision: PromotionDecision) => void;
}

interface Task {
  partition: number;
  generation: number;
  policies: Map<string, PromotionPolicy>;
  /** Decisions per model so far (for deterministic decision ids). */
  decided: Map<string, number>;
  producer: TransactionalProducer;
  /** Records below this offset are already reflected (rebuilt from) and are skipped. */
  skipBelow: number;
}

export class PromoterProcessor {
  private readonly tasks = new Map<number, Task>();
  private readonly queue = new SerialQueue();
  private consumer: LogConsumer | undefined;
  private requestFeed: LogConsumer | undefined;
  /** Manual decisions seen, per model, in topic order (by decision id: re-deliveries are ignored). */
  private readonly requests = new Map<string, Map<string, PromotionDecision>>();
  /** Every decision this instance published (the replay writes them out). */
  readonly published: PromotionDecision[] = [];

  constructor(private readonly deps: PromoterProcessorDeps) {}

  async start(): Promise<LogConsumer> {
    const { transport, topics, groupId } = this.deps;
    const feed = await transport.consumer({ groupId: `${groupId}-requests-${randomUUID()}`, topics: [topics.promotions], fromBeginning: true });
    this.requestFeed = feed;
    await feed.run((batch) => this.queue.run(async () => this.onRequests(batch.records)));
    const consumer = await transport.consumer({ groupId, topics: [topics.labelled] });
    this.consumer = consumer;
    await consumer.run((batch) => this.queue.run(() => this.onBatch(batch)));
    return consumer;
  }

  async stop(): Promise<void> {
    await this.consumer?.stop();
    await this.requestFeed?.stop();
    await this.queue.run(async () => {
      for (const task of this.tasks.values()) await task.producer.close().catch(() => {});
      this.tasks.clear();
    });
  }

  /** The policies of the current tasks (for tests and status). */
  policies(): PromotionPolicy[] {
    return [...this.tasks.values()].flatMap((t) => [...t.policies.values()]);
  }

  private policy(task: Task, model: string): PromotionPolicy {
    let policy = task.policies.get(model);
    if (!policy) {
      task.policies.set(model, (policy = new PromotionPolicy(model, this.deps.policyOf(model))));
      for (const request of this.requests.get(model)?.values() ?? []) policy.request(request);
    }
    return policy;
  }

  /** Keeps the manual decisions among records of `model-promotions` and hands them to the policies. */
  private async onRequests(records: LogRecord[]): Promise<void> {
    for (const record of records) {
      if (record.value === null) continue;
      let decision: PromotionDecision;
      try {
        decision = await this.deps.codecs.promotion.decode(record.value);
      } catch {
        continue; // not ours to judge: the registry dead-letters undecodable decisions
      }
      if (!decision.decision_id.startsWith(MANUAL_DECISION_PREFIX)) continue;
      let mine = this.requests.get(decision.model);
      if (!mine) this.requests.set(decision.model, (mine = new Map()));
      if (mine.has(decision.decision_id)) continue;
      mine.set(decision.decision_id, decision);
      this.deps.onManual?.(decision);
      for (const task of this.tasks.values()) task.policies.get(decision.model)?.request(decision);
    }
  }

  private async task(batch: PartitionBatch): Promise<Task> {
    const existing = this.tasks.get(batch.partition);
    if (existing && existing.generation === batch.generation) return existing;
    if (existing) await existing.producer.close().catch(() => {});
    const producer = await this.deps.transport.transactionalProducer(`${this.deps.transactionalIdPrefix}-${batch.partition}`);
    // The previous owner may have committed after our consumer fetched its start offset and
    // before the fencing above (kafkajs has no KIP-447): resume after whatever is committed now.
    const committed = (await this.deps.transport.committedOffsets(this.deps.groupId, batch.topic)).find((o) => o.partition === batch.partition)?.offset ?? 0;
    const resumeAt = Math.max(batch.records[0]?.offset ?? batch.nextOffset, committed);
    const task: Task = { partition: batch.partition, generation: batch.generation, policies: new Map(), decided: new Map(), producer, skipBelow: resumeAt };
    // Every manual decision so far, before the rebuild applies them (the feed may not have caught up).
    const promotions = this.deps.topics.promotions;
    const all = Array.from({ length: await this.deps.transport.partitionCount(promotions) }, (_, p) => p);
    await this.deps.transport.readToEnd(promotions, all, (records) => this.onRequests(records));
    await rereadLabelled(this.deps.transport, this.deps.topics.labelled, batch.partition, resumeAt, this.deps.codecs.labelled, () => this.consumer?.heartbeat() ?? Promise.resolve(), (example) => {
      for (const d of this.policy(task, example.model).observe(example)) this.count(task, d);
    });
    this.tasks.set(batch.partition, task);
    return task;
  }

  private count(task: Task, d: PolicyDecision): number {
    const k = (task.decided.get(d.model) ?? 0) + 1;
    task.decided.set(d.model, k);
    return k;
  }

  private async onBatch(batch: PartitionBatch): Promise<void> {
    const task = await this.task(batch);
    const now = this.deps.clock.now();
    const letters: DeadLetter[] = [];
    const decisions: PromotionDecision[] = [];
    for (const record of batch.records) {
      if (record.offset < task.skipBelow) continue;
      const decoded = await decodeRecord(record, this.deps.codecs.labelled as Codec<unknown>, validateLabelledExample, PROMOTER_STAGE, now);
      if (!decoded.ok) {
        letters.push(decoded.letter);
        continue;
      }
      for (const d of this.policy(task, decoded.value.model).observe(decoded.value)) {
        const k = this.count(task, d);
        decisions.push(toPromotionDecision(d, { decision_id: `${d.model}#${k}`, actor: this.deps.actor, decided_at: now }));
      }
    }
    const out: OutgoingRecord[] = [];
    for (const d of decisions) out.push({ topic: this.deps.topics.promotions, key: Buffer.from(d.model), value: await this.deps.codecs.promotion.encode(d), timestamp: now });
    for (const letter of letters) out.push({ topic: this.deps.topics.deadLetters, key: letter.key, value: await this.deps.codecs.deadLetter.encode(letter), timestamp: now });
    try {
      await task.producer.sendWithOffsets(out, { groupId: this.deps.groupId, offsets: [{ topic: batch.topic, partition: batch.partition, offset: batch.nextOffset }] });
    } catch (error) {
      // The policies moved past what was committed: forget the task, so the partition is rebuilt.
      this.tasks.delete(task.partition);
      await task.producer.close().catch(() => {});
      throw error;
    }
    this.published.push(...decisions);
    if (decisions.length > 0) this.deps.onDecided?.(decisions);
  }
}
