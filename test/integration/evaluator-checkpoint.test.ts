/**
 * The evaluator restarted after a long-ish history on the real stack (issue
 * 13): it resumes each partition from its checkpoint, re-reads only the
 * tail after it, and the figures in ClickHouse equal, key for key, those of
 * an uninterrupted run.
 *
 * 60,000 labelled examples (test/support/labelled.ts: 3 models over 14 days
 * of event time, every ninth label corrected; 2 partitions: fraud and spam
 * in 0, churn in 1). A `feedbackloop run --only evaluator` child (ClickHouse,
 * evaluator.checkpoint_interval 1s, flush every 1s or 2,000 examples) reads
 * the first 90% and is SIGKILLed once 75% is committed; a second child
 * (same group) takes over, restores each partition from its checkpoint
 * (again at each rebalance while the group drops the killed member), then
 * the rest is produced and it catches up and stops. A third child of the
 * same group with checkpoints off (evaluator.checkpoint_interval 0s) then
 * rebuilds each partition from its start: the full re-read the checkpoint
 * saves, measured on the same stack. The `partition state re...` log lines
 * give what each re-read and how long its restore took; figures are
 * printed, logs are in .cache/test-logs/.
 */
import { readFileSync } from 'node:fs';
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RegistryCodec } from '../../adapters/codec/codec.js';
import { ClickHouseStore } from '../../adapters/clickhouse/index.js';
import { buildConfig } from '../../adapters/config/index.js';
import { partitionForKey } from '../../adapters/transport/partitioner.js';
import type { OutgoingRecord } from '../../adapters/transport/transport.js';
import type { LabelledExample } from '../../core/events.js';
import { childSuite } from '../support/child-suite.js';
import { uniqueName } from '../support/collect.js';
import { clickhouseEvaluatorRows, compareEvaluatorRows, EVALUATOR_TEST_ENV, expectedEvaluatorRows } from '../support/evaluator-rows.js';
import { failIfDied, JoinerProcess, joinerEnvironment, pipelineTopics } from '../support/joiner-process.js';
import { CheckpointAssembler } from '../../processors/checkpoint.js';
import { GroupProgress, produceHeldBack, readTopic, takeOver, waitGroupMembers } from '../support/joiner-kafka.js';
import { labelledStream } from '../support/labelled.js';
import { requireStack, STACK } from '../support/stack.js';

const PARTITIONS = 2;
/** 54,000 examples and 6,000 expert corrections. */
const BASE_EXAMPLES = 54_000;
/** Produced before the kill, and committed when it comes (shares of all records). */
const BEFORE_KILL = 0.9;
const KILL_AT = 0.75;
/** A restore from a checkpoint must take less than this per partition. */
const RESTORE_BOUND_MS = 5_000;

/** The evaluator settings of the children (environment) and of the reference run (same config). */
const EVALUATOR_ENV = { ...EVALUATOR_TEST_ENV, FEEDBACKLOOP_EVALUATOR_CHECKPOINT_INTERVAL: '1s' };

interface RestoreLine {
  partition: number;
  from: string;
  reread: number;
  ms: number;
  reason?: string;
}

/** The `partition state restored ...` / `... rebuilt ...` lines `run` logs (runtime/run.ts, observer `restored`). */
function restoreLines(logFile: string): RestoreLine[] {
  const out: RestoreLine[] = [];
  for (const line of readFileSync(logFile, 'utf8').split('\n')) {
    if (line.includes('"msg":"partition state re')) out.push(JSON.parse(line) as RestoreLine);
  }
  return out;
}

