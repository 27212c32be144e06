import { describe, expect, expectTypeOf, it } from 'vitest';
import { configError } from '../support/config-error.js';
import { buildConfig, CONFIG_SPEC, modelKindOf, redactConfig, type Config, type ModelConfig } from '../../adapters/config/index.js';
import { ConfigError } from '../../core/errors.js';
import { topicSpecs } from '../../runtime/pipeline.js';
import { evaluatorInput } from '../../runtime/settings.js';

describe('config', () => {
  it('has working defaults: the in-process log and file output', () => {
    const config = buildConfig({});
    expect(config.kafka.brokers).toEqual([]);
    expect(config.clickhouse.url).toBeNull();
    expect(config.topics.predictions).toBe('predictions');
    expect(config.clickhouse.request_timeout).toBe(30_000);
    expect(config.http.port).toBe(9464);
    expect(config.models).toEqual({});
  });

  it('reads the YAML document and applies environment overrides on top', () => {
    const config = buildConfig(
      {
        kafka: { brokers: ['a:9092'], schema_registry_url: 'http://registry:8081/' },
        clickhouse: { url: 'http://ch:8123', request_timeout: '2m' },
        models: { 'fraud-detector': { task: 'binary' }, 'eta': { task: 'regression' }, 'plain': null },
      },
      {
        FEEDBACKLOOP_KAFKA_BROKERS: 'b:9092, c:9092',
        FEEDBACKLOOP_HTTP_PORT: '9000',
        FEEDBACKLOOP_KAFKA_SSL: 'true',
      },
    );
    expect(config.kafka.brokers).toEqual(['b:9092', 'c:9092']);
    expect(config.kafka.schema_registry_url).toBe('http://registry:8081');
    expect(config.kafka.ssl).toBe(true);
    expect(config.http.port).toBe(9000);
    expect(config.clickhouse.request_timeout).toBe(120_000);
    expect(config.models).toEqual({ 'fraud-detector': { task: 'binary', challengers: [], classes: [], numeric_target: null }, eta: { task: 'regression', challengers: [], classes: [], numeric_target: null }, plain: { task: 'binary', challengers: [], classes: [], numeric_target: null } });
  });

  it('bounds kafka.transaction_timeout to what a broker accepts (1s to 15m; default 60s, Kafka\'s)', () => {
    expect(buildConfig({}).kafka.transaction_timeout).toBe(60_000);
    expect(buildConfig({ kafka: { transaction_timeout: '15m' } }).kafka.transaction_timeout).toBe(900_000);
    expect(configError(() => buildConfig({ kafka: { transaction_timeout: '16m' } })).message).toBe(
      "config: kafka.transaction_timeout: must be from 1s to 15m (the broker's default transaction.max.timeout.ms), got 960000 ms",
    );
    expect(configError(() => buildConfig({ kafka: { transaction_timeout: '500ms' } })).key).toBe('kafka.transaction_timeout');
  });

  it('names an unknown key and suggests the near one', () => {
    const error = configError(() => buildConfig({ kafka: { brokrs: ['x'] } }));
    expect(error.key).toBe('kafka.brokrs');
    expect(error.message).toMatch(/unknown key \(did you mean brokers\?\)/);
    expect(configError(() => buildConfig({ clickhose: {} })).message).toMatch(/did you mean clickhouse/);
  });

  it('names the key, the expected type and what it got', () => {
    expect(configError(() => buildConfig({ http: { port: 'eighty' } })).message).toBe(
      'config: http.port: expected an integer, got the string "eighty"',
    );
    expect(configError(() => buildConfig({ http: { port: 70000 } })).message).toBe('config: http.port: must be at most 65535, got 70000');
    expect(configError(() => buildConfig({ clickhouse: { url: 'ch:8123' } })).message).toMatch(/clickhouse.url: expected an http\(s\) URL/);
    expect(configError(() => buildConfig({ models: { m: { task: 'ranking' } } })).message).toBe(
      'config: models.m.task: expected one of binary, regression, multiclass, multilabel, got the string "ranking"',
    );
    expect(configError(() => buildConfig({ clickhouse: { request_timeout: 'soon' } })).key).toBe('clickhouse.request_timeout');
    expect(configError(() => buildConfig({}, { FEEDBACKLOOP_HTTP_PORT: 'x' })).key).toBe('http.port (from FEEDBACKLOOP_HTTP_PORT)');
    expect(configError(() => buildConfig(['a'])).message).toMatch(/expected a mapping of sections, got a list/);
  });

  it('requires a schema registry with Kafka, and credentials with SASL', () => {
    expect(configError(() => buildConfig({ kafka: { brokers: ['a:1'] } })).key).toBe('kafka.schema_registry_url');
    expect(
      configError(() => buildConfig({ kafka: { brokers: ['a:1'], schema_registry_url: 'http://r', sasl_mechanism: 'plain' } })).key,
    ).toBe('kafka.sasl_username');
  });

  it('loads a default list as a copy: changing it changes neither the spec nor the next config', () => {
    buildConfig({}).evaluator.windows.push('15m');
    expect(buildConfig({}).evaluator.windows).toEqual(['1h', '1d']);
    expect(CONFIG_SPEC.evaluator.fields.windows.default).toEqual(['1h', '1d']);
  });

  it('redacts secrets for printing', () => {
    const config = buildConfig({ clickhouse: { password: 'hunter2' }, kafka: { sasl_password: 's3cret' } });
    const shown = JSON.stringify(redactConfig(config));
    expect(shown).not.toMatch(/hunter2|s3cret/);
    expect(config.clickhouse.password).toBe('hunter2');
  });
});

