/**
 * `feedbackloop status`: each model's current champion and where that answer
 * comes from (the model-promotions topic, champion_history, or the version
 * upstream serves), and whether it is pinned. Pure: runtime/status/gather.ts
 * reads the sources and hands the answers in.
 */
import type { PromotionDecision } from '../../core/events.js';
import type { UpstreamVersion } from './figures.js';

/** Where an answer about the champion comes from (metric_points_merged: a sharded model's figures, merged from its shards' partials). */
export type ChampionSource = 'model-promotions' | 'champion_history' | 'metric_points' | 'metric_points_merged';

/** A decision that moved a model's champion alias (PROMOTE or ROLLBACK; PIN, UNPIN and HOLD do not). */
export interface ChampionMove {
  model: string;
  decision: 'PROMOTE' | 'ROLLBACK';
  decision_id: string;
  from_version: string;
  to_version: string;
  actor: string;
  /** The policy that decided, as the decision names it (the promoter's settings in one line; `manual` for promote / rollback). */
  policy: string;
  reason: string;
  /** Event time of the evidence (ms). */
  at: number;
  /** When it was published (ms). */
  decided_at: number;
}

export function championMoves(decisions: Iterable<PromotionDecision>): ChampionMove[] {
  const out: ChampionMove[] = [];
  for (const d of decisions) {
    if (d.decision !== 'PROMOTE' && d.decision !== 'ROLLBACK') continue;
    const { model, decision, decision_id, from_version, to_version, actor, policy, reason, at, decided_at } = d;
    out.push({ model, decision, decision_id, from_version, to_version, actor, policy, reason, at, decided_at });
  }
  return out;
}

/** a is later than b in the order of docs/registry.md: (decided_at, at). */
const later = (a: ChampionMove, b: ChampionMove) => a.decided_at > b.decided_at || (a.decided_at === b.decided_at && a.at > b.at);

/**
 * The latest move per model, "latest" as champion_history's queries order
 * them, (decided_at, at), so both sources name the same decision; among
 * equals the later in `moves` (log order) wins.
 */
export function latestMoves(moves: Iterable<ChampionMove>): Map<string, ChampionMove> {
  const out = new Map<string, ChampionMove>();
  for (const move of moves) {
    const current = out.get(move.model);
    if (!current || !later(current, move)) out.set(move.model, move);
  }
  return out;
}

/** A model pinned by `feedbackloop pin` (its latest PIN not followed by an UNPIN). */
export interface PinStatus {
  decision_id: string;
  actor: string;
  reason: string;
  /** When it was published (ms). */
  decided_at: number;
}

/** The models pinned now, from their decisions in topic order. */
export function currentPins(decisions: Iterable<PromotionDecision>): Map<string, PinStatus> {
  const out = new Map<string, PinStatus>();
  for (const d of decisions) {
    if (d.decision === 'PIN') out.set(d.model, { decision_id: d.decision_id, actor: d.actor, reason: d.reason, decided_at: d.decided_at });
    else if (d.decision === 'UNPIN') out.delete(d.model);
  }
  return out;
}

export interface ChampionStatus {
  model: string;
  /** Null when nothing names one. */
  version: string | null;
  /** Where the answer comes from (every source that gives the same answer). */
  sources: ChampionSource[];
  /** The decision that made it champion; null for the version upstream serves before any decision. */
  decision: ChampionMove | null;
  /** When the sources disagree or one is missing, what that means. */
  note: string | null;
  /** Pinned (no automatic decision until `feedbackloop unpin`), per the topic; null when not. */
  pinned: PinStatus | null;
}

/**
 * Each model's champion: the to_version of its latest PROMOTE or ROLLBACK
 * on the model-promotions topic or in champion_history, whichever is later
 * (the registry processor copies the topic into the table, so the table can
 * be behind; the topic has a retention, so it can have lost old decisions);
 * for a model without any decision, the version upstream serves (the
 * champion role of the latest figures). A source that was not read is
 * undefined.
 */
export function chooseChampions(input: {
  topic?: Map<string, ChampionMove>;
  history?: Map<string, ChampionMove>;
  upstream?: Map<string, UpstreamVersion>;
  pins?: Map<string, PinStatus>;
}): ChampionStatus[] {
  const models = new Set([...(input.topic?.keys() ?? []), ...(input.history?.keys() ?? []), ...(input.upstream?.keys() ?? []), ...(input.pins?.keys() ?? [])]);
  return [...models].sort().map((model): ChampionStatus => ({ ...championOf(model, input), pinned: input.pins?.get(model) ?? null }));
}

function championOf(
  model: string,
  input: { topic?: Map<string, ChampionMove>; history?: Map<string, ChampionMove>; upstream?: Map<string, UpstreamVersion> },
): Omit<ChampionStatus, 'pinned'> {
  const topic = input.topic?.get(model);
  const history = input.history?.get(model);
  const decision = topic && history ? (later(history, topic) ? history : topic) : (topic ?? history);
  if (!decision) {
    const upstream = input.upstream?.get(model);
    return { model, version: upstream?.version ?? null, sources: [upstream?.source ?? 'metric_points'], decision: null, note: 'no promotion decision: the version upstream serves (latest figures, role champion)' };
  }
  const sources: ChampionSource[] = [];
  if (topic?.decision_id === decision.decision_id) sources.push('model-promotions');
  if (history?.decision_id === decision.decision_id) sources.push('champion_history');
  let note: string | null = null;
  if (input.history && !sources.includes('champion_history')) {
    note = `champion_history ${history ? `still names ${history.to_version} (${history.decision_id})` : 'has no decision for it yet'}: is the registry processor running?`;
  } else if (input.topic && !sources.includes('model-promotions')) {
    note = `${decision.decision_id} is no longer on the model-promotions topic (retention)`;
  }
  return { model, version: decision.to_version, sources, decision, note };
}
