/**
 * The /v1 API of `feedbackloop run` on the real stack (issue 15's "Done
 * when"): a `run` child (joiner and evaluator, ClickHouse in a database of
 * its own, the API on with a bearer token) gets a prediction and then its
 * feedback over HTTP; the labelled example is on labelled-examples (arrival
 * records skipped), and the feedback is listed and counted by GET
 * /v1/feedback and /v1/feedback/stats from ClickHouse (ClickHouse 18.16: the
 * queries run there), with what the challengers have not learned yet before
 * and after a learner (and the registry) of the same config ran. Then
 * `feedbackloop promote` publishes a manual
 * promotion, seen through GET /v1/models/{model}/champion; a promotion to a
 * version upstream serves makes score answer 409.
 */
import { execFile } from 'node:child_process';
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RegistryCodec } from '../../adapters/codec/codec.js';
import { ClickHouseStore } from '../../adapters/clickhouse/index.js';
import { KafkaTransport } from '../../adapters/kafka/transport.js';
import type { LabelledExample } from '../../core/events.js';
import { sleep, uniqueName } from '../support/collect.js';
import { CLI, JoinerProcess, joinerEnvironment, JOINER_ENV, pipelineTopics } from '../support/joiner-process.js';
import { readTopic } from '../support/joiner-kafka.js';
import { requireStack, STACK } from '../support/stack.js';

const PARTITIONS = 2;
const TOKEN = 'api-t0ken';
const MODEL = 'fraud-api';
const MODEL_BIG = 'fraud-api-big';

