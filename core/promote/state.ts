/** What state() shows of a promotion policy: its roles, its comparisons, its decisions. */
import { versionIdentity } from '../contracts/index.js';
import type { PolicyCounters } from './data.js';
import type { PolicyDecision } from './decision.js';
import type { Holder } from './scores.js';

/** One comparison as state() shows it. */
export interface ComparisonState {
  /** The challenger's identity (its snapshot keys without `@n`); for the watch, the previous champion. */
  identity: string;
  /** Its latest version seen. */
  version: string;
  n: number;
  /** Mean loss difference and its confidence sequence at level alpha. */
  mean: number;
  variance: number;
  lower: number;
  upper: number;
  champion_loss: number | null;
  challenger_loss: number | null;
  champion_recall: number | null;
  challenger_recall: number | null;
  challenger_ece: number | null;
  /** Paired examples whose prediction time has not matured yet (0 without promoter maturity). */
  maturing: number;
  /** Why it is not promoted (null before its first paired example). */
  hold: string | null;
}

export interface ChampionState {
  /** upstream: what prediction events carry; shadow: a promoted challenger followed by its identity. */
  source: 'upstream' | 'shadow';
  identity: string | null;
  /** Latest version seen for it (null before any). */
  version: string | null;
}

export interface PolicyState {
  model: string;
  champion: ChampionState;
  previous: ChampionState | null;
  pinned: boolean;
  pin_reason: string | null;
  /** Latest event time seen. */
  event_time: number | null;
  /** No promotion before this event time (null: none pending). */
  cooldown_until: number | null;
  /** The rollback watch after a promotion; `previous` in the comparison's terms: d = loss_new − loss_previous. */
  watch: (ComparisonState & { remaining: number }) | null;
  challengers: ComparisonState[];
  /** The latest decisions (at most DECISIONS_KEPT, policy.ts), oldest first. */
  decisions: PolicyDecision[];
  /** Every decision so far (also those no longer listed). */
  decisions_total: number;
  counters: PolicyCounters;
}

/** A champion (or previous champion) as state() shows it. */
export function describeHolder(holder: Holder, version: string | null): ChampionState {
  return holder.kind === 'upstream'
    ? { source: 'upstream', identity: version === null ? null : versionIdentity(version), version }
    : { source: 'shadow', identity: holder.identity, version };
}
