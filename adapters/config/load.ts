/**
 * Loads the configuration: defaults, then the YAML file, then environment
 * overrides (FEEDBACKLOOP_<SECTION>_<KEY>). Validated at start: any error
 * names the key, what was expected and what was found.
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { ConfigError } from '../../core/errors.js';
import { parseDuration } from '../../core/duration.js';
import { PRESETS } from '../../core/learn/presets.js';
import { CONFIG_SPEC, MODEL_FIELDS, type FieldSpec } from './spec.js';

export interface ModelConfig {
  task: 'binary' | 'regression';
  challengers: string[];
}

export interface Config {
  kafka: {
    brokers: string[];
    client_id: string;
    schema_registry_url: string | null;
    replication_factor: number;
    sasl_mechanism: 'none' | 'plain' | 'scram-sha-256' | 'scram-sha-512';
    sasl_username: string | null;
    sasl_password: string | null;
    ssl: boolean;
    /** Milliseconds. */
    session_timeout: number;
  };
  topics: {
    predictions: string;
    feedback: string;
    labelled_examples: string;
    model_snapshots: string;
    model_promotions: string;
    dead_letters: string;
    unmatched_feedback: string;
    joiner_changelog: string;
    partitions: number;
  };
  joiner: {
    /** Milliseconds. */
    join_window: number;
    /** Milliseconds. */
    early_feedback_ttl: number;
    emit_unlabelled: boolean;
    /** Milliseconds. */
    max_future: number;
    state_dir: string | null;
  };
  clickhouse: {
    url: string | null;
    database: string;
    username: string;
    password: string;
    /** Milliseconds. */
    request_timeout: number;
  };
  evaluator: {
    windows: string[];
    /** Milliseconds. */
    window_grace: number;
    rolling_size: number;
    rolling_emit_every: number;
    segments: boolean;
    fairness_attributes: string[];
    calibration_bins: number;
    auc_exact_limit: number;
    auc_bins: number;
    drift_reference_size: number;
    drift_window_size: number;
    drift_bins: number;
    psi_threshold: number;
    ks_alpha: number;
    drift_detectors: boolean;
    flush_rows: number;
    flush_bytes: number;
    /** Milliseconds. */
    flush_interval: number;
    prometheus_segments: boolean;
  };
  learner: {
    snapshot_every: number;
    /** Milliseconds. */
    snapshot_interval: number;
    train_on_corrections: boolean;
  };
  promoter: {
    alpha: number;
    metric: 'default' | 'log_loss' | 'brier' | 'error_rate' | 'squared_error';
    min_samples: number;
    min_effect: number;
    max_recall_drop: number;
    max_ece: number;
    /** Milliseconds. */
    cooldown: number;
    watch_examples: number;
  };
  http: { host: string; port: number };
  log: { level: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent' };
  models: Record<string, ModelConfig>;
}

export const ENV_PREFIX = 'FEEDBACKLOOP_';

export function envName(section: string, key: string): string {
  return `${ENV_PREFIX}${section}_${key}`.toUpperCase();
}

type Raw = Record<string, unknown>;

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

/** Converts one value (from YAML, or a string from the environment) to the field's type. */
function coerce(key: string, spec: FieldSpec, value: unknown, fromEnv: boolean): unknown {
  const empty = value === null || value === undefined || (fromEnv && value === '' && spec.kind !== 'string');
  if (empty) {
    // An empty environment value or an explicit null means "not set": the default, or nothing.
    if (spec.default === null || spec.default === undefined) return spec.kind === 'list' ? [] : null;
    return coerce(key, spec, spec.default, false);
  }
  const expected = (what: string) => new ConfigError(key, `expected ${what}, got ${typeOf(value)}`);
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
    case 'list': {
      const list = fromEnv && typeof value === 'string' ? value.split(',').map((s) => s.trim()).filter(Boolean) : value;
      if (!Array.isArray(list) || !list.every((v) => typeof v === 'string')) throw expected('a list of strings');
      return list;
    }
    case 'enum': {
      if (typeof value !== 'string' || !spec.values!.includes(value)) throw expected(`one of ${spec.values!.join(', ')}`);
      return value;
    }
  }
}

function defaultValue(key: string, spec: FieldSpec): unknown {
  if (spec.default === undefined || spec.default === null) return spec.kind === 'list' ? [] : null;
  return coerce(key, spec, spec.default, false);
}

/**
 * Builds a Config from a parsed YAML document and an environment. Pure:
 * no file or process access, so it is tested directly.
 */
