/**
 * The evaluator processor on the in-process log: a run that crashes (its
 * unflushed rows and offsets lost) and restarts writes, per key, exactly the
 * final figures of an uninterrupted run; bad records are dead-lettered;
 * offsets are committed only after a flush.
 */
import { describe, expect, it, vi } from 'vitest';
import { LocalCodec } from '../../adapters/codec/codec.js';
import { MemoryTransport } from '../../adapters/transport/memory.js';
import { Registry } from 'prom-client';
import { evaluatorMetrics } from '../../adapters/prometheus/model-gauges.js';
import type { BinaryPartial, RegressionPartial } from '../../core/metrics/index.js';
import { ManualClock } from '../../core/clock.js';
import type { DeadLetter, LabelledExample, ModelKind } from '../../core/events.js';
import type { RestoreReport } from '../../core/observer.js';
import { DEFAULT_EVALUATOR_OPTIONS, Evaluator, windowFigures, windowPartialKey, type EvaluatorRows, type ShardPartialRow, type Versioned } from '../../core/evaluate/index.js';
import { partitionForKey } from '../../adapters/transport/partitioner.js';
import { EvaluatorProcessor, type EvaluatorProcessorDeps } from '../../processors/evaluator.js';
import { FileEvaluatorSink, type EvaluatorSink } from '../../sinks/evaluator-rows.js';
import type { Sink } from '../../sinks/sink.js';
import { labelledStream as stream, T0 } from '../support/labelled.js';
import { UNIT_WAIT_MS, waitFor } from '../support/collect.js';

const TOPIC = 'labelled';
const codec = new LocalCodec<LabelledExample>('LabelledExample');

async function produce(log: MemoryTransport, examples: LabelledExample[], keyOf = (e: LabelledExample) => e.model): Promise<void> {
  const producer = await log.producer();
  await producer.send(await Promise.all(examples.map(async (e) => ({ topic: TOPIC, key: Buffer.from(keyOf(e)), value: await codec.encode(e), timestamp: e.feedback_timestamp ?? e.timestamp }))));
}

function processor(
  log: MemoryTransport, sink: FileEvaluatorSink, letters: DeadLetter[], maxRows: number, rebuildDiscardEvery?: number,
  timing = { intervalMs: 60_000, clock: new ManualClock(T0) }, extra: Partial<EvaluatorProcessorDeps> = {},
): EvaluatorProcessor {
  const deadLetters: Sink<DeadLetter> = { connect: async () => {}, writeBatch: async (l) => void letters.push(...l), close: async () => {} };
  return new EvaluatorProcessor({
    transport: log, topic: TOPIC, groupId: 'evaluator', codec,
    evaluator: { rollingSize: 100, rollingEmitEvery: 10, fairnessAttributes: ['region'], drift: { ...DEFAULT_EVALUATOR_OPTIONS.drift, referenceSize: 200, windowSize: 200, bins: 10, psiThreshold: 0.2, ksAlpha: 0.01, detectors: true, detectorOrder: 'arrival' } },
    sink, deadLetters, flush: { maxRows, maxBytes: 1e9, intervalMs: timing.intervalMs }, clock: timing.clock, rebuildDiscardEvery, ...extra,
  });
}

const final = (sink: FileEvaluatorSink) => sink.final();

/** What an uninterrupted run over `examples` writes (two partitions, a flush every 100). */
async function uninterrupted(examples: LabelledExample[]): Promise<FileEvaluatorSink> {
  const log = new MemoryTransport();
  await log.ensureTopics([{ name: TOPIC, partitions: 2 }]);
  await produce(log, examples);
  const sink = new FileEvaluatorSink('/nonexistent');
  const p = processor(log, sink, [], 100);
  await p.start();
  await log.whenIdle();
  await p.stop();
  return sink;
}

