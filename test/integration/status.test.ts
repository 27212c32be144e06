/**
 * `feedbackloop status` on the real stack, against a deployment of its own
 * (topics prefixed and client id unique to this test, a ClickHouse database
 * dropped at the end): 15 predictions of two models (a binary one, a
 * regression one) and feedback for 11 of them, and one PROMOTE decision,
 * go through a `feedbackloop run --only joiner evaluator registry` child;
 * the archive group gets offsets set by hand; then the built CLI's
 * `status --json` must report:
 *  - the champions: fraud from the decision (topic and champion_history
 *    agree), price (no decision) from the figures;
 *  - the figures of the latest 1d window and total, exact (hand-computed);
 *  - the pending joins from the child's /metrics (every prediction is still
 *    in the join window), per partition;
 *  - the consumer lag of every group, end offset minus committed offset,
 *    "not started" for the groups that never committed.
 * Then the text output with an unreachable /metrics (unknown, exit 0),
 * Kafka unreachable (exit 1) and no brokers (exit 2). About 15 s.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { logLevel, type Admin } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RegistryCodec } from '../../adapters/codec/codec.js';
import { ClickHouseStore } from '../../adapters/clickhouse/index.js';
import { KafkaTransport } from '../../adapters/kafka/transport.js';
import { partitionForKey } from '../../adapters/transport/partitioner.js';
import type { StatusReport } from '../../runtime/status/index.js';
import { type Feedback, noFeedbackClasses, type Prediction, type PromotionDecision } from '../../core/events.js';
import { uniqueName } from '../support/collect.js';
import { CLI, failIfDied, JOINER_ENV, JoinerProcess, joinerEnvironment, pipelineTopics, STATE_DIR } from '../support/joiner-process.js';
import { GroupProgress, joinerCodecs, pipelineTopicSpecs, sleep } from '../support/joiner-kafka.js';
import { SAMPLES } from '../support/samples.js';
import { requireStack, STACK } from '../support/stack.js';

const T0 = 1_763_942_400_000; // 2025-11-24T00:00:00Z, a Monday: the 1d window [T0, T0 + 1 d) has ended
const MIN = 60_000;
const PARTITIONS = 2;
const DELAY = 10 * MIN;

/** fraud: 12 predictions, the first 8 labelled; price (regression): 3, all labelled. */
const FRAUD = [
  [0.9, 1], [0.8, 1], [0.7, 0], [0.6, 1], [0.4, 0], [0.3, 1], [0.2, 0], [0.1, 0],
  [0.55, null], [0.45, null], [0.35, null], [0.25, null],
] as const;
const PRICE = [[10, 12], [20, 18], [30, 30]] as const;

function prediction(model: string, version: string, i: number, score: number): Prediction {
  return { ...SAMPLES.Prediction, prediction_id: `${model}-${i}`, model, model_version: version, timestamp: T0 + i * MIN, features: { x: i }, segments: {}, score, threshold: 0.5 };
}

function feedback(p: Prediction, label: number): Feedback {
  return { prediction_id: p.prediction_id, timestamp: p.timestamp + DELAY, feedback_type: 'USER_CONFIRMED', label, uncertain: false, source: 'u1', notes: null, ...noFeedbackClasses() };
}

/** A port nothing listens on (just released). */
function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

