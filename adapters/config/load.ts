/**
 * Loads the configuration: defaults, then the YAML file, then environment
 * overrides (FEEDBACKLOOP_<SECTION>_<KEY>). Validated at start: any error
 * names the key, what was expected and what was found.
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { ConfigError } from '../../core/errors.js';
import { parseDuration } from '../../core/duration.js';
import { NO_CHALLENGERS, PRESETS } from '../../core/learn/presets.js';
import { TIMESTAMP_MAX } from '../../core/events.js';
import { redactUrl } from '../../core/redact.js';
import { readTlsFiles } from './tls-files.js';
import { CONFIG_SPEC, MODEL_FIELDS, type Config, type FieldSpec, type ModelConfig, type SectionSpec } from './spec.js';

export const ENV_PREFIX = 'FEEDBACKLOOP_';

export function envName(section: string, key: string): string {
  return `${ENV_PREFIX}${section}_${key}`.toUpperCase();
}

type Raw = Record<string, unknown>;
type Env = Record<string, string | undefined>;

function typeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'string') return `the string ${JSON.stringify(value)}`;
  if (typeof value === 'object') return 'a mapping';
  return `${typeof value} ${String(value)}`;
}

function closest(word: string, candidates: string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  for (const candidate of candidates) {
    const d = editDistance(word, candidate);
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let previous = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const current = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, previous + (a[i - 1] === b[j - 1] ? 0 : 1));
      previous = current;
    }
  }
  return row[b.length]!;
}

function unknownKey(path: string, key: string, known: string[]): ConfigError {
  const hint = closest(key, known);
  return new ConfigError(path ? `${path}.${key}` : key, `unknown key${hint ? ` (did you mean ${hint}?)` : ''}; known keys: ${known.join(', ')}`);
}

/** Throws for the first key of `given` that is not in `known`. */
function rejectUnknown(path: string, given: Raw, known: string[]): void {
  for (const key of Object.keys(given)) if (!known.includes(key)) throw unknownKey(path, key, known);
}

function isMapping(value: unknown): value is Raw {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `value` as a mapping (absent or null: an empty one), or a ConfigError naming `path`. */
function mappingAt(path: string, value: unknown, what = 'a mapping'): Raw {
  const given = value ?? {};
  if (!isMapping(given)) throw new ConfigError(path, `expected ${what}, got ${typeOf(given)}`);
  return given;
}

/**
 * What was found, for an error message: the value itself, except for a
 * secret or a URL (which may carry credentials), whose type only is named.
 */
function foundOf(spec: FieldSpec, value: unknown): string {
  if (!spec.secret && spec.kind !== 'url') return typeOf(value);
  const type = Array.isArray(value) ? 'a list' : typeof value === 'object' ? 'a mapping' : typeof value === 'string' ? 'a string' : typeof value;
  return `${type} (not shown: it may hold a credential)`;
}

/** Converts one value (from YAML, or a string from the environment) to the field's type. */
function coerce(key: string, spec: FieldSpec, value: unknown, fromEnv: boolean): unknown {
  // An empty environment value or an explicit null means "not set": the default, or nothing.
  if (value === null || value === undefined || (fromEnv && value === '' && spec.kind !== 'string')) return defaultValue(key, spec);
  const expected = (what: string) => new ConfigError(key, `expected ${what}, got ${foundOf(spec, value)}`);
  switch (spec.kind) {
    case 'string':
      if (typeof value !== 'string') throw expected('a string');
      return value;
    case 'url': {
      if (typeof value !== 'string') throw expected('a URL');
      try {
        const url = new URL(value);
        if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error();
      } catch {
        throw expected('an http(s) URL');
      }
      return value.replace(/\/+$/, '');
    }
    case 'int':
    case 'number': {
      const n = typeof value === 'string' && fromEnv && value.trim() !== '' ? Number(value) : value;
      if (typeof n !== 'number' || !Number.isFinite(n) || (spec.kind === 'int' && !Number.isInteger(n))) {
        throw expected(spec.kind === 'int' ? 'an integer' : 'a number');
      }
      if (spec.min !== undefined && n < spec.min) throw new ConfigError(key, `must be at least ${spec.min}, got ${n}`);
      if (spec.max !== undefined && n > spec.max) throw new ConfigError(key, `must be at most ${spec.max}, got ${n}`);
      return n;
    }
    case 'boolean': {
      if (typeof value === 'boolean') return value;
      if (fromEnv && typeof value === 'string' && /^(true|false|1|0)$/i.test(value)) return /^(true|1)$/i.test(value);
      throw expected('true or false');
    }
    case 'duration': {
      if (typeof value === 'number' && Number.isFinite(value) && value >= 0) return value;
      if (typeof value !== 'string') throw expected('a duration like 500ms, 30s, 15m, 1h, 7d');
      const ms = parseDuration(value);
      if (ms === undefined) throw expected('a duration like 500ms, 30s, 15m, 1h, 7d');
      return ms;
    }
    case 'timestamp': {
      const ms = typeof value === 'number' ? value : typeof value === 'string' ? parseTimestamp(value) : undefined;
      const what = 'a UTC date like 2000-01-01, a date-time with its zone like 2000-01-01T00:00:00Z, or epoch milliseconds';
      if (ms === undefined || !Number.isInteger(ms)) throw expected(what);
      if (ms < 0 || ms > TIMESTAMP_MAX) throw new ConfigError(key, `must be from 1970-01-01 to ${TIMESTAMP_MAX} ms (the latest timestamp an event may carry), got ${ms}`);
      return ms;
    }
    case 'list': {
      const list = fromEnv && typeof value === 'string' ? value.split(',').map((s) => s.trim()).filter(Boolean) : value;
      if (!Array.isArray(list) || !list.every((v) => typeof v === 'string')) throw expected('a list of strings');
      return [...list]; // a copy: never the spec's (read-only) default array
    }
    case 'enum': {
      if (typeof value !== 'string' || !spec.values.includes(value)) throw expected(`one of ${spec.values.join(', ')}`);
      return value;
    }
  }
}

const TIMESTAMP_TEXT = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?(Z|[+-]\d{2}:\d{2}))?$/;

