/**
 * The evaluator on the real stack through two faults: `feedbackloop run
 * --only evaluator` (a child process on Kafka, the schema registry and
 * ClickHouse) is SIGKILLed mid-stream and restarted, and later ClickHouse
 * itself is stopped for 60 s while more examples arrive, then started
 * again. The final figures in ClickHouse (read with FINAL: the latest
 * version per key) must equal, key for key, those of an uninterrupted run
 * of the same processor over the same examples on the in-process log.
 *
 * While ClickHouse is down the evaluator must hold still: its committed
 * offsets do not reach the end of the input, it stays alive and in its
 * group (it heartbeats while retrying), and /metrics counts the retries.
 * The figures (time to catch up, retries, what the children logged at
 * warn/error) are printed; logs are in .cache/test-logs/.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { logLevel, type Admin } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RegistryCodec, LocalCodec } from '../../adapters/codec/codec.js';
import { buildConfig } from '../../adapters/config/index.js';
import { ClickHouseStore } from '../../adapters/clickhouse/index.js';
import { KafkaTransport } from '../../adapters/kafka/transport.js';
import { MemoryTransport } from '../../adapters/transport/memory.js';
import { evaluatorOptions } from '../../runtime/settings.js';
import { ManualClock } from '../../core/clock.js';
import type { LabelledExample } from '../../core/events.js';
import type { DriftRecord, FeedbackStat, MetricPoint } from '../../core/evaluate/index.js';
import { EvaluatorProcessor } from '../../processors/evaluator.js';
import { FileEvaluatorSink, driftKey, feedbackKey, pointKey } from '../../sinks/evaluator-rows.js';
import { uniqueName } from '../support/collect.js';
import { failIfDied, JoinerProcess, pipelineTopics } from '../support/joiner-process.js';
import { chunks, GroupProgress, sleep } from '../support/joiner-kafka.js';
import { labelledStream, T0 } from '../support/labelled.js';
import { requireStack, STACK, stackEnvironment } from '../support/stack.js';

const ROOT = join(import.meta.dirname, '..', '..');
const EXAMPLES = 24_000;
const PARTITIONS = 3;
const OUTAGE_MS = 60_000;

/** The evaluator settings of the child (environment) and of the expected run (same config). */
const EVALUATOR_ENV = {
  FEEDBACKLOOP_EVALUATOR_FLUSH_INTERVAL: '1s',
  FEEDBACKLOOP_EVALUATOR_FLUSH_ROWS: '2000',
  FEEDBACKLOOP_EVALUATOR_FAIRNESS_ATTRIBUTES: 'region',
  FEEDBACKLOOP_EVALUATOR_ROLLING_SIZE: '500',
  FEEDBACKLOOP_EVALUATOR_ROLLING_EMIT_EVERY: '50',
  FEEDBACKLOOP_EVALUATOR_DRIFT_REFERENCE_SIZE: '500',
  FEEDBACKLOOP_EVALUATOR_DRIFT_WINDOW_SIZE: '500',
  FEEDBACKLOOP_CLICKHOUSE_REQUEST_TIMEOUT: '5s',
};

