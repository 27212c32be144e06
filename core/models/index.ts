export { SparseVector, ensureLength } from './vector.js';
export { sigmoid, logLossGradient, type Estimator, type Learner, type ModelInput, type OnlineModel } from './model.js';
export {
  LogisticRegression,
  LinearRegression,
  sgd,
  adagrad,
  adam,
  LINEAR_DEFAULTS,
  type Optimizer,
  type LinearHyperparameters,
  type LinearOptions,
} from './linear.js';
export { FTRLLogisticRegression, FTRL_DEFAULTS, type FTRLHyperparameters, type FTRLOptions } from './ftrl.js';
export { PAClassifier, PARegressor, type PAMode, type PAHyperparameters, type PAClassifierOptions, type PARegressorOptions } from './pa.js';
export { GaussianNB } from './naive-bayes.js';
export {
  ColumnSpace,
  NumericFeatures,
  StandardScaler,
  OneHotEncoder,
  FeatureHasher,
  type Encoder,
  type OneHotHyperparameters,
  type FeatureHasherHyperparameters,
} from './preprocessing.js';
export { Pipeline } from './pipeline.js';
export { modelFromSnapshot, pipelineFromSnapshot, createEstimator, ALGORITHMS } from './algorithms.js';
export {
  ModelError,
  SNAPSHOT_VERSION,
  encodeFloats,
  decodeFloats,
  encodeNumber,
  decodeNumber,
  type ModelSnapshotData,
  type JsonObject,
  type EncodedNumber,
} from './snapshot.js';
export { murmur3, hashToken } from './murmur.js';
export {
  SoftmaxRegression,
  SOFTMAX_DEFAULTS,
  OneVsRest,
  GaussianNBMulticlass,
  MulticlassPipeline,
  ClassSet,
  DEFAULT_MAX_CLASSES,
  MAX_CLASSES_LIMIT,
  createMulticlassEstimator,
  multiclassFromSnapshot,
  multiclassPipelineFromSnapshot,
  MULTICLASS_ALGORITHMS,
  type MulticlassEstimator,
  type ClassOptions,
  type SoftmaxHyperparameters,
  type SoftmaxOptions,
  type GaussianNBMulticlassOptions,
} from './multiclass/index.js';
export { standardisedCoefficients, MAX_IMPORTANCE, type Importance } from './importance.js';
export {
  BinaryRelevance,
  MultilabelPipeline,
  DEFAULT_LABEL_THRESHOLD,
  createMultilabelEstimator,
  multilabelFromSnapshot,
  multilabelPipelineFromSnapshot,
  MULTILABEL_ALGORITHMS,
  type MultilabelEstimator,
} from './multilabel/index.js';
