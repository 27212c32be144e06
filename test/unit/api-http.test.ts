/**
 * The /v1 API through fastify's inject, on the services `run` builds
 * (runtime/api) over the in-process log (MemoryTransport) with the local
 * Avro codecs: events checked and written keyed by prediction_id, bad input
 * refused with the field named and nothing written, batch and body limits,
 * credentials, Kafka failing or too slow (producers that fail: doubles of
 * our LogProducer interface), no ClickHouse, the champion from the
 * promotions topic, and scoring with a snapshot or refusing to (409).
 */
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { makeCodecs, type Codecs } from '../../adapters/codec/codecs.js';
import { buildConfig, type Config } from '../../adapters/config/index.js';
import { buildHttpServer } from '../../adapters/http/index.js';
import { registerApi } from '../../adapters/http/api/index.js';
import { createLogger } from '../../adapters/logging/index.js';
import { MemoryTransport } from '../../adapters/transport/memory.js';
import type { LogProducer, LogRecord } from '../../adapters/transport/transport.js';
import { FeedbackloopError } from '../../core/errors.js';
import type { Feedback, ModelSnapshot, Prediction, PromotionDecision } from '../../core/events.js';
import { ChallengerTrainer, challengerFromSnapshot } from '../../core/learn/index.js';
import { pipelineFromSnapshot, type MulticlassPipeline, type MultilabelPipeline } from '../../core/models/index.js';
import { apiServices, type RunningApi } from '../../runtime/api/index.js';
import { labelledStream } from '../support/labelled.js';

const NOW = Date.now();

const prediction = (id: string, extra: Partial<Prediction> = {}) => ({
  prediction_id: id, model: 'fraud', model_version: 'v7', timestamp: NOW - 60_000, features: { amount: 129.5 }, score: 0.83, ...extra,
});

interface Harness {
  app: FastifyInstance;
  log: MemoryTransport;
  codecs: Codecs;
  config: Config;
  api: RunningApi;
}

const open: Harness[] = [];

async function harness(options: { http?: Record<string, unknown>; producer?: LogProducer } = {}): Promise<Harness> {
  const config = buildConfig({ http: { api_max_batch: 3, api_max_body: 4096, api_produce_timeout: '200ms', ...options.http } });
  const log = new MemoryTransport();
  await log.ensureTopics(['predictions', 'feedback', 'model-snapshots', 'model-promotions'].map((name) => ({ name, partitions: 3 })));
  const codecs = makeCodecs(config.topics, undefined);
  const producer = options.producer ?? (await log.producer());
  const api = apiServices({ config, transport: log, codecs, clickhouse: undefined, logger: createLogger('silent') }, producer);
  const app = await buildHttpServer({
    host: '127.0.0.1', port: 0, registry: { metrics: async () => '', contentType: 'text/plain' }, bodyLimit: config.http.api_max_body,
    credentials: config.http.bearer_token === null ? {} : { bearerToken: config.http.bearer_token },
    routes: (a) => registerApi(a, api, { maxBody: config.http.api_max_body }),
  });
  const h = { app, log, codecs, config, api };
  open.push(h);
  return h;
}

afterEach(async () => {
  for (const h of open.splice(0)) {
    await h.app.close();
    await h.api.close();
    await h.log.close();
  }
});

async function records(log: MemoryTransport, topic: string): Promise<LogRecord[]> {
  const out: LogRecord[] = [];
  await log.readToEnd(topic, [0, 1, 2], (batch) => {
    for (const record of batch) out.push(record); // a fetch may hold many records: no spread into a call
  });
  return out.sort((a, b) => a.offset - b.offset || a.partition - b.partition);
}

const post = (h: Harness, url: string, payload: unknown, headers: Record<string, string> = {}) => h.app.inject({ method: 'POST', url, payload: payload as object, headers });

