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
import { RegistryCodec } from '../../adapters/codec/codec.js';
import { ClickHouseStore } from '../../adapters/clickhouse/index.js';
import { KafkaTransport } from '../../adapters/kafka/transport.js';
import type { LabelledExample } from '../../core/events.js';
import { uniqueName } from '../support/collect.js';
import { clickhouseEvaluatorRows, compareEvaluatorRows, EVALUATOR_TEST_ENV, expectedEvaluatorRows } from '../support/evaluator-rows.js';
import { failIfDied, JoinerProcess, pipelineTopics } from '../support/joiner-process.js';
import { chunks, GroupProgress, sleep } from '../support/joiner-kafka.js';
import { labelledStream } from '../support/labelled.js';
import { requireStack, STACK, stackEnvironment } from '../support/stack.js';

const ROOT = join(import.meta.dirname, '..', '..');
const EXAMPLES = 24_000;
const PARTITIONS = 3;
const OUTAGE_MS = 60_000;


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
      ...EVALUATOR_TEST_ENV,
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
    // With the joiner's arrival records (the default): the estimates' and input drift's state goes through the kill and the outage too.
    const examples = labelledStream(EXAMPLES, 2026, { arrivals: true });
    const expected = await expectedEvaluatorRows(examples, env, PARTITIONS);

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

    const actual = await clickhouseEvaluatorRows(store);
    const comparison = compareEvaluatorRows(expected, actual);

    console.log('evaluator-faults figures:', JSON.stringify({
      examples: examples.length, points: expected.points.length, drift_rows: expected.drift.length, feedback_rows: expected.feedback.length,
      committed_at_kill: committedAtKill, committed_during_outage: committedDuringOutage, input_records: ends,
      sink_retries_during_outage: retries, catch_up_after_clickhouse_ms: catchUpMs,
      rows: { ...comparison.compared, audit: actual.auditRows, mismatched: comparison.mismatched, extra: comparison.extra },
      problems: Object.fromEntries(processes.map((p) => [p.name, p.problemSummary()])),
    }, null, 2));

    expect(committedAtKill).toBeGreaterThan(0);
    expect(committedAtKill).toBeLessThan(ends);
    // Consumption held still while ClickHouse was down: the tail was not committed.
    expect(committedDuringOutage).toBeLessThan(ends);
    expect(retries).toBeGreaterThan(0);
    expect(comparison.problems).toEqual({ points: [], drift: [], feedback: [] });
    expect(comparison.extra).toEqual({ points: 0, drift: 0, feedback: 0 });
    expect(actual.auditRows).toBe(examples.filter((x) => !x.arrival).length);
    expect(expected.points.some((p) => p.metric === 'estimated_f1')).toBe(true);
    expect(expected.points.length).toBeGreaterThan(5000);
    expect(expected.drift.some((d) => d.detected)).toBe(true);
  }, 600_000);
});
