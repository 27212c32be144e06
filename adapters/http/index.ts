export { startHttpEndpoint, type HttpEndpoint, type ReadinessCheck } from './server.js';
export { createPipelineMetrics, type PipelineMetrics } from './metrics.js';
