/**
 * The promoter's checkpoints on the in-process log: a promoter restarted
 * after a checkpoint restores it and re-reads only the examples after it
 * (counted), and the decisions published across the restart are exactly
 * those of an uninterrupted run (ids included); without a usable checkpoint
 * (none, other settings) it re-reads the partition from its start and says
 * why.
 */
import { describe, expect, it, vi } from 'vitest';
import { noisy, promotionStream, sigmoid, type SimulatedChallenger } from '../../bench/promotion-sim.js';
import { LocalCodec } from '../../adapters/codec/codec.js';
import { MemoryTransport } from '../../adapters/transport/memory.js';
import type { LogTransport } from '../../adapters/transport/transport.js';
import { ManualClock } from '../../core/clock.js';
import type { DeadLetter, LabelledExample, PromotionDecision } from '../../core/events.js';
import type { RestoreReport } from '../../core/observer.js';
import { PromotionPolicy, type PolicyOptions } from '../../core/promote/index.js';
import { PromoterProcessor } from '../../processors/promoter.js';

const T0 = 1_763_942_400_000;
const TOPICS = { labelled: 'labelled', promotions: 'promotions', deadLetters: 'dead', checkpoints: 'checkpoints' };
const PARTITIONS = 2;
const CHECKPOINT_EVERY = 1000;
const codecs = {
  labelled: new LocalCodec<LabelledExample>('LabelledExample'),
  promotion: new LocalCodec<PromotionDecision>('PromotionDecision'),
  deadLetter: new LocalCodec<DeadLetter>('DeadLetter'),
};

/** A challenger with noise `sd(i)` on the log-odds at example i (null: no score). */
const noise =
  (sd: (i: number) => number | null): SimulatedChallenger =>
  (logit, index, normal) => {
    const s = sd(index);
    return s === null ? null : sigmoid(logit + s * normal());
  };

/**
 * Two models, round robin (example i of a model is record 2i or 2i + 1): fraud promotes lr at its
 * example 499 and rolls it back at 1783 (lr turns bad at 1500); spam promotes lr at 1144, then ftrl
 * over it at 2689.
 */
function examples(): LabelledExample[] {
  const streams = [
    [...promotionStream({ seed: 3, examples: 3000, model: 'fraud', champion: noisy(1), challengers: { lr: noise((i) => (i < 1500 ? 0.3 : 3)) } })],
    [...promotionStream({ seed: 4, examples: 3000, model: 'spam', champion: noisy(1), challengers: { lr: noise((i) => (i < 600 ? null : i < 2000 ? 0.3 : 1)), ftrl: noise((i) => (i < 2000 ? null : 0.2)) } })],
  ];
  const out: LabelledExample[] = [];
  for (let i = 0; i < 3000; i++) for (const s of streams) out.push(s[i]!);
  return out;
}

/** From now on, notes the partition and offset of every labelled-examples record a readToEnd of `log` delivers. */
function counting(log: MemoryTransport, delivered: Array<[number, number]>): MemoryTransport {
  const readToEnd = log.readToEnd.bind(log);
  log.readToEnd = (topic, partitions, onRecords, start) =>
    readToEnd(topic, partitions, async (records) => {
      if (topic === TOPICS.labelled) for (const r of records) delivered.push([r.partition, r.offset]);
      await onRecords(records);
    }, start);
  return log;
}

function promoter(transport: LogTransport, reports: RestoreReport[], options: Partial<PolicyOptions> = {}, checkpointEvery = CHECKPOINT_EVERY): PromoterProcessor {
  return new PromoterProcessor({
    transport, topics: TOPICS, groupId: 'promoter', transactionalIdPrefix: 'promoter', codecs,
    policyOf: () => options, actor: 'promoter', clock: new ManualClock(T0), checkpointEvery,
    observer: { restored: (r) => reports.push(r) },
  });
}

async function newLog(): Promise<MemoryTransport> {
  const log = new MemoryTransport(() => T0);
  await log.ensureTopics([
    { name: TOPICS.labelled, partitions: PARTITIONS }, { name: TOPICS.promotions, partitions: PARTITIONS },
    { name: TOPICS.deadLetters, partitions: 1 }, { name: TOPICS.checkpoints, partitions: PARTITIONS, compacted: true },
  ]);
  return log;
}

async function send(log: MemoryTransport, batch: LabelledExample[]): Promise<void> {
  const producer = await log.producer();
  for (let at = 0; at < batch.length; at += 250) {
    const records = [];
    for (const e of batch.slice(at, at + 250)) records.push({ topic: TOPICS.labelled, key: Buffer.from(e.model), value: await codecs.labelled.encode(e) });
    await producer.send(records);
  }
  await log.whenIdle();
}

const decisionsOn = async (log: MemoryTransport) => Promise.all(log.records(TOPICS.promotions).map(async (r) => codecs.promotion.decode(r.value)));

/** The decisions one promoter, never restarted, publishes for `stream`. */
async function uninterruptedDecisions(stream: LabelledExample[]): Promise<PromotionDecision[]> {
  const reference = await newLog();
  const uninterrupted = promoter(reference, []);
  await uninterrupted.start();
  await send(reference, stream);
  await uninterrupted.stop();
  return decisionsOn(reference);
}

