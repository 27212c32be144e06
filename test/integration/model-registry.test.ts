/**
 * The model registry on the real stack: model snapshots and promotion
 * decisions, registry-framed Avro on Kafka, go through the RegistryProcessor
 * (Kafka transport) into ClickHouse's model_versions and champion_history
 * (a database of its own, dropped at the end). Then the rows, the lineage,
 * the history in order and the derived facts of docs/registry.md (current
 * champion after a rollback, deployed_at, deployed flag, metrics at decision
 * time) are read back; garbage is dead-lettered without stopping the
 * processor; and a second processor (a new group) over the same topics
 * leaves exactly one row per key.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RegistryCodec } from '../../adapters/codec/codec.js';
import { ClickHouseStore, MIGRATIONS } from '../../adapters/clickhouse/index.js';
import { KafkaTransport } from '../../adapters/kafka/transport.js';
import { systemClock } from '../../core/clock.js';
import type { ModelSnapshot, PromotionDecision } from '../../core/events.js';
import { REGISTRY_STAGE, RegistryProcessor, registryQueries } from '../../processors/registry.js';
import { ClickHouseDeadLetterSink } from '../../sinks/index.js';
import { sleep, uniqueName } from '../support/collect.js';
import { SAMPLES } from '../support/samples.js';
import { requireStack, STACK } from '../support/stack.js';

const T0 = 1_763_942_400_000; // 2025-11-24T00:00:00Z
const MIN = 60_000;
const MODEL = 'fraud-detector';

function snapshot(challenger: string, n: number, overrides: Partial<ModelSnapshot> = {}): ModelSnapshot {
  return {
    ...SAMPLES.ModelSnapshot,
    model: MODEL,
    challenger,
    version: `${MODEL}/${challenger}@${n}`,
    parent_version: n > 1 ? `${MODEL}/${challenger}@${n - 1}` : null,
    training_count: 500 * n,
    data_hash: `${challenger}-hash-${n}`,
    created_at: T0 + n * MIN,
    ...overrides,
  };
}

function decision(k: number, overrides: Partial<PromotionDecision>): PromotionDecision {
  return { ...SAMPLES.PromotionDecision, model: MODEL, decision_id: `${MODEL}#${k}`, actor: 'feedbackloop-promoter (test)', ...overrides };
}

const SNAPSHOTS: ModelSnapshot[] = [
  snapshot('logreg', 1),
  snapshot('logreg', 2),
  snapshot('ftrl', 1, { algorithm: 'ftrl_proximal', feature_schema: [{ name: 'amount', kind: 'NUMERIC' }] }),
  snapshot('logreg', 1, { model: 'churn', version: 'churn/logreg@1' }),
];

const DECISIONS: PromotionDecision[] = [
  decision(1, {
    decision: 'PROMOTE', from_version: 'v7', to_version: `${MODEL}/logreg@1`, at: T0 + 10 * MIN, decided_at: T0 + 11 * MIN,
    metric_deltas: { log_loss: 0.031, brier: 0.012 }, guardrails: { recall_drop: 0.002, ece: 0.04 }, statistic: 4.1, bound: 0.011, sample_size: 1200,
    reason: 'logreg@1 better than v7 on log loss',
  }),
  // PROMOTE and ROLLBACK published together (one promoter batch): same decided_at, `at` orders them.
  decision(2, {
    decision: 'PROMOTE', from_version: `${MODEL}/logreg@1`, to_version: `${MODEL}/logreg@2`, at: T0 + 20 * MIN, decided_at: T0 + 30 * MIN,
    metric_deltas: { log_loss: 0.008 }, guardrails: { recall_drop: 0.001 }, sample_size: 900, reason: 'logreg@2 better than logreg@1',
  }),
  decision(3, {
    decision: 'ROLLBACK', from_version: `${MODEL}/logreg@2`, to_version: `${MODEL}/logreg@1`, at: T0 + 25 * MIN, decided_at: T0 + 30 * MIN,
    metric_deltas: { log_loss: -0.02 }, guardrails: {}, statistic: null, bound: 0.004, sample_size: 300, reason: 'logreg@2 worse than logreg@1 after promotion',
    policy: 'msprt(alpha=0.05, watch_examples=2000)',
  }),
  decision(4, {
    decision: 'PIN', from_version: `${MODEL}/logreg@1`, to_version: `${MODEL}/logreg@1`, at: T0 + 40 * MIN, decided_at: T0 + 41 * MIN,
    metric_deltas: {}, guardrails: {}, statistic: null, bound: null, alpha: null, sample_size: 0, actor: 'alice@example.com', reason: 'pinned: incident 42',
  }),
  { ...SAMPLES.PromotionDecision, model: 'churn', decision_id: 'churn#1', to_version: 'churn/logreg@1', at: T0 + 5 * MIN, decided_at: T0 + 6 * MIN },
];

describe('model registry on real Kafka, registry and ClickHouse', () => {
  let transport: KafkaTransport;
  let store: ClickHouseStore;
  let registry: SchemaRegistry;
  const processors: RegistryProcessor[] = [];
  /** Heartbeat and commit failures the processors reported (none expected here). */
  const groupErrors: unknown[] = [];
  const database = uniqueName('test_model_registry').replace(/-/g, '_');
  const snapshotsTopic = uniqueName('model-snapshots');
  const promotionsTopic = uniqueName('model-promotions');
  const topics = { snapshots: snapshotsTopic, promotions: promotionsTopic };
  let codecs: { snapshot: RegistryCodec<ModelSnapshot>; promotion: RegistryCodec<PromotionDecision> };

  beforeAll(async () => {
    await requireStack('kafka', 'registry', 'clickhouse');
    transport = new KafkaTransport({ brokers: STACK.brokers, clientId: 'model-registry-test', sessionTimeoutMs: 6000, heartbeatIntervalMs: 500, kafka: { logLevel: logLevel.NOTHING } });
    registry = new SchemaRegistry({ host: STACK.registryUrl });
    store = await ClickHouseStore.open({ url: STACK.clickhouseUrl, database, username: 'default', password: '', requestTimeoutMs: 30_000 });
    await transport.ensureTopics([
      { name: snapshotsTopic, partitions: 2 },
      { name: promotionsTopic, partitions: 2 },
    ]);
    codecs = {
      snapshot: new RegistryCodec<ModelSnapshot>(registry, 'ModelSnapshot', `${snapshotsTopic}-value`),
      promotion: new RegistryCodec<PromotionDecision>(registry, 'PromotionDecision', `${promotionsTopic}-value`),
    };
    const producer = await transport.producer();
    // Snapshots keyed by version (as the learner), decisions by model (as the promoter); garbage on both.
    await producer.send([
      ...(await Promise.all(SNAPSHOTS.map(async (s) => ({ topic: snapshotsTopic, key: Buffer.from(s.version), value: await codecs.snapshot.encode(s) })))),
      { topic: snapshotsTopic, partition: 0, key: Buffer.from('garbage'), value: Buffer.from([0xde, 0xad, 0xbe, 0xef]) },
    ]);
    await producer.send([
      ...(await Promise.all(DECISIONS.map(async (d) => ({ topic: promotionsTopic, key: Buffer.from(d.model), value: await codecs.promotion.encode(d) })))),
      { topic: promotionsTopic, partition: 1, key: Buffer.from('garbage'), value: null },
    ]);
    await producer.close();
  });

  afterAll(async () => {
    for (const p of processors) await p.stop().catch(() => {});
    await transport?.close();
    await store?.command(`DROP DATABASE IF EXISTS ${database}`).catch(() => {});
    await store?.close();
  });

  /** Runs a RegistryProcessor in group `groupId` until its committed offsets reach the end of both topics. */
  async function runToEnd(groupId: string): Promise<void> {
    const processor = new RegistryProcessor({
      transport,
      topics,
      groupId,
      codecs,
      store,
      deadLetters: new ClickHouseDeadLetterSink(store),
      clock: systemClock,
      observer: { commitFailed: (_processor, error) => groupErrors.push(error) },
    });
    processors.push(processor);
    await processor.start();
    const deadline = Date.now() + 90_000;
    for (;;) {
      let behind = 0;
      for (const topic of [snapshotsTopic, promotionsTopic]) {
        const committed = new Map((await transport.committedOffsets(groupId, topic)).map((o) => [o.partition, o.offset]));
        for (const end of await transport.endOffsets(topic)) behind += Math.max(0, end.offset - (committed.get(end.partition) ?? 0));
      }
      if (behind === 0) break;
      if (Date.now() > deadline) throw new Error(`group ${groupId} still ${behind} records behind after 90 s`);
      await sleep(200);
    }
    await processor.stop();
    expect(groupErrors).toEqual([]);
  }

  it('the migrations create the registry tables, idempotently', async () => {
    for (const migration of MIGRATIONS) await store.apply(migration);
    const tables = await store.select<{ name: string }>(`SELECT name FROM system.tables WHERE database = '${database}' ORDER BY name`);
    expect(tables.map((t) => t.name)).toEqual(expect.arrayContaining(['champion_history', 'model_versions']));
  });

  it('writes every version with its lineage and every decision, and dead-letters garbage', async () => {
    await runToEnd(uniqueName('registry'));

    const versions = await store.select<Record<string, unknown>>(
      `SELECT model, version, challenger, algorithm, parent_version, training_count, data_hash, feature_names, created_at_ms, toUnixTimestamp(created_at) AS created_s
       FROM model_versions FINAL ORDER BY model, version`,
    );
    expect(versions).toEqual([
      {
        model: 'churn', version: 'churn/logreg@1', challenger: 'logreg', algorithm: 'logistic_regression', parent_version: '', training_count: '500',
        data_hash: 'logreg-hash-1', feature_names: ['amount', 'country'], created_at_ms: String(T0 + MIN), created_s: (T0 + MIN) / 1000,
      },
      {
        model: MODEL, version: `${MODEL}/ftrl@1`, challenger: 'ftrl', algorithm: 'ftrl_proximal', parent_version: '', training_count: '500',
        data_hash: 'ftrl-hash-1', feature_names: ['amount'], created_at_ms: String(T0 + MIN), created_s: (T0 + MIN) / 1000,
      },
      {
        model: MODEL, version: `${MODEL}/logreg@1`, challenger: 'logreg', algorithm: 'logistic_regression', parent_version: '', training_count: '500',
        data_hash: 'logreg-hash-1', feature_names: ['amount', 'country'], created_at_ms: String(T0 + MIN), created_s: (T0 + MIN) / 1000,
      },
      {
        model: MODEL, version: `${MODEL}/logreg@2`, challenger: 'logreg', algorithm: 'logistic_regression', parent_version: `${MODEL}/logreg@1`, training_count: '1000',
        data_hash: 'logreg-hash-2', feature_names: ['amount', 'country'], created_at_ms: String(T0 + 2 * MIN), created_s: (T0 + 2 * MIN) / 1000,
      },
    ]);

    const rows = await store.select<Record<string, unknown>>(
      `SELECT decision_id, decision, from_version, to_version, actor, statistic, bound, alpha, sample_size, metric_names, metric_values, guardrail_names, guardrail_values,
              at_ms, toUnixTimestamp(at) AS at_s, decided_at_ms, toUnixTimestamp(decided_at) AS decided_s
       FROM champion_history FINAL WHERE model = '${MODEL}' ORDER BY decision_id`,
    );
    expect(rows).toEqual([
      {
        decision_id: `${MODEL}#1`, decision: 'PROMOTE', from_version: 'v7', to_version: `${MODEL}/logreg@1`, actor: 'feedbackloop-promoter (test)',
        statistic: 4.1, bound: 0.011, alpha: 0.05, sample_size: '1200',
        metric_names: ['brier', 'log_loss'], metric_values: [0.012, 0.031], guardrail_names: ['ece', 'recall_drop'], guardrail_values: [0.04, 0.002],
        at_ms: String(T0 + 10 * MIN), at_s: (T0 + 10 * MIN) / 1000, decided_at_ms: String(T0 + 11 * MIN), decided_s: (T0 + 11 * MIN) / 1000,
      },
      expect.objectContaining({ decision_id: `${MODEL}#2`, decision: 'PROMOTE', to_version: `${MODEL}/logreg@2` }),
      expect.objectContaining({ decision_id: `${MODEL}#3`, decision: 'ROLLBACK', to_version: `${MODEL}/logreg@1`, statistic: null, bound: 0.004, guardrail_names: [], guardrail_values: [] }),
      expect.objectContaining({ decision_id: `${MODEL}#4`, decision: 'PIN', actor: 'alice@example.com', statistic: null, bound: null, alpha: null, sample_size: '0' }),
    ]);

    const letters = await store.select<Record<string, unknown>>(`SELECT topic, partition, offset, stage, error_class FROM dead_letters FINAL ORDER BY topic`);
    expect(letters).toEqual([
      expect.objectContaining({ topic: promotionsTopic, partition: 1, stage: REGISTRY_STAGE, error_class: 'decode' }),
      expect.objectContaining({ topic: snapshotsTopic, partition: 0, stage: REGISTRY_STAGE, error_class: 'decode' }),
    ]);
  });

  it('the documented queries: history in order, the champion after a rollback, deployed_at, deployed flag, metrics at decision time', async () => {
    const history = await store.select<Record<string, unknown>>(registryQueries.history(MODEL));
    expect(history.map((r) => [r.decision_id, r.decision, r.from_version, r.to_version, r.actor, r.reason])).toEqual([
      [`${MODEL}#1`, 'PROMOTE', 'v7', `${MODEL}/logreg@1`, 'feedbackloop-promoter (test)', 'logreg@1 better than v7 on log loss'],
      [`${MODEL}#2`, 'PROMOTE', `${MODEL}/logreg@1`, `${MODEL}/logreg@2`, 'feedbackloop-promoter (test)', 'logreg@2 better than logreg@1'],
      [`${MODEL}#3`, 'ROLLBACK', `${MODEL}/logreg@2`, `${MODEL}/logreg@1`, 'feedbackloop-promoter (test)', 'logreg@2 worse than logreg@1 after promotion'],
      [`${MODEL}#4`, 'PIN', `${MODEL}/logreg@1`, `${MODEL}/logreg@1`, 'alice@example.com', 'pinned: incident 42'],
    ]);

    // The rollback is the latest move of the alias (it ties with #2 on decided_at; at orders them).
    const champions = await store.select<Record<string, unknown>>(registryQueries.champions());
    expect(champions).toEqual([
      expect.objectContaining({ model: 'churn', champion: 'churn/logreg@1', deployed_at_ms: String(T0 + 5 * MIN), by_decision: 'churn#1' }),
      {
        model: MODEL,
        champion: `${MODEL}/logreg@1`,
        deployed_at: expect.any(String),
        deployed_at_ms: String(T0 + 25 * MIN),
        by_decision: `${MODEL}#3`,
        by_decision_kind: 'ROLLBACK',
        replaced: `${MODEL}/logreg@2`,
        published_at_ms: String(T0 + 30 * MIN),
        deployed_by: 'feedbackloop-promoter (test)',
        decided_by_policy: 'msprt(alpha=0.05, watch_examples=2000)',
        why: 'logreg@2 worse than logreg@1 after promotion',
        decision_metric_names: ['log_loss'],
        decision_metric_values: [-0.02],
        decision_guardrail_names: [],
        decision_guardrail_values: [],
      },
    ]);
    expect(await store.select(registryQueries.champions(MODEL))).toEqual([champions[1]]);
    // deployed_at is the DateTime of the same instant.
    const deployed = await store.select(`SELECT model, toUnixTimestamp(deployed_at) AS s FROM (${registryQueries.champions()}) ORDER BY model`);
    expect(deployed).toEqual([{ model: 'churn', s: (T0 + 5 * MIN) / 1000 }, { model: MODEL, s: (T0 + 25 * MIN) / 1000 }]);

    const versions = await store.select<Record<string, unknown>>(registryQueries.versions(MODEL));
    expect(versions.map((v) => [v.version, v.parent_version, v.deployed])).toEqual([
      [`${MODEL}/ftrl@1`, '', 0],
      [`${MODEL}/logreg@1`, '', 1],
      [`${MODEL}/logreg@2`, `${MODEL}/logreg@1`, 0],
    ]);

    const metrics = await store.select<Record<string, unknown>>(registryQueries.metricsAtDecision(MODEL));
    expect(metrics).toEqual([
      { decision_id: `${MODEL}#1`, decision: 'PROMOTE', to_version: `${MODEL}/logreg@1`, metric: 'brier', delta: 0.012 },
      { decision_id: `${MODEL}#1`, decision: 'PROMOTE', to_version: `${MODEL}/logreg@1`, metric: 'log_loss', delta: 0.031 },
      { decision_id: `${MODEL}#2`, decision: 'PROMOTE', to_version: `${MODEL}/logreg@2`, metric: 'log_loss', delta: 0.008 },
      { decision_id: `${MODEL}#3`, decision: 'ROLLBACK', to_version: `${MODEL}/logreg@1`, metric: 'log_loss', delta: -0.02 },
    ]);
  });

  it('docs/registry.md shows exactly these queries', () => {
    const doc = readFileSync(join(import.meta.dirname, '..', '..', 'docs', 'registry.md'), 'utf8');
    for (const sql of [registryQueries.champions(), registryQueries.champions(MODEL), registryQueries.versions(MODEL), registryQueries.history(MODEL), registryQueries.metricsAtDecision(MODEL)]) {
      expect(doc).toContain(`\`\`\`sql\n${sql}\n\`\`\``);
    }
  });

  it('a second processor (a new group) over the same topics leaves one row per key', async () => {
    const writtenAt = async () => Number((await store.select<{ v: string }>(`SELECT max(version_row) AS v FROM model_versions`))[0]!.v);
    const before = await writtenAt();
    await runToEnd(uniqueName('registry-again'));
    expect(await writtenAt()).toBeGreaterThan(before); // the second group did write the rows again
    const versions = await store.select<{ n: string; keys: string }>(`SELECT count() AS n, uniqExact(model, version) AS keys FROM model_versions FINAL`);
    expect(versions).toEqual([{ n: String(SNAPSHOTS.length), keys: String(SNAPSHOTS.length) }]);
    const history = await store.select<{ n: string; keys: string }>(`SELECT count() AS n, uniqExact(model, decision_id) AS keys FROM champion_history FINAL`);
    expect(history).toEqual([{ n: String(DECISIONS.length), keys: String(DECISIONS.length) }]);
    const letters = await store.select<{ n: string }>(`SELECT count() AS n FROM dead_letters FINAL`);
    expect(letters).toEqual([{ n: '2' }]);
    // The derived facts are unchanged.
    expect(await store.select<Record<string, unknown>>(registryQueries.champions(MODEL))).toEqual([
      expect.objectContaining({ champion: `${MODEL}/logreg@1`, by_decision: `${MODEL}#3` }),
    ]);
  });
});