describe('joiner.min_timestamp (a timestamp key)', () => {
  it('defaults to 2000-01-01 and reads a UTC date, a date-time with its zone, or epoch milliseconds', () => {
    expect(buildConfig({}).joiner.min_timestamp).toBe(946_684_800_000);
    expect(buildConfig({ joiner: { min_timestamp: '2020-02-29' } }).joiner.min_timestamp).toBe(Date.UTC(2020, 1, 29));
    expect(buildConfig({ joiner: { min_timestamp: '2020-01-01T02:00:00+02:00' } }).joiner.min_timestamp).toBe(Date.UTC(2020, 0, 1));
    expect(buildConfig({ joiner: { min_timestamp: '2020-01-01T00:00:00.5Z' } }).joiner.min_timestamp).toBe(Date.UTC(2020, 0, 1) + 500);
    expect(buildConfig({ joiner: { min_timestamp: 0 } }).joiner.min_timestamp).toBe(0);
    expect(buildConfig({}, { FEEDBACKLOOP_JOINER_MIN_TIMESTAMP: '1577836800000' }).joiner.min_timestamp).toBe(Date.UTC(2020, 0, 1));
    expect(buildConfig({}, { FEEDBACKLOOP_JOINER_MIN_TIMESTAMP: '2020-01-01' }).joiner.min_timestamp).toBe(Date.UTC(2020, 0, 1));
    expectTypeOf(buildConfig({}).joiner.min_timestamp).toEqualTypeOf<number>();
  });

  it('refuses what is not a timestamp, a date that does not exist, a date-time without its zone, and a value out of range', () => {
    const what = 'expected a UTC date like 2000-01-01, a date-time with its zone like 2000-01-01T00:00:00Z, or epoch milliseconds';
    expect(configError(() => buildConfig({ joiner: { min_timestamp: 'yesterday' } })).message).toBe(`config: joiner.min_timestamp: ${what}, got the string "yesterday"`);
    expect(configError(() => buildConfig({ joiner: { min_timestamp: '2021-02-29' } })).message).toBe(`config: joiner.min_timestamp: ${what}, got the string "2021-02-29"`);
    expect(configError(() => buildConfig({ joiner: { min_timestamp: '2021-01-01T00:00:00' } })).message).toBe(`config: joiner.min_timestamp: ${what}, got the string "2021-01-01T00:00:00"`);
    expect(configError(() => buildConfig({ joiner: { min_timestamp: 1.5 } })).message).toBe(`config: joiner.min_timestamp: ${what}, got number 1.5`);
    expect(configError(() => buildConfig({ joiner: { min_timestamp: -1 } })).message).toBe(
      'config: joiner.min_timestamp: must be from 1970-01-01 to 4503599627370496 ms (the latest timestamp an event may carry), got -1',
    );
  });
});

