/**
 * Exactly once through crashes, on the real stack: 100,000 predictions and
 * their feedback (241,189 input records) go through `feedbackloop run --only
 * joiner` (a child process on Kafka and the schema registry), which is
 * SIGKILLed at three seeded moments while it processes and restarted each
 * time. The committed contents of labelled-examples, unmatched-feedback and
 * dead-letters must then equal what the pure core computes: nothing
 * missing, nothing twice, nothing else.
 *
 * How the expected output is made unique. Kafka fixes the order inside each
 * partition of each topic, not how the joiner interleaves partition p of
 * `predictions` with partition p of `feedback`, and some outputs depend on
 * it in general (an expert label that arrives before the user's gives #1
 * with the expert's label and no correction; the other way round gives #1
 * and a correction #2). Rather than weakening the comparison to
 * order-independent facts (final label per prediction, ...), the stream is
 * generated so that the output is the same under every interleaving (rules
 * in test/support/streams.ts: all timestamps within six hours, with a 7-day
 * window and a 1-day early-feedback TTL nothing expires while the stream is
 * processed; one prediction's feedback is sent in timestamp order, which is
 * the order the joiner applies it in whether it waited for the prediction or
 * not; re-sends and reused ids follow the original). So every example is
 * compared field by field. The test also computes the expected output under
 * two extreme interleavings (each partition's feedback all first, or its
 * predictions all first) and checks they agree, so a change to the generator
 * that breaks the rules fails here and not as a flaky comparison.
 *
 * Expiry and unmatched feedback are covered by a last phase: once the stream
 * is fully committed, one "tick" prediction per partition, 30 days later in
 * event time, expires every pending entry (unlabelled predictions become
 * examples with label null, waiting feedback becomes unmatched).
 *
 * Garbage bytes (not Avro, truncated Avro, an unknown schema id) on both
 * input topics must come out as dead letters exactly once, with their bytes,
 * as must every rejected event (out-of-range labels and scores, reused ids,
 * label-less expert reviews, events stamped a century ahead).
 *
 * The kill moments are seeded as shares of the input committed (plus a
 * seeded delay of up to 300 ms), so they fall while the joiner is busy; the
 * wall-clock instants vary from run to run, which is the point. The figures
 * (per-process throughput, restart times, phase durations, what each child
 * logged at warn/error) are printed; the logs are in .cache/test-logs/.
 * About 100 s on the 2-core CI machine, of which ~30 s are the 10-second
 * session timeouts after the kills and ~30 s the final expiry phase.
 */
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { logLevel, type Admin } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KafkaTransport } from '../../adapters/kafka/transport.js';
import type { LogProducer } from '../../adapters/transport/transport.js';
import { join } from 'node:path';
import { uniqueName } from '../support/collect.js';
import { DAY, JOINER_ENV, JOINER_OPTIONS, JoinerProcess, joinerEnvironment, pipelineTopics, removeStateDir, STATE_DIR } from '../support/joiner-process.js';
import {
  checkJoinerOutput, chunks, cleanCheck, encodeEvents, GroupProgress, joinerCodecs, pipelineTopicSpecs, sleep, waitIdle,
} from '../support/joiner-kafka.js';
import { expectedJoin, generateJoinStream, interleavingProblems, Rng, tickEvents } from '../support/streams.js';
import { requireStack, STACK } from '../support/stack.js';

const SEED = 20_251_124;
const PREDICTIONS = 100_000;
const PARTITIONS = 3;
const KILLS = 3;
/** Records per send of the test's producer. */
const CHUNK = 2_000;

