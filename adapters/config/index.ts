export { buildConfig, loadConfig, redactConfig, envName, ENV_PREFIX, type Config, type ModelConfig } from './load.js';
export { CONFIG_SPEC, MODEL_FIELDS, type FieldSpec, type SectionSpec } from './spec.js';
