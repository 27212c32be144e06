/**
 * One model's evaluation shared by two `run` instances (evaluator.shard_by:
 * prediction; docs/scale-out.md), on the real Kafka and ClickHouse:
 *  - `run --only joiner evaluator` and `run --only evaluator`, one client id
 *    (one evaluator group), sharded: the joiner writes every example also to
 *    the sharded topic keyed by prediction_id; each instance's evaluator
 *    holds one of its 2 partitions and writes partials only;
 *  - `run --only evaluator` with another client id, unsharded (shard_by
 *    model), on labelled_examples: the reference, writing metric_points.
 * One binary model's stream (300 predictions over 5 hours, two segments, an
 * upstream challenger (v2), 1 in 10 left unlabelled, 1 in 4 corrected by an
 * expert, some of those corrected again) and a regression model's (`eta`,
 * 150 predictions shaped alike, labels 1-500 and predictions within 50 of
 * them, corrections moving the label by 25) and a multi-class model's
 * (`triage`, 150 predictions, three classes, no upstream challenger: the
 * joiner takes none for a class model, a correction moving the true class
 * to the next one)
 * through the joiner. Then
 * metric_points_merged gives, for every window the reference wrote a count
 * of, the reference's figures (test/support/merged-points.ts: counts
 * exactly, float sums within the core's tolerance, auc_binned within its
 * bound of roc_auc, the regression figures within regressionTolerance;
 * every class figure of counts exactly, the class log loss and Brier within
 * floatTolerance),
 * from both shards; the sharded instances wrote no metric_points. Keyed by example id, corrections would land in another
 * shard than the example they replace and the merged counts would not be
 * the reference's (checked below on the topic, and by hand: the test then
 * fails). About 20-30 s, most of it starting three processes and the
 * group joins.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { logLevel, type Admin } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClickHouseStore } from '../../adapters/clickhouse/index.js';
import { KafkaTransport } from '../../adapters/kafka/transport.js';
import { partitionForKey } from '../../adapters/transport/partitioner.js';
import { isLabelled } from '../../core/contracts/labelled.js';
import { windowPartialKey, type MetricPoint } from '../../core/evaluate/index.js';
import { type Feedback, type LabelledExample, noFeedbackClasses, noPredictionClasses, type Prediction } from '../../core/events.js';
import { uniqueName } from '../support/collect.js';
import { failIfDied, JOINER_ENV, JoinerProcess, joinerEnvironment, pipelineTopics, STATE_DIR } from '../support/joiner-process.js';
import { GroupProgress, groupAssignments, joinerCodecs, pipelineTopicSpecs, readTopic, waitGroupMembers } from '../support/joiner-kafka.js';
import { byWindow, expectMergedMatchesPoints, type MergedRow } from '../support/merged-points.js';
import { requireStack, STACK } from '../support/stack.js';

const PARTITIONS = 2;
const MODEL = 'hot';
/** The regression model (the config file gives it its task). */
const REGRESSION = 'eta';
/** Bounds on eta's terms: labels in [1, 500], predictions within 50 of the first label, corrections moving it by 25. */
const REGRESSION_BOUNDS = { error: 100, label: 500, minLabel: 1 };
/** The multi-class model (the config file gives it its task and classes). */
const CLASSES_MODEL = 'triage';
const CLASSES = ['low', 'high', 'page|now'];
const MINUTE = 60_000;
const PREDICTIONS = 300;

/**
 * The stream: predictions from 6 hours ago, labels within an hour, corrections (EXPERT_REVIEW outranks USER_CONFIRMED) after them;
 * MODEL's binary (a correction flips the label), REGRESSION's numeric (a correction moves it by 25).
 */