function clickhousePid(): number {
  return Number(readFileSync(join(ROOT, '.stack', 'clickhouse.pid'), 'utf8').trim());
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function clickhouseDown(): Promise<boolean> {
  try {
    await fetch(`${STACK.clickhouseUrl}/ping`, { signal: AbortSignal.timeout(1000) });
    return false;
  } catch {
    return true;
  }
}

function startStack(): void {
  execFileSync('bash', [join(ROOT, 'scripts', 'stack', 'start.sh')], { cwd: ROOT, stdio: 'ignore', timeout: 120_000 });
}

/** What an uninterrupted evaluator writes for these examples, per key. */
async function expectedRows(examples: LabelledExample[], env: Record<string, string>) {
  const config = buildConfig({}, env);
  const log = new MemoryTransport();
  await log.ensureTopics([{ name: 'labelled', partitions: PARTITIONS }]);
  const codec = new LocalCodec<LabelledExample>('LabelledExample');
  const producer = await log.producer();
  await producer.send(await Promise.all(examples.map(async (e) => ({ topic: 'labelled', key: Buffer.from(e.model), value: await codec.encode(e) }))));
  const sink = new FileEvaluatorSink('/nonexistent');
  const processor = new EvaluatorProcessor({
    transport: log, topic: 'labelled', groupId: 'expected', codec, evaluator: evaluatorOptions(config), sink,
    deadLetters: { connect: async () => {}, writeBatch: async () => {}, close: async () => {} },
    flush: { maxRows: 1e9, maxBytes: 1e12, intervalMs: 1e12 }, clock: new ManualClock(T0),
  });
  await processor.start();
  await log.whenIdle();
  await processor.stop();
  return sink.final();
}

const num = (v: unknown) => (v === null ? null : Number(v));

describe('evaluator: SIGKILLed once, ClickHouse stopped for 60 s, final figures equal an uninterrupted run', () => {
  let transport: KafkaTransport;
  let admin: Admin;
  let store: ClickHouseStore;
  const processes: JoinerProcess[] = [];
  const database = uniqueName('evaluator_faults').replace(/-/g, '_');

  beforeAll(async () => {
    await requireStack('kafka', 'registry', 'clickhouse');
    transport = new KafkaTransport({ brokers: STACK.brokers, clientId: uniqueName('evaluator-faults-test'), kafka: { logLevel: logLevel.NOTHING } });
    admin = transport.kafka.admin();
    await admin.connect();
    store = await ClickHouseStore.open({ url: STACK.clickhouseUrl, database, username: 'default', password: '', requestTimeoutMs: 30_000 });
  });

  afterAll(async () => {
    for (const p of processes) await p.stop('SIGKILL', 5_000).catch(() => {});
    // Whatever happened, leave ClickHouse running for the tests after this one.
    if (await clickhouseDown()) startStack();
    await store?.command(`DROP DATABASE IF EXISTS ${database}`).catch(() => {});
    await store?.close();
    await admin?.disconnect();
    await transport?.close();
  });

  it('the figures in ClickHouse equal the uninterrupted ones, key for key', async () => {
    const prefix = uniqueName('evfault');
    const topics = pipelineTopics(prefix);
    const clientId = prefix;
    await transport.ensureTopics([
      { name: topics.labelled, partitions: PARTITIONS, keepForever: true },
      { name: topics.deadLetters, partitions: PARTITIONS },
      { name: topics.evaluatorCheckpoints, partitions: PARTITIONS, compacted: true },
    ]);
    const env = stackEnvironment({
      ...EVALUATOR_ENV,
      FEEDBACKLOOP_KAFKA_CLIENT_ID: clientId,
      FEEDBACKLOOP_TOPICS_LABELLED_EXAMPLES: topics.labelled,
      FEEDBACKLOOP_TOPICS_DEAD_LETTERS: topics.deadLetters,
      FEEDBACKLOOP_TOPICS_PREDICTIONS: topics.predictions,
      FEEDBACKLOOP_TOPICS_FEEDBACK: topics.feedback,
      FEEDBACKLOOP_TOPICS_UNMATCHED_FEEDBACK: topics.unmatched,
      FEEDBACKLOOP_TOPICS_JOINER_CHANGELOG: topics.changelog,
      FEEDBACKLOOP_TOPICS_MODEL_SNAPSHOTS: topics.snapshots,
      FEEDBACKLOOP_TOPICS_MODEL_PROMOTIONS: topics.promotions,
      FEEDBACKLOOP_TOPICS_EVALUATOR_CHECKPOINTS: topics.evaluatorCheckpoints,
      FEEDBACKLOOP_TOPICS_PARTITIONS: String(PARTITIONS),
      FEEDBACKLOOP_CLICKHOUSE_DATABASE: database,
      FEEDBACKLOOP_HTTP_PORT: '0',
      FEEDBACKLOOP_HTTP_HOST: '127.0.0.1',
      FEEDBACKLOOP_LOG_LEVEL: 'info',
    });
    const examples = labelledStream(EXAMPLES, 2026);
    const expected = await expectedRows(examples, env);

    const codec = new RegistryCodec<LabelledExample>(new SchemaRegistry({ host: STACK.registryUrl }), 'LabelledExample', `${topics.labelled}-value`);
    const producer = await transport.producer();
    const send = async (part: LabelledExample[]) => {
      for (const chunk of chunks(part, 2000)) {
        await producer.send(await Promise.all(chunk.map(async (e) => ({ topic: topics.labelled, key: Buffer.from(e.model), value: await codec.encode(e), timestamp: e.feedback_timestamp ?? e.timestamp }))));
      }
    };
    const progress = new GroupProgress(admin, `${clientId}-evaluator`, [topics.labelled]);
    const start = async (name: string) => {
      const p = await JoinerProcess.start({ name: `${prefix}-${name}`, env, processors: ['evaluator'] });
      processes.push(p);
      return p;
    };
    const alive = () => failIfDied(processes);

    const cut1 = Math.floor(examples.length * 0.4);
    const cut2 = Math.floor(examples.length * 0.7);
    await send(examples.slice(0, cut1));
    const first = await start('first');
    await progress.waitCommitted(Math.floor(cut1 / 3), { timeoutMs: 120_000, check: alive });
    first.kill('SIGKILL');
    await first.exited;
    const committedAtKill = await progress.committedTotal();

    const second = await start('second');
    await send(examples.slice(cut1, cut2));
    await progress.waitCommitted(Math.floor(cut2 * 0.8), { timeoutMs: 120_000, check: alive });

    // ClickHouse goes away for a minute while the rest of the stream arrives.
    const pid = clickhousePid();
    process.kill(pid, 'SIGTERM');
    const downAt = Date.now();
    // Until the process is gone: while it shuts down it still serves open keep-alive connections.
    while (processAlive(pid) || !(await clickhouseDown())) await sleep(100);
    await send(examples.slice(cut2));
    const ends = [...(await progress.ends()).values()].reduce((a, b) => a + b, 0);
    while (Date.now() - downAt < OUTAGE_MS) {
      alive();
      await sleep(1000);
    }
    const committedDuringOutage = await progress.committedTotal();
    const metrics = await (await fetch(`http://127.0.0.1:${second.port}/metrics`)).text();
    const retries = [...metrics.matchAll(/^feedbackloop_sink_retries_total\{table="(\w+)"\} (\d+)/gm)].reduce((sum, m) => sum + Number(m[2]), 0);
    startStack();
    const upAt = Date.now();
    await progress.waitCaughtUp({ timeoutMs: 180_000, check: alive });
    const catchUpMs = Date.now() - upAt;
    await second.stop('SIGTERM');

    const points = await store.select<Record<string, unknown>>(
      'SELECT model, model_version, role, segment, window, window_start_ms, window_end_ms, metric, value, count FROM metric_points FINAL',
    );
    const drift = await store.select<Record<string, unknown>>(
      'SELECT model, model_version, role, feature, statistic, value, threshold, detected, window, window_start_ms, window_end_ms, at_ms, n FROM drift_events FINAL',
    );
    const feedback = await store.select<Record<string, unknown>>('SELECT model, day_ms, feedback_type, source, labels, corrections, overturned, overturned_by_expert FROM feedback_stats FINAL');
    const audit = await store.select<{ n: string }>('SELECT count() AS n FROM labelled_examples FINAL');

    const actualPoints = new Map<string, MetricPoint>();
    for (const r of points) {
      const p: MetricPoint = {
        model: String(r.model), model_version: String(r.model_version), role: String(r.role), segment: String(r.segment), window: String(r.window),
        window_start: Number(r.window_start_ms), window_end: Number(r.window_end_ms), metric: String(r.metric), value: num(r.value), count: Number(r.count),
      };
      actualPoints.set(pointKey(p), p);
    }
    const actualDrift = new Map<string, DriftRecord>();
    for (const r of drift) {
      const d: DriftRecord = {
        model: String(r.model), model_version: String(r.model_version), role: String(r.role), feature: String(r.feature), statistic: String(r.statistic),
        value: num(r.value), threshold: Number(r.threshold), detected: Number(r.detected) === 1, window: String(r.window),
        window_start: Number(r.window_start_ms), window_end: Number(r.window_end_ms), at: Number(r.at_ms), n: Number(r.n),
      };
      actualDrift.set(driftKey(d), d);
    }
    const actualFeedback = new Map<string, FeedbackStat>();
    for (const r of feedback) {
      const s: FeedbackStat = {
        model: String(r.model), day: Number(r.day_ms), feedback_type: String(r.feedback_type), source: String(r.source),
        labels: Number(r.labels), corrections: Number(r.corrections), overturned: Number(r.overturned), overturned_by_expert: Number(r.overturned_by_expert),
      };
      actualFeedback.set(feedbackKey(s), s);
    }

    const close = (a: number | null, b: number | null) => (a === null || b === null ? a === b : Math.abs(a - b) <= 1e-12 * Math.max(1, Math.abs(b)));
    const pointProblems: string[] = [];
    for (const e of expected.points) {
      const a = actualPoints.get(pointKey(e));
      if (!a) pointProblems.push(`missing ${pointKey(e).replace(/\u0000/g, '|')}`);
      else if (!close(a.value, e.value) || !close(a.count, e.count) || a.window_end !== e.window_end) {
        pointProblems.push(`${pointKey(e).replace(/\u0000/g, '|')}: ${JSON.stringify([a.value, a.count, a.window_end])} != ${JSON.stringify([e.value, e.count, e.window_end])}`);
      }
    }
    const driftProblems = expected.drift.filter((e) => {
      const a = actualDrift.get(driftKey(e));
      return !a || !close(a.value, e.value) || !close(a.threshold, e.threshold) || a.detected !== e.detected || a.at !== e.at;
    });
    const feedbackProblems = expected.feedback.filter((e) => JSON.stringify(actualFeedback.get(feedbackKey(e))) !== JSON.stringify(e));

    console.log('evaluator-faults figures:', JSON.stringify({
      examples: examples.length, points: expected.points.length, drift_rows: expected.drift.length, feedback_rows: expected.feedback.length,
      committed_at_kill: committedAtKill, committed_during_outage: committedDuringOutage, input_records: ends,
      sink_retries_during_outage: retries, catch_up_after_clickhouse_ms: catchUpMs,
      problems: Object.fromEntries(processes.map((p) => [p.name, p.problemSummary()])),
    }, null, 2));

    expect(committedAtKill).toBeGreaterThan(0);
    expect(committedAtKill).toBeLessThan(ends);
    // Consumption held still while ClickHouse was down: the tail was not committed.
    expect(committedDuringOutage).toBeLessThan(ends);
    expect(retries).toBeGreaterThan(0);
    expect(pointProblems.slice(0, 10)).toEqual([]);
    expect(actualPoints.size).toBe(expected.points.length);
    expect(driftProblems.slice(0, 5)).toEqual([]);
    expect(actualDrift.size).toBe(expected.drift.length);
    expect(feedbackProblems.slice(0, 5)).toEqual([]);
    expect(actualFeedback.size).toBe(expected.feedback.length);
    expect(Number(audit[0]!.n)).toBe(examples.length);
    expect(expected.points.length).toBeGreaterThan(5000);
    expect(expected.drift.some((d) => d.detected)).toBe(true);
  }, 600_000);
});