describe('evaluator processor', () => {
  it('the live gauges show a batch as soon as it is applied, long before the rows are flushed', async () => {
    const log = new MemoryTransport();
    await log.ensureTopics([{ name: TOPIC, partitions: 2 }]);
    const registry = new Registry();
    const sink = new FileEvaluatorSink('/nonexistent');
    const p = processor(log, sink, [], 1e9, undefined, { intervalMs: 3_600_000, clock: new ManualClock(T0) }, { observer: evaluatorMetrics(registry, { segments: false }) });
    await p.start();
    const count = async () => {
      const metric = await registry.getSingleMetric('feedbackloop_model_metric')!.get();
      return metric.values.find((v) => v.labels.model === 'fraud' && v.labels.role === 'champion' && v.labels.window === 'total' && v.labels.metric === 'count')?.value;
    };
    const examples = stream(90, 3).filter((e) => e.model === 'fraud' && e.correction_of === null);
    await produce(log, examples.slice(0, 10));
    await log.whenIdle();
    expect(await count()).toBe(10);
    await produce(log, examples.slice(10));
    await log.whenIdle();
    expect(await count()).toBe(examples.length);
    expect(sink.final().points).toHaveLength(0); // nothing flushed yet
    await p.stop();
  });

  it.each([
    ['once at its end', undefined],
    ['every 7 examples', 7],
  ])('a crash and restart mid-stream leaves exactly the figures of an uninterrupted run (the rebuild discarded %s)', async (_, rebuildDiscardEvery) => {
    const examples = stream(3000, 5);
    const half = Math.floor(examples.length / 2);

    const straight = await uninterrupted(examples);

    const log = new MemoryTransport();
    await log.ensureTopics([{ name: TOPIC, partitions: 2 }]);
    await produce(log, examples.slice(0, half));
    const store = new FileEvaluatorSink('/nonexistent');
    const first = processor(log, store, [], 700);
    await first.start();
    await log.whenIdle();
    const committedBeforeCrash = await log.committedOffsets('evaluator', TOPIC);
    await first.abandon(); // Its last, unflushed rows and offsets are lost.
    await produce(log, examples.slice(half));
    const second = processor(log, store, [], 700, rebuildDiscardEvery);
    await second.start();
    await log.whenIdle();
    await second.stop();

    // Some offsets were committed before the crash, but not all of the first half.
    const before = committedBeforeCrash.reduce((sum, o) => sum + o.offset, 0);
    expect(before).toBeGreaterThan(0);
    expect(before).toBeLessThan(half);
    const x = final(straight);
    const y = final(store);
    expect(y.points.length).toBeGreaterThan(2000);
    expect(y.points).toEqual(x.points);
    expect(y.drift).toEqual(x.drift);
    expect(y.feedback).toEqual(x.feedback);
    expect(x.drift.length).toBeGreaterThan(0);
    expect(x.points.some((p) => p.role === 'challenger' && p.model_version === 'fraud/lr')).toBe(true);
    expect(x.points.some((p) => p.segment === 'region=*' && p.metric === 'demographic_parity_difference')).toBe(true);
  });

  it.each([
    ['behind the committed offsets', false],
    ['ahead of them (written, then the commit lost)', true],
  ])('a restart from a checkpoint %s re-reads only the tail and writes exactly the figures of an uninterrupted run', async (_, ahead) => {
    const examples = stream(3000, 5);
    const half = Math.floor(examples.length / 2);
    const straight = await uninterrupted(examples);

    const log = new MemoryTransport();
    await log.ensureTopics([{ name: TOPIC, partitions: 2 }, { name: 'checkpoints', partitions: 2, compacted: true }]);
    await produce(log, examples.slice(0, half));
    const store = new FileEvaluatorSink('/nonexistent');
    const reports: RestoreReport[] = [];
    const withCheckpoints = (intervalMs: number) =>
      processor(log, store, [], 700, undefined, undefined, { observer: { restored: (r) => reports.push(r) }, checkpoints: { topic: 'checkpoints', intervalMs } });
    const first = withCheckpoints(0); // a checkpoint at every flush
    await first.start();
    await log.whenIdle();
    await first.abandon();
    const committed = await log.committedOffsets('evaluator', TOPIC);
    if (ahead) log.commitOffsets('evaluator', committed.map((o) => ({ ...o, offset: Math.max(0, o.offset - 300) })));
    await produce(log, examples.slice(half));
    const second = withCheckpoints(3_600_000);
    await second.start();
    await log.whenIdle();
    await second.stop();

    // The first run found no checkpoint and said so; the second restored both partitions from one.
    expect(reports.slice(0, 2).map((r) => [r.from, r.reason])).toEqual([['start', 'no checkpoint yet'], ['start', 'no checkpoint yet']]);
    const restarts = reports.slice(2);
    expect(restarts.map((r) => r.from)).toEqual(['checkpoint', 'checkpoint']);
    // The first run flushed every 700 examples: the tail after its last checkpoint is shorter than that.
    for (const r of restarts) expect(r.reread).toBeLessThan(700);
    const x = final(straight);
    const y = final(store);
    expect(y.points).toEqual(x.points);
    expect(y.drift).toEqual(x.drift);
    expect(y.feedback).toEqual(x.feedback);
  });

  it('a timed write that fails loses no figure: the processor stops (it used to go on without them), and the next one computes them again', async () => {
    const examples = stream(3000, 5);
    const straight = await uninterrupted(examples);

    const log = new MemoryTransport();
    await log.ensureTopics([{ name: TOPIC, partitions: 2 }]);
    await produce(log, examples);
    const store = new FileEvaluatorSink('/nonexistent');
    // The first timed write fails after the evaluators drained its rows (a disk full: no retry mends it).
    let writes = 0;
    const failing = Object.assign(Object.create(store) as FileEvaluatorSink, {
      writeBatch: async (batches: Parameters<FileEvaluatorSink['writeBatch']>[0]) => {
        if (++writes === 1) throw new Error('disk full');
        await store.writeBatch(batches);
      },
    });
    const clock = new ManualClock(T0);
    const first = processor(log, failing, [], 1e9, undefined, { intervalMs: 200, clock });
    await first.start();
    await log.whenIdle();
    clock.advance(1_000); // the interval is due: the timer flushes
    await expect(first.done).rejects.toThrow(/writing its rows failed .*: disk full/);
    await first.abandon();
    expect(await log.committedOffsets('evaluator', TOPIC)).toEqual([]);
    const second = processor(log, store, [], 100);
    await second.start();
    await log.whenIdle();
    await second.stop();
    expect(writes).toBe(1);
    expect(final(store).points.length).toBeGreaterThan(2000);
    expect(final(store).points).toEqual(final(straight).points);
    expect(final(store).drift).toEqual(final(straight).drift);
    expect(final(store).feedback).toEqual(final(straight).feedback);
  });

  it('a record that is not a labelled example is dead-lettered; the rest is evaluated', async () => {
    const log = new MemoryTransport();
    await log.ensureTopics([{ name: TOPIC, partitions: 1 }]);
    const producer = await log.producer();
    const good = stream(3, 1).filter((e) => e.correction_of === null);
    await produce(log, good.slice(0, 2));
    await producer.send([{ topic: TOPIC, key: Buffer.from('fraud'), value: Buffer.from('not avro') }]);
    const letters: DeadLetter[] = [];
    const sink = new FileEvaluatorSink('/nonexistent');
    const p = processor(log, sink, letters, 1000);
    await p.start();
    await log.whenIdle();
    await p.stop();
    expect(letters).toHaveLength(1);
    expect(letters[0]).toMatchObject({ stage: 'evaluator', topic: TOPIC, offset: 2 });
    const count = (model: string) => final(sink).points.find((q) => q.model === model && q.role === 'champion' && q.segment === '*' && q.window === 'total' && q.metric === 'count')?.value;
    expect(count('fraud')).toBe(1);
    expect(count('churn')).toBe(1);
    // Offsets past the bad record were committed after the flush.
    expect((await log.committedOffsets('evaluator', TOPIC))[0]?.offset).toBe(3);
  });
});