describe('POST /v1/predictions and /v1/feedback', () => {
  it('writes one event, or a batch, keyed by prediction_id, as the contract fills it in; 202 with the count', async () => {
    const h = await harness();
    const before = Date.now();
    const one = await post(h, '/v1/predictions', prediction('tx-1'));
    const after = Date.now();
    expect(one.statusCode).toBe(202);
    expect(one.json()).toEqual({ accepted: 1 });
    const batch = await post(h, '/v1/feedback', { events: [{ prediction_id: 'tx-1', timestamp: NOW, feedback_type: 'EXPERT_REVIEW', label: 1, source: 'analyst-17' }, { prediction_id: 'tx-2', timestamp: NOW, feedback_type: 'USER_CONFIRMED' }] });
    expect([batch.statusCode, batch.json()]).toEqual([202, { accepted: 2 }]);

    const [written] = await records(h.log, 'predictions');
    expect(written!.key!.toString()).toBe('tx-1');
    // The record is stamped when it was accepted, not with the event's own (older) time, which the broker's time retention would count from.
    expect(written!.timestamp).toBeGreaterThanOrEqual(before);
    expect(written!.timestamp).toBeLessThanOrEqual(after);
    expect(await h.codecs.prediction.decode(written!.value)).toEqual({ ...prediction('tx-1'), categorical: {}, segments: {}, threshold: 0.5, shadow_scores: {}, class_scores: {}, predicted_class: null, predicted_labels: null });
    const feedback = await Promise.all((await records(h.log, 'feedback')).map(async (r) => [r.key!.toString(), await h.codecs.feedback.decode(r.value)] as [string, Feedback]));
    expect(feedback.map(([key, f]) => [key, f.prediction_id, f.feedback_type, f.label, f.uncertain, f.source]).sort()).toEqual([
      ['tx-1', 'tx-1', 'EXPERT_REVIEW', 1, false, 'analyst-17'],
      ['tx-2', 'tx-2', 'USER_CONFIRMED', null, false, null],
    ]);
  });

  it('refuses a body its schema refuses: 400 naming the field, in a batch with the index; nothing written', async () => {
    const h = await harness();
    const cases: Array<[string, unknown, string, string]> = [
      ['/v1/predictions', { ...prediction('a'), score: '0.8' }, 'score', 'score must be number'],
      ['/v1/predictions', { events: [prediction('a'), { ...prediction('b'), features: { amount: 'high' } }] }, 'events[1].features.amount', 'events[1].features.amount must be number'],
      ['/v1/predictions', { events: [prediction('a'), { ...prediction('b'), model: undefined }] }, 'events[1].model', 'events[1].model is required'],
      ['/v1/predictions', { events: [] }, 'events', 'events must NOT have fewer than 1 items'],
      ['/v1/predictions', { events: [prediction('a')], more: 1 }, 'more', 'more is not a known field'],
      ['/v1/feedback', { prediction_id: 'a', timestamp: NOW, feedback_type: 'MAYBE' }, 'feedback_type', 'feedback_type must be equal to one of the allowed values'],
      ['/v1/feedback', { prediction_id: 'a', timestamp: 1.5, feedback_type: 'USER_CONFIRMED' }, 'timestamp', 'timestamp must be integer'],
    ];
    for (const [url, body, field, message] of cases) {
      const answer = await post(h, url, body);
      expect({ url, status: answer.statusCode, body: answer.json() }).toEqual({ url, status: 400, body: { error: 'validation', field, message } });
    }
    expect(await records(h.log, 'predictions')).toEqual([]);
    expect(await records(h.log, 'feedback')).toEqual([]);
  });

  it('refuses what the event contract refuses, with the config\'s limits and time bounds: the event and field named, none of the batch written', async () => {
    const h = await harness({ http: {} });
    const long = 'x'.repeat(257);
    const tooLong = await post(h, '/v1/predictions', { events: [prediction('a'), prediction('b'), prediction(long)] });
    expect(tooLong.statusCode).toBe(400);
    expect(tooLong.json()).toMatchObject({ error: 'validation', field: 'events[2].prediction_id' });
    expect(tooLong.json().message).toMatch(/^events\[2\]: prediction: prediction_id is 257 characters long, more than limits\.max_id_length \(256\)/);
    const empty = await post(h, '/v1/predictions', prediction(''));
    expect(empty.json()).toMatchObject({ field: 'prediction_id', message: 'prediction: prediction_id must be a non-empty string, got ""' });
    // JSON.parse reads 1e400 as Infinity: the schema takes only finite numbers.
    const infinite = await h.app.inject({ method: 'POST', url: '/v1/feedback', payload: `{"prediction_id": "a", "timestamp": ${NOW}, "feedback_type": "USER_CONFIRMED", "label": 1e400}`, headers: { 'content-type': 'application/json' } });
    expect(infinite.json()).toEqual({ error: 'validation', field: 'label', message: 'label must be number,null' });
    const future = await post(h, '/v1/predictions', prediction('c', { timestamp: NOW + 2 * 3_600_000 }));
    expect(future.statusCode).toBe(400);
    expect(future.json()).toMatchObject({ field: 'timestamp' });
    expect(future.json().message).toMatch(/^prediction: timestamp \d+ \(.*\) is more than joiner\.max_future \(1h\) ahead of the wall clock/);
    const seconds = await post(h, '/v1/predictions', prediction('d', { timestamp: Math.floor(NOW / 1000) }));
    expect(seconds.json().message).toMatch(/is before joiner\.min_timestamp.*\(seconds instead of milliseconds\?\)$/);
    expect(await records(h.log, 'predictions')).toEqual([]);
  });

  it('refuses a batch over http.api_max_batch and a body over http.api_max_body with 413, nothing written', async () => {
    const h = await harness();
    const many = await post(h, '/v1/predictions', { events: [1, 2, 3, 4].map((i) => prediction(`p${i}`)) });
    expect([many.statusCode, many.json()]).toEqual([413, { error: 'too_many_events', field: 'events', message: '4 events in one request: at most 3 (http.api_max_batch); split them' }]);
    const big = await post(h, '/v1/predictions', prediction('p', { features: Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`feature_${i}`, i])) }));
    expect([big.statusCode, big.json()]).toEqual([413, { error: 'too_large', message: 'the body is larger than http.api_max_body (4096 bytes): send fewer events per request' }]);
    expect(await records(h.log, 'predictions')).toEqual([]);
  });

  it('answers 503 with Retry-After when Kafka refuses or does not acknowledge in time', async () => {
    const down: LogProducer = { send: async () => Promise.reject(new FeedbackloopError('broker not available', { retriable: true })), close: async () => {} };
    const slow: LogProducer = { send: () => new Promise<void>(() => {}), close: async () => {} };
    const refused: LogProducer = { send: async () => Promise.reject(new FeedbackloopError('TOPIC_AUTHORIZATION_FAILED', { retriable: false })), close: async () => {} };
    const [a, b, c] = await Promise.all([harness({ producer: down }), harness({ producer: slow }), harness({ producer: refused })]);
    const first = await post(a, '/v1/predictions', prediction('p'));
    expect([first.statusCode, first.headers['retry-after'], first.json().error]).toEqual([503, '5', 'unavailable']);
    expect(first.json().message).toBe('events not written: Kafka at : broker not available');
    const started = Date.now();
    const second = await post(b, '/v1/feedback', { prediction_id: 'p', timestamp: NOW, feedback_type: 'USER_REJECTED' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
    expect([second.statusCode, second.headers['retry-after']]).toEqual([503, '5']);
    expect(second.json().message).toBe('events not written: Kafka at : Kafka did not acknowledge within http.api_produce_timeout (200 ms) (they may still be written: a retry can write them twice)');
    const third = await post(c, '/v1/predictions', prediction('p'));
    expect([third.statusCode, third.headers['retry-after']]).toEqual([503, undefined]);
  });
});

