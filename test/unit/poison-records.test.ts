/**
 * The poison-record policy of the partition task: a record that makes a
 * processor throw (after it decoded and validated) is dead-lettered with the
 * stage, the error and the record, and everything else goes on, exactly once;
 * errors a retry can mend are retried, and systemic ones (or a run of
 * failures that looks like a fault of the processor) still stop it.
 *
 * Driven on the in-process log with processors of our own whose failures we
 * choose: the three ways a processor commits (a transaction per batch, a
 * transaction every n records, consumer offsets after a sink), and an
 * event-time aligned task over two inputs.
 */
import { describe, expect, it } from 'vitest';
import { MemoryTransport } from '../../adapters/transport/memory.js';
import type { LogRecord, PartitionBatch } from '../../adapters/transport/transport.js';
import { FeedbackloopError } from '../../core/errors.js';
import type { DeadLetter } from '../../core/events.js';
import { offsetsOf, PartitionTasks, type PartitionWork, type PoisonOptions } from '../../processors/partition-tasks.js';
import { UNIT_WAIT_MS, waitFor } from '../support/collect.js';

const IN = 'in';
const OTHER = 'other';
const OUT = 'out';
const DLQ = 'dlq';

async function setUp(): Promise<MemoryTransport> {
  const log = new MemoryTransport();
  await log.ensureTopics([{ name: IN, partitions: 1 }, { name: OTHER, partitions: 1 }, { name: OUT, partitions: 1 }, { name: DLQ, partitions: 1 }]);
  return log;
}

/** `count` records "<topic>:<i>" on partition 0 of `topic`, timestamps from `t0` in steps of 2. */
async function produce(log: MemoryTransport, topic: string, count: number, t0 = 0): Promise<void> {
  const producer = await log.producer();
  await producer.send(Array.from({ length: count }, (_, i) => ({ topic, partition: 0, key: null, value: Buffer.from(`${topic}:${i}`), timestamp: t0 + 2 * i })));
}

const text = (r: LogRecord) => r.value!.toString();
const outputs = (log: MemoryTransport) => log.records(OUT).map(text);

/** Dead letters on the DLQ topic, as JSON (the test's own encoding). */
const letters = (log: MemoryTransport): DeadLetter[] => log.records(DLQ).map((r) => JSON.parse(r.value!.toString()) as DeadLetter);

/** Exactly-once dead letters: the test's own encoding of a letter, on DLQ. */
const toTopic = (seen: DeadLetter[] = []): PoisonOptions => ({
  stage: 'copier',
  encode: async (letter) => ({ topic: DLQ, key: null, value: Buffer.from(JSON.stringify({ ...letter, key: null, value: letter.value?.toString() })) }),
  onPoisoned: (letter) => void seen.push(letter),
});

interface Seen {
  opened: number;
  /** Records whose effect a commit made durable. */
  state: string[];
}

/**
 * Copies records to OUT, throwing on those `bad` names (before any effect);
 * commits every `every` records (1: each batch) in a transaction. Its state
 * (records applied) is restored as what was committed.
 */
function copier(seen: Seen, bad: (value: string) => Error | undefined, every = 0): PartitionWork<{ pending: LogRecord[] }> {
  return {
    open: async () => {
      seen.opened++;
      return { pending: [] };
    },
    process: async (state, batch, ctx) => {
      for (const record of batch.records) {
        const error = bad(text(record));
        if (error) throw error;
        state.pending.push(record);
      }
      if (every > 0 && state.pending.length < every) return;
      await ctx.commit(state.pending.map((r) => ({ topic: OUT, key: null, value: r.value })), offsetsOf(batch));
      state.pending = [];
    },
  };
}

const poisonAt = (...names: string[]) => (value: string) => (names.includes(value) ? new Error(`cannot handle ${value}`) : undefined);

async function tasks(log: MemoryTransport, work: PartitionWork<{ pending: LogRecord[] }>, extra: Partial<ConstructorParameters<typeof PartitionTasks>[0]> = {}, topics = [IN]) {
  const t = new PartitionTasks({ transport: log, groupId: 'g', topics, transactionalIdPrefix: 't', work, poison: toTopic(), ...extra });
  await t.start();
  return t;
}

