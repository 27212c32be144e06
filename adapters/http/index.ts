export { startHttpEndpoint, type HttpEndpoint, type ReadinessCheck } from './server.js';
export { createPipelineMetrics, type PipelineMetrics } from './metrics.js';
export { createEvaluatorMetrics, GAUGE_FIGURES, type EvaluatorMetrics } from './evaluator-metrics.js';
export { registerConsumerLag, topicLag, type LaggingGroup, type PartitionLag } from './lag.js';
export { parsePrometheusText, type PrometheusSample, type PrometheusText } from './prometheus-text.js';
