export { buildHttpServer, startHttpEndpoint, type HttpEndpoint, type HttpEndpointOptions, type ReadinessCheck, type MetricsSource } from './server.js';
export { authorizationHeader, authorized, challenges, type HttpCredentials } from './auth.js';
export { httpCredentials, httpSecurity, type HttpSecurity, type HttpTls } from './security.js';
export { parsePrometheusText, type PrometheusSample, type PrometheusText } from './prometheus-text.js';
