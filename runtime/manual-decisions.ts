/**
 * Manual decisions (`feedbackloop promote | rollback | pin | unpin`): the
 * PromotionDecision a request makes, checked against the model's history on
 * the model-promotions topic, and its publication there.
 *
 * Each is one PromotionDecision on `model-promotions` (key: the model), with
 * a decision id `manual:<uuid>`, the actor `user:<name>`, the required
 * reason, and `at` = now. Everything downstream reads that topic: the scorer
 * library switches on a PROMOTE / ROLLBACK at once, the registry records it
 * in `champion_history`, and the promoter applies it to its policy from the
 * first example at or after `at` (a PIN freezes automatic decisions until an
 * UNPIN).
 *
 * The current champion (from_version) and, for a rollback without a target,
 * the version to return to are read from the decisions already on the topic.
 */
import { randomUUID } from 'node:crypto';
import { userInfo } from 'node:os';
import { parseSnapshotVersion } from '../core/contracts/index.js';
import { ConfigError } from '../core/errors.js';
import type { Decision, PromotionDecision } from '../core/events.js';
import { MANUAL_DECISION_PREFIX } from '../processors/promoter.js';
import { readPromotionDecisions, type Runtime } from './connect.js';
import { topicSpecs } from './pipeline.js';

export type ManualDecision = Extract<Decision, 'PROMOTE' | 'ROLLBACK' | 'PIN' | 'UNPIN'>;

/** What a manual decision is asked with (the command's options, `--model` and so on). */
export interface ManualRequest {
  model: string;
  reason: string;
  /** PROMOTE: required; ROLLBACK: default the champion before the latest promotion. */
  to?: string;
  /** Default: the login name. */
  actor?: string;
}

/** What the decisions on the topic say about a model: its champion and the one before it. */
export interface ChampionHistory {
  /** Latest PROMOTE / ROLLBACK to_version, or null when none. */
  champion: string | null;
  /** from_version of the latest PROMOTE still in force (null after a ROLLBACK or before any). */
  previous: string | null;
  /** Pinned by the latest PIN / UNPIN. */
  pinned: boolean;
}

/** Folds a model's decisions (in topic order) into its current champion, previous champion and pin. */
export function championHistory(decisions: PromotionDecision[]): ChampionHistory {
  const out: ChampionHistory = { champion: null, previous: null, pinned: false };
  for (const d of decisions) {
    if (d.decision === 'PROMOTE') {
      out.previous = d.from_version;
      out.champion = d.to_version;
    } else if (d.decision === 'ROLLBACK') {
      out.previous = null;
      out.champion = d.to_version;
    } else if (d.decision === 'PIN') {
      out.pinned = true;
    } else if (d.decision === 'UNPIN') {
      out.pinned = false;
    }
  }
  return out;
}

/**
 * The decision a manual command publishes, or a ConfigError saying what is wrong with the request.
 * `history` is the model's state on the topic; `now` the wall clock (ms).
 */
export function manualDecision(kind: ManualDecision, options: ManualRequest, history: ChampionHistory, now: number): PromotionDecision {
  const model = options.model.trim();
  if (model.length === 0) throw new ConfigError('--model', 'must name a model');
  const reason = options.reason.trim();
  if (reason.length === 0) throw new ConfigError('--reason', 'must say why (it is recorded in the champion history)');
  const actorName = (options.actor ?? '').trim() || safeLogin();
  const current = history.champion ?? 'upstream';
  let to = current;
  if (kind === 'PROMOTE') {
    to = (options.to ?? '').trim();
    if (to.length === 0) throw new ConfigError('--to', 'name the version to promote (a snapshot such as <model>/<challenger>@<n>, or a version upstream serves)');
    if (to === history.champion) throw new ConfigError('--to', `${to} is already the champion of ${model}`);
  } else if (kind === 'ROLLBACK') {
    const target = (options.to ?? '').trim() || history.previous;
    if (target === null || target.length === 0) {
      throw new ConfigError('--to', `no promotion of ${model} to roll back on the promotions topic; name the version to return to with --to`);
    }
    if (target === history.champion) throw new ConfigError('--to', `${target} is already the champion of ${model}`);
    to = target;
  }
  const snapshotOf = parseSnapshotVersion(to)?.model;
  if ((kind === 'PROMOTE' || kind === 'ROLLBACK') && snapshotOf !== undefined && snapshotOf !== model) {
    throw new ConfigError('--to', `${to} is a snapshot of another model (snapshots of ${model} are named ${model}/<challenger>@<n>)`);
  }
  if (kind === 'PIN' && history.pinned) throw new ConfigError('pin', `${model} is already pinned (unpin it first to change the reason)`);
  if (kind === 'UNPIN' && !history.pinned) throw new ConfigError('unpin', `${model} is not pinned`);
  return {
    decision_id: `${MANUAL_DECISION_PREFIX}${randomUUID()}`,
    model,
    from_version: current,
    to_version: to,
    decision: kind,
    policy: 'manual',
    statistic: null,
    p_value: null,
    bound: null,
    alpha: null,
    sample_size: 0,
    metric_deltas: {},
    guardrails: {},
    reason,
    actor: `user:${actorName}`,
    at: now,
    decided_at: now,
  };
}

function safeLogin(): string {
  try {
    return process.env.USER || process.env.LOGNAME || userInfo().username || 'unknown';
  } catch {
    return 'unknown';
  }
}

/**
 * Publishes the manual decision `request` makes to the model-promotions
 * topic (created if missing), after reading the model's history there;
 * returns it. `now` (the wall clock by default) is read once the history is.
 */
export async function publishManualDecision(
  runtime: Pick<Runtime, 'config' | 'transport' | 'codecs'>,
  kind: ManualDecision,
  request: ManualRequest,
  now: () => number = Date.now,
): Promise<PromotionDecision> {
  const { config } = runtime;
  await runtime.transport.ensureTopics(topicSpecs(config).filter((t) => t.name === config.topics.model_promotions));
  const model = request.model.trim();
  const history = championHistory((await readPromotionDecisions(runtime)).decisions.filter((d) => d.model === model));
  const decision = manualDecision(kind, request, history, now());
  const producer = await runtime.transport.producer();
  await producer.send([{
    topic: config.topics.model_promotions,
    key: Buffer.from(decision.model),
    value: await runtime.codecs.promotion.encode(decision),
    timestamp: decision.decided_at,
  }]);
  return decision;
}