describe('model names in the config', () => {
  it('keeps a model named like an Object property as an entry, not a prototype', () => {
    const config = buildConfig(JSON.parse('{"models": {"__proto__": {"task": "regression"}, "constructor": {}}}'));
    expect(Object.keys(config.models)).toEqual(['__proto__', 'constructor']);
    expect(config.models['__proto__']).toEqual({ task: 'regression', challengers: [], classes: [], numeric_target: null });
    expect(config.models.toString).toBeUndefined();
    expect(JSON.parse(JSON.stringify(redactConfig(config))).models).toEqual({ ['__proto__']: { task: 'regression', challengers: [], classes: [], numeric_target: null }, constructor: { task: 'binary', challengers: [], classes: [], numeric_target: null } });
  });
});

describe('modelKindOf', () => {
  it('is the task the config gives a model, binary for any other name', () => {
    const config = buildConfig(JSON.parse('{"models": {"eta": {"task": "regression"}, "__proto__": {"task": "regression"}, "fraud": null}}'));
    expect(modelKindOf(config, 'eta')).toBe('regression');
    expect(modelKindOf(config, '__proto__')).toBe('regression');
    expect(modelKindOf(config, 'fraud')).toBe('binary');
    expect(modelKindOf(config, 'churn')).toBe('binary');
    expect(modelKindOf(config, 'constructor')).toBe('binary');
  });

  it('counts only own entries of models, also in a config built by hand', () => {
    const inherited: Record<string, ModelConfig> = Object.create({ eta: { task: 'regression', challengers: [], classes: [], numeric_target: null } });
    const config: Config = { ...buildConfig({}), models: inherited };
    expect(modelKindOf(config, 'eta')).toBe('binary');
    expect(modelKindOf({ ...config, models: { eta: { task: 'regression', challengers: [], classes: [], numeric_target: null } } }, 'eta')).toBe('regression');
  });
});

describe('challenger presets in the config', () => {
  it('accepts known presets of the model task and refuses others, naming the key', () => {
    expect(buildConfig({ models: { m: { challengers: ['logreg', 'ftrl'] } } }).models.m!.challengers).toEqual(['logreg', 'ftrl']);
    expect(() => buildConfig({ models: { m: { challengers: ['xgboost'] } } })).toThrow(/models\.m\.challengers: unknown challenger preset "xgboost"/);
    expect(() => buildConfig({ models: { eta: { task: 'regression', challengers: ['logreg'] } } })).toThrow(/models\.eta\.challengers: logreg is a binary preset but eta is a regression model/);
  });
});