/** A sink whose writes are held until the test settles them; released rows go on to `store`. */
class HeldSink implements EvaluatorSink {
  readonly writes: Array<{ rows: EvaluatorRows; release(): void; fail(error: Error): void }> = [];
  /** Set: writes are no longer held. */
  passing = false;
  constructor(private readonly store = new FileEvaluatorSink('/nonexistent')) {}
  async connect(): Promise<void> {}
  writeBatch(batches: EvaluatorRows[]): Promise<void> {
    if (this.passing) return this.store.writeBatch(batches);
    return new Promise((resolve, reject) => {
      this.writes.push({ rows: batches[0]!, release: () => void this.store.writeBatch(batches).then(resolve, reject), fail: reject });
    });
  }
  async close(): Promise<void> {}
}

/** Waits until `done()` holds; otherwise fails with `what`. */
const until = (what: string, done: () => boolean | Promise<boolean>): Promise<void> => waitFor(done, what, UNIT_WAIT_MS, 5);

const settleFor = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('evaluator processor: the write in the background', () => {
  /** One partition, a flush every 100 examples, every write held; `applied` counts the examples applied. */
  async function held(extra: Partial<EvaluatorProcessorDeps> = {}, store?: FileEvaluatorSink) {
    const log = new MemoryTransport();
    await log.ensureTopics([{ name: TOPIC, partitions: 1 }, { name: 'checkpoints', partitions: 1, compacted: true }]);
    const sink = new HeldSink(store);
    let applied = 0;
    const p = processor(log, sink as unknown as FileEvaluatorSink, [], 100, undefined, undefined, { observer: { evaluated: (_, e) => void (applied += e.length) }, ...extra });
    const committed = async () => (await log.committedOffsets('evaluator', TOPIC))[0]?.offset;
    return { log, sink, p, applied: () => applied, committed };
  }

  it('batches are applied while a write is held; its offsets are committed once it is durable; the next flush and a stop wait for it', async () => {
    const examples = stream(400, 3);
    const { log, sink, p, applied, committed } = await held();
    await p.start();
    await produce(log, examples.slice(0, 100)); // the first flush: its write is held
    await until('the first write', () => sink.writes.length === 1);
    await produce(log, examples.slice(100, 150));
    await log.whenIdle();
    expect(applied()).toBe(150); // applied while the write is held
    expect(await committed()).toBeUndefined();
    await produce(log, examples.slice(150, 250)); // the next flush is due: it waits, and consumption with it
    await until('the next batch', () => applied() === 250);
    await settleFor(50);
    expect(sink.writes).toHaveLength(1);
    await produce(log, examples.slice(250, 260));
    await settleFor(50);
    expect(applied()).toBe(250);
    sink.writes[0]!.release();
    await until('the first commit', async () => (await committed()) === 100);
    await until('the second write', () => sink.writes.length === 2);
    expect(sink.writes[1]!.rows.examples.map((e) => e.version)).toEqual([...Array(150).keys()].map((i) => 100 + i));
    await until('the rest applied', () => applied() === 260);
    expect(await committed()).toBe(100);
    // A stop waits for the write in flight, then writes what is buffered and waits for that too.
    let stopped = false;
    const stopping = p.stop().then(() => (stopped = true));
    await settleFor(50);
    expect(stopped).toBe(false);
    sink.writes[1]!.release();
    await until("the stop's write", () => sink.writes.length === 3);
    await settleFor(20);
    expect(stopped).toBe(false);
    expect(await committed()).toBe(250);
    sink.writes[2]!.release();
    await stopping;
    expect(await committed()).toBe(260);
  });

  it.each([
    ['nothing awaits it', false],
    ['the next flush waits for it', true],
  ])('a write that fails when %s fails every task, commits nothing and stops the processor', async (_, nextDue) => {
    const examples = stream(300, 3);
    const { log, sink, p, applied, committed } = await held();
    await p.start();
    await produce(log, examples.slice(0, 100));
    await until('the first write', () => sink.writes.length === 1);
    await produce(log, examples.slice(100, nextDue ? 200 : 150));
    await until('the examples after it', () => applied() === (nextDue ? 200 : 150));
    expect(p.evaluators()).toHaveLength(1);
    sink.writes[0]!.fail(new Error('disk full'));
    await expect(p.done).rejects.toThrow(/writing its rows failed .*: disk full/);
    expect(p.evaluators()).toHaveLength(0); // dropped, rewound to the commit
    await p.stop(); // nothing left to write: the tasks that applied the rest were dropped too
    expect(sink.writes).toHaveLength(1);
    expect(await committed()).toBeUndefined();
  });

  it("a task's new generation (a member joined) waits for the write in flight, which then commits nothing of the old generation", async () => {
    const log = new MemoryTransport();
    await log.ensureTopics([{ name: TOPIC, partitions: 2 }]);
    const opened: Array<{ member: number; partition: number; generation: number; kept: boolean }> = [];
    const member = (n: number, sink: EvaluatorSink) =>
      processor(log, sink as FileEvaluatorSink, [], 100, undefined, undefined, { observer: { taskOpened: (r) => void opened.push({ member: n, partition: r.partition, generation: r.generation, kept: r.kept }) } });
    const sink = new HeldSink();
    const first = member(1, sink);
    await first.start();
    const examples = stream(120, 3);
    await produce(log, examples, (e) => e.example_id); // both partitions; one flush, held
    await until('the first write', () => sink.writes.length === 1);
    const generation = opened[0]!.generation;
    const second = member(2, new FileEvaluatorSink('/nonexistent'));
    await second.start(); // partition 1 moves to it; partition 0 stays, in a new generation
    await until('the second member opened partition 1', () => opened.some((o) => o.member === 2));
    await settleFor(50);
    expect(opened.filter((o) => o.member === 1 && o.generation > generation)).toEqual([]);
    sink.passing = true;
    sink.writes[0]!.release();
    await until('partition 0 reopened', () => opened.some((o) => o.member === 1 && o.generation > generation));
    expect(opened.filter((o) => o.member === 1 && o.generation > generation)).toEqual([{ member: 1, partition: 0, generation: expect.any(Number), kept: false }]);
    expect(await log.committedOffsets('evaluator', TOPIC)).toEqual([]); // written in the old generation: not committed in the new one
    await log.whenIdle();
    await first.stop();
    await second.stop();
    expect((await log.committedOffsets('evaluator', TOPIC)).reduce((sum, o) => sum + o.offset, 0)).toBe(examples.length);
  });

  it('a checkpoint is the state at the drained offset, not where the tasks went on to: a restart from it writes the figures of an uninterrupted run', async () => {
    const examples = stream(3000, 5);
    const straight = await uninterrupted(examples);
    const store = new FileEvaluatorSink('/nonexistent');
    const checkpoints = { topic: 'checkpoints', intervalMs: 0 };
    const { log, sink, p, applied, committed } = await held({ checkpoints }, store);
    await p.start();
    await produce(log, examples.slice(0, 100));
    await until('the first write', () => sink.writes.length === 1);
    await produce(log, examples.slice(100, 160));
    await until('the examples after it', () => applied() === 160);
    sink.writes[0]!.release();
    await until('the first commit', async () => (await committed()) === 100);
    await p.abandon(); // the 60 applied after the drain are lost, and are in no checkpoint
    await produce(log, examples.slice(160));
    const reports: RestoreReport[] = [];
    const second = processor(log, store, [], 100, undefined, undefined, { checkpoints: { ...checkpoints, intervalMs: 3_600_000 }, observer: { restored: (r) => reports.push(r) } });
    await second.start();
    await log.whenIdle();
    await second.stop();
    expect(reports.map((r) => [r.from, r.reread])).toEqual([['checkpoint', 0]]);
    const x = final(straight);
    const y = final(store);
    expect(y.points).toEqual(x.points);
    expect(y.drift).toEqual(x.drift);
    expect(y.feedback).toEqual(x.feedback);
  });
});