function stream(start: number): { predictions: Prediction[]; feedback: Feedback[] } {
  let seed = 4242;
  const random = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
  const predictions: Prediction[] = [];
  const feedback: Feedback[] = [];
  const numeric = () => 1 + Math.round(random() * 4990) / 10;
  const near = (y: number) => Math.round((y + (random() - 0.5) * 100) * 10) / 10;
  for (let i = 0; i < PREDICTIONS + PREDICTIONS / 2; i++) {
    const regression = i >= PREDICTIONS;
    const model = regression ? REGRESSION : MODEL;
    const timestamp = start + (regression ? 2 * (i - PREDICTIONS) : i) * MINUTE;
    const truth = regression ? numeric() : 0;
    const score = regression ? near(truth) : Math.round(random() * 1000) / 1000;
    const id = `${model}-${i}`;
    predictions.push({
      prediction_id: id, model, model_version: 'v1', timestamp, features: { x: score }, categorical: {}, segments: { region: random() < 0.5 ? 'eu' : 'us' },
      score, threshold: 0.5, shadow_scores: { v2: regression ? near(truth) : Math.round(random() * 1000) / 1000 }, ...noPredictionClasses(),
    });
    if (random() < 0.1) continue;
    const label = regression ? truth : random() < score ? 1 : 0;
    const corrected = regression ? Math.min(500, label + 25) : 1 - label;
    const at = timestamp + Math.floor(random() * 60 * MINUTE);
    const of = (t: number, value: number, type: Feedback['feedback_type']): Feedback => ({ prediction_id: id, timestamp: t, feedback_type: type, label: value, uncertain: false, source: type === 'EXPERT_REVIEW' ? 'analyst' : 'user', notes: null, ...noFeedbackClasses() });
    feedback.push(of(at, label, 'USER_CONFIRMED'));
    if (random() < 0.25) {
      feedback.push(of(at + 10 * MINUTE, corrected, 'EXPERT_REVIEW'));
      if (random() < 0.3) feedback.push(of(at + 20 * MINUTE, label, 'EXPERT_REVIEW'));
    }
  }
  classStream(start, random, predictions, feedback);
  feedback.sort((a, b) => a.timestamp - b.timestamp);
  return { predictions, feedback };
}

/** CLASSES_MODEL's predictions (150, 2 minutes apart) and feedback: a true class, a tenth unlabelled, a quarter corrected to the next class. */
function classStream(start: number, random: () => number, predictions: Prediction[], feedback: Feedback[]): void {
  const scores = () => {
    const raw = CLASSES.map(() => random());
    const sum = raw.reduce((a, b) => a + b, 0);
    return raw.map((r) => Math.round((r / sum) * 1000) / 1000);
  };
  for (let i = 0; i < PREDICTIONS / 2; i++) {
    const id = `${CLASSES_MODEL}-${i}`;
    const timestamp = start + 2 * i * MINUTE;
    const p = scores();
    predictions.push({
      prediction_id: id, model: CLASSES_MODEL, model_version: 'v1', timestamp, features: { x: p[0]! }, categorical: {}, segments: { region: random() < 0.5 ? 'eu' : 'us' },
      score: 0, threshold: 0.5, shadow_scores: {}, ...noPredictionClasses(), class_scores: Object.fromEntries(CLASSES.map((c, k) => [c, p[k]!])),
    });
    if (random() < 0.1) continue;
    const truth = random() < 0.6 ? p.indexOf(Math.max(...p)) : Math.floor(random() * 3);
    const at = timestamp + Math.floor(random() * 60 * MINUTE);
    const of = (t: number, c: number, type: Feedback['feedback_type']): Feedback => ({
      prediction_id: id, timestamp: t, feedback_type: type, label: null, uncertain: false, source: type === 'EXPERT_REVIEW' ? 'analyst' : 'user', notes: null,
      ...noFeedbackClasses(), label_class: CLASSES[c]!,
    });
    feedback.push(of(at, truth, 'USER_CONFIRMED'));
    if (random() < 0.25) feedback.push(of(at + 10 * MINUTE, (truth + 1) % 3, 'EXPERT_REVIEW'));
  }
}

