export { createPipelineMetrics, type PipelineMetrics, type PipelineMetricsOptions } from './registry.js';
export { GAUGE_FIGURES } from './model-gauges.js';
export type { ConsumerLagSource, GaugeSources } from './gauges.js';
export { cachedFor, topicLag, type GroupTopicLag, type LaggingGroup, type PartitionLag } from './lag.js';
