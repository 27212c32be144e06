export { startHttpEndpoint, type HttpEndpoint, type ReadinessCheck, type MetricsSource } from './server.js';
export { parsePrometheusText, type PrometheusSample, type PrometheusText } from './prometheus-text.js';
