/**
 * What the joiner's shadow scorer knows: every snapshot the learners publish
 * and every promotion decision (after a promotion, the replaced champion is
 * shadow-scored as the previous one), each read from the start of its topic
 * by a consumer group of its own that never commits.
 *
 * `live` (run): each one reaches the scorer as it arrives. `held` (replay):
 * they wait until the driver calls `applyArrived()` between input chunks, so
 * which snapshot scores a prediction does not depend on how the processors'
 * batches interleave (a replay is deterministic).
 */
import type { LogConsumer, LogRecord, LogTransport } from '../adapters/transport/transport.js';
import type { Codecs } from '../adapters/codec/codecs.js';
import type { ModelSnapshot, PromotionDecision } from '../core/events.js';
import type { ShadowScorer } from '../core/learn/index.js';
import { followTopic } from '../processors/topic-feed.js';

export interface ShadowFeedOptions {
  transport: LogTransport;
  topics: { snapshots: string; promotions: string };
  codecs: Pick<Codecs, 'snapshot' | 'promotion'>;
  scorer: ShadowScorer;
  /** Prefix of the feeds' consumer groups (a unique suffix is added). */
  groupPrefix: string;
  mode: 'live' | 'held';
  /** A record that could not be decoded or used (skipped). */
  onSkipped?: (error: unknown, record: LogRecord, what: string) => void;
}

/** The middle of each feed's group id, `<groupPrefix>-<this>-<unique>` (runtime/acls.ts grants them by prefix). */
export const SHADOW_FEED_GROUPS = { snapshots: 'scorer', promotions: 'decisions' } as const;

export class ShadowFeed {
  private readonly feeds: LogConsumer[] = [];
  private readonly snapshots: ModelSnapshot[] = [];
  private readonly decisions: PromotionDecision[] = [];

  constructor(private readonly options: ShadowFeedOptions) {}

  async start(): Promise<void> {
    const { transport, topics, codecs, scorer, mode } = this.options;
    const unique = `${process.pid}-${Date.now().toString(36)}`;
    const skipped = (what: string) => (error: unknown, record: LogRecord) => this.options.onSkipped?.(error, record, what);
    this.feeds.push(
      await followTopic(transport, {
        topic: topics.snapshots,
        groupId: `${this.options.groupPrefix}-${SHADOW_FEED_GROUPS.snapshots}-${unique}`,
        codec: codecs.snapshot,
        apply: (snapshot) => (mode === 'live' ? scorer.add(snapshot) : void this.snapshots.push(snapshot)),
        onSkipped: skipped('a model snapshot'),
      }),
    );
    this.feeds.push(
      await followTopic(transport, {
        topic: topics.promotions,
        groupId: `${this.options.groupPrefix}-${SHADOW_FEED_GROUPS.promotions}-${unique}`,
        codec: codecs.promotion,
        apply: (decision) => (mode === 'live' ? scorer.decide(decision) : void this.decisions.push(decision)),
        onSkipped: skipped('a promotion decision'),
      }),
    );
  }

  /** Held mode: hands what arrived since the last call to the scorer, the snapshots first. */
  applyArrived(): void {
    for (const snapshot of this.snapshots.splice(0)) this.options.scorer.add(snapshot);
    for (const decision of this.decisions.splice(0)) this.options.scorer.decide(decision);
  }

  async stop(): Promise<void> {
    for (const feed of this.feeds.splice(0)) await feed.stop().catch(() => {});
  }
}