describe('the promoter restores from its checkpoints', () => {
  it('a restart after checkpoints re-reads only the tail and publishes exactly what an uninterrupted run publishes', async () => {
    const stream = examples();
    const split = 4300;

    const expected = await uninterruptedDecisions(stream);
    expect(expected.map((d) => `${d.decision_id} ${d.decision} ${d.to_version}`).sort()).toEqual([
      'fraud#1 PROMOTE fraud/lr@1', 'fraud#2 ROLLBACK v1', 'spam#1 PROMOTE spam/lr@3', 'spam#2 PROMOTE spam/ftrl@6',
    ]);

    const log = await newLog();
    const reports: RestoreReport[] = [];
    const first = promoter(log, reports);
    await first.start();
    await send(log, stream.slice(0, split));
    await first.stop();
    const before = (await decisionsOn(log)).length;
    expect(log.records(TOPICS.checkpoints).length).toBeGreaterThan(0);

    const ends = new Map((await log.endOffsets(TOPICS.labelled)).map((o) => [o.partition, o.offset]));
    const delivered: Array<[number, number]> = [];
    const second = promoter(counting(log, delivered), reports);
    await second.start();
    await send(log, stream.slice(split));
    await second.stop();

    const published = await decisionsOn(log);
    expect(published).toEqual(expected);
    // Decisions on both sides of the restart.
    expect(before).toBeGreaterThan(0);
    expect(published.length).toBeGreaterThan(before);
    // The first start had nothing; the second restored each partition with examples from a checkpoint and re-read less than checkpoint_every records.
    const partitions = new Set(log.records(TOPICS.labelled).map((r) => r.partition)).size;
    expect(reports).toHaveLength(2 * partitions);
    const restarts = reports.slice(partitions);
    expect(reports.slice(0, partitions).map((r) => [r.from, r.reason, r.reread])).toEqual(Array(partitions).fill(['start', 'no checkpoint yet', 0]));
    expect(restarts.map((r) => r.from)).toEqual(Array(partitions).fill('checkpoint'));
    let total = 0;
    for (const r of restarts) {
      expect(r.reread).toBeGreaterThan(0);
      expect(r.reread).toBeLessThan(CHECKPOINT_EVERY);
      total += r.reread;
      // What the log delivered of the partition before where it resumed: the tail, no more (the read goes on to the end).
      const tail = delivered.filter(([p, offset]) => p === r.partition && offset < ends.get(p)!).map(([, offset]) => offset);
      expect(tail).toEqual(Array.from({ length: r.reread }, (_, i) => ends.get(r.partition)! - r.reread + i));
    }
    expect(total).toBeLessThan(split / 4);
  });

  it('re-reads the partition from its start, saying why, when the checkpoint was made under other settings or there is none', async () => {
    const stream = examples().slice(0, 2500);
    const log = await newLog();
    const first = promoter(log, []);
    await first.start();
    await send(log, stream);
    await first.stop();

    const reports: RestoreReport[] = [];
    const changed = promoter(log, reports, { minSamples: 400 });
    await changed.start();
    // A task opens at its first batch: one more example per model.
    const more = examples().slice(2500, 2502);
    await send(log, more);
    await changed.stop();
    const partitions = new Set(log.records(TOPICS.labelled).map((r) => r.partition)).size;
    expect(reports.map((r) => r.from)).toEqual(Array(partitions).fill('start'));
    expect(reports[0]!.reason).toMatch(/does not fit: promotion policy of \w+: the state was made under other settings .*min_samples=500.*now.*min_samples=400/);
    let reread = 0;
    for (const r of reports) reread += r.reread;
    expect(reread).toBe(stream.length);

    // checkpoint_every 0: none written.
    const none = await newLog();
    const off = promoter(none, [], {}, 0);
    await off.start();
    await send(none, stream);
    await off.stop();
    expect(none.records(TOPICS.checkpoints)).toEqual([]);
  });
});

describe('the promoter and a poison record behind its committed offsets', () => {
  it('skips it again when a restart re-reads it (dead-lettered once, when processed), and publishes what an uninterrupted run publishes', async () => {
    const stream = examples();
    const poison = stream[1500]!;
    const observe = PromotionPolicy.prototype.observe;
    const spy = vi.spyOn(PromotionPolicy.prototype, 'observe').mockImplementation(function (this: PromotionPolicy, e) {
      if (e.example_id === poison.example_id) throw new Error(`cannot observe ${e.example_id}`);
      return observe.call(this, e);
    });
    try {
      const expected = await uninterruptedDecisions(stream);
      expect(expected.length).toBeGreaterThan(0);

      const log = await newLog();
      const reports: RestoreReport[] = [];
      const first = promoter(log, reports, {}, 0); // no checkpoints: the restart re-reads the poison
      await first.start();
      await send(log, stream.slice(0, 3000));
      await first.stop();
      const second = promoter(log, reports, {}, 0);
      await second.start();
      await send(log, stream.slice(3000));
      await second.stop();
      await expect(second.done).resolves.toBeUndefined();

      expect(await decisionsOn(log)).toEqual(expected);
      expect(log.records(TOPICS.deadLetters)).toHaveLength(1);
      expect(reports.flatMap((r) => r.skipped ?? []).map((s) => s.error)).toEqual([`cannot observe ${poison.example_id}`]);
    } finally {
      spy.mockRestore();
    }
  });
});
