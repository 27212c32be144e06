export { Learner, DEFAULT_LEARNER_OPTIONS, chainHash, EMPTY_DATA_HASH, type LearnerOptions, type LearnerCounters } from './learner.js';
export { PRESETS, defaultChallengers, createChallenger } from './presets.js';
export { SnapshotScorer, type ScorerStats } from './scorer.js';