function run(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { env, timeout: 60_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? Number((error as { code?: unknown }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

describe('feedbackloop status against a running deployment', () => {
  const prefix = uniqueName('status');
  const clientId = prefix;
  const topics = pipelineTopics(prefix);
  const database = uniqueName('test_status').replace(/-/g, '_');
  const configFile = join(STATE_DIR, `${prefix}.yaml`);
  let env: Record<string, string>;
  let transport: KafkaTransport;
  let admin: Admin;
  let store: ClickHouseStore;
  let child: JoinerProcess | undefined;

  const predictions = [
    ...FRAUD.map(([score], i) => prediction('fraud', 'v1', i, score)),
    ...PRICE.map(([score], i) => prediction('price', 'p1', i, score)),
  ];
  const feedbacks = [
    ...FRAUD.flatMap(([, label], i) => (label === null ? [] : [feedback(predictions[i]!, label)])),
    ...PRICE.map(([, label], i) => feedback(predictions[FRAUD.length + i]!, label)),
  ];
  const decision: PromotionDecision = {
    ...SAMPLES.PromotionDecision, decision_id: 'fraud#1', model: 'fraud', decision: 'PROMOTE', from_version: 'v1', to_version: 'fraud/lr@1',
    actor: 'feedbackloop-promoter (test)', reason: 'lr@1 better than v1 on log loss', at: T0 + 30 * MIN, decided_at: T0 + 31 * MIN,
  };

  beforeAll(async () => {
    await requireStack('kafka', 'registry', 'clickhouse');
    transport = new KafkaTransport({ brokers: STACK.brokers, clientId: 'status-test', kafka: { logLevel: logLevel.NOTHING } });
    admin = transport.kafka.admin();
    await admin.connect();
    store = await ClickHouseStore.open({ url: STACK.clickhouseUrl, database, username: 'default', password: '', requestTimeoutMs: 30_000 });
    await transport.ensureTopics(pipelineTopicSpecs(topics, PARTITIONS));
    mkdirSync(STATE_DIR, { recursive: true });
    writeFileSync(configFile, 'models:\n  price:\n    task: regression\n');
    env = joinerEnvironment({
      clientId, topics, partitions: PARTITIONS,
      extra: { ...JOINER_ENV, FEEDBACKLOOP_CLICKHOUSE_URL: STACK.clickhouseUrl, FEEDBACKLOOP_CLICKHOUSE_DATABASE: database, FEEDBACKLOOP_EVALUATOR_FLUSH_INTERVAL: '200ms', FEEDBACKLOOP_EVALUATOR_WRITE_PARTIALS: 'true' },
    });

    const registry = new SchemaRegistry({ host: STACK.registryUrl });
    const codecs = joinerCodecs(registry, topics);
    const promotion = new RegistryCodec<PromotionDecision>(registry, 'PromotionDecision', `${topics.promotions}-value`);
    const producer = await transport.producer();
    await producer.send(await Promise.all(predictions.map(async (p) => ({ topic: topics.predictions, key: Buffer.from(p.prediction_id), value: await codecs.prediction.encode(p) }))));
    await producer.send(await Promise.all(feedbacks.map(async (f) => ({ topic: topics.feedback, key: Buffer.from(f.prediction_id), value: await codecs.feedback.encode(f) }))));
    await producer.send([{ topic: topics.promotions, key: Buffer.from(decision.model), value: await promotion.encode(decision) }]);
    await producer.close();

    child = await JoinerProcess.start({ name: `${prefix}-run`, env, processors: ['joiner', 'evaluator', 'registry'], config: configFile });
    const check = () => failIfDied([child!]);
    await new GroupProgress(admin, `${clientId}-joiner`, [topics.predictions, topics.feedback]).waitCaughtUp({ timeoutMs: 60_000, check });
    await new GroupProgress(admin, `${clientId}-registry`, [topics.promotions]).waitCaughtUp({ timeoutMs: 60_000, check });
    // The evaluator commits only once its rows are in ClickHouse: wait for the rows.
    for (;;) {
      check();
      const rows = await store.select<{ n: number }>(`SELECT count() AS n FROM metric_points FINAL WHERE window = 'total' AND role = 'champion' AND metric = 'count' AND value = ${FRAUD.filter(([, l]) => l !== null).length}`);
      const history = await store.select<{ n: number }>('SELECT count() AS n FROM champion_history FINAL');
      if (Number(rows[0]!.n) === 1 && Number(history[0]!.n) === 1) break;
      await sleep(200);
    }
    // The evaluator's offset commit follows its write: wait for it (past the last commit marker).
    await new GroupProgress(admin, `${clientId}-evaluator`, [topics.labelled]).waitCaughtUp({ timeoutMs: 60_000, check });

    // Offsets set by hand for the archive group (nobody runs it): 1 on partition 0, 2 on partition 1.
    await admin.setOffsets({ groupId: `${clientId}-archive`, topic: topics.predictions, partitions: [{ partition: 0, offset: '1' }, { partition: 1, offset: '2' }] });
  }, 120_000);

  afterAll(async () => {
    await child?.stop();
    await admin?.disconnect().catch(() => {});
    await transport?.close();
    await store?.command(`DROP DATABASE IF EXISTS ${database}`).catch(() => {});
    await store?.close();
  });

  it('--json: champions with their source, exact figures, pending joins from /metrics, lag per group', async () => {
    const metrics = `http://127.0.0.1:${child!.port}/metrics`;
    const result = await run(['status', '--json', '--config', configFile, '--metrics', metrics], env);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout) as StatusReport;
    expect(report.problems).toEqual([]);

    expect(report.champions).toEqual([
      {
        model: 'fraud', version: 'fraud/lr@1', sources: ['model-promotions', 'champion_history'], note: null, pinned: null,
        decision: { model: 'fraud', decision: 'PROMOTE', decision_id: 'fraud#1', from_version: 'v1', to_version: 'fraud/lr@1', actor: decision.actor, policy: decision.policy, reason: decision.reason, at: decision.at, decided_at: decision.decided_at },
      },
      { model: 'price', version: 'p1', sources: ['metric_points'], decision: null, note: 'no promotion decision: the version upstream serves (latest figures, role champion)', pinned: null },
    ]);

    // Figures: 8 fraud labels (tp 3, fp 1, fn 1, tn 3; 13 of 16 pairs ordered), 3 price labels (errors 2, -2, 0).
    const labelled = FRAUD.filter(([, l]) => l !== null) as unknown as Array<[number, number]>;
    const logLoss = labelled.reduce((sum, [p, y]) => sum - Math.log(y === 1 ? p : 1 - p), 0) / labelled.length;
    expect(report.figures!.window).toBe('1d');
    const fraud = report.figures!.models.find((m) => m.model === 'fraud')!;
    expect(fraud.task).toBe('binary');
    expect(fraud.lines.map((l) => [l.window, l.window_start_ms, l.window_end_ms, l.open, l.role, l.version])).toEqual([
      ['1d', T0, T0 + 86_400_000, false, 'champion', 'v1'],
      // total ends at the last prediction (T0 + 11 min): its arrival record counts in the window before its label.
      ['total', 0, T0 + 11 * MIN, false, 'champion', 'v1'],
    ]);
    for (const line of fraud.lines) {
      const { label_delay_p50: delay, log_loss: loss, ...exact } = line.figures;
      expect(exact).toEqual({ count: 8, roc_auc: 13 / 16, precision: 0.75, recall: 0.75, label_coverage: 1 });
      expect(loss).toBeCloseTo(logLoss, 12);
      expect(Math.abs(delay! - DELAY) / DELAY).toBeLessThan(0.01); // a sketch with 1% relative error
    }
    const price = report.figures!.models.find((m) => m.model === 'price')!;
    expect(price.task).toBe('regression');
    expect(price.lines.map((l) => [l.window, l.role, l.version, l.figures.count, l.figures.mae, l.figures.rmse])).toEqual([
      ['1d', 'champion', 'p1', 3, 4 / 3, Math.sqrt(8 / 3)],
      ['total', 'champion', 'p1', 3, 4 / 3, Math.sqrt(8 / 3)],
    ]);

    // Pending joins: every prediction is still within its join window (labelled ones wait for corrections).
    const expectedPending: Record<string, number> = {};
    for (const p of predictions) {
      const partition = String(partitionForKey(Buffer.from(p.prediction_id), PARTITIONS));
      expectedPending[partition] = (expectedPending[partition] ?? 0) + 1;
    }
    expect(report.pending).toEqual({ total: predictions.length, partitions: expectedPending, sources: [{ url: metrics, answer: 'joiner' }] });

    // Lag: end offset minus committed offset, per partition, as the admin API reports them now.
    const lagOf = async (group: string, topic: string) => {
      const committed = new Map((await admin.fetchOffsets({ groupId: group, topics: [topic] }))[0]!.partitions.map((p) => [p.partition, Number(p.offset)]));
      return (await admin.fetchTopicOffsets(topic))
        .map((o) => ({ partition: o.partition, end: Number(o.high), committed: committed.get(o.partition)! >= 0 ? committed.get(o.partition)! : null }))
        .map((p) => ({ ...p, lag: p.end - (p.committed ?? 0) }))
        .sort((a, b) => a.partition - b.partition);
    };
    const groups = [
      ['joiner', [topics.predictions, topics.feedback]],
      ['learner', [topics.labelled]],
      ['promoter', [topics.labelled]],
      ['evaluator', [topics.labelled]],
      ['archive', [topics.predictions]],
      ['registry', [topics.snapshots, topics.promotions]],
    ] as const;
    const expectedLag = [];
    for (const [processor, inputs] of groups) {
      const perTopic = [];
      for (const topic of inputs) {
        const partitions = await lagOf(`${clientId}-${processor}`, topic);
        perTopic.push({ topic, lag: partitions.reduce((s, p) => s + p.lag, 0), partitions });
      }
      const started = perTopic.some((t) => t.partitions.some((p) => p.committed !== null));
      expectedLag.push({ processor, group: `${clientId}-${processor}`, started, lag: perTopic.reduce((s, t) => s + t.lag, 0), topics: perTopic });
    }
    expect(report.lag).toEqual(expectedLag);
    // What those numbers are, by hand.
    const predictionEnds = (await admin.fetchTopicOffsets(topics.predictions)).sort((a, b) => a.partition - b.partition).map((o) => Number(o.high));
    const byName = Object.fromEntries(report.lag.map((g) => [g.processor, g]));
    expect(predictionEnds.reduce((a, b) => a + b, 0)).toBe(predictions.length);
    expect(byName.joiner).toMatchObject({ started: true, lag: 0 });
    expect(byName.registry).toMatchObject({ started: true, lag: 0 });
    expect(byName.archive).toMatchObject({ started: true, lag: predictionEnds[0]! - 1 + predictionEnds[1]! - 2 });
    expect(byName.learner).toMatchObject({ started: false });
    expect(byName.promoter).toMatchObject({ started: false });
    expect(byName.evaluator!.started).toBe(true);
    // labelled-examples is written in transactions: the evaluator commits past the last commit marker, so caught up is 0.
    const labelledWritten = (await admin.fetchTopicOffsets(topics.labelled)).filter((o) => Number(o.high) > 0).length;
    expect(labelledWritten).toBeGreaterThan(0);
    expect(byName.evaluator!.lag).toBe(0);
  });

  it('evaluator.write_partials in run: metric_points_merged gives the binary and the regression model\'s figures as metric_points', async () => {
    const figures = async (table: string, model: string, metrics: string[]) =>
      store.select<{ metric: string; value: number | null }>(
        `SELECT metric, value FROM ${table} WHERE model = '${model}' AND role = 'champion' AND window = 'total' AND segment = '*' AND metric IN (${metrics.map((m) => `'${m}'`).join(', ')}) ORDER BY metric`,
      );
    const fraud = ['accuracy', 'count', 'fp', 'labelled', 'log_loss', 'tp'];
    const merged = await figures('metric_points_merged', 'fraud', fraud);
    expect(merged.map((r) => r.metric)).toEqual(fraud);
    const points = await figures('metric_points FINAL', 'fraud', fraud);
    expect(merged.map((r) => r.value)).toEqual(points.map((r) => r.value));
    // The regression model's partials too: one shard, so its sums are the window's own; r2 through the view's k-way moments' merge within a few ulps.
    const regression = ['count', 'labelled', 'mae', 'mape', 'r2', 'rmse'];
    const price = await figures('metric_points_merged', 'price', regression);
    expect(price.map((r) => r.metric)).toEqual(regression);
    const pricePoints = await figures('metric_points FINAL', 'price', regression);
    expect(pricePoints.map((r) => r.metric)).toEqual(regression);
    price.forEach((r, i) => {
      const expected = pricePoints[i]!.value!;
      if (r.metric === 'r2') expect(Math.abs(r.value! - expected)).toBeLessThanOrEqual(8 * Number.EPSILON * Math.max(1, Math.abs(expected)));
      else expect(r.value, r.metric).toBe(expected);
    });
    expect(readFileSync(child!.logFile, 'utf8')).not.toContain('these models get no partials');
  });

  it('text: an unreachable /metrics leaves pending joins unknown without failing', async () => {
    const port = await freePort();
    const result = await run(['status', '--config', configFile, '--metrics', `http://127.0.0.1:${port}/metrics`], env);
    process.stdout.write(`\n${result.stdout}\n`);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`Pending joins (entries in the joiners' state)\n  unknown (no /metrics at http://127.0.0.1:${port}/metrics: ECONNREFUSED)\n`);
    expect(result.stdout).toMatch(/\n {2}fraud {2}fraud\/lr@1 {2}2025-11-24 00:30 UTC {2}model-promotions \+ champion_history: PROMOTE fraud#1 by feedbackloop-promoter \(test\)\n/);
  });

  it('exit 1 naming the server when Kafka or ClickHouse does not answer; exit 2 without kafka.brokers', async () => {
    const down = await run(['status', '--config', configFile], { ...env, FEEDBACKLOOP_KAFKA_BROKERS: '127.0.0.1:1', FEEDBACKLOOP_CLICKHOUSE_URL: 'http://127.0.0.1:1' });
    expect(down.code).toBe(1);
    expect(down.stderr).toContain('Kafka at 127.0.0.1:1 unreachable: is it running? check kafka.brokers');
    expect(down.stderr).toContain('ClickHouse at http://127.0.0.1:1 unreachable: is it running? check clickhouse.url');
    expect(down.stdout).toContain('Problems\n');

    const missing = await run(['status', '--config', configFile], { ...env, FEEDBACKLOOP_CLICKHOUSE_DATABASE: `${database}_missing` });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain(`ClickHouse at ${STACK.clickhouseUrl} has no database ${database}_missing: check clickhouse.database`);
    expect(missing.stderr).not.toContain('retry');

    const none = await run(['status'], { ...env, FEEDBACKLOOP_KAFKA_BROKERS: '' });
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('config: kafka.brokers: status reads a running deployment');
  });
});