describe('joiner: SIGKILLed three times mid-stream, restarted each time', () => {
  let transport: KafkaTransport;
  let admin: Admin;
  let producer: LogProducer | undefined;
  const processes: JoinerProcess[] = [];
  /** Topics and groups of the tests that passed, deleted at the end (deleting them earlier upsets kafkajs clients that still track them). */
  const passed: Array<{ topics: string[]; groupId: string }> = [];

  beforeAll(async () => {
    await requireStack('kafka', 'registry');
    transport = new KafkaTransport({ brokers: STACK.brokers, clientId: uniqueName('joiner-crash-test'), kafka: { logLevel: logLevel.NOTHING } });
    admin = transport.kafka.admin();
    await admin.connect();
  });

  afterAll(async () => {
    for (const p of processes) await p.stop('SIGKILL', 5_000).catch(() => {});
    await producer?.close().catch(() => {});
    await transport?.close();
    if (passed.length > 0) {
      await admin.deleteTopics({ topics: passed.flatMap((p) => p.topics) }).catch(() => {});
      await admin.deleteGroups(passed.map((p) => p.groupId)).catch(() => {});
    }
    await admin?.disconnect();
  });

  it(
    `${PREDICTIONS} predictions and their feedback: the committed labelled examples, unmatched feedback and dead letters are exactly the expected ones`,
    async () => {
      const started = Date.now();
      const figures: Record<string, unknown> = {};
      const prefix = uniqueName('crash');
      const topics = pipelineTopics(prefix);
      const clientId = prefix;
      const groupId = `${clientId}-joiner`;

      // The stream and what the pure core makes of it, under three interleavings.
      const stream = generateJoinStream({ seed: SEED, predictions: PREDICTIONS });
      const ticks = tickEvents(PARTITIONS, stream.baseTime + 30 * DAY);
      const expected = expectedJoin([stream.events, ticks], PARTITIONS, JOINER_OPTIONS, 'as-sent');
      expect(interleavingProblems([stream.events, ticks], PARTITIONS, JOINER_OPTIONS, expected)).toEqual([]);
      expect(expected.counters.corrections).toBeGreaterThan(20_000);
      expect(stream.scenarios['early-feedback']).toBeGreaterThan(5_000);
      figures.inputRecords = stream.events.length;
      figures.expected = { examples: expected.examples.size, unmatched: expected.unmatched.length, deadLetters: expected.rejections.length + expected.garbage.length };
      figures.expectedMs = Date.now() - started;

      // Topics (the changelog compacted) and the records, Avro through the registry.
      await transport.ensureTopics(pipelineTopicSpecs(topics, PARTITIONS));
      const codecs = joinerCodecs(new SchemaRegistry({ host: STACK.registryUrl }), topics);
      let mark = Date.now();
      const records = await encodeEvents(stream.events, codecs, topics);
      const garbage = new Map(stream.events.flatMap((e, i) => (e.kind === 'garbage' ? [[e.key, records[i]!.value!] as const] : [])));
      figures.encodeMs = Date.now() - mark;

      const stateDir = join(STATE_DIR, clientId);
      const env = joinerEnvironment({ clientId, topics, partitions: PARTITIONS, stateDir, extra: JOINER_ENV });
      const progress = new GroupProgress(admin, groupId, [topics.predictions, topics.feedback]);
      let generation = 0;
      const launch = async () => {
        const proc = await JoinerProcess.start({ name: `${prefix}-${generation++}`, env });
        processes.push(proc);
        return proc;
      };
      const alive = (proc: JoinerProcess) => () => {
        if (proc.diedOnItsOwn()) throw new Error(`${proc.name} exited on its own (${JSON.stringify(proc.exit)}); log ${proc.logFile}:\n${proc.tail()}`);
      };

      mark = Date.now();
      let proc = await launch();
      figures.firstStartMs = Date.now() - mark;

      // Produce in chunks while the joiner runs.
      producer = await transport.producer();
      const producingStarted = Date.now();
      let producedAt = 0;
      const producing = (async () => {
        for (const chunk of chunks(records, CHUNK)) await producer!.send(chunk);
        producedAt = Date.now();
      })();
      producing.catch(() => {});

      // Three seeded moments, as fractions of the input committed, each plus a seeded delay of up to 300 ms.
      const rng = new Rng(SEED + 1);
      const moments = Array.from({ length: KILLS }, (_, k) => 0.1 + 0.25 * k + rng.uniform(0, 0.15)).map((f) => ({ fraction: f, delayMs: rng.int(0, 300) }));
      const restarts: Array<Record<string, number>> = [];
      /** Processing rate of each process, from its first commit to its kill (records committed per second). */
      const segments: Array<{ records: number; ms: number; perSecond: number }> = [];
      let segmentStart = { at: Date.now(), committed: 0 };
      for (const moment of moments) {
        const threshold = Math.floor(moment.fraction * records.length);
        for (;;) {
          alive(proc)();
          if ((await progress.committedTotal()) >= threshold) break;
          await sleep(100);
        }
        await sleep(moment.delayMs);
        const committedAtKill = await progress.committedTotal();
        proc.kill('SIGKILL');
        const killedAt = Date.now();
        const segment = { records: committedAtKill - segmentStart.committed, ms: killedAt - segmentStart.at };
        segments.push({ ...segment, perSecond: Math.round((segment.records / segment.ms) * 1000) });
        await proc.exited;
        proc = await launch();
        const runningAt = Date.now();
        // Resumed = the new process committed its first batch.
        for (;;) {
          alive(proc)();
          if ((await progress.committedTotal()) > committedAtKill) break;
          if (Date.now() - runningAt > 120_000) throw new Error(`${proc.name} committed nothing within 120 s of its start; log ${proc.logFile}:\n${proc.tail()}`);
          await sleep(50);
        }
        restarts.push({ fraction: Math.round(moment.fraction * 1000) / 1000, committedAtKill, startMs: runningAt - killedAt, resumedAfterKillMs: Date.now() - killedAt });
        segmentStart = { at: Date.now(), committed: await progress.committedTotal() };
      }
      figures.restarts = restarts;

      await producing;
      figures.produceMs = producedAt - producingStarted;
      await progress.waitCaughtUp({ timeoutMs: 240_000, check: alive(proc) });
      figures.streamProcessedMs = Date.now() - producingStarted;
      const last = { records: records.length - segmentStart.committed, ms: Date.now() - segmentStart.at };
      segments.push({ ...last, perSecond: Math.round((last.records / last.ms) * 1000) });
      figures.segments = segments;

      // Last phase: the ticks expire everything still pending.
      await producer.send(await encodeEvents(ticks, codecs, topics));
      mark = Date.now();
      await progress.waitCaughtUp({ timeoutMs: 60_000, check: alive(proc) });
      figures.tickPhaseMs = Date.now() - mark;
      // Everything is committed; the joiner must now be idle (nothing more on its outputs) before it is stopped.
      await waitIdle(admin, [topics.labelled, topics.unmatched, topics.deadLetters, topics.changelog], { quietMs: 1_000, timeoutMs: 30_000 });

      const lastEvents = await proc.joinEvents();
      const exit = await proc.stop('SIGTERM');
      expect(exit, `the last joiner stops cleanly on SIGTERM; log ${proc.logFile}`).toEqual({ code: 0, signal: null });

      // The killed processes never closed their on-disk stores.
      figures.stateLeftBehind = removeStateDir(stateDir);

      mark = Date.now();
      const check = await checkJoinerOutput({ transport, topics, partitions: PARTITIONS, codecs, expected, garbage });
      figures.readAndCheckMs = Date.now() - mark;
      figures.lastProcessJoinEvents = lastEvents;
      figures.totalMs = Date.now() - started;
      figures.logs = processes.map((p) => ({ file: p.logFile, exit: p.exit, warningsAndErrors: p.problemSummary() }));
      console.log(`joiner-crash figures: ${JSON.stringify(figures, null, 2)}`);

      expect(check).toEqual(cleanCheck(check));
      // Pinned, so that a change to the generator shows (the comparison above is what matters).
      expect(check.examples.actual).toBe(219_297); // 120,723 examples and 98,574 arrival records
      expect(check.unmatched.actual).toBe(1_929);
      expect(check.deadLetters.actual).toBe(8_022);
      // Passed: its topics go in afterAll (a failed run keeps them for diagnosis).
      passed.push({ topics: Object.values(topics), groupId });
    },
    360_000,
  );
});