/** "2000-01-01" (UTC), "2000-01-01T12:30:00.5+02:00" (a zone is required), or digits (epoch ms) -> epoch ms; undefined if not one. */
function parseTimestamp(text: string): number | undefined {
  const trimmed = text.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed);
  const m = TIMESTAMP_TEXT.exec(trimmed);
  if (!m) return undefined;
  const [year, month, day, hour = 0, minute = 0, second = 0] = m.slice(1, 7).map((part) => Number(part ?? 0)) as number[];
  const millis = m[7] === undefined ? 0 : Number(m[7].padEnd(3, '0'));
  const date = new Date(Date.UTC(year!, month! - 1, day!, hour, minute, second, millis));
  // Date.UTC rolls over (February 30 is March 1): the fields must come back as given.
  if (date.getUTCFullYear() !== year || date.getUTCMonth() !== month! - 1 || date.getUTCDate() !== day || hour > 23 || minute > 59 || second > 59) return undefined;
  const zone = m[8];
  const offset = zone === undefined || zone === 'Z' ? 0 : (zone.startsWith('-') ? -1 : 1) * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(4, 6))) * 60_000;
  return date.getTime() - offset;
}

function defaultValue(key: string, spec: FieldSpec): unknown {
  if (spec.default === undefined || spec.default === null) return spec.kind === 'list' ? [] : null;
  return coerce(key, spec, spec.default, false);
}

/** One field: from the environment (sections only), else from the document, else its default. */
function readField(path: string, key: string, spec: FieldSpec, given: Raw, env: Env | undefined): unknown {
  const name = envName(path, key);
  const fromEnv = env?.[name];
  if (fromEnv !== undefined) return coerce(`${path}.${key} (from ${name})`, spec, fromEnv, true);
  if (Object.hasOwn(given, key)) return coerce(`${path}.${key}`, spec, given[key], false);
  return defaultValue(`${path}.${key}`, spec);
}

/** Every field of a section (or of one model) from its mapping in the document. */
function readFields(path: string, fields: Record<string, FieldSpec>, given: Raw, env: Env | undefined): Raw {
  rejectUnknown(path, given, Object.keys(fields));
  const values: Raw = {};
  for (const [key, spec] of Object.entries(fields)) values[key] = readField(path, key, spec, given, env);
  return values;
}

/** CONFIG_SPEC as a table looked up by section name. */
const SECTIONS: Record<string, SectionSpec> = CONFIG_SPEC;

