/** The multi-label learner (binary relevance over a binary estimator), its pipeline and its snapshots. */
export { type MultilabelEstimator } from './model.js';
export { BinaryRelevance } from './binary-relevance.js';
export { MultilabelPipeline, DEFAULT_LABEL_THRESHOLD } from './pipeline.js';
export { createMultilabelEstimator, multilabelFromSnapshot, multilabelPipelineFromSnapshot, MULTILABEL_ALGORITHMS } from './algorithms.js';
