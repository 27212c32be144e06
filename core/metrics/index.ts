export { Rolling, ratio, type RollingState, type Metric, type BinaryObservation, type RegressionObservation } from './metric.js';
export { BinaryMetrics, LOG_LOSS_EPSILON, expectedCalibrationError, type CalibrationSums, type BinaryFigures, type BinaryMetricsOptions, type BinaryMetricsState, type ReliabilityBin } from './binary.js';
export { RegressionMetrics, type RegressionFigures, type RegressionMetricsState } from './regression.js';
export { QuantileSketch, type QuantileSketchState } from './quantiles.js';
export { EstimateSums, type EstimatedFigures, type EstimateSumsState } from './estimate.js';
export { MulticlassMetrics, MULTICLASS_LOG_LOSS_EPSILON, type MulticlassObservation, type MulticlassFigures, type MulticlassMetricsOptions, type MulticlassMetricsState } from './multiclass.js';
export { MultilabelMetrics, type MultilabelObservation, type MultilabelFigures, type MultilabelMetricsState } from './multilabel.js';
export { classFigures, type ClassFigures } from './averages.js';
export { MAX_CLASSES } from './class-list.js';