function cli(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { env, timeout: 60_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

/** Asks until `done` says the answer is the one awaited (or the time is up: the last answer is returned). */
async function until<T>(ask: () => Promise<T>, done: (answer: T) => boolean, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const answer = await ask();
    if (done(answer) || Date.now() > deadline) return answer;
    await sleep(250);
  }
}

describe('the /v1 API of run on Kafka, the schema registry and ClickHouse', () => {
  const prefix = uniqueName('api');
  const topics = pipelineTopics(prefix);
  const database = prefix.replace(/-/g, '_');
  let transport: KafkaTransport;
  let run: JoinerProcess | undefined;
  let env: Record<string, string>;

  const call = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`http://127.0.0.1:${run!.port}${path}`, {
      method,
      headers: { authorization: `Bearer ${TOKEN}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };

  beforeAll(async () => {
    await requireStack('kafka', 'registry', 'clickhouse');
    transport = new KafkaTransport({ brokers: STACK.brokers, clientId: `${prefix}-test`, kafka: { logLevel: logLevel.NOTHING } });
    env = joinerEnvironment({
      clientId: prefix, topics, partitions: PARTITIONS,
      extra: {
        ...JOINER_ENV,
        FEEDBACKLOOP_CLICKHOUSE_URL: STACK.clickhouseUrl,
        FEEDBACKLOOP_CLICKHOUSE_DATABASE: database,
        FEEDBACKLOOP_EVALUATOR_FLUSH_INTERVAL: '500ms',
        FEEDBACKLOOP_HTTP_BEARER_TOKEN: TOKEN,
      },
    });
    run = await JoinerProcess.start({ name: prefix, env, processors: ['joiner', 'evaluator'] });
  }, 120_000);

  afterAll(async () => {
    await run?.stop();
    await transport?.close();
    const store = ClickHouseStore.connect({ url: STACK.clickhouseUrl, database: 'default', username: 'default', password: '', requestTimeoutMs: 30_000, quiet: true });
    await store.command(`DROP DATABASE IF EXISTS ${database}`).catch(() => {});
    await store.close();
  });

  it('a prediction and then its feedback posted over HTTP become a labelled example, listed and counted from ClickHouse', async () => {
    const at = Date.now() - 60_000;
    const prediction = { prediction_id: `${prefix}-p1`, model: MODEL, model_version: 'v7', timestamp: at, features: { amount: 129.5, age_days: 412 }, categorical: { country: 'DE' }, score: 0.83 };
    expect(await call('POST', '/v1/predictions', prediction)).toEqual({ status: 202, body: { accepted: 1 } });
    const feedback = { prediction_id: prediction.prediction_id, timestamp: at + 30_000, feedback_type: 'USER_CONFIRMED', label: 1, source: 'support-desk' };
    expect(await call('POST', '/v1/feedback', { events: [feedback] })).toEqual({ status: 202, body: { accepted: 1 } });
    // Refused at the door, nothing sent: the field is named.
    expect(await call('POST', '/v1/feedback', { events: [feedback, { ...feedback, feedback_type: 'MAYBE' }] })).toMatchObject({ status: 400, body: { field: 'events[1].feedback_type' } });

    const codec = new RegistryCodec<LabelledExample>(new SchemaRegistry({ host: STACK.registryUrl }), 'LabelledExample', `${topics.labelled}-value`);
    const labelled = await until(
      async () => Promise.all((await readTopic(transport, topics.labelled, PARTITIONS)).map((r) => codec.decode(r.value))),
      (examples) => examples.some((e) => !e.arrival && e.label !== null),
      60_000,
    );
    const examples = labelled.filter((e) => !e.arrival);
    expect(examples).toHaveLength(1);
    expect(examples[0]).toMatchObject({
      prediction_id: prediction.prediction_id, model: MODEL, model_version: 'v7', timestamp: at, features: prediction.features, categorical: { country: 'DE' },
      score: 0.83, threshold: 0.5, label: 1, feedback_type: 'USER_CONFIRMED', source: 'support-desk', feedback_timestamp: at + 30_000, label_delay_ms: 30_000,
    });

    const listed = await until(() => call('GET', `/v1/feedback?model=${MODEL}`), (a) => (a.body.items as unknown[] | undefined)?.length === 1, 60_000);
    expect(listed).toEqual({
      status: 200,
      body: {
        items: [{
          example_id: examples[0]!.example_id, prediction_id: prediction.prediction_id, model: MODEL, model_version: 'v7', feedback_type: 'USER_CONFIRMED',
          source: 'support-desk', label: 1, feedback_timestamp: at + 30_000, feedback_time: new Date(at + 30_000).toISOString(), prediction_timestamp: at,
          label_delay_ms: 30_000, score: 0.83, threshold: 0.5, correction_of: null,
        }],
        next_cursor: null,
      },
    });
    expect((await call('GET', `/v1/feedback?model=${MODEL}&source=someone-else`)).body).toEqual({ items: [], next_cursor: null });
    expect((await call('GET', `/v1/feedback?prediction_id=${prediction.prediction_id}&from=${at + 30_000}&to=${at + 30_001}`)).body.items).toHaveLength(1);

    const stats = await until(() => call('GET', `/v1/feedback/stats?model=${MODEL}`), (a) => (a.body.totals as { labels?: number } | undefined)?.labels === 1, 60_000);
    const day = new Date(at + 30_000).toISOString().slice(0, 10);
    expect(stats).toEqual({
      status: 200,
      body: {
        model: MODEL, from: null, to: null,
        totals: { labels: 1, corrections: 0, by_type: { USER_CONFIRMED: { labels: 1, corrections: 0 } } },
        confirmed: 1, rejected: 0,
        user_feedback: { labels: 1, overturned_by_expert: 0, overturned_by_expert_rate: 0 },
        by_day: [{ day, labels: 1, corrections: 0, confirmed: 1, rejected: 0 }],
        top_contributors: [{ source: 'support-desk', labels: 1, corrections: 0, overturned: 0, overturned_by_expert: 0 }],
        // No learner has run: the example is not learned yet. kafkajs's murmur2 puts key fraud-api on partition 1 of 2.
        not_yet_learned: {
          topic: topics.labelled, partition: 1, learner_group: `${prefix}-learner`, committed_offset: null, examples: 1,
          challengers: [{ challenger: 'logreg', trained: true, examples: 1, latest_snapshot: null }],
          note: `the learner (group ${prefix}-learner) has committed nothing on partition 1 of ${topics.labelled}: every learnable example counts`,
        },
      },
    });
  }, 180_000);

  it('what the challengers have not learned yet: counted from the learner\'s committed offset, without examples it refuses', async () => {
    // A label the learner refuses (a feature beyond learner.max_feature_magnitude, 1e9): in the statistics, never to be learned.
    const at = Date.now() - 50_000;
    const big = { prediction_id: `${prefix}-big`, model: MODEL_BIG, model_version: 'v1', timestamp: at, features: { amount: 5e9 }, score: 0.4 };
    expect((await call('POST', '/v1/predictions', big)).status).toBe(202);
    expect((await call('POST', '/v1/feedback', { prediction_id: big.prediction_id, timestamp: at + 1_000, feedback_type: 'AUTO_VALIDATED', label: 0 })).status).toBe(202);
    const before = await until(() => call('GET', `/v1/feedback/stats?model=${MODEL_BIG}`), (a) => (a.body.totals as { labels?: number } | undefined)?.labels === 1, 60_000);
    // Key fraud-api-big: partition 0 of 2.
    expect(before.body.not_yet_learned).toMatchObject({ partition: 0, committed_offset: null, examples: 0, challengers: [{ challenger: 'logreg', examples: 0, latest_snapshot: null }] });

    // A learner (and the registry, which copies its snapshots to model_versions) of the same config publishes within 500 ms.
    const learner = await JoinerProcess.start({ name: `${prefix}-learner`, env: { ...env, FEEDBACKLOOP_LEARNER_SNAPSHOT_INTERVAL: '500ms' }, processors: ['learner', 'registry'] });
    try {
      // Where each partition ends (its transaction markers take offsets too): the learner has read it all.
      const ends = await transport.endOffsets(topics.labelled);
      const end = (partition: number) => ends.find((e) => e.partition === partition)!.offset;
      const learned = await until(
        () => call('GET', `/v1/feedback/stats?model=${MODEL}`),
        (a) => ((a.body.not_yet_learned as { challengers?: Array<{ latest_snapshot: unknown }> } | undefined)?.challengers?.[0]?.latest_snapshot ?? null) !== null,
        60_000,
      );
      const backlog = learned.body.not_yet_learned as { challengers: Array<{ latest_snapshot: { created_at: string } }> };
      expect(backlog).toEqual({
        topic: topics.labelled, partition: 1, learner_group: `${prefix}-learner`, committed_offset: end(1), examples: 0,
        challengers: [{ challenger: 'logreg', trained: true, examples: 0, latest_snapshot: { version: `${MODEL}/logreg@1`, training_count: 1, created_at: backlog.challengers[0]!.latest_snapshot.created_at } }],
        note: null,
      });
      expect(Date.parse(backlog.challengers[0]!.latest_snapshot.created_at)).toBeGreaterThan(Date.now() - 120_000);
      // The refused example was dead-lettered, the offset moved past it, and no snapshot learned it.
      const refused = await until(() => call('GET', `/v1/feedback/stats?model=${MODEL_BIG}`), (a) => (a.body.not_yet_learned as { committed_offset?: number | null }).committed_offset !== null, 30_000);
      expect(refused.body.not_yet_learned).toEqual({
        topic: topics.labelled, partition: 0, learner_group: `${prefix}-learner`, committed_offset: end(0), examples: 0,
        challengers: [{ challenger: 'logreg', trained: true, examples: 0, latest_snapshot: null }], note: null,
      });
      const records = await readTopic(transport, topics.labelled, PARTITIONS);
      expect(records.filter((r) => r.partition === 0).length).toBe(2); // the arrival record and the label of fraud-api-big, nothing else
    } finally {
      await learner.stop();
    }
  }, 180_000);

  it('a manual promotion is seen through the champion endpoint; one to upstream\'s version makes score answer 409', async () => {
    expect((await call('GET', '/v1/models/nobody/champion')).status).toBe(404);
    // Before any decision: the version upstream serves, from the figures the evaluator wrote (champion role).
    const before = await until(() => call('GET', `/v1/models/${MODEL}/champion`), (a) => a.status === 200, 30_000);
    expect(before).toEqual({
      status: 200,
      body: {
        model: MODEL, version: 'v7', since: null, decided_by: null, decision: null, our_snapshot: false, snapshot_found: null, pinned: null, sources: ['metric_points'],
        note: 'no promotion decision: the version upstream serves (latest figures, role champion)',
      },
    });
    const snapshot = `${MODEL}/logreg@3`;
    const promoted = await cli(['promote', '--model', MODEL, '--to', snapshot, '--reason', 'better on the holdout', '--actor', 'alice'], env);
    expect(promoted.code).toBe(0);
    const champion = await until(() => call('GET', `/v1/models/${MODEL}/champion`), (a) => a.body.version === snapshot, 30_000);
    expect(champion.status).toBe(200);
    expect(champion.body).toMatchObject({
      model: MODEL, version: snapshot, decided_by: 'user:alice', our_snapshot: true,
      // ClickHouse is configured: the registry (model_versions) is asked, and no learner published that snapshot.
      snapshot_found: false,
      decision: { kind: 'PROMOTE', policy: 'manual', actor: 'user:alice', from_version: 'upstream', reason: 'better on the holdout' }, pinned: null, sources: ['model-promotions'],
    });
    expect(Date.parse(champion.body.since as string)).toBeGreaterThan(Date.now() - 120_000);
    // The registry processor does not run here: champion_history is behind, and the answer says so.
    expect(champion.body.note).toBe('champion_history has no decision for it yet: is the registry processor running?');

    expect((await cli(['promote', '--model', MODEL, '--to', 'v8', '--reason', 'upstream retrained', '--actor', 'bob'], env)).code).toBe(0);
    const upstream = await until(() => call('GET', `/v1/models/${MODEL}/champion`), (a) => a.body.version === 'v8', 30_000);
    expect(upstream.body).toMatchObject({ version: 'v8', decided_by: 'user:bob', our_snapshot: false, snapshot_found: null, decision: { from_version: snapshot } });
    expect(await call('POST', `/v1/models/${MODEL}/score`, { features: { amount: 1 } })).toEqual({
      status: 409,
      body: { error: 'not_our_snapshot', message: `the champion of model ${MODEL} is v8, a model upstream serves itself (not one of our snapshots <model>/<challenger>@<n>): score with your own model` },
    });
  }, 120_000);
});