describe('poison records', () => {
  it('one record that makes the processor throw is dead-lettered with its stage and error; the rest is processed exactly once', async () => {
    const log = await setUp();
    await produce(log, IN, 50);
    const seen = { opened: 0, state: [] };
    const reported: DeadLetter[] = [];
    const t = await tasks(log, copier(seen, poisonAt('in:17')), { poison: toTopic(reported) });
    await log.whenIdle();
    expect(outputs(log)).toEqual(Array.from({ length: 50 }, (_, i) => `in:${i}`).filter((v) => v !== 'in:17'));
    const [letter, ...more] = letters(log);
    expect(more).toEqual([]);
    expect(letter).toMatchObject({ topic: IN, partition: 0, offset: 17, stage: 'copier', error_class: 'processing', error_message: 'cannot handle in:17', value: 'in:17' });
    expect(reported.map((l) => l.offset)).toEqual([17]);
    expect((await log.committedOffsets('g', IN)).map((o) => o.offset)).toEqual([50]);
    // Restored twice: after the batch failed, and after the record failed alone.
    expect(seen.opened).toBe(3);
    expect(t.poisonsKnown()).toBe(0);
    await t.stop();
  });

  it('several poisons in one batch, the first and the last record among them', async () => {
    const log = await setUp();
    await produce(log, IN, 30);
    const bad = ['in:0', 'in:9', 'in:10', 'in:29'];
    const t = await tasks(log, copier({ opened: 0, state: [] }, poisonAt(...bad)));
    await log.whenIdle();
    expect(outputs(log)).toEqual(Array.from({ length: 30 }, (_, i) => `in:${i}`).filter((v) => !bad.includes(v)));
    expect(letters(log).map((l) => l.offset)).toEqual([0, 9, 10, 29]);
    expect((await log.committedOffsets('g', IN)).map((o) => o.offset)).toEqual([30]);
    await t.stop();
  });

  it('a processor that commits every n records loses nothing when a record fails between its commits (the inputs go back to the commit)', async () => {
    const log = await setUp();
    await produce(log, IN, 40);
    const t = await tasks(log, copier({ opened: 0, state: [] }, poisonAt('in:23'), 7));
    await log.whenIdle();
    // What was applied after the last commit was lost with the dropped task and delivered again: each
    // record is out once, in order; the last 4 (36..39) wait for the commit of their group of 7.
    expect(outputs(log)).toEqual(Array.from({ length: 36 }, (_, i) => `in:${i}`).filter((v) => v !== 'in:23'));
    expect(letters(log).map((l) => l.offset)).toEqual([23]);
    await t.stop();
  });

  it('processors that write dead letters themselves (not transactional) get the letter written once, and commit past it', async () => {
    const log = await setUp();
    await produce(log, IN, 20);
    const written: DeadLetter[] = [];
    const applied: string[] = [];
    let tasksRef: PartitionTasks<void> | undefined;
    const work: PartitionWork<void> = {
      open: async () => {},
      process: async (_s, batch: PartitionBatch) => {
        for (const r of batch.records) if (text(r) === 'in:5') throw new TypeError('a bug that only this record reaches');
        for (const r of batch.records) applied.push(text(r));
        await tasksRef!.commitHeld(offsetsOf(batch));
      },
    };
    const t = new PartitionTasks<void>({ transport: log, groupId: 'h', topics: [IN], work, poison: { stage: 'sinky', write: async (l) => void written.push(l) } });
    tasksRef = t;
    await t.start();
    await log.whenIdle();
    expect(written.map((l) => [l.offset, l.stage, l.error_message])).toEqual([[5, 'sinky', 'a bug that only this record reaches']]);
    expect(new Set(applied)).toEqual(new Set(Array.from({ length: 20 }, (_, i) => `in:${i}`).filter((v) => v !== 'in:5')));
    expect((await log.committedOffsets('h', IN)).map((o) => o.offset)).toEqual([20]);
    await t.stop();
  });

  it('an aligned task over two inputs: the poison of either input is dead-lettered, the other input is not lost', async () => {
    const log = await setUp();
    await produce(log, IN, 25, 0);
    await produce(log, OTHER, 25, 1);
    const t = await tasks(log, copier({ opened: 0, state: [] }, poisonAt('in:3', 'other:20')), { align: { maxWaitMs: 50, maxBuffered: 1_000 } }, [IN, OTHER]);
    await log.whenIdle();
    await waitFor(() => outputs(log).length >= 48, '48 outputs', UNIT_WAIT_MS, 5);
    const expected = [];
    for (let i = 0; i < 25; i++) expected.push(`in:${i}`, `other:${i}`);
    expect(outputs(log)).toEqual(expected.filter((v) => v !== 'in:3' && v !== 'other:20'));
    expect(letters(log).map((l) => [l.topic, l.offset])).toEqual([[IN, 3], [OTHER, 20]]);
    await t.stop();
  });

  it('an error a retry can mend is not a poison: the batch is delivered again, and health hears of it', async () => {
    const log = await setUp();
    await produce(log, IN, 10);
    let failures = 2;
    const health: string[] = [];
    const work = copier({ opened: 0, state: [] }, (v) => (v === 'in:4' && failures-- > 0 ? new FeedbackloopError('server busy', { retriable: true }) : undefined));
    // The in-process consumer stops on any error: retriable ones are Kafka's to redeliver. Here the
    // retry is the test's: it starts a new member after each failure.
    const t = await tasks(log, work, { health: { failing: (e) => void health.push(`failing: ${(e as Error).message}`), recovered: () => void health.push('ok') } });
    await expect(t.done).rejects.toThrow('server busy');
    expect(letters(log)).toEqual([]);
    expect(health[0]).toBe('failing: server busy');
  });

  it('a systemic error stops the processor instead of dead-lettering record after record', async () => {
    const log = await setUp();
    await produce(log, IN, 10);
    const t = await tasks(log, copier({ opened: 0, state: [] }, (v) => (v === 'in:2' ? new FeedbackloopError('table missing', { systemic: true }) : undefined)));
    await expect(t.done).rejects.toThrow('table missing');
    expect(letters(log)).toEqual([]);
  });

  it('a run of failures with no record succeeding looks like a fault of the processor: it stops', async () => {
    const log = await setUp();
    await produce(log, IN, 60);
    const t = await tasks(log, copier({ opened: 0, state: [] }, (v) => (Number(v.slice(3)) >= 10 ? new Error('every record fails') : undefined)));
    await expect(t.done).rejects.toThrow(/20 records in a row failed: that is a fault of the processor, not of the records; the last error: every record fails/);
    expect(outputs(log)).toEqual(Array.from({ length: 10 }, (_, i) => `in:${i}`));
    // The 19 dead-lettered before it stopped were not committed: they are processed (or dead-lettered) again by the next owner.
    expect((await log.committedOffsets('g', IN)).map((o) => o.offset)).toEqual([10]);
  });
});

