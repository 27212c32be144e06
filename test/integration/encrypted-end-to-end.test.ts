/**
 * Encrypted end to end (issue 17, "Secure by default"): `feedbackloop run`
 * with the joiner, learner, promoter and evaluator, every connection it
 * makes over TLS verified against a CA this test made, with credentials:
 *
 * - Kafka: the secured broker's SASL_SSL listener (scripts/stack/kafka-secure.sh,
 *   127.0.0.1:19094, certificate from the test's CA), SCRAM-SHA-512 as a user
 *   holding exactly the ACLs of `feedbackloop acls` (as in kafka-acls.test.ts);
 *   the run's config names that listener only, and its sockets go nowhere else.
 * - The schema registry: the stack's Apicurio has no authentication, so an
 *   HTTPS proxy in this process (test/support/tls-proxy.ts) stands in front of
 *   it, refuses requests without the right basic credentials and forwards the
 *   rest: every answer is the real registry's.
 * - ClickHouse: as `feedbackloop_acl` (limited to its database), through the
 *   same kind of HTTPS proxy, which only terminates TLS: ClickHouse 18.16 of the
 *   stack serves plain HTTP, and giving it an https port means restarting the
 *   shared server. ClickHouse itself checks the password.
 * - /metrics: HTTPS with a certificate from the CA and a bearer token.
 *
 * The output is exact: each prediction labelled once with its feedback's label
 * on labelled-examples (read over TLS too), the evaluator's rows in ClickHouse.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import type { Admin } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildConfig } from '../../adapters/config/index.js';
import type { KafkaTransport } from '../../adapters/kafka/transport.js';
import type { OutgoingRecord } from '../../adapters/transport/transport.js';
import { kafkaAcls } from '../../runtime/acls.js';
import type { ProcessorName } from '../../runtime/pipeline.js';
import { outcomeDelayedStream } from '../support/backlog.js';
import { uniqueName } from '../support/collect.js';
import { CLI, JoinerProcess, joinerEnvironment, pipelineTopics, removeStateDir, STATE_DIR, type PipelineTopics } from '../support/joiner-process.js';
import { chunks, GroupProgress, joinerCodecs, pipelineTopicSpecs, readTopic, type JoinerCodecs } from '../support/joiner-kafka.js';
import { adminTransport, createUser, ensureTopics, grantAcls, signServerCertificate, startSecureKafkaTls, stopSecureKafka, type SecureKafkaTls } from '../support/secure-kafka.js';
import { requireStack, STACK } from '../support/stack.js';
import { basicAuthIs, TlsProxy } from '../support/tls-proxy.js';

const PREDICTIONS = 2_000;
const PARTITIONS = 3;
const HOUR = 3_600_000;
const EVERY: ProcessorName[] = ['joiner', 'learner', 'promoter', 'evaluator'];
const CLICKHOUSE_USER = { username: 'feedbackloop_acl', password: 'feedbackloop-acl-secret', database: 'feedbackloop_acl' };
const REGISTRY_USER = { username: 'registry-user', password: 'Registry-Secret-7d2e' };
const METRICS_TOKEN = 'Metrics-Token-91f4';

/** A query to the stack's ClickHouse as `default`, over its plain HTTP: the test's own check, not the run's traffic. */
async function clickhouse(query: string, user?: { username: string; password: string }): Promise<{ ok: boolean; body: string }> {
  const headers: Record<string, string> = user ? { authorization: `Basic ${Buffer.from(`${user.username}:${user.password}`).toString('base64')}` } : {};
  const response = await fetch(STACK.clickhouseUrl, { method: 'POST', body: query, headers });
  return { ok: response.ok, body: (await response.text()).trim() };
}

