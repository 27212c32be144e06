/**
 * Least privilege on Kafka (issue 17, "Secure by default"): `feedbackloop run`
 * against a broker that enforces SASL/SCRAM-SHA-512 and ACLs
 * (scripts/stack/kafka-secure.sh: StandardAuthorizer, nothing allowed without
 * an ACL), as a user holding exactly the ACLs `feedbackloop acls` lists
 * (runtime/acls.ts), processes a stream exactly as on the open broker: every
 * prediction labelled once, nothing unmatched, every group caught up.
 *
 * And an ACL missing is a clear failure, not a hang: without WRITE on
 * labelled-examples, or without the transactional ids, `run` exits 1 within
 * a minute with an error naming the resource and the ACL to grant.
 *
 * The administrator (`admin`, the broker's super user) creates the topics,
 * the user and its ACLs, and produces the input; the schema registry and
 * ClickHouse are the stack's. The evaluator writes to ClickHouse as
 * `feedbackloop_acl` (scripts/stack/clickhouse-users.xml), a user limited to
 * its database: it creates the database and its tables, and may touch no other.
 */
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import type { Admin } from 'kafkajs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { buildConfig } from '../../adapters/config/index.js';
import type { KafkaTransport } from '../../adapters/kafka/transport.js';
import type { OutgoingRecord } from '../../adapters/transport/transport.js';
import { kafkaAcls, type KafkaAcl } from '../../runtime/acls.js';
import type { ProcessorName } from '../../runtime/pipeline.js';
import { outcomeDelayedStream } from '../support/backlog.js';
import { uniqueName } from '../support/collect.js';
import { JoinerProcess, joinerEnvironment, type Exit, pipelineTopics, type PipelineTopics } from '../support/joiner-process.js';
import { chunks, GroupProgress, joinerCodecs, pipelineTopicSpecs, readTopic, type JoinerCodecs } from '../support/joiner-kafka.js';
import { adminTransport, createUser, ensureTopics, grantAcls, secureKafka, startSecureKafka, stopSecureKafka } from '../support/secure-kafka.js';
import { requireStack, STACK } from '../support/stack.js';

const PREDICTIONS = 3_000;
const PARTITIONS = 3;
const HOUR = 3_600_000;
const EVERY: ProcessorName[] = ['joiner', 'learner', 'promoter', 'evaluator'];
/** The ClickHouse user limited to its database (scripts/stack/clickhouse-users.xml). */
const CLICKHOUSE_USER = { username: 'feedbackloop_acl', password: 'feedbackloop-acl-secret', database: 'feedbackloop_acl' };

/** A query to the stack's ClickHouse as `user` (default: the unrestricted `default`); the body, or the server's error. */
async function clickhouse(query: string, user?: { username: string; password: string }): Promise<{ ok: boolean; body: string }> {
  const headers: Record<string, string> = user ? { authorization: `Basic ${Buffer.from(`${user.username}:${user.password}`).toString('base64')}` } : {};
  const response = await fetch(STACK.clickhouseUrl, { method: 'POST', body: query, headers });
  return { ok: response.ok, body: (await response.text()).trim() };
}

/** Predictions and feedback merged in event-time order, encoded. */
async function streamRecords(codecs: JoinerCodecs, topics: PipelineTopics, count: number, seed: number): Promise<OutgoingRecord[]> {
  const { predictions, feedback } = outcomeDelayedStream(count, seed, Date.now() - 5 * 24 * HOUR);
  const events = [
    ...predictions.map((p) => ({ t: p.timestamp, topic: topics.predictions, id: p.prediction_id, value: () => codecs.prediction.encode(p) })),
    ...feedback.map((f) => ({ t: f.timestamp, topic: topics.feedback, id: f.prediction_id, value: () => codecs.feedback.encode(f) })),
  ].sort((a, b) => a.t - b.t);
  const records: OutgoingRecord[] = [];
  for (const e of events) records.push({ topic: e.topic, key: Buffer.from(e.id), value: await e.value() });
  return records;
}