export function buildConfig(document: unknown, env: Record<string, string | undefined> = {}): Config {
  if (document !== null && document !== undefined && (typeof document !== 'object' || Array.isArray(document))) {
    throw new ConfigError('(top level)', `expected a mapping of sections, got ${typeOf(document)}`);
  }
  const raw = (document ?? {}) as Raw;
  const sections = [...Object.keys(CONFIG_SPEC), 'models'];
  for (const key of Object.keys(raw)) if (!sections.includes(key)) throw unknownKey('', key, sections);

  const out: Raw = {};
  for (const [section, sectionSpec] of Object.entries(CONFIG_SPEC)) {
    const given = raw[section] ?? {};
    if (typeof given !== 'object' || given === null || Array.isArray(given)) {
      throw new ConfigError(section, `expected a mapping, got ${typeOf(given)}`);
    }
    const known = Object.keys(sectionSpec.fields);
    for (const key of Object.keys(given)) if (!known.includes(key)) throw unknownKey(section, key, known);
    const values: Raw = {};
    for (const [key, spec] of Object.entries(sectionSpec.fields)) {
      const path = `${section}.${key}`;
      const fromEnv = env[envName(section, key)];
      if (fromEnv !== undefined) {
        values[key] = coerce(`${path} (from ${envName(section, key)})`, spec, fromEnv, true);
      } else if (key in (given as Raw)) {
        values[key] = coerce(path, spec, (given as Raw)[key], false);
      } else {
        values[key] = defaultValue(path, spec);
      }
    }
    out[section] = values;
  }

  const models = raw.models ?? {};
  if (typeof models !== 'object' || models === null || Array.isArray(models)) {
    throw new ConfigError('models', `expected a mapping of model name to settings, got ${typeOf(models)}`);
  }
  const modelOut: Record<string, Raw> = {};
  for (const [name, settings] of Object.entries(models as Raw)) {
    const given = settings ?? {};
    if (typeof given !== 'object' || Array.isArray(given)) {
      throw new ConfigError(`models.${name}`, `expected a mapping, got ${typeOf(given)}`);
    }
    const known = Object.keys(MODEL_FIELDS);
    for (const key of Object.keys(given)) if (!known.includes(key)) throw unknownKey(`models.${name}`, key, known);
    const values: Raw = {};
    for (const [key, spec] of Object.entries(MODEL_FIELDS)) {
      const path = `models.${name}.${key}`;
      values[key] = key in given ? coerce(path, spec, (given as Raw)[key], false) : defaultValue(path, spec);
    }
    modelOut[name] = values;
  }
  out.models = modelOut;

  const config = out as unknown as Config;
  if (config.kafka.brokers.length > 0 && !config.kafka.schema_registry_url) {
    throw new ConfigError('kafka.schema_registry_url', 'required when kafka.brokers is set (records are Avro in the Confluent wire format)');
  }
  for (const [name, model] of Object.entries(config.models)) {
    for (const preset of model.challengers) {
      const known = PRESETS[preset];
      if (!Object.hasOwn(PRESETS, preset) || !known) throw new ConfigError(`models.${name}.challengers`, `unknown challenger preset ${JSON.stringify(preset)} (known: ${Object.keys(PRESETS).join(', ')})`);
      if (known.task !== model.task) throw new ConfigError(`models.${name}.challengers`, `${preset} is a ${known.task} preset but ${name} is a ${model.task} model`);
    }
  }
  const names = new Set<string>();
  for (const window of config.evaluator.windows) {
    const ms = parseDuration(window);
    if (ms === undefined || ms <= 0) throw new ConfigError('evaluator.windows', `${JSON.stringify(window)} is not a duration (e.g. 15m, 1h, 1d)`);
    if (names.has(window)) throw new ConfigError('evaluator.windows', `${window} is listed twice`);
    names.add(window);
  }
  if (config.kafka.sasl_mechanism !== 'none' && (!config.kafka.sasl_username || !config.kafka.sasl_password)) {
    throw new ConfigError('kafka.sasl_username', `sasl_username and sasl_password are required with sasl_mechanism ${config.kafka.sasl_mechanism}`);
  }
  return config;
}

/** Reads and validates the config file (optional) with the process environment. */
export function loadConfig(file: string | undefined, env: Record<string, string | undefined> = process.env): Config {
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
  return buildConfig(document, env);
}

/** The config with secrets replaced, for printing and logging. */
export function redactConfig(config: Config): Config {
  const copy = structuredClone(config) as unknown as Record<string, Raw>;
  for (const [section, spec] of Object.entries(CONFIG_SPEC)) {
    for (const [key, field] of Object.entries(spec.fields)) {
      if (field.secret && copy[section]?.[key]) copy[section]![key] = '[redacted]';
    }
  }
  return copy as unknown as Config;
}