describe('the Config type, derived from CONFIG_SPEC and MODEL_FIELDS (checked by tsc)', () => {
  it('gives each kind its loaded type, and null only to a key without a default', () => {
    const config = buildConfig({});
    expectTypeOf<keyof Config>().toEqualTypeOf<'kafka' | 'topics' | 'clickhouse' | 'joiner' | 'evaluator' | 'learner' | 'promoter' | 'limits' | 'http' | 'run' | 'log' | 'models'>();
    expectTypeOf(config.limits.max_models).toEqualTypeOf<number>();
    expectTypeOf<keyof Config['http']>().toEqualTypeOf<
      | 'host' | 'port' | 'unhealthy_after' | 'tls_cert_file' | 'tls_key_file' | 'basic_auth_username' | 'basic_auth_password' | 'bearer_token' | 'lag_cache'
      | 'api' | 'api_max_batch' | 'api_max_body' | 'api_produce_timeout'
    >();
    expectTypeOf(config.http.api).toEqualTypeOf<boolean>();
    expectTypeOf(config.http.bearer_token).toEqualTypeOf<string | null>();
    expectTypeOf(config.kafka.client_id).toEqualTypeOf<string>();
    expectTypeOf(config.clickhouse.password).toEqualTypeOf<string>();
    expectTypeOf(config.kafka.sasl_username).toEqualTypeOf<string | null>();
    expectTypeOf(config.joiner.state_dir).toEqualTypeOf<string | null>();
    expectTypeOf(config.clickhouse.url).toEqualTypeOf<string | null>();
    expectTypeOf(config.http.port).toEqualTypeOf<number>();
    expectTypeOf(config.promoter.alpha).toEqualTypeOf<number>();
    expectTypeOf(config.joiner.join_window).toEqualTypeOf<number>();
    expectTypeOf(config.kafka.ssl).toEqualTypeOf<boolean>();
    expectTypeOf(config.kafka.brokers).toEqualTypeOf<string[]>();
    expectTypeOf(config.evaluator.windows).toEqualTypeOf<string[]>();
    expectTypeOf(config.kafka.sasl_mechanism).toEqualTypeOf<'none' | 'plain' | 'scram-sha-256' | 'scram-sha-512'>();
    expectTypeOf(config.log.level).toEqualTypeOf<'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent'>();
    expectTypeOf(config.models).toEqualTypeOf<Record<string, ModelConfig>>();
    expectTypeOf<ModelConfig>().toEqualTypeOf<{ task: 'binary' | 'regression' | 'multiclass' | 'multilabel'; challengers: string[]; classes: string[]; numeric_target: string | null }>();
    expect(config.joiner.state_dir).toBeNull();
  });

  it('takes what each key may hold and refuses the rest', () => {
    const config = buildConfig({});
    config.kafka.sasl_username = null;
    config.clickhouse.url = null;
    config.kafka.sasl_mechanism = 'scram-sha-512';
    config.http = {
      host: '::', port: 0, unhealthy_after: 1_000, tls_cert_file: null, tls_key_file: null, basic_auth_username: null, basic_auth_password: null, bearer_token: 't', lag_cache: 0,
      api: false, api_max_batch: 10, api_max_body: 4096, api_produce_timeout: 5_000,
    };
    config.models.m = { task: 'regression', challengers: ['linreg'], classes: [], numeric_target: null };
    // @ts-expect-error a string with a default is never null
    config.kafka.client_id = null;
    // @ts-expect-error a url is a string
    config.clickhouse.url = 8123;
    // @ts-expect-error an int is a number
    config.http.port = '9464';
    // @ts-expect-error a duration is milliseconds once loaded
    config.kafka.session_timeout = '10s';
    // @ts-expect-error a boolean is a boolean
    config.kafka.ssl = 'true';
    // @ts-expect-error a list holds strings
    config.kafka.brokers = [9092];
    // @ts-expect-error a list is never null (empty when unset)
    config.evaluator.windows = null;
    // @ts-expect-error an enum holds one of its values
    config.log.level = 'verbose';
    // @ts-expect-error a model's task is one of its values
    config.models.m = { task: 'ranking', challengers: [] };
    // @ts-expect-error no key the spec does not declare
    config.http.hostname = 'localhost';
  });
});

describe('labelled-examples retention', () => {
  const spec = (file: object) => topicSpecs(buildConfig(file)).find((s) => s.name === 'labelled-examples')!;

  it('is 30 days after arrival by default, kept for ever with 0s, and refused when not a duration', () => {
    expect(spec({})).toEqual({ name: 'labelled-examples', partitions: 3, retentionMs: 30 * 86_400_000 });
    expect(spec({ topics: { labelled_examples_retention: '0s' } })).toMatchObject({ name: 'labelled-examples', partitions: 3, keepForever: true });
    expect(spec({ topics: { labelled_examples_retention: '2w' } }).retentionMs).toBe(14 * 86_400_000);
    expect(() => buildConfig({ topics: { labelled_examples_retention: 'a month' } })).toThrow(/labelled_examples_retention/);
  });

  it('model-promotions and the state topics are never deleted by time: the champion is the latest decision, however old', () => {
    const specs = topicSpecs(buildConfig({}));
    expect(specs.find((s) => s.name === 'model-promotions')).toMatchObject({ name: 'model-promotions', partitions: 3, keepForever: true });
    for (const name of ['model-snapshots', 'feedbackloop-joiner-changelog', 'feedbackloop-promoter-checkpoints', 'feedbackloop-evaluator-checkpoints']) {
      expect(specs.find((s) => s.name === name)?.compacted, name).toBe(true);
    }
  });

  it('evaluator.write_partials is off by default; on, for models of every task', () => {
    expect(buildConfig({}).evaluator.write_partials).toBe(false);
    const config = buildConfig({
      evaluator: { write_partials: true },
      models: { fraud: { task: 'binary' }, eta: { task: 'regression' }, intent: { task: 'multiclass', classes: ['a', 'b'] }, plain: null },
    });
    expect(config.evaluator.write_partials).toBe(true);
  });
});

