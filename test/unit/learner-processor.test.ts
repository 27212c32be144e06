/**
 * The learner processor on the in-process log: killed mid-stream (what it
 * had not published is lost) and restarted, it ends with exactly the
 * parameters of an uninterrupted run; snapshots and offsets move together.
 * A publication by its timer that fails is reported (it was swallowed), and
 * its task rebuilt from the last commit: every record is published once.
 */
import { describe, expect, it } from 'vitest';
import { LocalCodec } from '../../adapters/codec/codec.js';
import { MemoryTransport } from '../../adapters/transport/memory.js';
import { ManualClock, systemClock } from '../../core/clock.js';
import { FeedbackloopError } from '../../core/errors.js';
import { parseSnapshotVersion } from '../../core/contracts/index.js';
import type { DeadLetter, LabelledExample, ModelSnapshot } from '../../core/events.js';
import { LearnerProcessor } from '../../processors/learner.js';
import { UNIT_WAIT_MS, waitFor } from '../support/collect.js';
import { labelledStream, T0 } from '../support/labelled.js';

const TOPICS = { labelled: 'labelled', snapshots: 'snapshots', deadLetters: 'dead' };
const codecs = {
  labelled: new LocalCodec<LabelledExample>('LabelledExample'),
  snapshot: new LocalCodec<ModelSnapshot>('ModelSnapshot'),
  deadLetter: new LocalCodec<DeadLetter>('DeadLetter'),
};

async function setup(): Promise<MemoryTransport> {
  const log = new MemoryTransport();
  await log.ensureTopics([
    { name: TOPICS.labelled, partitions: 2 },
    { name: TOPICS.snapshots, partitions: 2, compacted: true },
    { name: TOPICS.deadLetters, partitions: 1 },
  ]);
  return log;
}

async function produce(log: MemoryTransport, examples: LabelledExample[]): Promise<void> {
  const producer = await log.producer();
  await producer.send(await Promise.all(examples.map(async (e) => ({ topic: TOPICS.labelled, key: Buffer.from(e.model), value: await codecs.labelled.encode(e) }))));
}

const processor = (log: MemoryTransport, every: number) =>
  new LearnerProcessor({
    transport: log, topics: TOPICS, groupId: 'learner', transactionalIdPrefix: 'learner', codecs,
    learner: { challengersOf: (model) => (model === 'fraud' ? ['logreg', 'ftrl'] : []) },
    snapshotEvery: every, snapshotIntervalMs: 1e12, createdAt: 'event-time', clock: new ManualClock(T0),
  });

/** The newest snapshot per challenger in the topic, by version number. */
async function latestSnapshots(log: MemoryTransport): Promise<Map<string, ModelSnapshot>> {
  const out = new Map<string, ModelSnapshot>();
  for (const record of log.records(TOPICS.snapshots)) {
    const s = await codecs.snapshot.decode(record.value);
    const n = (v: string) => parseSnapshotVersion(v)!.sequence;
    const key = `${s.model}/${s.challenger}`;
    if (!out.has(key) || n(out.get(key)!.version) < n(s.version)) out.set(key, s);
  }
  return out;
}

