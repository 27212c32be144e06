/**
 * No credential is ever printed: the URL redaction helper, the config
 * printout, config errors, log lines, and every CLI command that prints
 * config or connection details, driven from source (bundled by esbuild) with every secret
 * set to a distinctive string and every server unreachable (closed ports on
 * 127.0.0.1), stdout, stderr and log lines captured together.
 */
import { spawn } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { Writable } from 'node:stream';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildConfig, CONFIG_SPEC, redactConfig } from '../../adapters/config/index.js';
import { createLogger } from '../../adapters/logging/index.js';
import { clickhouseError } from '../../adapters/clickhouse/store.js';
import { ConfigError } from '../../core/errors.js';
import { redactUrl, redactUrlsIn, splitUrlCredentials } from '../../core/redact.js';
import { makeTlsFixtures, type TlsFixtures } from '../support/tls-fixtures.js';

const ROOT = join(import.meta.dirname, '..', '..');

describe('redactUrl', () => {
  it.each([
    ['https://user:pass@host:8081/x', 'https://user:***@host:8081/x'],
    ['http://token@host', 'http://***@host'],
    ['http://u:p%40ss@host', 'http://u:***@host'],
    ['http://u:p@ss@host/a', 'http://u:***@host/a'], // a raw @ in the password
    ['http://u:pa/ss@host', 'http://u:***@host'], // a raw / in the password: the URL does not even parse
    ['http://host:8123/?user=a&password=hunter2&x=1', 'http://host:8123/?user=a&password=***&x=1'],
    ['https://h/p?access_token=abc#frag', 'https://h/p?access_token=***#frag'],
    ['http://127.0.0.1:9464/metrics', 'http://127.0.0.1:9464/metrics'],
  ])('%s -> %s', (url, shown) => {
    expect(redactUrl(url)).toBe(shown);
  });

  it('redacts every URL inside a text and leaves the rest', () => {
    expect(redactUrlsIn('GET http://a:b@h/x failed; retry https://c:d@k:1 (connect ECONNREFUSED 127.0.0.1:1)')).toBe(
      'GET http://a:***@h/x failed; retry https://c:***@k:1 (connect ECONNREFUSED 127.0.0.1:1)',
    );
    expect(redactUrlsIn('{"url":"http://u:secret@h"}')).toBe('{"url":"http://u:***@h"}');
  });

  it('splits credentials out of a URL, decoded', () => {
    expect(splitUrlCredentials('https://u%40x:p%3Aq@h:1/p')).toEqual({ url: 'https://h:1/p', username: 'u@x', password: 'p:q' });
    expect(splitUrlCredentials('https://h:1')).toEqual({ url: 'https://h:1' });
  });
});

describe('config redaction', () => {
  it('redacts every secret key and the credentials in every URL key', () => {
    const document: Record<string, Record<string, unknown>> = {
      kafka: {
        brokers: ['b:9092'], schema_registry_url: 'https://reg:Url-Registry-Pass@r:8081', sasl_mechanism: 'plain', sasl_username: 'u', sasl_password: 'Sasl-Pass',
      },
      clickhouse: { url: 'http://ch:Url-ClickHouse-Pass@c:8123', password: 'ClickHouse-Pass' },
    };
    const secrets = ['Url-Registry-Pass', 'Sasl-Pass', 'Url-ClickHouse-Pass', 'ClickHouse-Pass'];
    // Every field marked secret, whichever section it is in, gets a value of its own.
    for (const [section, spec] of Object.entries(CONFIG_SPEC)) {
      for (const [key, field] of Object.entries(spec.fields)) {
        if (!field.secret || (document[section]?.[key] !== undefined)) continue;
        const value = `Secret-${section}-${key}`;
        if (key === 'ssl_key_password') continue; // needs a key file: covered by the CLI test below
        (document[section] ??= {})[key] = value;
        secrets.push(value);
        if (key === 'basic_auth_password') document[section]!.basic_auth_username = 'metrics-user';
        if (key === 'schema_registry_password') {
          document.kafka!.schema_registry_url = 'https://r:8081';
          document.kafka!.schema_registry_username = 'reg';
          secrets.splice(secrets.indexOf('Url-Registry-Pass'), 1);
        }
      }
    }
    const shown = JSON.stringify(redactConfig(buildConfig(document)));
    for (const secret of secrets) expect(shown).not.toContain(secret);
    expect(shown).toContain('http://ch:***@c:8123');
  });

  it('never echoes a secret or a URL in a config error', () => {
    const error = (document: unknown) => {
      try {
        buildConfig(document);
      } catch (e) {
        return (e as ConfigError).message;
      }
      throw new Error('expected a ConfigError');
    };
    expect(error({ kafka: { sasl_password: 987654321 } })).not.toContain('987654321');
    expect(error({ clickhouse: { password: ['Listed-Pass'] } })).not.toContain('Listed-Pass');
    expect(error({ clickhouse: { url: 'ftp://u:Ftp-Pass@h' } })).not.toContain('Ftp-Pass');
    expect(error({ kafka: { schema_registry_url: 'http://u:Bad/Pass@h' } })).not.toContain('Bad/Pass');
  });
});

