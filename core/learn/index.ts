export { ChallengerTrainer, DEFAULT_TRAINER_OPTIONS, chainHash, EMPTY_DATA_HASH, type TrainerOptions, type TrainerCounters } from './trainer.js';
export { PRESETS, defaultChallengers, createChallenger } from './presets.js';
export { ShadowScorer, type ShadowScorerStats } from './shadow-scorer.js';
export { challengerFromSnapshot, isClassModel, isMulticlass, isMultilabel, type ChallengerModel, type ClassModel } from './challenger-model.js';
