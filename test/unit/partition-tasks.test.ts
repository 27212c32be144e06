/**
 * The partition task every processor runs on, driven through the interleavings
 * that break a hand-written lifecycle: a previous owner that commits after the
 * new owner's consumer fetched its start offset (kafkajs has no KIP-447), a
 * rebalance in the middle of a stream, a batch that fails half-way, and a
 * commit for a partition this member no longer holds.
 */
import { describe, expect, it } from 'vitest';
import { MemoryTransport } from '../../adapters/transport/memory.js';
import { FeedbackloopError } from '../../core/errors.js';
import { DEFAULT_MAX_BATCH, offsetsOf, PartitionTasks, type PartitionWork, type TaskContext, type TaskOpened } from '../../processors/partition-tasks.js';
import { delegating, scriptedTransport } from '../support/greedy-consumer.js';
import { UNIT_WAIT_MS, waitFor } from '../support/collect.js';

const IN = 'in';
const OUT = 'out';

/** Produces `count` records to partition `partition` of IN, values "<partition>:<i>". */
async function produce(log: MemoryTransport, partition: number, from: number, count: number): Promise<void> {
  const producer = await log.producer();
  const records = Array.from({ length: count }, (_, k) => ({ topic: IN, partition, key: null, value: Buffer.from(`${partition}:${from + k}`), timestamp: from + k }));
  await producer.send(records);
}

/** A processor that copies each input record to OUT in the batch's transaction, and says what it saw. */
function copier(seen: { opened: Array<{ partition: number; resumeAt: number }>; closed: number[]; processed: string[] }, gate?: (ctx: TaskContext) => Promise<void>): PartitionWork<{ partition: number }> {
  return {
    open: async (ctx) => {
      seen.opened.push({ partition: ctx.partition, resumeAt: ctx.resumeAt(IN) });
      return { partition: ctx.partition };
    },
    process: async (_state, batch, ctx) => {
      await gate?.(ctx);
      for (const r of batch.records) seen.processed.push(r.value!.toString());
      const out = batch.records.map((r) => ({ topic: OUT, partition: 0, key: null, value: r.value }));
      await ctx.commit(out, [{ topic: batch.topic, partition: batch.partition, offset: batch.nextOffset }]);
    },
    close: async (state) => void seen.closed.push(state.partition),
  };
}

const newSeen = () => ({ opened: [] as Array<{ partition: number; resumeAt: number }>, closed: [] as number[], processed: [] as string[] });

async function setUp(partitions: number): Promise<MemoryTransport> {
  const log = new MemoryTransport();
  await log.ensureTopics([{ name: IN, partitions }, { name: OUT, partitions: 1 }]);
  return log;
}

const outputs = (log: MemoryTransport) => log.records(OUT).map((r) => r.value!.toString());

/** A started member of group g (transactional ids t-<p>) running `work`; `events` hears each task it opened or kept. */
async function member<S>(log: MemoryTransport, work: PartitionWork<S>, events?: TaskOpened[]): Promise<PartitionTasks<S>> {
  const tasks = new PartitionTasks({ transport: log, groupId: 'g', topics: [IN], transactionalIdPrefix: 't', work, ...(events ? { onOpened: (e: TaskOpened) => void events.push(e) } : {}) });
  await tasks.start();
  return tasks;
}

/** Two partitions of 4 records each, through a first member running `work` (a copier by default). */
async function firstMember<S>(work: (seen: ReturnType<typeof newSeen>) => PartitionWork<S>) {
  const log = await setUp(2);
  await produce(log, 0, 0, 4);
  await produce(log, 1, 0, 4);
  const seen = newSeen();
  const events: TaskOpened[] = [];
  const tasks = await member(log, work(seen), events);
  await log.whenIdle();
  return { log, seen, events, tasks };
}

const openings = (events: TaskOpened[]) => events.map(({ partition, kept }) => ({ partition, kept }));