describe('evaluator processor: a poison record behind the committed offsets', () => {
  it('is skipped again when a restart re-reads it (it was dead-lettered when processed): the processor goes on, to the figures of an uninterrupted run', async () => {
    const examples = stream(1200, 5);
    const poison = examples[300]!;
    const throwsOn = (e: LabelledExample) => {
      if (e.example_id === poison.example_id) throw new Error(`cannot evaluate ${e.example_id}`);
    };
    const onExample = Evaluator.prototype.onExample;
    const restore = Evaluator.prototype.restore;
    const spies = [
      vi.spyOn(Evaluator.prototype, 'onExample').mockImplementation(function (this: Evaluator, e) { throwsOn(e); return onExample.call(this, e); }),
      vi.spyOn(Evaluator.prototype, 'restore').mockImplementation(function (this: Evaluator, e) { throwsOn(e); return restore.call(this, e); }),
    ];
    try {
      const straightLetters: DeadLetter[] = [];
      const straight = new FileEvaluatorSink('/nonexistent');
      {
        const log = new MemoryTransport();
        await log.ensureTopics([{ name: TOPIC, partitions: 2 }]);
        await produce(log, examples);
        const p = processor(log, straight, straightLetters, 100);
        await p.start();
        await log.whenIdle();
        await p.stop();
      }
      expect(straightLetters.map((l) => l.error_message)).toEqual([`cannot evaluate ${poison.example_id}`]);

      const log = new MemoryTransport();
      await log.ensureTopics([{ name: TOPIC, partitions: 2 }]);
      await produce(log, examples.slice(0, 800));
      const store = new FileEvaluatorSink('/nonexistent');
      const letters: DeadLetter[] = [];
      const reports: RestoreReport[] = [];
      const first = processor(log, store, letters, 100);
      await first.start();
      await log.whenIdle();
      await first.stop(); // committed past the poison
      await produce(log, examples.slice(800));
      const second = processor(log, store, letters, 100, undefined, undefined, { observer: { restored: (r) => reports.push(r) } });
      await second.start();
      await log.whenIdle();
      await second.stop();
      await expect(second.done).resolves.toBeUndefined();

      expect(letters).toHaveLength(1); // once, when first processed
      expect(reports.flatMap((r) => r.skipped ?? [])).toHaveLength(1);
      expect(final(store).points).toEqual(final(straight).points);
      expect(final(store).drift).toEqual(final(straight).drift);
      expect(final(store).feedback).toEqual(final(straight).feedback);
    } finally {
      for (const s of spies) s.mockRestore();
    }
  });
});