describe('learner processor', () => {
  it('killed mid-stream and restarted, it publishes exactly the parameters of an uninterrupted run', async () => {
    const examples = labelledStream(3000, 8);
    const half = Math.floor(examples.length / 2);

    const straightLog = await setup();
    await produce(straightLog, examples);
    const straight = processor(straightLog, 250);
    await straight.start();
    await straightLog.whenIdle();
    await straight.stop();

    const log = await setup();
    await produce(log, examples.slice(0, half));
    const first = processor(log, 250);
    await first.start();
    await log.whenIdle();
    const committed = (await log.committedOffsets('learner', TOPICS.labelled)).reduce((sum, o) => sum + o.offset, 0);
    await first.abandon();
    await produce(log, examples.slice(half));
    const second = processor(log, 250);
    await second.start();
    await log.whenIdle();
    await second.stop();

    expect(committed).toBeGreaterThan(0);
    expect(committed).toBeLessThan(half); // Something learned was lost with the kill, and learned again.
    const a = await latestSnapshots(straightLog);
    const b = await latestSnapshots(log);
    expect([...b.keys()].sort()).toEqual(['churn/logreg', 'fraud/ftrl', 'fraud/logreg', 'spam/logreg']);
    for (const [key, s] of a) {
      const t = b.get(key)!;
      expect({ key, parameters: t.parameters, data_hash: t.data_hash, training_count: t.training_count }).toEqual({ key, parameters: s.parameters, data_hash: s.data_hash, training_count: s.training_count });
    }
    // Corrections are learned as new examples (every ninth example has one): training_count counts both.
    const fraud = examples.filter((e) => e.model === 'fraud');
    expect(a.get('fraud/logreg')!.training_count).toBe(fraud.length);
    expect(a.get('fraud/logreg')!.parent_version).toMatch(/^fraud\/logreg@\d+$/);
  });

  it('a schema registry that is down while it restores is not "no snapshot": the task does not open (no version number is reused)', async () => {
    const log = await setup();
    await produce(log, labelledStream(600, 3));
    const first = processor(log, 100);
    await first.start();
    await log.whenIdle();
    await first.stop();
    const published = log.records(TOPICS.snapshots).length;
    expect(published).toBeGreaterThan(0);
    await produce(log, labelledStream(100, 4));
    // The registry answers nothing now: decoding a snapshot fails in a way a retry can mend.
    const down = Object.assign(Object.create(codecs.snapshot) as typeof codecs.snapshot, {
      decode: async () => {
        throw new FeedbackloopError('schema registry unreachable', { retriable: true });
      },
    });
    const second = new LearnerProcessor({
      transport: log, topics: TOPICS, groupId: 'learner', transactionalIdPrefix: 'learner', codecs: { ...codecs, snapshot: down },
      learner: { challengersOf: (model) => (model === 'fraud' ? ['logreg', 'ftrl'] : []) },
      snapshotEvery: 100, snapshotIntervalMs: 1e12, createdAt: 'event-time', clock: new ManualClock(T0),
    });
    await second.start();
    await expect(second.done).rejects.toThrow('schema registry unreachable');
    expect(log.records(TOPICS.snapshots)).toHaveLength(published);
  });

  it('publishes the rest of a batch within the snapshot interval when no more records come', async () => {
    const log = await setup();
    await produce(log, labelledStream(400, 2).filter((e) => e.model === 'fraud').slice(0, 120));
    const p = new LearnerProcessor({
      transport: log, topics: TOPICS, groupId: 'learner', transactionalIdPrefix: 'learner', codecs, learner: {},
      snapshotEvery: 50, snapshotIntervalMs: 200, createdAt: 'clock', clock: systemClock,
    });
    await p.start();
    await log.whenIdle();
    const committed = async () => (await log.committedOffsets('learner', TOPICS.labelled)).reduce((sum, o) => sum + o.offset, 0);
    expect(await committed()).toBe(100); // Two publications of 50 inside the batch; 20 left.
    // Published by the interval's timer (no record comes to prompt it); waited for, not slept on: a
    // fixed sleep of three intervals is not enough on a loaded machine.
    await waitFor(async () => (await committed()) === 120, 'the timer to publish the last 20', UNIT_WAIT_MS, 10);
    await p.stop();
  });
  /**
   * Fraud examples, and a learner publishing every 50 and on its timer, whose clock stands still until
   * `due()` (the timer checks every 50 ms but publishes nothing before); what its observer heard.
   */
  async function timed(log: MemoryTransport) {
    await produce(log, labelledStream(400, 2).filter((e) => e.model === 'fraud').slice(0, 120));
    const reported: unknown[] = [];
    const clock = new ManualClock(T0);
    const p = new LearnerProcessor({
      transport: log, topics: TOPICS, groupId: 'learner', transactionalIdPrefix: 'learner', codecs, learner: {},
      snapshotEvery: 50, snapshotIntervalMs: 200, createdAt: 'clock', clock,
      observer: { commitFailed: (_processor, error) => reported.push(error) },
    });
    await p.start();
    await log.whenIdle();
    const committed = async () => (await log.committedOffsets('learner', TOPICS.labelled)).reduce((sum, o) => sum + o.offset, 0);
    expect(await committed()).toBe(100); // Two publications of 50 inside the batch; 20 wait for the timer.
    return { p, reported, committed, due: () => clock.advance(1_000) };
  }

  async function snapshotSequences(log: MemoryTransport): Promise<Map<string, number[]>> {
    const versions = new Map<string, number[]>();
    for (const record of log.records(TOPICS.snapshots)) {
      const s = await codecs.snapshot.decode(record.value);
      versions.set(s.challenger, [...(versions.get(s.challenger) ?? []), parseSnapshotVersion(s.version)!.sequence]);
    }
    return versions;
  }

  it("a timer's publication fenced while the partition is still held (the transaction timeout) is reported, and the task rebuilt: every record published once", async () => {
    const log = await setup();
    const { p, reported, committed, due } = await timed(log);
    // The broker's abort of a timed-out transaction, as the memory log can make it: another producer takes the ids.
    await log.transactionalProducer('learner-0');
    await log.transactionalProducer('learner-1');
    // The rebuilt task's 20 are pending from the clock's time then: it moves on at each poll.
    await waitFor(async () => (due(), (await committed()) === 120), 'the rebuilt task to publish the last 20', UNIT_WAIT_MS, 10);
    await p.stop();
    expect(reported.map((e) => (e as Error).name)).toEqual(['FencedCommitError']);
    // Each challenger's versions are consecutive from 1: the fenced publication took none, none was published twice.
    const versions = await snapshotSequences(log);
    expect(versions.size).toBeGreaterThan(0);
    for (const list of versions.values()) expect(list).toEqual(list.map((_, i) => i + 1));
  });

  it("a timer's publication that fails is reported each time, and published once the failure passes (a broker outage)", async () => {
    const log = await setup();
    let refuse = false;
    const open = log.transactionalProducer.bind(log);
    log.transactionalProducer = async (id) => {
      const producer = await open(id);
      return {
        sendWithOffsets: async (records, commit) => {
          if (refuse) throw new FeedbackloopError('the broker is down (test)');
          return producer.sendWithOffsets(records, commit);
        },
        close: () => producer.close(),
      };
    };
    const { p, reported, committed, due } = await timed(log);
    refuse = true;
    await waitFor(() => (due(), reported.length >= 3), 'three failed publications reported', UNIT_WAIT_MS, 10);
    expect(await committed()).toBe(100);
    refuse = false;
    await waitFor(async () => (due(), (await committed()) === 120), 'the last 20 published once the broker is back', UNIT_WAIT_MS, 10);
    await p.stop();
    expect(new Set(reported.map((e) => (e as Error).message.includes('the broker is down (test)')))).toEqual(new Set([true]));
    for (const list of (await snapshotSequences(log)).values()) expect(list).toEqual(list.map((_, i) => i + 1));
  });
});
