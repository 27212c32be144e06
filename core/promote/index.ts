export { ConfidenceSequence, boundary, plannedRho, type ConfidenceSequenceOptions } from './sequence.js';
export { DECISIONS_KEPT, PromotionPolicy } from './policy.js';
export { PolicyStateMismatch, type PolicyData } from './data.js';
export { DEFAULT_POLICY_OPTIONS, describePolicy, type PolicyOptions, type PromotionMetric } from './options.js';
export { ECE_BINS } from './guardrails.js';
export { lossOf } from './loss.js';
export { trueClassView } from './multiclass.js';
export { toPromotionDecision, type PolicyDecision } from './decision.js';
export type { PolicyState, ComparisonState, ChampionState } from './state.js';