function readSections(raw: Raw, env: Env): Raw {
  const out: Raw = {};
  for (const [section, spec] of Object.entries(SECTIONS)) out[section] = readFields(section, spec.fields, mappingAt(section, raw[section]), env);
  return out;
}

/**
 * `models.<name>` for every model the document names. A null-prototype
 * object: model names come from the user, and a model called `__proto__`
 * or `constructor` must be an entry like any other, not the prototype.
 */
function readModels(given: unknown): Record<string, Raw> {
  const models = mappingAt('models', given, 'a mapping of model name to settings');
  const out: Record<string, Raw> = Object.create(null);
  for (const [name, settings] of Object.entries(models)) {
    out[name] = readFields(`models.${name}`, MODEL_FIELDS, mappingAt(`models.${name}`, settings), undefined);
  }
  return out;
}

/**
 * The document and environment read into a Config: the loader's one cast.
 * TypeScript cannot follow the loops over Object.entries() above to the
 * mapped type Config, but at run time they guarantee its shape: every
 * section and key of CONFIG_SPEC (and of MODEL_FIELDS for each model) is
 * read, and coerce() returns for each kind the type Config derives for it
 * or throws (an unset key: null, or [] for a list, as Config says). The
 * type test in test/unit/config.test.ts keeps the derivation exact.
 */
function readConfig(raw: Raw, env: Env): Config {
  return { ...readSections(raw, env), models: readModels(raw.models) } as Config;
}

function checkChallengers(models: Record<string, ModelConfig>): void {
  for (const [name, model] of Object.entries(models)) {
    if (model.challengers.includes(NO_CHALLENGERS)) {
      if (model.challengers.length > 1) throw new ConfigError(`models.${name}.challengers`, `${NO_CHALLENGERS} stands alone (no challenger of ours): got ${JSON.stringify(model.challengers)}`);
      continue;
    }
    for (const preset of model.challengers) {
      const known = PRESETS[preset];
      if (!Object.hasOwn(PRESETS, preset) || !known) throw new ConfigError(`models.${name}.challengers`, `unknown challenger preset ${JSON.stringify(preset)} (known: ${Object.keys(PRESETS).join(', ')})`);
      if (known.task !== model.task) throw new ConfigError(`models.${name}.challengers`, `${preset} is a ${known.task} preset but ${name} is a ${model.task} model`);
    }
  }
}

/** A multiclass or multilabel model names its classes (2 to limits.max_classes distinct names); the others name none; only multiclass has a numeric target. */
function checkTasks(models: Record<string, ModelConfig>, limits: Config['limits']): void {
  for (const [name, model] of Object.entries(models)) {
    const multi = model.task === 'multiclass' || model.task === 'multilabel';
    if (!multi && model.classes.length > 0) throw new ConfigError(`models.${name}.classes`, `is for multiclass and multilabel models; ${name} is a ${model.task} model`);
    if (model.numeric_target !== null && model.task !== 'multiclass') throw new ConfigError(`models.${name}.numeric_target`, `is for multiclass models; ${name} is a ${model.task} model`);
    if (model.numeric_target === '') throw new ConfigError(`models.${name}.numeric_target`, 'is empty; leave it unset for no numeric target');
    if (multi) checkClasses(`models.${name}.classes`, model.classes, model.task, limits);
  }
}

function checkClasses(key: string, classes: readonly string[], task: string, limits: Config['limits']): void {
  if (classes.length < 2) throw new ConfigError(key, `a ${task} model needs at least 2 class names, got ${classes.length}`);
  if (classes.length > limits.max_classes) throw new ConfigError(key, `lists ${classes.length} names, more than limits.max_classes (${limits.max_classes})`);
  const seen = new Set<string>();
  for (const name of classes) {
    if (name === '' || name === '__proto__' || name.length > limits.max_name_length || !isWellFormedText(name)) {
      throw new ConfigError(key, `${JSON.stringify(name.slice(0, 40))} is not a class name (a non-empty, well-formed name of at most limits.max_name_length (${limits.max_name_length}) characters, not __proto__)`);
    }
    if (seen.has(name)) throw new ConfigError(key, `lists ${JSON.stringify(name)} twice`);
    seen.add(name);
  }
}

/** No lone UTF-16 surrogate (a YAML escape can write one): class names must go through Avro's UTF-8. */
function isWellFormedText(text: string): boolean {
  return !/[\uD800-\uDFFF]/u.test(text);
}