describe('evaluator.shard_by (docs/scale-out.md)', () => {
  /** What a sharded evaluator needs off: the figures that do not merge over shards. */
  const MERGEABLE_ONLY = { rolling_size: 0, drift_reference_size: 0, drift_detectors: false };

  it('is model by default: the evaluator reads labelled_examples and no sharded topic is created', () => {
    const config = buildConfig({});
    expect(config.evaluator.shard_by).toBe('model');
    expect(config.topics.sharded_examples).toBe('labelled-examples-sharded');
    expect(evaluatorInput(config)).toBe('labelled-examples');
    expect(topicSpecs(config).map((s) => s.name)).not.toContain('labelled-examples-sharded');
  });

  it('prediction: the evaluator reads topics.sharded_examples, created with labelled_examples\' partitions and retention', () => {
    const config = buildConfig({ topics: { partitions: 4, labelled_examples_retention: '2w', sharded_examples: 'by-prediction' }, evaluator: { shard_by: 'prediction', ...MERGEABLE_ONLY } });
    expect(evaluatorInput(config)).toBe('by-prediction');
    expect(topicSpecs(config).find((s) => s.name === 'by-prediction')).toEqual({ name: 'by-prediction', partitions: 4, retentionMs: 14 * 86_400_000 });
    const forever = buildConfig({ topics: { labelled_examples_retention: '0s' }, evaluator: { shard_by: 'prediction', ...MERGEABLE_ONLY } });
    expect(topicSpecs(forever).find((s) => s.name === 'labelled-examples-sharded')).toMatchObject({ name: 'labelled-examples-sharded', partitions: 3, keepForever: true });
  });

  it('prediction refuses, naming every key to change, the figures that do not merge: sliding windows, drift, detectors, fairness', () => {
    const all = configError(() => buildConfig({ evaluator: { shard_by: 'prediction', fairness_attributes: ['region'] } }));
    expect(all.key).toBe('evaluator.shard_by');
    for (const key of ['rolling_size: 0', 'drift_reference_size: 0', 'drift_detectors: false', 'fairness_attributes: []']) expect(all.message).toContain(`evaluator.${key}`);
    const one = configError(() => buildConfig({ evaluator: { shard_by: 'prediction', ...MERGEABLE_ONLY, rolling_size: 500 } }));
    expect(one.message).toContain('evaluator.rolling_size: 0');
    expect(one.message).not.toContain('drift_detectors');
  });

  it('prediction takes models of every task (binary, regression, multiclass with a numeric head, multilabel), and refuses a sharded topic named like labelled_examples', () => {
    const models = {
      fraud: { task: 'binary' }, eta: { task: 'regression' }, intent: { task: 'multiclass', classes: ['a', 'b'], numeric_target: 'severity' }, tags: { task: 'multilabel', classes: ['a', 'b'] },
    };
    const config = buildConfig({ evaluator: { shard_by: 'prediction', ...MERGEABLE_ONLY }, models });
    expect(config.evaluator.shard_by).toBe('prediction');
    expect(Object.keys(config.models).sort()).toEqual(['eta', 'fraud', 'intent', 'tags']);
    expect(configError(() => buildConfig({ topics: { sharded_examples: 'labelled-examples' }, evaluator: { shard_by: 'prediction', ...MERGEABLE_ONLY } })).key).toBe('topics.sharded_examples');
    // Unsharded, none of it matters.
    expect(buildConfig({ models, evaluator: { fairness_attributes: ['region'] } }).evaluator.shard_by).toBe('model');
    expect(() => buildConfig({ evaluator: { shard_by: 'example' } })).toThrow(/shard_by/);
  });
});
