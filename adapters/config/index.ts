export { buildConfig, loadConfig, redactConfig, envName, ENV_PREFIX } from './load.js';
export { modelChallengersOf, modelClassesOf, modelKindOf, modelNumericTargetOf } from './models.js';
export { CONFIG_SPEC, MODEL_FIELDS, type Config, type FieldSpec, type ModelConfig, type SectionSpec } from './spec.js';
export { readTlsFiles, readCertificate, type KafkaTlsFiles, type TlsFiles } from './tls-files.js';