/** GET over HTTPS trusting only `ca`. */
function httpsGet(url: string, ca: Buffer, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(url, { ca, headers, rejectUnauthorized: true }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Remote ports of `pid`'s established TCP connections, but those accepted on `ownPort` (its /metrics). */
function peerPorts(pid: number, ownPort: number): number[] {
  const out = execFileSync('ss', ['-tnpH', 'state', 'established'], { encoding: 'utf8' });
  const ports: number[] = [];
  for (const line of out.split('\n')) {
    if (!line.includes(`pid=${pid},`)) continue;
    const [local, peer] = [...line.matchAll(/\S+:(\d+)(?=\s)/g)].map((m) => Number(m[1]));
    if (local !== ownPort && peer !== undefined) ports.push(peer);
  }
  return ports;
}

/** Predictions and feedback merged in event-time order, encoded; and each prediction's label. */
async function streamRecords(codecs: JoinerCodecs, topics: PipelineTopics): Promise<{ records: OutgoingRecord[]; labels: Map<string, number | null> }> {
  const { predictions, feedback } = outcomeDelayedStream(PREDICTIONS, 20_251_219, Date.now() - 5 * 24 * HOUR);
  const events = [
    ...predictions.map((p) => ({ t: p.timestamp, topic: topics.predictions, id: p.prediction_id, value: () => codecs.prediction.encode(p) })),
    ...feedback.map((f) => ({ t: f.timestamp, topic: topics.feedback, id: f.prediction_id, value: () => codecs.feedback.encode(f) })),
  ].sort((a, b) => a.t - b.t);
  const records: OutgoingRecord[] = [];
  for (const e of events) records.push({ topic: e.topic, key: Buffer.from(e.id), value: await e.value() });
  return { records, labels: new Map(feedback.map((f) => [f.prediction_id, f.label])) };
}

describe('feedbackloop run encrypted end to end: Kafka over SASL_SSL, registry and ClickHouse over HTTPS with credentials, /metrics over HTTPS with a token', () => {
  let startedBroker = false;
  let tls: SecureKafkaTls;
  let ca: Buffer;
  let certDir: string;
  let server: { certFile: string; keyFile: string };
  let registryProxy: TlsProxy;
  let clickhouseProxy: TlsProxy;
  let admin: KafkaTransport;
  let adminClient: Admin;
  let child: JoinerProcess | undefined;
  /** What the test made on the broker and on disk, removed after it (the broker is reused: its partitions add up). */
  let made: { topics: string[]; stateDir: string } | undefined;

  beforeAll(async () => {
    await requireStack('registry', 'clickhouse');
    const known = await clickhouse('SELECT 1', CLICKHOUSE_USER);
    if (!known.ok) throw new Error(`ClickHouse refuses user ${CLICKHOUSE_USER.username} (${known.body.slice(0, 200)}): restart it with scripts/stack/stop.sh && scripts/stack/start.sh`);
    expect(await clickhouse(`DROP DATABASE IF EXISTS ${CLICKHOUSE_USER.database}`)).toMatchObject({ ok: true });
    ({ started: startedBroker, tls } = await startSecureKafkaTls());
    ca = readFileSync(tls.caFile);
    certDir = mkdtempSync(join(tmpdir(), 'feedbackloop-e2e-tls-'));
    server = signServerCertificate(tls, certDir);
    const cert = readFileSync(server.certFile);
    const key = readFileSync(server.keyFile);
    registryProxy = await TlsProxy.start({
      target: new URL(STACK.registryUrl).origin, cert, key,
      authorize: basicAuthIs(REGISTRY_USER.username, REGISTRY_USER.password), strip: ['authorization'],
    });
    // ClickHouse checks the credentials itself: the proxy only terminates TLS (and records the user).
    clickhouseProxy = await TlsProxy.start({ target: new URL(STACK.clickhouseUrl).origin, cert, key });
    admin = adminTransport(tls);
    adminClient = admin.kafka.admin();
    await adminClient.connect();
  }, 120_000);

  afterAll(async () => {
    await child?.stop('SIGKILL', 5_000).catch(() => {});
    if (made) {
      await adminClient.deleteTopics({ topics: made.topics }).catch(() => {});
      removeStateDir(made.stateDir);
    }
    await adminClient?.disconnect().catch(() => {});
    await admin?.close();
    await registryProxy?.close();
    await clickhouseProxy?.close();
    if (certDir) rmSync(certDir, { recursive: true, force: true });
    if (startedBroker) await stopSecureKafka();
  }, 90_000);

  /** As admin (over TLS): the topics, a user with the ACLs of `feedbackloop acls`, and the run's environment. */
  async function deployment() {
    const prefix = uniqueName('e2e-tls');
    const topics = pipelineTopics(prefix);
    made = { topics: Object.values(topics), stateDir: join(STATE_DIR, prefix) };
    await ensureTopics(admin, pipelineTopicSpecs(topics, PARTITIONS));
    const user = `${prefix}-user`;
    const password = `${prefix}-secret`;
    const env = joinerEnvironment({
      clientId: prefix, topics, partitions: PARTITIONS,
      extra: {
        // The TLS listener only: the run has no plaintext address to reach.
        FEEDBACKLOOP_KAFKA_BROKERS: tls.brokers.join(','),
        FEEDBACKLOOP_KAFKA_SSL: 'true',
        FEEDBACKLOOP_KAFKA_SSL_CA_FILE: tls.caFile,
        FEEDBACKLOOP_KAFKA_SASL_MECHANISM: 'scram-sha-512',
        FEEDBACKLOOP_KAFKA_SASL_USERNAME: user,
        FEEDBACKLOOP_KAFKA_SASL_PASSWORD: password,
        FEEDBACKLOOP_KAFKA_SCHEMA_REGISTRY_URL: `${registryProxy.origin}${new URL(STACK.registryUrl).pathname}`,
        FEEDBACKLOOP_KAFKA_SCHEMA_REGISTRY_USERNAME: REGISTRY_USER.username,
        FEEDBACKLOOP_KAFKA_SCHEMA_REGISTRY_PASSWORD: REGISTRY_USER.password,
        FEEDBACKLOOP_KAFKA_SCHEMA_REGISTRY_CA_FILE: tls.caFile,
        FEEDBACKLOOP_CLICKHOUSE_URL: clickhouseProxy.origin,
        FEEDBACKLOOP_CLICKHOUSE_CA_FILE: tls.caFile,
        FEEDBACKLOOP_CLICKHOUSE_USERNAME: CLICKHOUSE_USER.username,
        FEEDBACKLOOP_CLICKHOUSE_PASSWORD: CLICKHOUSE_USER.password,
        FEEDBACKLOOP_CLICKHOUSE_DATABASE: CLICKHOUSE_USER.database,
        FEEDBACKLOOP_HTTP_TLS_CERT_FILE: server.certFile,
        FEEDBACKLOOP_HTTP_TLS_KEY_FILE: server.keyFile,
        FEEDBACKLOOP_HTTP_BEARER_TOKEN: METRICS_TOKEN,
        // As in kafka-acls: feedback read ahead of its predictions waits longer than the stream spans.
        FEEDBACKLOOP_JOINER_EARLY_FEEDBACK_TTL: '3d',
        // The learner commits its input with its snapshots: at 30 s (the default) the wait would be mostly idle.
        FEEDBACKLOOP_LEARNER_SNAPSHOT_INTERVAL: '2s',
      },
    });
    await createUser(user, password, tls);
    await grantAcls(adminClient, user, kafkaAcls(buildConfig({}, env), EVERY));
    // The test's own codecs talk to the registry directly: every request the proxy sees is the run's.
    const codecs = joinerCodecs(new SchemaRegistry({ host: STACK.registryUrl }), topics);
    return { prefix, topics, env, codecs };
  }

  async function produce(records: OutgoingRecord[]): Promise<void> {
    const producer = await admin.producer();
    try {
      for (const chunk of chunks(records, 2_000)) await producer.send(chunk);
    } finally {
      await producer.close();
    }
  }

  /** The config `run` resolves from `env`, as `feedbackloop config` prints it. */
  function effectiveConfig(env: Record<string, string>) {
    return JSON.parse(execFileSync(process.execPath, [CLI, 'config'], { env, encoding: 'utf8' })) as {
      kafka: { brokers: string[]; ssl: boolean; sasl_mechanism: string; schema_registry_url: string };
      clickhouse: { url: string };
    };
  }

  /** /metrics: refused without the token (401), and over plain HTTP not answered at all; served with it. */
  async function scrape(port: number): Promise<{ anonymous: number; wrong: number; plainHttp: string; served: number; body: string }> {
    const url = `https://127.0.0.1:${port}/metrics`;
    const anonymous = (await httpsGet(url, ca)).status;
    const wrong = (await httpsGet(url, ca, { authorization: 'Bearer not-the-token' })).status;
    const plainHttp = await fetch(`http://127.0.0.1:${port}/metrics`).then((r) => `answered ${r.status}`, () => 'no answer');
    const { status: served, body } = await httpsGet(url, ca, { authorization: `Bearer ${METRICS_TOKEN}` });
    return { anonymous, wrong, plainHttp, served, body };
  }

  it('processes a stream exactly, every connection encrypted and authenticated', async () => {
    const { prefix, topics, env, codecs } = await deployment();
    const config = effectiveConfig(env);
    expect(config.kafka).toMatchObject({ brokers: tls.brokers, ssl: true, sasl_mechanism: 'scram-sha-512' });
    expect([config.kafka.schema_registry_url, config.clickhouse.url].map((u) => new URL(u).protocol)).toEqual(['https:', 'https:']);
    const { records, labels } = await streamRecords(codecs, topics);
    // The proxy refuses a request without credentials: the run's requests get through only with them.
    expect((await httpsGet(`${registryProxy.origin}/apis/ccompat/v7/subjects`, ca)).status).toBe(401);
    registryProxy.requests.length = 0;

    const started = Date.now();
    child = await JoinerProcess.start({ name: `${prefix}-run`, env, processors: EVERY, readyTimeoutMs: 60_000 });
    const running = child;
    await produce(records);
    const peers = new Set<number>();
    let sampled = 0;
    const check = () => {
      if (running.diedOnItsOwn()) throw new Error(`${running.name} exited (${JSON.stringify(running.exit)}); log ${running.logFile}:\n${running.tail()}`);
      // Where its sockets go, about once a second while it works.
      if (Date.now() - sampled > 1_000) {
        sampled = Date.now();
        for (const port of peerPorts(running.pid, running.port)) peers.add(port);
      }
    };
    await new GroupProgress(adminClient, `${prefix}-joiner`, [topics.predictions, topics.feedback]).waitCaughtUp({ timeoutMs: 60_000, check });
    const joinedSeconds = (Date.now() - started) / 1000;
    const caughtUp: Record<string, number> = {};
    for (const processor of ['learner', 'promoter', 'evaluator']) {
      await new GroupProgress(adminClient, `${prefix}-${processor}`, [topics.labelled]).waitCaughtUp({ timeoutMs: 60_000, check });
      caughtUp[processor] = (Date.now() - started) / 1000;
    }
    const processedSeconds = (Date.now() - started) / 1000;
    const metrics = await scrape(running.port);
    const exit = await running.stop('SIGTERM', 30_000);

    // Read back over TLS, as admin.
    const labelled = await readTopic(admin, topics.labelled, PARTITIONS);
    const unmatched = await readTopic(admin, topics.unmatched, PARTITIONS);
    const deadLetters = await readTopic(admin, topics.deadLetters, PARTITIONS);
    const got: Array<[string, number | null]> = [];
    let arrivals = 0;
    for (const record of labelled) {
      const example = await codecs.labelled.decode(record.value);
      if (example.arrival) arrivals++;
      else got.push([example.prediction_id, example.label]);
    }
    const evaluated = await clickhouse(`SELECT uniqExact(prediction_id), count() FROM ${CLICKHOUSE_USER.database}.labelled_examples FORMAT TSV`);
    const points = await clickhouse(`SELECT count() > 0 FROM ${CLICKHOUSE_USER.database}.metric_points`);
    const registry = registryProxy.requests;
    const clickhouseRequests = clickhouseProxy.requests;
    console.log(JSON.stringify({
      inputRecords: records.length, labelled: labelled.length, unmatched: unmatched.length, deadLetters: deadLetters.length,
      evaluated: evaluated.body, joinedSeconds, caughtUp, processedSeconds, exit, peers: [...peers].sort(),
      registryRequests: registry.length, clickhouseRequests: clickhouseRequests.length,
      metrics: { ...metrics, body: `${metrics.body.length} bytes` }, problems: running.problemSummary(),
    }));

    const byId = (a: [string, number | null], b: [string, number | null]) => a[0].localeCompare(b[0]);
    expect(got.sort(byId)).toEqual([...labels].sort(byId));
    expect({ arrivals, unmatched: unmatched.length, deadLetters: deadLetters.length }).toEqual({ arrivals: PREDICTIONS, unmatched: 0, deadLetters: 0 });
    expect(evaluated.body).toBe(`${PREDICTIONS}\t${PREDICTIONS}`);
    expect(points.body).toBe('1');
    // Every registry request authenticated, and there were some; every ClickHouse request as the restricted user.
    expect(registry.length).toBeGreaterThan(0);
    expect(registry.filter((r) => !r.authorized || r.user !== REGISTRY_USER.username)).toEqual([]);
    expect(clickhouseRequests.length).toBeGreaterThan(0);
    expect(clickhouseRequests.filter((r) => r.user !== CLICKHOUSE_USER.username)).toEqual([]);
    // Its sockets: the TLS listener and the two HTTPS proxies, nothing else (not 19092, not 9092).
    expect(peers).toContain(Number(tls.brokers[0]!.split(':')[1]));
    expect([...peers].filter((p) => ![Number(tls.brokers[0]!.split(':')[1]), registryProxy.port, clickhouseProxy.port].includes(p))).toEqual([]);
    expect(metrics).toMatchObject({ anonymous: 401, wrong: 401, plainHttp: 'no answer', served: 200 });
    expect(metrics.body).toMatch(/^feedbackloop_join_events_total\{/m);
    expect(exit).toMatchObject({ code: 0 });
    expect(running.errors()).toEqual([]);
  }, 120_000);
});