describe('two run instances share one model\'s evaluation (evaluator.shard_by: prediction)', () => {
  const prefix = uniqueName('sharded');
  const topics = pipelineTopics(prefix);
  const sharded = `${prefix}-labelled-examples-sharded`;
  const database = uniqueName('test_sharded').replace(/-/g, '_');
  const children: JoinerProcess[] = [];
  let transport: KafkaTransport;
  let admin: Admin;
  let store: ClickHouseStore;
  let examples: LabelledExample[] = [];
  let shardedRecords: Array<{ example: LabelledExample; partition: number; key: string }> = [];

  const environment = (clientId: string, shardBy: 'model' | 'prediction') =>
    joinerEnvironment({
      clientId, topics, partitions: PARTITIONS,
      extra: {
        ...JOINER_ENV,
        FEEDBACKLOOP_CLICKHOUSE_URL: STACK.clickhouseUrl,
        FEEDBACKLOOP_CLICKHOUSE_DATABASE: database,
        FEEDBACKLOOP_TOPICS_SHARDED_EXAMPLES: sharded,
        FEEDBACKLOOP_EVALUATOR_SHARD_BY: shardBy,
        FEEDBACKLOOP_EVALUATOR_FLUSH_INTERVAL: '200ms',
        // What a sharded evaluator needs off, for both (the reference's figures are then the same set).
        FEEDBACKLOOP_EVALUATOR_ROLLING_SIZE: '0',
        FEEDBACKLOOP_EVALUATOR_DRIFT_REFERENCE_SIZE: '0',
        FEEDBACKLOOP_EVALUATOR_DRIFT_DETECTORS: 'false',
        // Few exact scores and coarse bins: windows switch to bins, and auc_binned differs from roc_auc.
        FEEDBACKLOOP_EVALUATOR_AUC_EXACT_LIMIT: '30',
        FEEDBACKLOOP_EVALUATOR_AUC_BINS: '50',
      },
    });

  beforeAll(async () => {
    await requireStack('kafka', 'registry', 'clickhouse');
    transport = new KafkaTransport({ brokers: STACK.brokers, clientId: uniqueName('sharded-test'), kafka: { logLevel: logLevel.NOTHING } });
    admin = transport.kafka.admin();
    await admin.connect();
    await transport.ensureTopics([...pipelineTopicSpecs(topics, PARTITIONS), { name: sharded, partitions: PARTITIONS }]);
    store = await ClickHouseStore.open({ url: STACK.clickhouseUrl, database, username: 'default', password: '', requestTimeoutMs: 30_000 });
    mkdirSync(STATE_DIR, { recursive: true });
    // One at a time: each runs the ClickHouse migrations at start.
    const config = join(STATE_DIR, `${prefix}.yaml`);
    writeFileSync(config, `models:\n  ${REGRESSION}:\n    task: regression\n  ${CLASSES_MODEL}:\n    task: multiclass\n    classes: ${JSON.stringify(CLASSES)}\n`);
    children.push(await JoinerProcess.start({ name: `${prefix}-a`, env: environment(prefix, 'prediction'), processors: ['joiner', 'evaluator'], config }));
    children.push(await JoinerProcess.start({ name: `${prefix}-b`, env: environment(prefix, 'prediction'), processors: ['evaluator'], config }));
    children.push(await JoinerProcess.start({ name: `${prefix}-ref`, env: environment(`${prefix}-ref`, 'model'), processors: ['evaluator'], config }));
    const check = () => failIfDied(children);
    // Both sharded instances hold one partition each before anything is produced.
    await waitGroupMembers(admin, `${prefix}-evaluator`, 2, 60_000);
    const held = [...(await groupAssignments(admin, `${prefix}-evaluator`, sharded)).values()];
    expect(held.map((p) => p.length)).toEqual([1, 1]);

    const codecs = joinerCodecs(new SchemaRegistry({ host: STACK.registryUrl }), topics);
    const { predictions, feedback } = stream(Date.now() - 6 * 60 * MINUTE);
    const producer = await transport.producer();
    await producer.send(await Promise.all(predictions.map(async (p) => ({ topic: topics.predictions, key: Buffer.from(p.prediction_id), value: await codecs.prediction.encode(p), timestamp: p.timestamp }))));
    await producer.send(await Promise.all(feedback.map(async (f) => ({ topic: topics.feedback, key: Buffer.from(f.prediction_id), value: await codecs.feedback.encode(f), timestamp: f.timestamp }))));
    await producer.close();

    await new GroupProgress(admin, `${prefix}-joiner`, [topics.predictions, topics.feedback]).waitCaughtUp({ timeoutMs: 60_000, check });
    // An evaluator commits its offsets only once its rows are in ClickHouse.
    await new GroupProgress(admin, `${prefix}-evaluator`, [sharded]).waitCaughtUp({ timeoutMs: 60_000, check });
    await new GroupProgress(admin, `${prefix}-ref-evaluator`, [topics.labelled]).waitCaughtUp({ timeoutMs: 60_000, check });
    expect((await transport.endOffsets(topics.deadLetters)).reduce((n, o) => n + o.offset, 0)).toBe(0);
    for (const r of await readTopic(transport, topics.labelled, PARTITIONS)) examples.push(await codecs.labelled.decode(r.value));
    for (const r of await readTopic(transport, sharded, PARTITIONS)) shardedRecords.push({ example: await codecs.labelled.decode(r.value), partition: r.partition, key: r.key!.toString() });
  }, 180_000);

  afterAll(async () => {
    for (const child of children) await child.stop().catch(() => {});
    await admin?.deleteTopics({ topics: [...Object.values(topics), sharded] }).catch(() => {});
    await admin?.disconnect().catch(() => {});
    await transport?.close();
    await store?.command(`DROP DATABASE IF EXISTS ${database}`).catch(() => {});
    await store?.close();
  });

  it('the joiner wrote every example also keyed by prediction_id, on both partitions, each correction with the example it replaces', () => {
    const corrections = examples.filter((e) => e.correction_of !== null);
    expect(corrections.length).toBeGreaterThan(50);
    expect(shardedRecords.map((r) => r.example.example_id).sort()).toEqual(examples.map((e) => e.example_id).sort());
    const partitionOf = new Map(shardedRecords.map((r) => [r.example.example_id, r.partition]));
    for (const r of shardedRecords) {
      expect(r.key).toBe(r.example.prediction_id);
      expect(r.partition).toBe(partitionForKey(Buffer.from(r.key), PARTITIONS));
      if (r.example.correction_of !== null) expect(r.partition).toBe(partitionOf.get(r.example.correction_of));
    }
    expect(new Set(shardedRecords.map((r) => r.partition))).toEqual(new Set([0, 1]));
  });

  /** The model's merged rows against the reference's points, every window the reference counted (see merged-points.ts). */
  async function compareModel(model: string, regression?: typeof REGRESSION_BOUNDS) {
    const points = await store.select<MetricPoint & { window_start_ms: string; window_end_ms: string }>(
      `SELECT model, model_version, role, segment, window, window_start_ms, window_end_ms, metric, value, count FROM metric_points FINAL WHERE model = '${model}'`,
    );
    const reference = new Map<string, MetricPoint>();
    for (const p of points) {
      const point = { ...p, window_start: Number(p.window_start_ms), window_end: Number(p.window_end_ms) };
      reference.set(`${windowPartialKey(point)}\u0000${p.metric}`, point);
    }
    const rows = await store.select<MergedRow>(`SELECT * FROM metric_points_merged WHERE model = '${model}'`);
    // Every window the reference counted, merged from both shards (the sharded instances wrote no points of their own).
    const counted = new Set(points.filter((p) => p.metric === 'count').map((p) => windowPartialKey({ ...p, window_start: Number(p.window_start_ms) })));
    const merged = byWindow(model, rows);
    expect(new Set([...merged.keys()].filter((key) => merged.get(key)!.some((r) => r.metric === 'count' && r.value !== 0)))).toEqual(counted);
    expect(counted.size).toBeGreaterThan(20);
    expect(rows.reduce((m, r) => Math.max(m, Number(r.shards)), 0)).toBe(2);
    const roles = new Set(rows.map((r) => r.role));
    expect(roles.size).toBe(model === CLASSES_MODEL ? 1 : 2);
    const own = rows.filter((r) => counted.has(windowPartialKey({ model, ...r, window_start: Number(r.window_start_ms) })));
    const result = expectMergedMatchesPoints(model, own, (key, metric) => reference.get(`${key}\u0000${metric}`), 2 * examples.length, regression);
    // The total: every label in force counted once.
    const total = rows.find((r) => r.window === 'total' && r.role === 'champion' && r.segment === '*' && r.metric === 'count')!;
    const kind = model === REGRESSION ? 'regression' : model === CLASSES_MODEL ? 'multiclass' : 'binary';
    const inForce = examples.filter((e) => e.model === model && !e.arrival && isLabelled(e, kind) && !examples.some((c) => c.correction_of === e.example_id));
    expect(total.value).toBe(inForce.length);
    return { ...result, metrics: new Set(own.map((r) => r.metric)) };
  }

  it('metric_points_merged of the two instances\' partials gives the unsharded evaluator\'s figures of every window', async () => {
    const { compared, binnedDiffers } = await compareModel(MODEL);
    expect(compared).toBeGreaterThan(500);
    expect(binnedDiffers).toBeGreaterThan(0);
  });

  it('and of the regression model\'s: count, mae, rmse, r2, mape and the champion\'s figures', async () => {
    const { compared, metrics } = await compareModel(REGRESSION, REGRESSION_BOUNDS);
    expect(compared).toBeGreaterThan(200);
    expect([...metrics].sort()).toEqual(['count', 'expired', 'label_coverage', 'label_delay_p50', 'label_delay_p95', 'labelled', 'mae', 'mape', 'r2', 'rmse']);
  });

  it('and of the multi-class model\'s: every class figure (per class, averages, kappa, top-k, the total\'s confusion cells) and the champion\'s', async () => {
    const { compared, metrics } = await compareModel(CLASSES_MODEL);
    expect(compared).toBeGreaterThan(500);
    for (const name of ['accuracy', 'macro_f1', 'cohen_kappa', 'top_k_accuracy', 'log_loss', 'precision[page|now]', 'confusion[page|now|low]', 'label_coverage']) expect(metrics).toContain(name);
  });

  it('each sharded instance wrote the partials of its shard', async () => {
    const kindOf = (model: string) => (model === MODEL ? 'binary' : model === REGRESSION ? 'regression' : 'multiclass');
    for (const model of [MODEL, REGRESSION, CLASSES_MODEL]) {
      const shards = await store.select<{ shard: string; n: string; kinds: string[] }>(`SELECT shard, count() AS n, groupUniqArray(kind) AS kinds FROM metric_partials FINAL WHERE model = '${model}' GROUP BY shard ORDER BY shard`);
      expect(shards.map((s) => Number(s.shard))).toEqual([0, 1]);
      expect(shards.every((s) => Number(s.n) > 20)).toBe(true);
      expect(shards.map((s) => s.kinds)).toEqual([[kindOf(model)], [kindOf(model)]]);
    }
  });
});