describe('evaluator processor: partials (evaluator.write_partials)', () => {
  /** A run over `examples` on two partitions, flushing every 100, capturing the partials each write carried. */
  async function run(examples: LabelledExample[], extra: Partial<EvaluatorProcessorDeps>, keyOf = (e: LabelledExample) => e.model) {
    const log = new MemoryTransport();
    await log.ensureTopics([{ name: TOPIC, partitions: 2 }]);
    await produce(log, examples, keyOf);
    const sink = new FileEvaluatorSink('/nonexistent');
    const partials: Array<Versioned<ShardPartialRow>> = [];
    let audited = 0;
    const write = sink.writeBatch.bind(sink);
    sink.writeBatch = async (batches) => {
      for (const b of batches) partials.push(...(b.partials ?? []));
      for (const b of batches) audited += b.examples.length;
      await write(batches);
    };
    const p = processor(log, sink, [], 100, undefined, undefined, extra);
    await p.start();
    await log.whenIdle();
    await p.stop();
    const ends = await log.committedOffsets('evaluator', TOPIC);
    return { partials, points: sink.final().points, final: sink.final(), audited, ends };
  }

  it('a shard rebuilt on another instance exports its totals as restored when its task opens, before any new example', async () => {
    const examples = stream(600, 11).filter((e) => e.model === 'fraud');
    const log = new MemoryTransport();
    await log.ensureTopics([{ name: TOPIC, partitions: 2 }]);
    await produce(log, examples, (e) => e.prediction_id);
    const gauge = async (registry: Registry) =>
      (await registry.getSingleMetric('feedbackloop_partial_count')!.get()).values.map((v) => ({ labels: v.labels, value: v.value })).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
    const first = new Registry();
    const a = processor(log, new FileEvaluatorSink('/nonexistent'), [], 100, undefined, undefined, { sharded: true, observer: evaluatorMetrics(first, { segments: false }) });
    await a.start();
    await log.whenIdle();
    await a.stop();
    const written = await gauge(first);
    expect(new Set(written.map((v) => v.labels.shard))).toEqual(new Set(['0', '1']));
    // Another instance takes both shards over: a task opens at its partition's first new record (here one
    // of another model in each, leaving fraud's windows as they were), rebuilding the shard from the input
    // (no checkpoints). Before any flush, the gauges are fraud's totals as restored.
    const second = new Registry();
    const flushes: number[] = [];
    const sink = new FileEvaluatorSink('/nonexistent');
    sink.writeBatch = async (batches) => void flushes.push(batches.length);
    const b = processor(log, sink, [], 100, undefined, undefined, { sharded: true, observer: evaluatorMetrics(second, { segments: false }) });
    await b.start();
    const idOf = (partition: number) => Array.from({ length: 50 }, (_, i) => `spare-${i}`).find((id) => partitionForKey(Buffer.from(id), 2) === partition)!;
    await produce(log, [0, 1].map((partition) => ({ ...examples[0]!, model: 'spare', prediction_id: idOf(partition) })), (e) => e.prediction_id);
    await log.whenIdle();
    expect(flushes).toEqual([]);
    expect(await gauge(second)).toEqual(written);
    await b.stop();
  });

  it('sharded (evaluator.shard_by: prediction): partials of both shards, audit rows, and no points, drift, feedback or charts; merged, the unsharded counts', async () => {
    const examples = stream(600, 11).filter((e) => e.model === 'fraud');
    const { partials, final, audited, ends } = await run(examples, { sharded: true }, (e) => e.prediction_id);
    expect(final).toEqual({ points: [], drift: [], feedback: [], charts: [] });
    expect(audited).toBe(examples.filter((e) => !e.arrival).length);
    expect(new Set(partials.map((p) => p.value.shard))).toEqual(new Set([0, 1]));
    const last = new Map<string, Versioned<ShardPartialRow>>();
    for (const p of partials) {
      expect(p.version).toBeLessThanOrEqual(ends.find((o) => o.partition === p.value.shard)!.offset);
      last.set(`${windowPartialKey(p.value)}\u0000${p.value.shard}`, p);
    }
    // The two shards' total windows add up to the unsharded evaluator's count.
    const unsharded = (await run(examples, {})).points.find((p) => p.window === 'total' && p.role === 'champion' && p.segment === '*' && p.metric === 'count')!;
    const totals = [...last.values()].filter((p) => p.value.window === 'total' && p.value.role === 'champion' && p.value.segment === '*');
    expect(totals.length).toBe(2);
    const count = totals.reduce((n, p) => n + windowFigures(p.value.partial, DEFAULT_EVALUATOR_OPTIONS.delayAccuracy).count!, 0);
    expect(count).toBe(unsharded.value);
    expect(count).toBeGreaterThan(100);
  });

  it("off by default; on: each write carries the changed binary and regression windows' partials, shard = partition, version = its offset, the last of each window its points' figures", async () => {
    const examples = stream(600, 11);
    expect((await run(examples, {})).partials).toEqual([]);

    const kindOf = (model: string): ModelKind => (model === 'spam' ? 'regression' : 'binary');
    const registry = new Registry();
    const { partials, points, ends } = await run(examples, { writePartials: true, evaluator: { kindOf }, observer: evaluatorMetrics(registry, { segments: false, kindOf }) });
    expect(new Set(partials.map((p) => p.value.model))).toEqual(new Set(['fraud', 'spam', 'churn']));
    expect(points.some((p) => p.model === 'spam')).toBe(true);
    let regression = 0;
    const last = new Map<string, Versioned<ShardPartialRow>>();
    for (const p of partials) {
      const key = `${windowPartialKey(p.value)}\u0000${p.value.shard}`;
      // A model lives in one partition (keyed by model): its shard is that partition; versions only grow, up to its end.
      expect(p.value.shard).toBe(partitionForKey(Buffer.from(p.value.model), 2));
      expect(p.version).toBeLessThanOrEqual(ends.find((o) => o.partition === p.value.shard)!.offset);
      expect(p.version).toBeGreaterThanOrEqual(last.get(key)?.version ?? 0);
      last.set(key, p);
    }
    const byKey = new Map(points.map((p) => [`${windowPartialKey(p)}\u0000${p.metric}`, p]));
    const pointOf = (key: string, metric: string) => byKey.get(`${key}\u0000${metric}`);
    for (const { value } of last.values()) {
      const key = windowPartialKey(value);
      // One shard per model (keyed by model): the partial is the window's own state, its figures the points' bit for bit.
      const figures = windowFigures(value.partial, DEFAULT_EVALUATOR_OPTIONS.delayAccuracy) as unknown as Record<string, number | null>;
      const names = value.model === 'spam' ? ['count', 'mae', 'rmse', 'r2', 'mape'] : ['count', 'tp', 'fp', 'log_loss'];
      if (value.model === 'spam') regression++;
      expect(names.map((m) => figures[m])).toEqual(names.map((m) => pointOf(key, m)!.value));
      expect(value.window_end).toBe(pointOf(key, 'count')!.window_end);
    }
    expect(last.size).toBeGreaterThan(20);
    expect(regression).toBeGreaterThan(5);
    // The Prometheus gauge of each shard's total counts (partial-gauges.ts), fed by the flush hook with the partitions.
    const gauge = (await registry.getSingleMetric('feedbackloop_partial_count')!.get()).values;
    let checked = 0;
    let regressionChecked = 0;
    for (const { value } of last.values()) {
      if (value.window !== 'total' || value.segment !== '*') continue;
      const labels = { model: value.model, role: value.role, version: value.model_version, segment: '*', shard: String(value.shard) };
      const at = (stat: string) => gauge.find((v) => Object.entries({ ...labels, stat }).every(([k, x]) => v.labels[k] === x))?.value;
      if (value.model === 'spam') {
        // A regression model's: its weight and error sums (the rules' mae, rmse, mape), no counts.
        const m = value.partial.metric as RegressionPartial;
        expect([at('n'), at('abs_error_sum'), at('squared_error_sum'), at('percent_sum'), at('tp')]).toEqual([m.n, m.absErrorSum, m.squaredErrorSum, m.percentSum, undefined]);
        regressionChecked++;
      } else expect([at('tp'), at('fp'), at('tn'), at('fn'), at('n')]).toEqual([...(({ tp, fp, tn, fn }) => [tp, fp, tn, fn])(value.partial.metric as BinaryPartial), undefined]);
      checked++;
    }
    expect(checked).toBeGreaterThanOrEqual(3);
    expect(regressionChecked).toBeGreaterThanOrEqual(1);
  });
});
