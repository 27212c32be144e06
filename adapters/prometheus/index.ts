export { createPipelineMetrics, type PipelineMetrics, type PipelineMetricsOptions } from './registry.js';
export { GAUGE_FIGURES } from './model-gauges.js';
export type { GaugeSources } from './gauges.js';
export { topicLag, type LaggingGroup, type PartitionLag } from './lag.js';