function checkWindows(windows: string[]): void {
  const names = new Set<string>();
  for (const window of windows) {
    const ms = parseDuration(window);
    if (ms === undefined || ms <= 0) throw new ConfigError('evaluator.windows', `${JSON.stringify(window)} is not a duration (e.g. 15m, 1h, 1d)`);
    if (names.has(window)) throw new ConfigError('evaluator.windows', `${window} is listed twice`);
    names.add(window);
  }
}

/** Keys of the HTTP endpoint that are set in pairs: half a TLS setup or half a credential is a mistake, not a choice. */
const HTTP_PAIRS = [
  ['tls_cert_file', 'tls_key_file'],
  ['basic_auth_username', 'basic_auth_password'],
] as const;

function checkHttp(http: Config['http']): void {
  // An empty value (FEEDBACKLOOP_HTTP_BEARER_TOKEN=) would match an empty credential: refused, not taken as unset.
  for (const key of ['tls_cert_file', 'tls_key_file', 'basic_auth_username', 'basic_auth_password', 'bearer_token'] as const) {
    if (http[key] === '') throw new ConfigError(`http.${key}`, 'is empty; leave it unset to go without');
  }
  for (const [a, b] of HTTP_PAIRS) {
    if ((http[a] === null) !== (http[b] === null)) throw new ConfigError(`http.${http[a] === null ? a : b}`, `${a} and ${b} are set together, or neither`);
  }
  // RFC 7617: the user-id of basic auth ends at the first colon.
  if (http.basic_auth_username?.includes(':')) throw new ConfigError('http.basic_auth_username', 'must not contain a colon (RFC 7617)');
}

/**
 * Builds a Config from a parsed YAML document and an environment. Pure:
 * no file or process access, so it is tested directly.
 */
export function buildConfig(document: unknown, env: Env = {}): Config {
  const raw = mappingAt('(top level)', document, 'a mapping of sections');
  rejectUnknown('', raw, [...Object.keys(CONFIG_SPEC), 'models']);
  const config = readConfig(raw, env);
  if (config.kafka.brokers.length > 0 && !config.kafka.schema_registry_url) {
    throw new ConfigError('kafka.schema_registry_url', 'required when kafka.brokers is set (records are Avro in the Confluent wire format)');
  }
  checkChallengers(config.models);
  checkTasks(config.models, config.limits);
  checkWindows(config.evaluator.windows);
  if (config.evaluator.windows.length === 0 && config.evaluator.drift_detectors && config.evaluator.drift_detector_order === 'matured') {
    throw new ConfigError('evaluator.drift_detector_order', 'matured feeds the error detectors per tumbling window, and evaluator.windows is empty: list a window, or set arrival (or drift_detectors: false)');
  }
  checkSharding(config);
  checkHttp(config.http);
  if (config.kafka.sasl_mechanism !== 'none' && (!config.kafka.sasl_username || !config.kafka.sasl_password)) {
    throw new ConfigError('kafka.sasl_username', `sasl_username and sasl_password are required with sasl_mechanism ${config.kafka.sasl_mechanism}`);
  }
  checkKafkaTls(config.kafka);
  checkTransactionTimeout(config.kafka.transaction_timeout);
  checkRegistryAuth(config.kafka);
  checkCaNeedsHttps('clickhouse.ca_file', config.clickhouse.ca_file, 'clickhouse.url', config.clickhouse.url);
  return config;
}

/**
 * evaluator.shard_by: prediction: a shard writes only what sums over shards (docs/scale-out.md), so
 * the settings that would compute figures of one stream's order are refused (every task's windows have partials).
 */
function checkSharding(config: Config): void {
  const e = config.evaluator;
  if (e.shard_by !== 'prediction') return;
  const unmergeable = [
    e.rolling_size > 0 ? 'rolling_size: 0 (a sliding window is the last N of one stream)' : '',
    e.drift_reference_size > 0 ? 'drift_reference_size: 0 (drift references are the first N of one stream)' : '',
    e.drift_detectors ? 'drift_detectors: false (the detectors read one ordered error stream)' : '',
    e.fairness_attributes.length > 0 ? 'fairness_attributes: [] (fairness gaps are not derived from partials yet)' : '',
  ].filter((s) => s !== '');
  if (unmergeable.length > 0) {
    throw new ConfigError('evaluator.shard_by', `prediction writes only figures that merge over shards; set evaluator.${unmergeable.join(', evaluator.')}`);
  }
  if (config.topics.sharded_examples === config.topics.labelled_examples) {
    throw new ConfigError('topics.sharded_examples', 'must differ from topics.labelled_examples (the learner and the promoter read that one, keyed by model)');
  }
}

