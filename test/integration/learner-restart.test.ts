/**
 * The learner on real Kafka, killed and restarted mid-stream: `feedbackloop
 * run --only learner` (a child process on Kafka and the schema registry)
 * learns a stream of labelled examples while it arrives, is SIGKILLed
 * (what it learned since its last snapshot is lost, an open transaction is
 * aborted by the next owner) and a second child takes over, restores the
 * published snapshots and resumes from the committed offsets. In the end
 * the last snapshot of every (model, challenger) must hold exactly the
 * parameters, data hash and training count of an uninterrupted run of the
 * same processor over the same examples on the in-process log.
 *
 * How many snapshots each run publishes is not compared (the interval
 * timer makes it depend on timing); their chain is: per challenger the
 * committed versions are @1..@n without a gap, each naming the one before
 * as parent, so the restarted child went on from the last snapshot the
 * killed one published. Figures are printed; logs are in .cache/test-logs/.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { logLevel, type Admin } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalCodec, RegistryCodec } from '../../adapters/codec/codec.js';
import { loadConfig, modelKindOf, type Config } from '../../adapters/config/index.js';
import { KafkaTransport } from '../../adapters/kafka/transport.js';
import { MemoryTransport } from '../../adapters/transport/memory.js';
import { ManualClock } from '../../core/clock.js';
import { parseSnapshotVersion } from '../../core/contracts/index.js';
import type { DeadLetter, LabelledExample, ModelSnapshot } from '../../core/events.js';
import type { TrainerOptions } from '../../core/learn/index.js';
import { LearnerProcessor } from '../../processors/learner.js';
import { uniqueName } from '../support/collect.js';
import { failIfDied, JoinerProcess, joinerEnvironment, pipelineTopics } from '../support/joiner-process.js';
import { chunks, GroupProgress, readTopic, sleep } from '../support/joiner-kafka.js';
import { labelledStream, T0 } from '../support/labelled.js';
import { requireStack, STACK } from '../support/stack.js';

/** 18,100 predictions and their expert corrections: 20,112 labelled examples (8,046, 6,033 and 6,033 per model: no partition ends on a multiple of SNAPSHOT_EVERY). */
const PREDICTIONS = 18_100;
const PARTITIONS = 3;
const SNAPSHOT_EVERY = 500;
/** Challengers per model (a map key: only a config file can set it); churn gets the default (logreg). */
const CONFIG_YAML = 'models:\n  fraud:\n    challengers: [logreg, ftrl]\n  spam:\n    challengers: [pa, naive_bayes]\n';

/** The learner options `feedbackloop run` derives from the config (cli/commands/run.ts). */
function learnerOptions(config: Config): Partial<TrainerOptions> {
  return {
    kindOf: (model) => modelKindOf(config, model),
    challengersOf: (model) => config.models[model]?.challengers ?? [],
    trainOnCorrections: config.learner.train_on_corrections,
  };
}

const keyOf = (s: ModelSnapshot) => `${s.model}/${s.challenger}`;
const sequenceOf = (version: string) => parseSnapshotVersion(version)!.sequence;

/** The last snapshot per (model, challenger). */
function latest(snapshots: ModelSnapshot[]): Map<string, ModelSnapshot> {
  const out = new Map<string, ModelSnapshot>();
  for (const s of snapshots) {
    const seen = out.get(keyOf(s));
    if (!seen || sequenceOf(seen.version) < sequenceOf(s.version)) out.set(keyOf(s), s);
  }
  return out;
}

/** What an uninterrupted learner publishes for these examples (same partition count, same options; the final stop publishes the rest). */
async function expectedSnapshots(examples: LabelledExample[], config: Config): Promise<ModelSnapshot[]> {
  const topics = { labelled: 'labelled', snapshots: 'snapshots', deadLetters: 'dead' };
  const log = new MemoryTransport();
  await log.ensureTopics([
    { name: topics.labelled, partitions: PARTITIONS },
    { name: topics.snapshots, partitions: PARTITIONS, compacted: true },
    { name: topics.deadLetters, partitions: 1 },
  ]);
  const codecs = {
    labelled: new LocalCodec<LabelledExample>('LabelledExample'),
    snapshot: new LocalCodec<ModelSnapshot>('ModelSnapshot'),
    deadLetter: new LocalCodec<DeadLetter>('DeadLetter'),
  };
  const producer = await log.producer();
  await producer.send(await Promise.all(examples.map(async (e) => ({ topic: topics.labelled, key: Buffer.from(e.model), value: await codecs.labelled.encode(e) }))));
  const processor = new LearnerProcessor({
    transport: log, topics, groupId: 'expected', transactionalIdPrefix: 'expected', codecs, learner: learnerOptions(config),
    snapshotEvery: config.learner.snapshot_every, snapshotIntervalMs: 1e12, createdAt: 'event-time', clock: new ManualClock(T0),
  });
  await processor.start();
  await log.whenIdle();
  await processor.stop();
  return processor.published;
}