describe('log lines', () => {
  it('redact secrets by path and credentials inside any URL of the line, errors included', () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _enc, done) {
        lines.push(String(chunk));
        done();
      },
    });
    const logger = createLogger('info', sink);
    const err = Object.assign(new Error('GET http://reg:Err-Pass@r/subjects failed'), { url: 'https://x:Prop-Pass@r' });
    logger.error({ err, kafka: { ssl_key_password: 'Key-Pass', schema_registry_password: 'Reg-Pass' }, ssl: { passphrase: 'Phrase', key: 'PEM-KEY' } }, 'at http://u:Msg-Pass@h');
    const text = lines.join('');
    for (const secret of ['Err-Pass', 'Prop-Pass', 'Key-Pass', 'Reg-Pass', 'Phrase', 'PEM-KEY', 'Msg-Pass']) expect(text).not.toContain(secret);
    expect(text).toContain('http://reg:***@r/subjects');
  });

  it('ClickHouse errors quoting a URL carry no credentials', () => {
    const error = clickhouseError('insert', new Error('connect ECONNREFUSED for http://ch:Client-Pass@127.0.0.1:1/?query=x'));
    expect(error.message).not.toContain('Client-Pass');
  });
});

/** A TCP port nothing listens on (fetch refuses some low ports such as 1 outright, so not those). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

interface Run {
  args: string[];
  code: number | null;
  output: string;
}

/**
 * The CLI from source, bundled with esbuild (packages left external) into a
 * git-ignored folder of the repository, where node finds node_modules and
 * the schemas: dist/ may be stale, and a dozen tsx processes at once take
 * many seconds each to start on a 2-core machine. Split at the dynamic
 * imports (as tsc's output is), so a command loads only what it uses: one
 * bundle loaded every client (the platformatic one included) in each of the
 * 17 processes and took twice as long to start.
 */
async function bundleCli(): Promise<string> {
  const outdir = join(ROOT, '.cache', 'redaction-test', `cli-${process.pid}`);
  await build({ entryPoints: [join(ROOT, 'cli', 'main.ts')], bundle: true, splitting: true, platform: 'node', format: 'esm', packages: 'external', outdir, outExtension: { '.js': '.mjs' }, logLevel: 'silent' });
  return join(outdir, 'main.mjs');
}

let CLI = '';

/** A Kafka client's log line of a failed connection to the broker at `hostPort`. */
const clientFailed = (hostPort: string) => new RegExp(`"level":\\d+.*${hostPort.replace(/\./g, '\\.')}`);

/**
 * Runs the jobs, at most `limit` at a time, results in order. All 16 at once
 * on 2 busy cores made a `check` against an unreachable broker (about 10 s
 * alone then, before its TCP probe) outlast its 25 s kill in CI.
 */
async function atMost<T>(limit: number, jobs: Array<() => Promise<T>>): Promise<T[]> {
  const results: T[] = new Array(jobs.length);
  let next = 0;
  const worker = async () => {
    while (next < jobs.length) {
      const i = next++;
      results[i] = await jobs[i]!();
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, jobs.length) }, worker));
  return results;
}

/**
 * Runs the CLI; SIGKILLed after `killAfterMs` (a `run` that keeps retrying),
 * or a second after its output first matches `until` (what the test waits
 * for has been printed: the retries after it print the same), output kept.
 */
function cli(args: string[], env: Record<string, string>, killAfterMs = 25_000, until?: RegExp): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      cwd: ROOT, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    let timer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
    const take = (chunk: unknown) => {
      output += String(chunk);
      if (until?.test(output)) {
        until = undefined;
        clearTimeout(timer);
        timer = setTimeout(() => child.kill('SIGKILL'), 1000);
      }
    };
    child.stdout.on('data', take);
    child.stderr.on('data', take);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ args, code, output });
    });
  });
}

