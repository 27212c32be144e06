export { ConfidenceSequence, boundary, plannedRho, type ConfidenceSequenceOptions } from './sequence.js';
export { PromotionPolicy, DEFAULT_POLICY_OPTIONS, ECE_BINS, describePolicy, lossOf, toPromotionDecision } from './policy.js';
export type { PolicyOptions, PolicyDecision, PolicyState, ComparisonState, ChampionState, PromotionMetric } from './policy.js';