describe('partition tasks', () => {
  it('a new owner resumes after what the previous owner committed between its fetch and the fencing: every record out once', async () => {
    const log = await setUp(1);
    await produce(log, 0, 0, 10);
    // A holds partition 0 and is inside a batch (held at the gate).
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let inBatch!: () => void;
    const entered = new Promise<void>((resolve) => (inBatch = resolve));
    const a = newSeen();
    const first = new PartitionTasks({ transport: log, groupId: 'g', topics: [IN], transactionalIdPrefix: 't', work: copier(a, async () => { inBatch(); await held; }) });
    await first.start();
    await entered;
    // B joins; A leaves with its batch still open, so B is assigned partition 0 from the committed
    // offset (0). Between B's fetch and B's fencing, A's batch commits 0..9: B must resume at 10.
    let stopping: Promise<void> | undefined;
    const fencing = delegating(log, {
      transactionalProducer: async (id) => {
        release();
        await stopping;
        return log.transactionalProducer(id);
      },
    });
    const b = newSeen();
    const second = new PartitionTasks({ transport: fencing, groupId: 'g', topics: [IN], transactionalIdPrefix: 't', work: copier(b) });
    await second.start();
    stopping = first.stop();
    await stopping;
    await produce(log, 0, 10, 5);
    await log.whenIdle();
    expect(a.processed).toEqual(Array.from({ length: 10 }, (_, i) => `0:${i}`));
    expect(b.opened).toEqual([{ partition: 0, resumeAt: 10 }]);
    expect(b.processed).toEqual(Array.from({ length: 5 }, (_, i) => `0:${10 + i}`));
    expect(outputs(log)).toEqual(Array.from({ length: 15 }, (_, i) => `0:${i}`));
    await second.stop();
  });

  it('a rebalance keeps the settled task of a partition this member keeps (nothing restored) and opens the moved one at its committed offset', async () => {
    const { log, seen: a, events, tasks: first } = await firstMember(copier);
    expect(a.opened).toEqual([{ partition: 0, resumeAt: 0 }, { partition: 1, resumeAt: 0 }]);
    const kept = first.all().find((t) => t.context.partition === 0)!;
    // A second member joins: partition 1 moves to it; A's next batch of partition 0 is of a new generation.
    const b = newSeen();
    const second = await member(log, copier(b));
    await produce(log, 0, 4, 2);
    await produce(log, 1, 4, 2);
    await log.whenIdle();
    // Partition 0's task committed all it processed and nobody committed since: kept, same state, new generation.
    expect(a.opened).toHaveLength(2);
    expect(a.closed).toEqual([]);
    expect(openings(events)).toEqual([{ partition: 0, kept: false }, { partition: 1, kept: false }, { partition: 0, kept: true }]);
    const now = first.all().find((t) => t.context.partition === 0)!;
    expect(now.state).toBe(kept.state);
    expect(now.context.generation).toBe(first.held()[0]!.context.generation);
    expect(b.opened).toEqual([{ partition: 1, resumeAt: 4 }]);
    expect([...outputs(log)].sort()).toEqual(['0:0', '0:1', '0:2', '0:3', '0:4', '0:5', '1:0', '1:1', '1:2', '1:3', '1:4', '1:5']);
    // The stale task of partition 1 is still open at A: a commit through it is fenced, and drops it.
    const stale = first.all().find((t) => t.context.partition === 1)!;
    await expect(stale.context.commit([{ topic: OUT, partition: 0, key: null, value: Buffer.from('stale') }], [])).rejects.toThrow(/fenced/);
    expect(first.all().map((t) => t.context.partition)).toEqual([0]);
    expect(a.closed).toEqual([1]);
    // commitHeld commits only what this member holds now.
    expect(await first.commitHeld([{ topic: IN, partition: 1, offset: 0 }])).toEqual([]);
    expect((await log.committedOffsets('g', IN)).map((o) => o.offset)).toEqual([6, 6]);
    // The kept task's producer fences on: its commits still go through.
    await produce(log, 0, 6, 1);
    await log.whenIdle();
    expect(outputs(log).filter((v) => v.startsWith('0:'))).toEqual(Array.from({ length: 7 }, (_, i) => `0:${i}`));
    await second.stop();
    await first.stop();
  });

  it('a producer fenced while this member still holds its partition (the broker aborted a timed-out transaction) is restored: the member goes on, every record out once', async () => {
    const log = await setUp(2);
    await produce(log, 0, 0, 4);
    await produce(log, 1, 0, 4);
    const a = newSeen();
    const events: TaskOpened[] = [];
    const failing: unknown[] = [];
    const first = new PartitionTasks({
      transport: log,
      groupId: 'g',
      topics: [IN],
      transactionalIdPrefix: 't',
      work: copier(a),
      onOpened: (e) => void events.push(e),
      health: { failing: (e) => void failing.push(e), recovered: () => {} },
    });
    await first.start();
    await log.whenIdle();
    // What the broker does to a transaction open past transaction.timeout.ms: a new epoch for t-0, nobody else in the group.
    await log.transactionalProducer('t-0');
    await produce(log, 0, 4, 3);
    await log.whenIdle();
    // The batch's commit was fenced; the task was dropped, reopened with a new producer at the committed offset, and the batch went through.
    expect(failing.map((e) => (e as Error).message)).toEqual([expect.stringMatching(/partition 0 failed: its producer was fenced while this member holds the partition/)]);
    expect(a.closed).toEqual([0]);
    expect(a.opened.slice(2)).toEqual([{ partition: 0, resumeAt: 4 }]);
    expect(openings(events).slice(2)).toEqual([{ partition: 0, kept: false }]);
    expect(outputs(log).filter((v) => v.startsWith('0:'))).toEqual(Array.from({ length: 7 }, (_, i) => `0:${i}`));
    // Still running: the next records go through the new producer.
    await produce(log, 0, 7, 1);
    await log.whenIdle();
    expect(outputs(log).filter((v) => v.startsWith('0:'))).toEqual(Array.from({ length: 8 }, (_, i) => `0:${i}`));
    await first.stop();
  });

  it("a fenced commit of a partition another member now holds is not retriable: that member is a zombie", async () => {
    const { log, tasks: first } = await firstMember(copier);
    const second = await member(log, copier(newSeen()));
    await produce(log, 1, 4, 1);
    await log.whenIdle();
    const stale = first.all().find((t) => t.context.partition === 1)!;
    const refused = await stale.context.commit([{ topic: OUT, partition: 0, key: null, value: Buffer.from('stale') }], []).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(FeedbackloopError);
    expect((refused as FeedbackloopError).message).toMatch(/fenced by the partition's new owner/);
    expect((refused as FeedbackloopError).retriable).toBe(false);
    await second.stop();
    await first.stop();
  });

  it('a task with processed but uncommitted records is not kept across a rebalance: it is restored at the committed offset', async () => {
    let commits = true;
    // Like a learner between two publications: it processes, and commits later.
    const { log, seen: a, events, tasks: first } = await firstMember((seen): PartitionWork<{ partition: number }> => {
      const copy = copier(seen);
      return { ...copy, process: async (state, batch, ctx) => (commits ? copy.process(state, batch, ctx) : void seen.processed.push(...batch.records.map((r) => r.value!.toString()))) };
    });
    commits = false;
    await produce(log, 0, 4, 2);
    await log.whenIdle();
    expect(a.processed.slice(-2)).toEqual(['0:4', '0:5']);
    commits = true;
    const second = await member(log, copier(newSeen()));
    await produce(log, 0, 6, 1);
    await log.whenIdle();
    expect(openings(events)).toEqual([{ partition: 0, kept: false }, { partition: 1, kept: false }, { partition: 0, kept: false }]);
    expect(a.opened.slice(2)).toEqual([{ partition: 0, resumeAt: 4 }]);
    expect(a.closed).toEqual([0]);
    expect(outputs(log).filter((v) => v.startsWith('0:'))).toEqual(Array.from({ length: 7 }, (_, i) => `0:${i}`));
    await second.stop();
    await first.stop();
  });

  it('a settled task is not kept when another owner committed its partition meanwhile: it is restored past that commit', async () => {
    const { log, seen: a, events, tasks: first } = await firstMember(copier);
    expect((await log.committedOffsets('g', IN)).map((o) => o.offset)).toEqual([4, 4]);
    // Another owner of partition 0 (a member of a generation A did not see) processed 4 and 5 and committed 6.
    const other = await log.transactionalProducer('t-0');
    await other.sendWithOffsets(['0:4', '0:5'].map((v) => ({ topic: OUT, partition: 0, key: null, value: Buffer.from(v) })), { groupId: 'g', offsets: [{ topic: IN, partition: 0, offset: 6 }] });
    // A rebalance: partition 0 stays with A. Then the input the other owner processed, and one record more.
    const second = await member(log, copier(newSeen()));
    await produce(log, 0, 4, 3);
    await log.whenIdle();
    expect(openings(events)).toEqual([{ partition: 0, kept: false }, { partition: 1, kept: false }, { partition: 0, kept: false }]);
    expect(a.opened.slice(2)).toEqual([{ partition: 0, resumeAt: 6 }]);
    expect(outputs(log).filter((v) => v.startsWith('0:'))).toEqual(Array.from({ length: 7 }, (_, i) => `0:${i}`));
    await second.stop();
    await first.stop();
  });

  it('a batch that fails drops its task (its state is ahead of the commit); the next owner restores at the committed offset', async () => {
    const log = await setUp(1);
    await produce(log, 0, 0, 3);
    const a = newSeen();
    let fail = false;
    const failing = copier(a);
    const first = new PartitionTasks({
      transport: log, groupId: 'g', topics: [IN], transactionalIdPrefix: 't',
      work: { ...failing, process: async (state, batch, ctx) => { if (fail) throw new Error('boom'); await failing.process(state, batch, ctx); } },
    });
    await first.start();
    await log.whenIdle();
    fail = true;
    await produce(log, 0, 3, 2);
    await expect(log.whenIdle()).rejects.toThrow('boom');
    await expect(first.done).rejects.toThrow('boom');
    expect(a.closed).toEqual([0]);
    expect(first.all()).toEqual([]);
    expect((await log.committedOffsets('g', IN)).map((o) => o.offset)).toEqual([3]);
    expect(outputs(log)).toEqual(['0:0', '0:1', '0:2']);
    // The in-process log reports the crash to every later whenIdle(): wait for the commit instead.
    const b = newSeen();
    const second = new PartitionTasks({ transport: log, groupId: 'g', topics: [IN], transactionalIdPrefix: 't', work: copier(b) });
    await second.start();
    await waitFor(async () => (await log.committedOffsets('g', IN))[0]!.offset >= 5, 'the second member to commit offset 5', UNIT_WAIT_MS, 5);
    expect(b.opened).toEqual([{ partition: 0, resumeAt: 3 }]);
    expect(outputs(log)).toEqual(['0:0', '0:1', '0:2', '0:3', '0:4']);
    await second.stop();
  });

  it('an aligned run that fails while the committed offsets cannot be read (the broker away) is rewound at the next batch: nothing it held is skipped', async () => {
    const log = await setUp(1);
    await log.ensureTopics([{ name: 'other', partitions: 1 }]);
    await produce(log, 0, 0, 10);
    let failRun = true;
    let offsetsDown = false;
    // `other` claims records it never delivers: every run of `in` waits maxWaitMs, then runs from the timer.
    const transport = delegating(log, {
      endOffsets: async (topic) => (topic === 'other' ? [{ topic, partition: 0, offset: 100 }] : log.endOffsets(topic)),
      committedOffsets: async (group, topic) => {
        if (offsetsDown) throw new Error('broker away');
        return log.committedOffsets(group, topic);
      },
    });
    const seen = newSeen();
    const work = copier(seen);
    const failed: unknown[] = [];
    const tasks = new PartitionTasks({
      transport, groupId: 'g', topics: [IN, 'other'], transactionalIdPrefix: 't',
      align: { maxWaitMs: 20, maxBuffered: 1_000 },
      onFailed: (error) => void failed.push(error),
      work: {
        ...work,
        process: async (state, batch, ctx) => {
          if (failRun) {
            failRun = false;
            offsetsDown = true;
            throw new FeedbackloopError('server busy', { retriable: true });
          }
          await work.process(state, batch, ctx);
        },
      },
    });
    await tasks.start();
    await waitFor(() => failed.length > 0, 'the timer\'s run to fail', UNIT_WAIT_MS, 5);
    expect(String(failed[0])).toMatch(/broker away/);
    offsetsDown = false;
    await produce(log, 0, 10, 1);
    await waitFor(() => outputs(log).length >= 11, '11 outputs', UNIT_WAIT_MS, 5);
    expect(outputs(log)).toEqual(Array.from({ length: 11 }, (_, i) => `0:${i}`));
    await tasks.stop();
  });

  it('a commit that fails outside a batch (a timer\'s) rewinds the inputs: what the task held uncommitted is delivered again, with no later record to prompt it', async () => {
    const log = await setUp(1);
    await produce(log, 0, 0, 6);
    // Like the learner: batches only advance the state; a timer job commits it. The first timer commit fails
    // (a broker that refused TxnOffsetCommit after a restart); then the committed offsets cannot be read once either.
    let commitFails = 1;
    let offsetReadsFail = 0;
    const transport = delegating(log, {
      transactionalProducer: async (id) => {
        const producer = await log.transactionalProducer(id);
        return {
          ...producer,
          sendWithOffsets: async (records, commit) => {
            if (commitFails > 0) {
              commitFails--;
              offsetReadsFail = 1;
              throw new FeedbackloopError('TxnOffsetCommit refused', { retriable: true });
            }
            await producer.sendWithOffsets(records, commit);
          },
          close: () => producer.close(),
        };
      },
      committedOffsets: async (group, topic) => {
        if (offsetReadsFail > 0) {
          offsetReadsFail--;
          throw new Error('broker away');
        }
        return log.committedOffsets(group, topic);
      },
    });
    type Held = { partition: number; pending: string[]; position: number };
    const opened: number[] = [];
    const tasks = new PartitionTasks<Held>({
      transport, groupId: 'g', topics: [IN], transactionalIdPrefix: 't',
      work: {
        open: async (ctx) => {
          opened.push(ctx.resumeAt(IN));
          return { partition: ctx.partition, pending: [], position: ctx.resumeAt(IN) };
        },
        process: async (state, batch) => {
          for (const r of batch.records) state.pending.push(r.value!.toString());
          state.position = batch.nextOffset;
        },
      },
    });
    const flush = () =>
      tasks.serially(async () => {
        for (const { state, context } of tasks.all()) {
          if (state.pending.length === 0) continue;
          await context.commit(state.pending.map((v) => ({ topic: OUT, partition: 0, key: null, value: Buffer.from(v) })), [{ topic: IN, partition: 0, offset: state.position }]);
          state.pending = [];
        }
      });
    await tasks.start();
    await log.whenIdle();
    await expect(flush()).rejects.toThrow(/commit of partition 0 failed: TxnOffsetCommit refused/);
    expect(tasks.all()).toEqual([]);
    // No new record arrives: the rewind alone (retried after the failed offset read) must bring the six back.
    await waitFor(() => tasks.all().length > 0, 'the rewound task to open again', UNIT_WAIT_MS, 5);
    await log.whenIdle();
    await flush();
    expect(opened).toEqual([0, 0]);
    expect(outputs(log)).toEqual(['0:0', '0:1', '0:2', '0:3', '0:4', '0:5']);
    expect((await log.committedOffsets('g', IN)).map((o) => o.offset)).toEqual([6]);
    await tasks.stop();
  });

  it('time spent on other partitions\' batches does not use up an aligned task\'s wait for its lagging input', async () => {
    const log = await setUp(2);
    await log.ensureTopics([{ name: 'other', partitions: 2 }]);
    // Partition 0: `in` at even times, `other` at odd times; partition 1: the same, to keep the consumer busy.
    const producer = await log.producer();
    for (const partition of [0, 1]) {
      await producer.send(Array.from({ length: 20 }, (_, i) => ({ topic: IN, partition, key: null, value: Buffer.from(`in-${partition}:${2 * i}`), timestamp: 2 * i })));
      await producer.send(Array.from({ length: 20 }, (_, i) => ({ topic: 'other', partition, key: null, value: Buffer.from(`other-${partition}:${2 * i + 1}`), timestamp: 2 * i + 1 })));
    }
    // The consumer delivers partition 0's `in`, then all of partition 1 (slow to process), then partition 0's `other`.
    const transport = scriptedTransport(log, ['in:0', 'in:1', 'other:1', 'other:0']);
    const processed: string[] = [];
    const tasks = new PartitionTasks({
      transport, groupId: 'g', topics: [IN, 'other'], transactionalIdPrefix: 't',
      align: { maxWaitMs: 100, maxBuffered: 1_000 },
      work: {
        open: async () => ({}),
        process: async (_state, batch, ctx) => {
          // Each record of partition 1 takes 20 ms: 40 of them, 800 ms, far past the 100 ms wait.
          if (batch.partition === 1) await new Promise((r) => setTimeout(r, 20 * batch.records.length));
          for (const r of batch.records) processed.push(r.value!.toString());
          await ctx.commit([], offsetsOf(batch));
        },
      },
    });
    await tasks.start();
    await waitFor(() => processed.filter((v) => v.includes('-0:')).length >= 40, 'partition 0\'s 40 records', UNIT_WAIT_MS, 5);
    // Partition 0 in event-time order: its `other` was waited for, not overtaken.
    const partition0 = processed.filter((v) => v.includes('-0:')).map((v) => Number(v.split(':')[1]));
    expect(partition0).toEqual(Array.from({ length: 40 }, (_, t) => t));
    await tasks.stop();
  });

  /** Runs `count` records of one partition through a copying task built with `extra` options; the batch sizes it saw and what it did. */
  async function batchSizes(count: number, extra: Partial<ConstructorParameters<typeof PartitionTasks<unknown>>[0]>, name: string) {
    const log = await setUp(1);
    await produce(log, 0, 0, count);
    const sizes: number[] = [];
    const seen = newSeen();
    const copy = copier(seen);
    const tasks = new PartitionTasks({
      transport: log, groupId: `g-${name}`, topics: [IN], transactionalIdPrefix: `t-${name}`, ...extra,
      work: { ...copy, process: async (state, batch, ctx) => { sizes.push(batch.records.length); await copy.process(state, batch, ctx); } },
    });
    await tasks.start();
    await log.whenIdle();
    await waitFor(() => seen.processed.length >= count, `${count} records processed`, UNIT_WAIT_MS, 5);
    await tasks.stop();
    return { sizes, seen, log };
  }

  it('maxBatch bounds the records of each batch, one transaction each: 2,500 records in 1,000, 1,000, 500 (plain) and the same for an aligned task', async () => {
    for (const aligned of [false, true]) {
      const { sizes, seen, log } = await batchSizes(2_500, { maxBatch: 1_000, ...(aligned ? { align: { maxWaitMs: 10, maxBuffered: 10_000 } } : {}) }, String(aligned));
      expect(sizes).toEqual([1_000, 1_000, 500]);
      expect(seen.processed).toEqual(Array.from({ length: 2_500 }, (_, i) => `0:${i}`));
      expect(outputs(log)).toHaveLength(2_500);
    }
  });

  it('without maxBatch a batch holds at most DEFAULT_MAX_BATCH (500) records', async () => {
    const { sizes } = await batchSizes(1_200, {}, 'default');
    expect(DEFAULT_MAX_BATCH).toBe(500);
    expect(sizes).toEqual([500, 500, 200]);
  });
});