describe('/v1 behind the credentials', () => {
  it('answers 401 with the challenge on every /v1 route without the token, and serves with it', async () => {
    const h = await harness({ http: { bearer_token: 's3cret' } });
    for (const [method, url] of [['POST', '/v1/predictions'], ['GET', '/v1/feedback'], ['GET', '/v1/models/fraud/champion'], ['GET', '/v1/openapi.json'], ['GET', '/v1/nope']] as const) {
      const answer = await h.app.inject({ method, url, payload: method === 'POST' ? prediction('p') : undefined, headers: { authorization: 'Bearer wrong' } });
      expect({ url, status: answer.statusCode, challenge: answer.headers['www-authenticate'], error: answer.json().error }).toEqual({ url, status: 401, challenge: 'Bearer realm="feedbackloop"', error: 'unauthorized' });
    }
    expect((await post(h, '/v1/predictions', prediction('p'), { authorization: 'Bearer s3cret' })).statusCode).toBe(202);
    expect((await h.app.inject({ method: 'GET', url: '/v1/openapi.json', headers: { authorization: 'Bearer s3cret' } })).json().openapi).toBe('3.1.0');
    expect((await h.app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
  });
});

describe('GET /v1/feedback without ClickHouse', () => {
  it('answers 503 saying ClickHouse is not configured (no Retry-After: asking again does not help); bad parameters are 400 first', async () => {
    const h = await harness();
    const list = await h.app.inject({ method: 'GET', url: '/v1/feedback?model=fraud' });
    expect([list.statusCode, list.headers['retry-after']]).toEqual([503, undefined]);
    expect(list.json()).toEqual({ error: 'unavailable', message: 'no ClickHouse (clickhouse.url is not set): GET /v1/feedback reads the labelled examples and feedback statistics the evaluator writes there' });
    expect((await h.app.inject({ method: 'GET', url: '/v1/feedback/stats?model=fraud' })).statusCode).toBe(503);
    expect((await h.app.inject({ method: 'GET', url: '/v1/feedback?limit=1001' })).json()).toEqual({ error: 'validation', field: 'limit', message: 'querystring limit must be <= 1000' });
    expect((await h.app.inject({ method: 'GET', url: '/v1/feedback/stats' })).json()).toEqual({ error: 'validation', field: 'model', message: 'querystring model is required' });
    expect((await h.app.inject({ method: 'GET', url: '/v1/feedback?from=yesterday' })).json()).toEqual({ error: 'validation', field: 'from', message: 'querystring from must be epoch milliseconds or an ISO 8601 time, got "yesterday"' });
  });
});

describe('the champion and scoring with it', () => {
  const snapshots = (): ModelSnapshot[] => {
    const learner = new ChallengerTrainer({ challengersOf: () => ['logreg'] });
    for (const example of labelledStream(200, 3).filter((e) => e.model === 'fraud')) learner.learn(example);
    return learner.snapshot();
  };

  const decision = (to: string, k: number, overrides: Partial<PromotionDecision> = {}): PromotionDecision => ({
    decision_id: `fraud#${k}`, model: 'fraud', from_version: 'v7', to_version: to, decision: 'PROMOTE', policy: 'msprt', statistic: null, p_value: null,
    bound: null, alpha: null, sample_size: 500, metric_deltas: {}, guardrails: {}, reason: 'better log loss', actor: 'feedbackloop-promoter (test)',
    at: Date.UTC(2025, 11, 1), decided_at: Date.UTC(2025, 11, 1, 0, 5) + k, ...overrides,
  });

  async function publish(h: Harness, topic: 'model-snapshots' | 'model-promotions', values: Array<ModelSnapshot | PromotionDecision>): Promise<void> {
    const producer = await h.log.producer();
    const encoded = await Promise.all(values.map(async (v) => ({
      topic, key: Buffer.from('version' in v ? v.version : v.model), value: 'version' in v ? await h.codecs.snapshot.encode(v) : await h.codecs.promotion.encode(v as PromotionDecision),
    })));
    await producer.send(encoded);
  }

  it('reads the champion from the promotions topic as status does; 404 for a model nobody names', async () => {
    const h = await harness();
    const [snapshot] = snapshots();
    await publish(h, 'model-promotions', [decision(snapshot!.version, 1), decision('v7', 2, { decision: 'HOLD' })]);
    const answer = await h.app.inject({ method: 'GET', url: '/v1/models/fraud/champion' });
    expect(answer.statusCode).toBe(200);
    expect(answer.json()).toEqual({
      model: 'fraud', version: snapshot!.version, since: '2025-12-01T00:05:00.001Z', decided_by: 'feedbackloop-promoter (test)',
      decision: { id: 'fraud#1', kind: 'PROMOTE', policy: 'msprt', actor: 'feedbackloop-promoter (test)', from_version: 'v7', reason: 'better log loss', evidence_at: '2025-12-01T00:00:00.000Z' },
      our_snapshot: true, snapshot_found: null, pinned: null, sources: ['model-promotions'], note: null,
    });
    const unknown = await h.app.inject({ method: 'GET', url: '/v1/models/churn/champion' });
    expect([unknown.statusCode, unknown.json()]).toEqual([404, { error: 'unknown_model', message: 'no decision, registry entry or figures name model "churn"' }]);
  });

  it('scores with the champion snapshot exactly as its pipeline does; 409 once upstream\'s own version is champion; 400 for bad features', async () => {
    const h = await harness();
    const list = snapshots();
    const target = list[list.length - 1]!;
    await publish(h, 'model-snapshots', list);
    await publish(h, 'model-promotions', [decision(target.version, 1)]);
    const input = { features: { amount: 1.25, age_days: 3 }, categorical: { country: 'DE' } };
    const scored = await post(h, '/v1/models/fraud/score', input);
    expect(scored.statusCode).toBe(200);
    expect(scored.json()).toEqual({ model: 'fraud', version: target.version, score: pipelineFromSnapshot(JSON.parse(target.parameters)).predictOne(input) });

    const bad = await post(h, '/v1/models/fraud/score', { features: { amount: 'x' } });
    expect(bad.json()).toEqual({ error: 'validation', field: 'features.amount', message: 'features.amount must be number' });
    const missing = await post(h, '/v1/models/fraud/score', { categorical: {} });
    expect(missing.json()).toEqual({ error: 'validation', field: 'features', message: 'features is required' });
    expect((await post(h, '/v1/models/churn/score', input)).statusCode).toBe(404);

    await publish(h, 'model-promotions', [decision('v6', 2, { decision: 'ROLLBACK', from_version: target.version, actor: 'user:alice', policy: 'manual', reason: 'incident' })]);
    await new Promise((resolve) => setTimeout(resolve, 2_100)); // the champion read is kept 2 s
    const champion = (await h.app.inject({ method: 'GET', url: '/v1/models/fraud/champion' })).json();
    expect(champion).toMatchObject({ version: 'v6', decided_by: 'user:alice', our_snapshot: false, decision: { id: 'fraud#2', kind: 'ROLLBACK', policy: 'manual', actor: 'user:alice', reason: 'incident' } });
    const refused = await post(h, '/v1/models/fraud/score', input);
    expect([refused.statusCode, refused.json()]).toEqual([409, {
      error: 'not_our_snapshot',
      message: 'the champion of model fraud is v6, a model upstream serves itself (not one of our snapshots <model>/<challenger>@<n>): score with your own model',
    }]);
  });

  it('scores with a multiclass champion snapshot: each class\'s probability and the predicted class', async () => {
    const h = await harness();
    const classes = ['spike', 'drift', 'outage'];
    const learner = new ChallengerTrainer({ kindOf: () => 'multiclass', classesOf: () => classes, challengersOf: () => ['softmax'] });
    for (let i = 0; i < 300; i++) {
      const x = ((i * 37) % 100) / 25 - 2;
      const example = labelledStream(1, i)[0]!;
      learner.learn({ ...example, model: 'anomaly', features: { x }, categorical: {}, label_class: classes[x > 0.5 ? 0 : x < -0.5 ? 2 : 1]!, rejected_class: null, labels: null });
    }
    const [snapshot] = learner.snapshot();
    await publish(h, 'model-snapshots', [snapshot!]);
    await publish(h, 'model-promotions', [decision(snapshot!.version, 1, { model: 'anomaly', decision_id: 'anomaly#1' })]);
    const input = { features: { x: 1.5 }, categorical: {} };
    const scored = await post(h, '/v1/models/anomaly/score', input);
    expect(scored.statusCode).toBe(200);
    const p = Array.from((challengerFromSnapshot(JSON.parse(snapshot!.parameters)) as MulticlassPipeline).predictProbaOne(input));
    expect(scored.json()).toEqual({ model: 'anomaly', version: 'anomaly/softmax@1', score: p[0], class_scores: { spike: p[0], drift: p[1], outage: p[2] }, predicted_class: 'spike' });
    expect(p[0]).toBeGreaterThan(Math.max(p[1]!, p[2]!));
  });

  it("scores with a multilabel champion snapshot: each label's probability and the labels at or above 0.5", async () => {
    const h = await harness();
    const labels = ['email', 'phone', 'name'];
    const learner = new ChallengerTrainer({ kindOf: () => 'multilabel', classesOf: () => labels, challengersOf: () => ['br_logreg'] });
    for (let i = 0; i < 300; i++) {
      const x = ((i * 37) % 100) / 25 - 2;
      const example = labelledStream(1, i)[0]!;
      learner.learn({ ...example, model: 'pii', features: { x }, categorical: {}, label_class: null, rejected_class: null, labels: x > 0 ? ['email', 'name'] : [] });
    }
    const [snapshot] = learner.snapshot();
    await publish(h, 'model-snapshots', [snapshot!]);
    await publish(h, 'model-promotions', [decision(snapshot!.version, 1, { model: 'pii', decision_id: 'pii#1' })]);
    const input = { features: { x: 1.5 }, categorical: {} };
    const scored = await post(h, '/v1/models/pii/score', input);
    expect(scored.statusCode).toBe(200);
    const p = Array.from((challengerFromSnapshot(JSON.parse(snapshot!.parameters)) as MultilabelPipeline).predictProbaOne(input));
    expect(scored.json()).toEqual({ model: 'pii', version: 'pii/br_logreg@1', score: Math.max(p[0]!, p[1]!, p[2]!), class_scores: { email: p[0], phone: p[1], name: p[2] }, predicted_labels: ['email', 'name'] });
    expect(p[1]).toBeLessThan(0.5);
  });
});