describe('evaluator: a restart after a long history resumes from its checkpoint', () => {
  const suite = childSuite('evaluator-checkpoint-test');
  const database = uniqueName('evaluator_ckpt').replace(/-/g, '_');
  let store: ClickHouseStore;

  beforeAll(async () => {
    await requireStack('clickhouse');
    store = await ClickHouseStore.open({ url: STACK.clickhouseUrl, database, username: 'default', password: '', requestTimeoutMs: 30_000 });
  });

  afterAll(async () => {
    await store?.command(`DROP DATABASE IF EXISTS ${database}`).catch(() => {});
    await store?.close();
  });

  it('re-reads only the tail after the checkpoint, in bounded time, and writes the uninterrupted figures', async () => {
    const { transport, admin, processes, passed } = suite;
    const started = Date.now();
    const prefix = uniqueName('evckpt');
    const topics = pipelineTopics(prefix);
    const groupId = `${prefix}-evaluator`;
    await transport.ensureTopics([
      { name: topics.labelled, partitions: PARTITIONS, keepForever: true },
      { name: topics.deadLetters, partitions: PARTITIONS },
      { name: topics.evaluatorCheckpoints, partitions: PARTITIONS, compacted: true },
    ]);
    const clickhouse = { FEEDBACKLOOP_CLICKHOUSE_URL: STACK.clickhouseUrl, FEEDBACKLOOP_CLICKHOUSE_DATABASE: database };
    const env = joinerEnvironment({ clientId: prefix, topics, partitions: PARTITIONS, extra: { ...EVALUATOR_ENV, ...clickhouse } });
    expect(buildConfig({}, env).evaluator.checkpoint_interval).toBe(1000);

    const examples = labelledStream(BASE_EXAMPLES, 2027, { hours: 14 * 24 });
    const expected = await expectedEvaluatorRows(examples, env, PARTITIONS);
    const codec = new RegistryCodec<LabelledExample>(new SchemaRegistry({ host: STACK.registryUrl }), 'LabelledExample', `${topics.labelled}-value`);
    const records: OutgoingRecord[] = [];
    for (const e of examples) records.push({ topic: topics.labelled, key: Buffer.from(e.model), value: await codec.encode(e), timestamp: e.feedback_timestamp ?? e.timestamp });
    // The last record of each partition is held back for the third child (a task opens at its partition's first batch).
    const partitionOf = (r: OutgoingRecord) => partitionForKey(r.key!, PARTITIONS);
    const lastOf = Array.from({ length: PARTITIONS }, () => -1);
    records.forEach((r, i) => (lastOf[partitionOf(r)] = i));
    const late = lastOf.map((i) => records[i]!);
    const history = records.filter((_, i) => !lastOf.includes(i));
    const preparedMs = Date.now() - started;

    // The first child reads the history and is killed.
    const first = await JoinerProcess.start({ name: `${prefix}-first`, env, processors: ['evaluator'] });
    processes.push(first);
    const alive = () => failIfDied(processes);
    await waitGroupMembers(admin, groupId, 1, 60_000);
    const producer = await transport.producer();
    const producing = produceHeldBack(producer, history, { chunk: 2000, pauseMs: 0, held: Math.floor(BEFORE_KILL * history.length) });
    const progress = new GroupProgress(admin, groupId, [topics.labelled]);
    await progress.waitCommitted(Math.floor(KILL_AT * history.length), { timeoutMs: 120_000, check: alive });
    first.kill('SIGKILL');
    const firstExit = await first.exited;
    const atKill = await progress.committed();
    // What the second child finds: per partition, the latest complete checkpoint (processors/checkpoint.ts) and the bytes before it.
    const checkpointsAtKill = await readTopic(transport, topics.evaluatorCheckpoints, PARTITIONS);
    const latestAtKill = Array.from({ length: PARTITIONS }, (_, p) => {
      const assembler = new CheckpointAssembler();
      let bytes = 0;
      const mine = checkpointsAtKill.filter((r) => r.partition === p);
      for (const r of mine) {
        assembler.add(r);
        bytes += r.value?.length ?? 0;
      }
      const found = assembler.result();
      return { partition: p, offset: found.checkpoint?.offsets[topics.labelled] ?? 0, state_bytes: found.checkpoint?.state.length ?? 0, records: mine.length, bytes };
    });

    // The second takes over (once the session timeout drops the first) from the checkpoints, then the rest comes.
    const { child: second, caughtUpMs } = await takeOver({ admin, name: `${prefix}-second`, env, processors: ['evaluator'], processes, producing, progress, alive });
    const secondExit = await second.stop('SIGTERM');
    const ends = await progress.ends();

    // The third, checkpoints off, rebuilds each partition from its start (the re-read a checkpoint saves) when the last records come.
    const third = await JoinerProcess.start({ name: `${prefix}-third`, env: { ...env, FEEDBACKLOOP_EVALUATOR_CHECKPOINT_INTERVAL: '0s' }, processors: ['evaluator'] });
    processes.push(third);
    await waitGroupMembers(admin, groupId, 1, 60_000);
    await producer.send(late);
    await progress.waitCaughtUp({ timeoutMs: 120_000, check: alive });
    const thirdExit = await third.stop('SIGTERM');
    const fullRestores = restoreLines(third.logFile);
    await producer.close();

    const actual = await clickhouseEvaluatorRows(store);
    const comparison = compareEvaluatorRows(expected, actual);
    const checkpointRecords = (await readTopic(transport, topics.evaluatorCheckpoints, PARTITIONS)).length;
    const restores = restoreLines(second.logFile);
    const partitionEnd = (p: number) => ends.get(`${topics.labelled}/${p}`) ?? 0;
    const committedAtKill = (p: number) => atKill.get(`${topics.labelled}/${p}`) ?? 0;

    console.log('evaluator-checkpoint figures:', JSON.stringify({
      records: records.length, partition_ends: Object.fromEntries(ends), committed_at_kill: Object.fromEntries(atKill), checkpoint_records: checkpointRecords, checkpoints_at_kill: latestAtKill,
      restores_from_checkpoint: restores, full_rebuilds: fullRestores, first_restores: restoreLines(first.logFile),
      rows: { ...comparison.compared, audit: actual.auditRows, mismatched: comparison.mismatched, extra: comparison.extra },
      prepared_ms: preparedMs, caught_up_after_takeover_ms: caughtUpMs, total_ms: Date.now() - started,
      exits: { first: firstExit, second: secondExit, third: thirdExit },
      problems: Object.fromEntries(processes.map((p) => [p.name, p.problemSummary()])),
    }, null, 2));

    expect(firstExit).toEqual({ code: null, signal: 'SIGKILL' });
    expect(secondExit, `the second child stops cleanly; log ${second.logFile}`).toEqual({ code: 0, signal: null });
    expect(thirdExit, `the third child stops cleanly; log ${third.logFile}`).toEqual({ code: 0, signal: null });

    // (a) Every partition restored from its checkpoint (at every rebalance). The first restore of each re-read exactly
    // the tail from the latest checkpoint written before the kill up to the commit (none for a checkpoint ahead of it),
    // a small part of its history: about what the first child processed in one checkpoint interval.
    expect([...new Set(restores.map((r) => r.partition))].sort()).toEqual([0, 1]);
    for (const r of restores) {
      expect(r, `log ${second.logFile}`).toMatchObject({ from: 'checkpoint' });
      expect(r.reread).toBeLessThan(committedAtKill(r.partition) / 2);
    }
    for (let p = 0; p < PARTITIONS; p++) {
      const firstRestore = restores.find((r) => r.partition === p)!;
      expect(latestAtKill[p]!.offset).toBeGreaterThan(0);
      expect({ partition: p, reread: firstRestore.reread }).toEqual({ partition: p, reread: Math.max(0, committedAtKill(p) - latestAtKill[p]!.offset) });
    }
    // The full rebuild re-read every record of each partition committed by the second child.
    expect(fullRestores.map((r) => r.partition).sort()).toEqual([0, 1]);
    for (const r of fullRestores) expect(r).toMatchObject({ from: 'start', reason: 'checkpoints are off', reread: partitionEnd(r.partition) });

    // (b) The restore took a bounded time, and re-read less than half of what the full rebuild of the partition did.
    // (Its time is not asserted against the full rebuild's: reading every checkpoint still in the topic's uncompacted
    // log weighs as much as the tail here; both are printed.)
    for (const r of restores) {
      expect(r.ms).toBeLessThan(RESTORE_BOUND_MS);
      expect(r.reread).toBeLessThan(fullRestores.find((f) => f.partition === r.partition)!.reread / 2);
    }

    // (c) The figures in ClickHouse equal those of an uninterrupted run, key for key.
    expect(comparison.problems).toEqual({ points: [], drift: [], feedback: [] });
    expect(comparison.extra).toEqual({ points: 0, drift: 0, feedback: 0 });
    expect(actual.auditRows).toBe(records.length);
    expect(expected.points.length).toBeGreaterThan(5000);
    expect(expected.drift.some((d) => d.detected)).toBe(true);

    passed.push({ topics: Object.values(topics), groupId });
  }, 240_000);
});
