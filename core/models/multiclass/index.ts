/**
 * The multi-class learners (softmax regression, one-vs-rest over a binary
 * estimator, Gaussian naive Bayes), their pipeline and their snapshots.
 */
export {
  ClassSet,
  DEFAULT_MAX_CLASSES,
  MAX_CLASSES_LIMIT,
  type ClassOptions,
  type MulticlassEstimator,
} from './model.js';
export { SoftmaxRegression, SOFTMAX_DEFAULTS, type SoftmaxHyperparameters, type SoftmaxOptions } from './softmax.js';
export { OneVsRest } from './one-vs-rest.js';
export { GaussianNBMulticlass, type GaussianNBMulticlassOptions } from './naive-bayes.js';
export { MulticlassPipeline } from './pipeline.js';
export {
  createMulticlassEstimator,
  multiclassFromSnapshot,
  multiclassPipelineFromSnapshot,
  MULTICLASS_ALGORITHMS,
} from './algorithms.js';