describe('CLI commands with every secret set', () => {
  const S = {
    sasl: 'Sasl-Secret-3f9a',
    registry: 'Registry-Secret-81bc',
    registryInUrl: 'Registry-Url-Secret-4d27',
    clickhouse: 'ClickHouse-Secret-6e10',
    clickhouseInUrl: 'ClickHouse-Url-Secret-a5f3',
    metricsInUrl: 'Metrics-Url-Secret-0c6d',
  };
  let tls: TlsFixtures;
  let secrets: string[];
  let keys: Record<string, string>;
  let urls: Record<string, string>;
  let metricsUrl: string;
  /** A broker that accepts TCP connections and closes them at once: past the start-up probe, into the client's retries. */
  let mute: ReturnType<typeof createServer>;
  let muteBroker: string;

  afterAll(async () => {
    rmSync(dirname(CLI), { recursive: true, force: true });
    await new Promise<void>((resolve) => (mute ? mute.close(() => resolve()) : resolve()));
  });
  beforeAll(async () => {
    CLI = await bundleCli();
    mute = createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => mute.listen(0, '127.0.0.1', resolve));
    muteBroker = `127.0.0.1:${(mute.address() as AddressInfo).port}`;
    tls = makeTlsFixtures('Passphrase-Secret-77e2');
    const port = await closedPort();
    metricsUrl = `http://scraper:${S.metricsInUrl}@127.0.0.1:${port}/metrics`;
    const common = {
      FEEDBACKLOOP_KAFKA_BROKERS: '127.0.0.1:1',
      FEEDBACKLOOP_KAFKA_SASL_MECHANISM: 'scram-sha-512',
      FEEDBACKLOOP_KAFKA_SASL_USERNAME: 'svc',
      FEEDBACKLOOP_KAFKA_SASL_PASSWORD: S.sasl,
      FEEDBACKLOOP_KAFKA_SSL: 'true',
      FEEDBACKLOOP_KAFKA_SSL_CA_FILE: tls.caFile,
      FEEDBACKLOOP_KAFKA_SSL_CERT_FILE: tls.clientCertFile,
      FEEDBACKLOOP_KAFKA_SSL_KEY_FILE: tls.clientKeyFile,
      FEEDBACKLOOP_KAFKA_SSL_KEY_PASSWORD: tls.passphrase,
      FEEDBACKLOOP_HTTP_PORT: '0',
      FEEDBACKLOOP_LOG_LEVEL: 'debug', // every log line the clients write
    };
    // Credentials as separate keys ...
    keys = {
      ...common,
      FEEDBACKLOOP_KAFKA_SCHEMA_REGISTRY_URL: 'https://127.0.0.1:1',
      FEEDBACKLOOP_KAFKA_SCHEMA_REGISTRY_USERNAME: 'reg',
      FEEDBACKLOOP_KAFKA_SCHEMA_REGISTRY_PASSWORD: S.registry,
      FEEDBACKLOOP_KAFKA_SCHEMA_REGISTRY_CA_FILE: tls.caFile,
      FEEDBACKLOOP_CLICKHOUSE_URL: 'https://127.0.0.1:1',
      FEEDBACKLOOP_CLICKHOUSE_PASSWORD: S.clickhouse,
      FEEDBACKLOOP_CLICKHOUSE_CA_FILE: tls.caFile,
    };
    // ... and inside the URLs.
    urls = {
      ...common,
      FEEDBACKLOOP_KAFKA_SCHEMA_REGISTRY_URL: `http://reg:${S.registryInUrl}@127.0.0.1:1`,
      FEEDBACKLOOP_CLICKHOUSE_URL: `http://ch:${S.clickhouseInUrl}@127.0.0.1:1`,
      FEEDBACKLOOP_CLICKHOUSE_PASSWORD: S.clickhouse,
    };
    const basic = (user: string, password: string) => Buffer.from(`${user}:${password}`).toString('base64');
    secrets = [
      ...Object.values(S),
      tls.passphrase,
      basic('svc', S.sasl), basic('reg', S.registry), basic('reg', S.registryInUrl), basic('ch', S.clickhouseInUrl), basic('scraper', S.metricsInUrl),
      tls.read(tls.clientKeyFile).toString().split('\n')[1]!, // a line of the (encrypted) key itself
    ];
  });

  const noClickHouse = (env: Record<string, string>) => {
    const { FEEDBACKLOOP_CLICKHOUSE_URL: _url, FEEDBACKLOOP_CLICKHOUSE_CA_FILE: _ca, ...rest } = env;
    return rest;
  };

  it('config, check, status, run, replay and pin print no secret, on success and on every failure', { timeout: 180_000 }, async () => {
    const badYaml = join(tls.dir, 'bad.yaml');
    writeFileSync(badYaml, `kafka:\n  sasl_password: 918273645\nclickhouse:\n  url: "http://u:${S.clickhouseInUrl}@h:notaport"\n`);
    const replay = ['replay', '--predictions', join(ROOT, 'examples/predictions.jsonl'), '--feedback', join(ROOT, 'examples/feedback.jsonl'), '--out', join(tls.dir, 'replay')];
    const runs = await atMost(6, [
      () => cli(['config'], keys),
      () => cli(['config'], urls),
      () => cli(['config', '--config', badYaml], {}),
      () => cli(['check'], keys), // ClickHouse fails first
      () => cli(['check'], urls),
      () => cli(['check'], noClickHouse(keys)), // Kafka and the registry fail
      () => cli(['check'], noClickHouse(urls)),
      () => cli(['status', '--metrics', metricsUrl], keys),
      () => cli(['status', '--metrics', metricsUrl], urls),
      () => cli(['status', '--json', '--metrics', metricsUrl], urls),
      // A broker that accepts connections: `run` and `pin` get past their TCP probe.
      () => cli(['run'], { ...keys, FEEDBACKLOOP_KAFKA_BROKERS: muteBroker }), // ClickHouse fails first
      () => cli(['run'], { ...urls, FEEDBACKLOOP_KAFKA_BROKERS: muteBroker }),
      () => cli(['run', '--only', 'joiner'], { ...noClickHouse(urls), FEEDBACKLOOP_KAFKA_BROKERS: muteBroker }, 25_000, clientFailed(muteBroker)), // kafkajs retries, logging each attempt
      () => cli(replay, keys),
      () => cli(replay, urls),
      () => cli(['pin', '--model', 'm', '--reason', 'r'], { ...noClickHouse(urls), FEEDBACKLOOP_KAFKA_BROKERS: muteBroker }, 25_000, clientFailed(muteBroker)),
      () => cli(['check'], { ...noClickHouse(urls), FEEDBACKLOOP_KAFKA_CLIENT: 'platformatic' }),
      // No broker at all: `run` and `pin` fail at their probe.
      () => cli(['run', '--only', 'joiner'], noClickHouse(urls)),
      () => cli(['pin', '--model', 'm', '--reason', 'r'], noClickHouse(keys)),
    ]);
    for (const run of runs) {
      for (const secret of secrets) expect(run.output, `${run.args.join(' ')} printed ${secret}:\n${run.output}`).not.toContain(secret);
    }
    // The paths were really taken: each command got as far as its servers (or its config error).
    const out = (i: number) => runs[i]!.output;
    expect(out(0)).toContain('"schema_registry_password": "[redacted]"');
    expect(out(1)).toContain(`"url": "http://ch:***@127.0.0.1:1"`);
    expect(runs[2]!.code).toBe(2);
    expect(out(3)).toMatch(/FAIL clickhouse: .*https:\/\/127\.0\.0\.1:1/);
    expect(out(4)).toContain('FAIL clickhouse: clickhouse: cannot create database feedbackloop at http://127.0.0.1:1');
    // An unreachable broker fails the check at once (a TCP probe), with either client: no client retries, so no kill.
    for (const i of [5, 6, 16]) {
      expect(runs[i]!.code, out(i)).toBe(1);
      expect(out(i)).toMatch(/FAIL kafka: Kafka at 127\.0\.0\.1:1 unreachable: is it running\? check kafka\.brokers .*\n[\s\S]*FAIL schema registry: /);
    }
    expect(out(7)).toMatch(/Problems\n {2}kafka: Kafka at 127\.0\.0\.1:1 unreachable[\s\S]*clickhouse: ClickHouse at https:\/\/127\.0\.0\.1:1 unreachable/);
    expect(out(8)).toContain(`no /metrics at http://scraper:***@127.0.0.1:`);
    expect(out(9)).toContain('"url": "http://127.0.0.1:1"');
    expect(out(10)).toContain('error: clickhouse: cannot create database');
    expect(out(12)).toMatch(clientFailed(muteBroker));
    expect(out(15)).toMatch(clientFailed(muteBroker));
    for (const i of [17, 18]) {
      expect(runs[i]!.code, out(i)).toBe(1);
      expect(out(i)).toContain('error: Kafka at 127.0.0.1:1 unreachable: is it running? check kafka.brokers');
    }
    expect(out(13)).toContain('error: clickhouse: cannot create database');
    expect(out(14)).toContain('error: clickhouse: cannot create database feedbackloop at http://127.0.0.1:1');
  });
});
