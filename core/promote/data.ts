/**
 * A promotion policy as plain data (PromotionPolicy.toState / fromState),
 * for the promoter's checkpoints: objects, arrays, numbers, strings and
 * null only, so any structured-clone encoding (v8.serialize) carries it.
 * The settings (PolicyOptions) are not in it: fromState takes them, and
 * refuses a state made under other settings (`policy`, the one-line
 * description of the options that shape the state, must be the same).
 */
import type { PromotionDecision } from '../events.js';
import type { BinaryMetricsState } from '../metrics/index.js';
import type { PolicyDecision } from './decision.js';
import type { Holder } from './scores.js';

/** ConfidenceSequence: Welford's count, mean and sum of squared deviations. */
export interface SequenceData {
  n: number;
  mean: number;
  squares: number;
}

/** One prediction-time bin of differences waiting to mature (maturity.ts). */
export interface BinData {
  bin: number;
  n: number;
  mean: number;
  squares: number;
  baseLoss: number;
  otherLoss: number;
}

export interface ComparisonData {
  identity: string;
  sequence: SequenceData;
  baseLoss: number;
  otherLoss: number;
  baseVersion: string;
  otherVersion: string;
  hold: string | null;
  /** Both sides' binary metrics (null for a regression). */
  metrics: { base: BinaryMetricsState; other: BinaryMetricsState } | null;
  /** Differences waiting for their bin to mature, oldest bin first (absent in checkpoints made before maturity). */
  pending?: BinData[];
}

export interface ManualRequestsData {
  /** Requested and not applied yet, in request order. */
  pending: PromotionDecision[];
  /** Every decision id requested so far (re-deliveries are ignored). */
  requested: string[];
}

export interface PolicyData {
  model: string;
  /** The model's kind and describePolicy(options) when the state was taken: fromState refuses other settings. */
  kind: string;
  policy: string;
  champion: Holder;
  championVersion: string | null;
  previous: Holder | null;
  previousVersion: string | null;
  /** In the policy's order (first seen first). */
  comparisons: ComparisonData[];
  watch: ComparisonData | null;
  pinReason: string | null;
  eventTime: number | null;
  /** The maturity clock: the latest feedback or prediction time seen (absent in checkpoints made before maturity). */
  clock?: number | null;
  cooldownUntil: number | null;
  /** The latest decisions (at most DECISIONS_KEPT) and how many there were in all. */
  decisions: PolicyDecision[];
  decisionCount: number;
  counters: PolicyCounters;
  requests: ManualRequestsData;
}

/** Examples seen: labelled, unlabelled (label null), unpaired (no champion or no challenger score), late (matured before its label came), rejections (multiclass: no true class). */
export interface PolicyCounters {
  labelled: number;
  unlabelled: number;
  unpaired: number;
  late: number;
  /** Multiclass examples with only rejected_class (no true class): labelled, not compared. */
  rejections: number;
}

/** Thrown by fromState when a state cannot be used with the given settings (or is not a policy's state). */
export class PolicyStateMismatch extends Error {
  override readonly name = 'PolicyStateMismatch';
}