/** TLS files go with kafka.ssl: a CA given while the connection is plain TCP would look secure and not be. */
/** Kafka's brokers refuse a transaction timeout above transaction.max.timeout.ms (15 minutes by default); below a second every transaction would race it. */
function checkTransactionTimeout(ms: number): void {
  if (ms < 1000 || ms > 900_000) throw new ConfigError('kafka.transaction_timeout', `must be from 1s to 15m (the broker's default transaction.max.timeout.ms), got ${ms} ms`);
}

function checkKafkaTls(k: Config['kafka']): void {
  const files = { ssl_ca_file: k.ssl_ca_file, ssl_cert_file: k.ssl_cert_file, ssl_key_file: k.ssl_key_file, ssl_key_password: k.ssl_key_password };
  for (const [key, value] of Object.entries(files)) {
    if (value && !k.ssl) throw new ConfigError(`kafka.${key}`, 'set kafka.ssl: true to use it (without it the brokers are reached over plain TCP)');
  }
  if (Boolean(k.ssl_cert_file) !== Boolean(k.ssl_key_file)) {
    throw new ConfigError(k.ssl_cert_file ? 'kafka.ssl_key_file' : 'kafka.ssl_cert_file', 'mutual TLS needs both kafka.ssl_cert_file and kafka.ssl_key_file');
  }
  if (k.ssl_key_password && !k.ssl_key_file) throw new ConfigError('kafka.ssl_key_password', 'is the passphrase of kafka.ssl_key_file, which is not set');
}

/** Basic auth of the registry: both or neither, and not also in the URL (which of two would win is a guess). */
function checkRegistryAuth(k: Config['kafka']): void {
  if (Boolean(k.schema_registry_username) !== Boolean(k.schema_registry_password)) {
    throw new ConfigError(k.schema_registry_username ? 'kafka.schema_registry_password' : 'kafka.schema_registry_username', 'basic auth needs both kafka.schema_registry_username and kafka.schema_registry_password');
  }
  const url = k.schema_registry_url;
  if (url && k.schema_registry_username) {
    const inUrl = new URL(url);
    if (inUrl.username !== '' || inUrl.password !== '') {
      throw new ConfigError('kafka.schema_registry_url', 'holds credentials and kafka.schema_registry_username is set too: give them one way');
    }
  }
  checkCaNeedsHttps('kafka.schema_registry_ca_file', k.schema_registry_ca_file, 'kafka.schema_registry_url', url);
}

function checkCaNeedsHttps(key: string, caFile: string | null, urlKey: string, url: string | null): void {
  if (caFile && !(url && new URL(url).protocol === 'https:')) throw new ConfigError(key, `needs an https:// ${urlKey} (a CA verifies a TLS server)`);
}

/** Reads and validates the config file (optional) with the process environment. */
export function loadConfig(file: string | undefined, env: Env = process.env): Config {
  let document: unknown = {};
  if (file) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (error) {
      throw new ConfigError('--config', `cannot read ${file}: ${(error as Error).message}`);
    }
    try {
      document = parseYaml(text);
    } catch (error) {
      throw new ConfigError('--config', `${file} is not valid YAML: ${(error as Error).message}`);
    }
  }
  const config = buildConfig(document, env);
  // Every certificate and key is read now, so that a missing or unreadable one is a config error at start.
  readTlsFiles(config);
  return config;
}

/** The config with secrets replaced and credentials inside URLs redacted, for printing and logging. */
export function redactConfig(config: Config): Config {
  const copy = structuredClone(config);
  const sections: Record<string, Raw> = copy;
  for (const [section, spec] of Object.entries(SECTIONS)) {
    const values = sections[section];
    for (const [key, field] of Object.entries(spec.fields)) {
      const value = values?.[key];
      if (field.secret && value) values[key] = '[redacted]';
      else if (field.kind === 'url' && typeof value === 'string') values![key] = redactUrl(value);
    }
  }
  return copy;
}