describe('feedbackloop run on a broker enforcing SASL/SCRAM and ACLs, as a least-privilege user', () => {
  let startedBroker = false;
  let admin: KafkaTransport;
  let adminClient: Admin;
  let child: JoinerProcess | undefined;

  beforeAll(async () => {
    await requireStack('registry', 'clickhouse');
    const known = await clickhouse('SELECT 1', CLICKHOUSE_USER);
    if (!known.ok) {
      throw new Error(`ClickHouse refuses user ${CLICKHOUSE_USER.username} (${known.body.slice(0, 200)}): it runs with a users.xml older than scripts/stack/clickhouse-users.xml; restart it with scripts/stack/stop.sh && scripts/stack/start.sh`);
    }
    // Its database starts empty: `run` creates it as the restricted user.
    expect(await clickhouse(`DROP DATABASE IF EXISTS ${CLICKHOUSE_USER.database}`)).toMatchObject({ ok: true });
    startedBroker = await startSecureKafka();
    admin = adminTransport();
    adminClient = admin.kafka.admin();
    await adminClient.connect();
  }, 240_000);

  afterEach(async () => {
    await child?.stop('SIGKILL', 5_000).catch(() => {});
    child = undefined;
  });

  afterAll(async () => {
    await adminClient?.disconnect().catch(() => {});
    await admin?.close();
    if (startedBroker) await stopSecureKafka();
  }, 90_000);

  /**
   * As admin: the topics, a user `<prefix>-user` with the ACLs `run --only processors` needs (less
   * what `withhold` takes away), and the child's environment authenticating as that user.
   */
  async function deployment(
    name: string,
    processors: ProcessorName[],
    withhold: (acl: KafkaAcl, topics: PipelineTopics) => KafkaAcl | null = (acl) => acl,
    missing: (topics: PipelineTopics) => string[] = () => [],
  ) {
    const prefix = uniqueName(name);
    const topics = pipelineTopics(prefix);
    const absent = missing(topics);
    await ensureTopics(admin, pipelineTopicSpecs(topics, PARTITIONS).filter((spec) => !absent.includes(spec.name)));
    const user = `${prefix}-user`;
    const password = `${prefix}-secret`;
    const env = joinerEnvironment({
      clientId: prefix, topics, partitions: PARTITIONS,
      extra: {
        FEEDBACKLOOP_KAFKA_BROKERS: secureKafka().brokers.join(','),
        FEEDBACKLOOP_KAFKA_SASL_MECHANISM: 'scram-sha-512',
        FEEDBACKLOOP_KAFKA_SASL_USERNAME: user,
        FEEDBACKLOOP_KAFKA_SASL_PASSWORD: password,
        FEEDBACKLOOP_CLICKHOUSE_URL: processors.includes('evaluator') ? STACK.clickhouseUrl : '',
        FEEDBACKLOOP_CLICKHOUSE_USERNAME: CLICKHOUSE_USER.username,
        FEEDBACKLOOP_CLICKHOUSE_PASSWORD: CLICKHOUSE_USER.password,
        FEEDBACKLOOP_CLICKHOUSE_DATABASE: CLICKHOUSE_USER.database,
        // As in broker-restart: feedback read ahead of its predictions waits longer than the stream spans.
        FEEDBACKLOOP_JOINER_EARLY_FEEDBACK_TTL: '3d',
      },
    });
    // The ACLs come from the same config `run` reads (topic names, kafka.client_id).
    const acls = kafkaAcls(buildConfig({}, env), processors).map((acl) => withhold(acl, topics)).filter((acl): acl is KafkaAcl => acl !== null);
    await createUser(user, password);
    await grantAcls(adminClient, user, acls);
    const codecs = joinerCodecs(new SchemaRegistry({ host: STACK.registryUrl }), topics);
    return { prefix, topics, env, acls, codecs };
  }

  async function produce(records: OutgoingRecord[]): Promise<void> {
    const producer = await admin.producer();
    try {
      for (const chunk of chunks(records, 2_000)) await producer.send(chunk);
    } finally {
      await producer.close();
    }
  }

  it('with exactly the ACLs of `feedbackloop acls`: every prediction labelled once, every group caught up', async () => {
    const { prefix, topics, env, acls, codecs } = await deployment('acl-ok', EVERY);
    const records = await streamRecords(codecs, topics, PREDICTIONS, 20_251_217);
    const started = Date.now();
    child = await JoinerProcess.start({ name: `${prefix}-run`, env, processors: EVERY, readyTimeoutMs: 120_000 });
    const running = child;
    await produce(records);
    const check = () => {
      if (running.diedOnItsOwn()) throw new Error(`${running.name} exited (${JSON.stringify(running.exit)}); log ${running.logFile}:\n${running.tail()}`);
    };
    await new GroupProgress(adminClient, `${prefix}-joiner`, [topics.predictions, topics.feedback]).waitCaughtUp({ timeoutMs: 150_000, check });
    for (const processor of ['learner', 'promoter', 'evaluator']) {
      await new GroupProgress(adminClient, `${prefix}-${processor}`, [topics.labelled]).waitCaughtUp({ timeoutMs: 90_000, check });
    }
    const processedSeconds = (Date.now() - started) / 1000;
    const labelled = await readTopic(admin, topics.labelled, PARTITIONS);
    const unmatched = await readTopic(admin, topics.unmatched, PARTITIONS);
    const deadLetters = await readTopic(admin, topics.deadLetters, PARTITIONS);
    const ids = new Set<string>();
    let arrivals = 0;
    for (const record of labelled) {
      const example = await codecs.labelled.decode(record.value);
      if (example.arrival) arrivals++;
      else ids.add(example.prediction_id);
    }
    let lost = 0;
    for (let i = 0; i < PREDICTIONS; i++) if (!ids.has(`p-${i}`)) lost++;
    const exit = await running.stop('SIGTERM', 30_000);
    // The evaluator's rows, written as the restricted user (its offsets are committed once they are durable).
    const evaluated = await clickhouse(`SELECT uniqExact(prediction_id) FROM ${CLICKHOUSE_USER.database}.labelled_examples`);
    const points = await clickhouse(`SELECT count() > 0 FROM ${CLICKHOUSE_USER.database}.metric_points`);
    // ... who may not touch another database.
    const elsewhere = await clickhouse('CREATE DATABASE IF NOT EXISTS feedbackloop_acl_other', CLICKHOUSE_USER);
    console.log(JSON.stringify({
      acls: acls.length, inputRecords: records.length, labelled: labelled.length, distinct: ids.size, lost,
      unmatched: unmatched.length, deadLetters: deadLetters.length, evaluated: evaluated.body, processedSeconds, exit, problems: running.problemSummary(),
    }));
    // Each prediction's example and its arrival record (joiner.emit_arrivals).
    expect({ labelled: labelled.length, arrivals, distinct: ids.size, lost, unmatched: unmatched.length, deadLetters: deadLetters.length }).toEqual({
      labelled: 2 * PREDICTIONS, arrivals: PREDICTIONS, distinct: PREDICTIONS, lost: 0, unmatched: 0, deadLetters: 0,
    });
    expect([evaluated.body, points.body]).toEqual([String(PREDICTIONS), '1']);
    expect(elsewhere.ok).toBe(false);
    expect(elsewhere.body).toMatch(/Code: 291.*Access denied to database feedbackloop_acl_other/);
    expect(exit).toMatchObject({ code: 0 });
    // Nothing was refused on the way: no authorization error, not even one retried.
    expect(running.problems().filter((line) => /authoriz/i.test(line))).toEqual([]);
    expect(running.errors()).toEqual([]);
  }, 300_000);

  /**
   * `run --only joiner` with one ACL less (and the topics `missing` not created): it must exit 1
   * within 60 s, its error naming `resource`. It may exit before it is running (a refusal at start).
   */
  async function refused(
    name: string,
    withhold: (acl: KafkaAcl, topics: PipelineTopics) => KafkaAcl | null,
    resource: (prefix: string, topics: PipelineTopics) => string,
    missing: (topics: PipelineTopics) => string[] = () => [],
  ) {
    const { prefix, topics, env, codecs } = await deployment(name, ['joiner'], withhold, missing);
    const started = Date.now();
    let exit: Exit | undefined;
    let output: string;
    try {
      child = await JoinerProcess.start({ name: `${prefix}-run`, env, processors: ['joiner'], readyTimeoutMs: 60_000 });
      await produce(await streamRecords(codecs, topics, 50, 20_251_218));
      exit = await Promise.race([child.exited, new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 60_000))]);
      output = child.tail(400);
    } catch (error) {
      // JoinerProcess.start: "<name> exited ({"code":1,...}) before it was running; log <file>:\n<its last lines>".
      const message = (error as Error).message;
      const match = /exited \((\{[^)]*\})\) before it was running/.exec(message);
      if (!match) throw error;
      exit = JSON.parse(match[1]!) as Exit;
      output = message;
    }
    const seconds = (Date.now() - started) / 1000;
    // What `run` printed as it exited (cli/main.ts: "error: <message>").
    const printed = output.split('\n').filter((line) => line.startsWith('error: ')).join('\n');
    console.log(JSON.stringify({ case: name, exit, seconds, error: printed }));
    expect(exit, `run did not exit within 60 s:\n${output}`).toMatchObject({ code: 1 });
    expect(printed).toContain('Kafka refused');
    expect(printed).toContain(resource(prefix, topics));
  }

  it('without WRITE on labelled-examples: run exits 1 within a minute, naming the topic', async () => {
    await refused(
      'acl-nowrite',
      (acl, topics) => (acl.resourceType === 'TOPIC' && acl.name === topics.labelled ? { ...acl, operations: acl.operations.filter((op) => op !== 'WRITE') } : acl),
      (_, topics) => topics.labelled,
    );
  }, 180_000);

  it('without its transactional ids: run exits 1 within a minute, naming the transactional id', async () => {
    await refused(
      'acl-notxn',
      (acl) => (acl.resourceType === 'TRANSACTIONAL_ID' ? null : acl),
      (prefix) => `${prefix}-joiner-`,
    );
  }, 180_000);

  it('without READ on its consumer group: run exits 1 within a minute, naming the group', async () => {
    await refused(
      'acl-nogroup',
      (acl, topics) => (acl.resourceType === 'GROUP' && acl.patternType === 'LITERAL' ? null : acl),
      (prefix) => `${prefix}-joiner`,
    );
  }, 180_000);

  it('a topic missing, and no CREATE (topics are an administrator\'s): run exits 1 at once, naming the topic', async () => {
    await refused(
      'acl-notopic',
      (acl) => acl,
      (_, topics) => topics.deadLetters,
      (topics) => [topics.deadLetters],
    );
  }, 180_000);
});
