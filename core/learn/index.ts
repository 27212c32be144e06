export { ChallengerTrainer, DEFAULT_TRAINER_OPTIONS, chainHash, EMPTY_DATA_HASH, type TrainerOptions, type TrainerCounters } from './trainer.js';
export { PRESETS, defaultChallengers, createChallenger } from './presets.js';
export { ShadowScorer, type ShadowScorerStats } from './shadow-scorer.js';
export { challengerFromSnapshot, isMulticlass, type ChallengerModel } from './challenger-model.js';