describe('learner: SIGKILLed mid-stream and restarted on real Kafka, it ends with the parameters of an uninterrupted run', () => {
  let transport: KafkaTransport;
  let admin: Admin;
  const processes: JoinerProcess[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'learner-restart-'));

  beforeAll(async () => {
    await requireStack('kafka', 'registry');
    transport = new KafkaTransport({ brokers: STACK.brokers, clientId: uniqueName('learner-restart-test'), kafka: { logLevel: logLevel.NOTHING } });
    admin = transport.kafka.admin();
    await admin.connect();
  });

  afterAll(async () => {
    for (const p of processes) await p.stop('SIGKILL', 5_000).catch(() => {});
    await admin?.disconnect();
    await transport?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('the last snapshot of every challenger equals the uninterrupted one, and the version chain goes on across the restart', async () => {
    const prefix = uniqueName('lrestart');
    const topics = pipelineTopics(prefix);
    const clientId = prefix;
    await transport.ensureTopics([
      { name: topics.labelled, partitions: PARTITIONS, keepForever: true },
      { name: topics.snapshots, partitions: PARTITIONS, compacted: true },
      { name: topics.deadLetters, partitions: PARTITIONS },
    ]);
    const configFile = join(dir, 'feedbackloop.yaml');
    writeFileSync(configFile, CONFIG_YAML);
    const env = joinerEnvironment({
      clientId, topics, partitions: PARTITIONS, stateDir: join(dir, 'state'),
      extra: { FEEDBACKLOOP_LEARNER_SNAPSHOT_EVERY: String(SNAPSHOT_EVERY), FEEDBACKLOOP_LEARNER_SNAPSHOT_INTERVAL: '2s' },
    });
    const config = loadConfig(configFile, env);
    const examples = labelledStream(PREDICTIONS, 4242);
    const expected = latest(await expectedSnapshots(examples, config));

    const registry = new SchemaRegistry({ host: STACK.registryUrl });
    const codec = new RegistryCodec<LabelledExample>(registry, 'LabelledExample', `${topics.labelled}-value`);
    const snapshotCodec = new RegistryCodec<ModelSnapshot>(registry, 'ModelSnapshot', `${topics.snapshots}-value`);
    const producer = await transport.producer();
    const send = async (part: LabelledExample[]) => {
      await producer.send(await Promise.all(part.map(async (e) => ({ topic: topics.labelled, key: Buffer.from(e.model), value: await codec.encode(e), timestamp: e.feedback_timestamp ?? e.timestamp }))));
    };
    const progress = new GroupProgress(admin, `${clientId}-learner`, [topics.labelled]);
    const total = async (offsets: Promise<Map<string, number>>) => [...(await offsets).values()].reduce((a, b) => a + b, 0);
    const start = async (name: string) => {
      const p = await JoinerProcess.start({ name: `${prefix}-${name}`, env, processors: ['learner'], config: configFile });
      processes.push(p);
      return p;
    };
    const alive = () => failIfDied(processes);

    // A head start, then the rest at a steady pace while the children learn: the kill comes
    // while examples arrive, with some learned but not yet published.
    const head = Math.floor(examples.length * 0.1);
    const tail = Math.floor(examples.length * 0.9);
    await send(examples.slice(0, head));
    const first = await start('first');
    await progress.waitCommitted(1, { timeoutMs: 120_000, check: alive });
    const sending = (async () => {
      for (const chunk of chunks(examples.slice(head, tail), 250)) {
        await send(chunk);
        await sleep(60);
      }
    })();
    sending.catch(() => {});
    await progress.waitCommitted(Math.floor(examples.length * 0.35), { timeoutMs: 120_000, check: alive });
    // Not right after a publication: well into the next batch of unpublished examples.
    while ((await total(progress.ends())) - (await progress.committedTotal()) < SNAPSHOT_EVERY * 1.5) {
      alive();
      await sleep(20);
    }
    first.kill('SIGKILL');
    await first.exited;
    const killedAt = Date.now();
    const committedAtKill = await progress.committedTotal();
    const endsAtKill = await total(progress.ends());

    // Its consumer joins once the group has dropped the killed member (session timeout).
    const second = await start('second');
    const runningAfterKillMs = Date.now() - killedAt;
    await sending;
    await progress.waitCaughtUp({ timeoutMs: 120_000, check: alive });
    const caughtUpAfterKillMs = Date.now() - killedAt;
    // The last examples in one go: big batches, snapshotEvery crossed inside them, and a rest
    // (no partition ends on a multiple of it) that only the interval timer publishes.
    await send(examples.slice(tail));
    const ends = await total(progress.ends());
    const tailPublishedMs = await progress.waitCaughtUp({ timeoutMs: 30_000, check: alive });
    const exit = await second.stop('SIGTERM');

    const published: ModelSnapshot[] = [];
    for (const record of await readTopic(transport, topics.snapshots, PARTITIONS)) published.push(await snapshotCodec.decode(record.value));
    const deadLetters = await readTopic(transport, topics.deadLetters, PARTITIONS);
    // The first child was dead before the second started: created_at (the children's clock) tells them apart.
    const byFirst = published.filter((s) => s.created_at < killedAt);
    const bySecond = published.filter((s) => s.created_at >= killedAt);
    const actual = latest(published);

    // Per challenger: versions @1..@n once each, each naming the one before (none lost, none twice).
    const chainProblems: string[] = [];
    const continuation: Record<string, { first_last: string | null; second_first: string | null; its_parent: string | null }> = {};
    for (const key of new Set(published.map(keyOf))) {
      const mine = published.filter((s) => keyOf(s) === key).sort((a, b) => sequenceOf(a.version) - sequenceOf(b.version));
      mine.forEach((s, i) => {
        const parent = i === 0 ? null : `${key}@${i}`;
        if (s.version !== `${key}@${i + 1}` || s.parent_version !== parent) chainProblems.push(`${s.version} (parent ${s.parent_version}) at position ${i + 1}`);
      });
      const lastOfFirst = byFirst.filter((s) => keyOf(s) === key).at(-1) ?? null;
      const firstOfSecond = bySecond.filter((s) => keyOf(s) === key)[0] ?? null;
      continuation[key] = { first_last: lastOfFirst?.version ?? null, second_first: firstOfSecond?.version ?? null, its_parent: firstOfSecond?.parent_version ?? null };
    }
    const firstSnapshotOfSecond = Math.min(...bySecond.map((s) => s.created_at));

    console.log('learner-restart figures:', JSON.stringify({
      examples: examples.length, input_records: ends, committed_at_kill: committedAtKill, input_at_kill: endsAtKill,
      challengers: expected.size, snapshots: { first_child: byFirst.length, second_child: bySecond.length },
      second_running_after_kill_ms: runningAfterKillMs, first_snapshot_after_kill_ms: firstSnapshotOfSecond - killedAt, caught_up_after_kill_ms: caughtUpAfterKillMs,
      tail_published_after_ms: tailPublishedMs,
      continuation, second_exit: exit, dead_letters: deadLetters.length,
      problems: Object.fromEntries(processes.map((p) => [p.name, p.problemSummary()])),
    }));

    expect(ends).toBe(examples.length);
    expect(committedAtKill).toBeGreaterThan(0);
    expect(committedAtKill).toBeLessThan(endsAtKill);
    expect(exit).toEqual({ code: 0, signal: null });
    expect(deadLetters.length).toBe(0);
    expect([...actual.keys()].sort()).toEqual(['churn/logreg', 'fraud/ftrl', 'fraud/logreg', 'spam/naive_bayes', 'spam/pa']);
    expect([...actual.keys()].sort()).toEqual([...expected.keys()].sort());
    for (const [key, e] of expected) {
      const a = actual.get(key)!;
      expect({ key, parameters: a.parameters, data_hash: a.data_hash, training_count: a.training_count }).toEqual({ key, parameters: e.parameters, data_hash: e.data_hash, training_count: e.training_count });
      expect(e.training_count).toBe(examples.filter((x) => x.model === e.model).length);
    }
    expect(chainProblems.slice(0, 10)).toEqual([]);
    // Both children published; the second went on from the last snapshot the first published.
    for (const [key, c] of Object.entries(continuation)) {
      expect({ key, published_by_first: c.first_last !== null, published_by_second: c.second_first !== null }).toEqual({ key, published_by_first: true, published_by_second: true });
      expect({ key, parent: c.its_parent }).toEqual({ key, parent: c.first_last });
    }
  }, 300_000);
});
