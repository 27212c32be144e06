/**
 * A second `feedbackloop run --only joiner` joins the group of a first one
 * that holds all 4 partitions and has joined the first half of a stream.
 * kafkajs rebalances eagerly: every partition of the first member gets a new
 * generation, also the two it keeps. Those tasks had committed everything
 * they processed and nobody committed their partitions meanwhile, so they
 * are kept (re-fenced, no restore from the changelog: the log line
 * `partition task kept across the rebalance`); the two moved partitions are
 * restored by the newcomer. Then the second half of the stream and the ticks
 * that expire what is left: the committed labelled examples, unmatched
 * feedback and dead letters must be exactly what the pure core computes
 * (nothing lost, nothing twice), as in joiner-rebalance.test.ts.
 *
 * 6,000 predictions (~14,000 input records): 17–27 s on the 2-core machine under load.
 * FEEDBACKLOOP_TEST_KEEP_PREDICTIONS sets another size (the README's figure
 * of a kept partition's resume time against a restore was measured with it).
 */
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { uniqueName } from '../support/collect.js';
import { kafkaHarness } from '../support/kafka-harness.js';
import { JOINER_ENV, JoinerProcess, joinerEnvironment, pipelineTopics, removeStateDir, STATE_DIR } from '../support/joiner-process.js';
import {
  checkJoinerOutput, cleanCheck, encodeEvents, GroupProgress, groupAssignments, joinCase, produceHeldBack, waitIdle, waitGroupMembers,
} from '../support/joiner-kafka.js';
import { STACK } from '../support/stack.js';

const PREDICTIONS = Number(process.env.FEEDBACKLOOP_TEST_KEEP_PREDICTIONS ?? 6_000);
const PARTITIONS = 4;
const FIRST_HALF = 0.5;

/** The partition task lines of a `run` log: opened (restored) or kept, with the generation and the time taken. */
function taskLines(logFile: string): Array<{ partition: number; generation: number; kept: boolean; ms: number }> {
  return readFileSync(logFile, 'utf8')
    .split('\n')
    .filter((line) => line.includes('"partition task '))
    .map((line) => JSON.parse(line) as { partition: number; generation: number; ms: number; msg: string })
    .map(({ partition, generation, ms, msg }) => ({ partition, generation, ms, kept: msg.includes('kept') }));
}

describe('joiner: a second instance joins; the first keeps its partitions', () => {
  const kafka = kafkaHarness('joiner-keep-test');

  it('kept partitions are not restored, moved ones are; the output is exactly once', async () => {
    const { transport, admin, producers, processes, passed } = kafka;
    const started = Date.now();
    const figures: Record<string, unknown> = { predictions: PREDICTIONS };
    const prefix = uniqueName('keep');
    const topics = pipelineTopics(prefix);
    const groupId = `${prefix}-joiner`;

    const { ticks, expected, problems, codecs, records, garbage } = await joinCase({
      transport, registry: new SchemaRegistry({ host: STACK.registryUrl }), topics, partitions: PARTITIONS, seed: 7_331, predictions: PREDICTIONS,
    });
    expect(problems).toEqual([]);

    const stateDir = join(STATE_DIR, prefix);
    const env = joinerEnvironment({ clientId: prefix, topics, partitions: PARTITIONS, stateDir, extra: JOINER_ENV });
    const first = await JoinerProcess.start({ name: `${prefix}-first`, env });
    processes.push(first);
    const alive = () => {
      for (const p of processes) if (p.diedOnItsOwn()) throw new Error(`${p.name} exited on its own (${JSON.stringify(p.exit)}); log ${p.logFile}:\n${p.tail()}`);
    };
    await waitGroupMembers(admin, groupId, 1, 60_000);

    // The first half, joined by the first instance alone.
    const producer = await transport.producer();
    producers.push(producer);
    const producing = produceHeldBack(producer, records, { chunk: 2_000, pauseMs: 0, held: Math.floor(FIRST_HALF * records.length) });
    const progress = new GroupProgress(admin, groupId, [topics.predictions, topics.feedback]);
    await progress.waitCommitted(Math.floor(FIRST_HALF * records.length), { timeoutMs: 120_000, check: alive });
    await progress.waitCaughtUp({ timeoutMs: 60_000, check: alive });
    figures.changelogEntries = [...(await new GroupProgress(admin, groupId, [topics.changelog]).ends()).values()].reduce((a, b) => a + b, 0);

    // The second instance joins: two partitions move to it.
    const second = await JoinerProcess.start({ name: `${prefix}-second`, env });
    processes.push(second);
    await waitGroupMembers(admin, groupId, 2, 60_000);
    const assignments = await groupAssignments(admin, groupId, topics.predictions);
    expect([...assignments.values()].map((ps) => ps.length)).toEqual([2, 2]);
    producing.release();
    await producing.done;
    await progress.waitCaughtUp({ timeoutMs: 120_000, check: alive });
    await producer.send(await encodeEvents(ticks, codecs, topics));
    await progress.waitCaughtUp({ timeoutMs: 60_000, check: alive });
    await waitIdle(admin, [topics.labelled, topics.unmatched, topics.deadLetters, topics.changelog], { quietMs: 1_000, timeoutMs: 30_000 });
    for (const p of [first, second]) expect(await p.stop('SIGTERM'), `${p.name} stops cleanly; log ${p.logFile}`).toEqual({ code: 0, signal: null });
    removeStateDir(stateDir);

    const firstLines = taskLines(first.logFile);
    const secondLines = taskLines(second.logFile);
    const initial = Math.min(...firstLines.map((l) => l.generation));
    const kept = firstLines.filter((l) => l.kept);
    const restored = secondLines.filter((l) => !l.kept);
    figures.firstInstance = firstLines;
    figures.secondInstance = secondLines;
    figures.keptMs = kept.map((l) => Math.round(l.ms));
    figures.restoredMs = restored.map((l) => Math.round(l.ms));
    console.log(`joiner-keep figures: ${JSON.stringify(figures)}`);

    // The first instance restored its four partitions once, at its first generation, and kept the two it still holds.
    expect(firstLines.filter((l) => !l.kept).map((l) => [l.partition, l.generation]).sort()).toEqual([0, 1, 2, 3].map((p) => [p, initial]));
    const held = new Set(kept.map((l) => l.partition));
    expect(held.size).toBe(2);
    expect(kept.every((l) => l.generation > initial)).toBe(true);
    // The second instance restored the two others.
    expect(new Set(restored.map((l) => l.partition))).toEqual(new Set([0, 1, 2, 3].filter((p) => !held.has(p))));

    const check = await checkJoinerOutput({ transport, topics, partitions: PARTITIONS, codecs, expected, garbage });
    expect(check).toEqual(cleanCheck(check));
    expect(check.examples.actual).toBeGreaterThan(PREDICTIONS);
    figures.totalMs = Date.now() - started;
    passed.push({ topics: Object.values(topics), groupId });
  }, 180_000);
});
