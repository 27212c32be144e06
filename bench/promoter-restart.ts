/**
 * What a promoter restart costs (issue 13): restoring a partition from its
 * checkpoint and the examples after it, against re-reading the partition
 * from its start, after 1 and 30 days of history.
 *
 *   npm run bench:promoter-restart
 *   = node --expose-gc --max-old-space-size=8192 --import tsx bench/promoter-restart.ts
 *
 * Options: --rate R (labels/s of the history, default 0.1), --checkpoint-every C
 * (default 10000, promoter.checkpoint_every's default), --target-rate T (default
 * 100: the rate the figures are extrapolated to), --out FILE (default
 * .cache/bench/promoter-restart.json).
 *
 * The history is scaled down (the in-process log holds every record in
 * memory): D days at R labels/s, 4 models round robin in one partition
 * (bench/promotion-sim.ts streams, 2 challengers each). For each history:
 * a promoter reads it all (writing its checkpoints), then a restarted one
 * restores from the checkpoint (time and examples re-read, from its
 * `restored` report), then one with an empty checkpoint topic re-reads the
 * partition from the start. The full re-read gives the cost per example;
 * the figures at T labels/s are extrapolated: full = cost × examples,
 * checkpoint = (measured restore − its tail) + cost × C (the longest tail:
 * a restart just before the next checkpoint). Prints a table and writes JSON.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { LocalCodec } from '../adapters/codec/codec.js';
import { MemoryTransport } from '../adapters/transport/memory.js';
import { ManualClock } from '../core/clock.js';
import type { DeadLetter, LabelledExample, PromotionDecision } from '../core/events.js';
import type { RestoreReport } from '../core/observer.js';
import { PromoterProcessor } from '../processors/promoter.js';
import { noisy, promotionStream, T0 } from './promotion-sim.js';
import { numberOption } from './options.js';
import { extrapolateRestart } from './restart-extrapolation.js';

const RATE = numberOption('rate', 0.1);
const CHECKPOINT_EVERY = numberOption('checkpoint-every', 10_000);
const TARGET_RATE = numberOption('target-rate', 100);
const OUT = (() => {
  const i = process.argv.indexOf('--out');
  return i > 0 ? process.argv[i + 1]! : '.cache/bench/promoter-restart.json';
})();
const DAY_MS = 86_400_000;
const MODELS = ['fraud', 'spam', 'churn', 'credit'];
const codecs = {
  labelled: new LocalCodec<LabelledExample>('LabelledExample'),
  promotion: new LocalCodec<PromotionDecision>('PromotionDecision'),
  deadLetter: new LocalCodec<DeadLetter>('DeadLetter'),
};
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

interface Measured {
  days: number;
  examples: number;
  checkpoint: { ms: number; reread: number; from: string; stateBytes: number };
  full: { ms: number; reread: number; from: string };
}

/** N examples of the 4 models, round robin, spread over `days` of event time, into partition 0 of `labelled`. */
async function fill(log: MemoryTransport, examples: number, days: number): Promise<void> {
  const perModel = Math.ceil(examples / MODELS.length);
  const gapMs = (days * DAY_MS) / perModel;
  const streams = MODELS.map((model, m) =>
    promotionStream({ seed: 100 + m, examples: perModel, model, champion: noisy(1), challengers: { lr: noisy(0.9), ftrl: noisy(1.1) }, gapMs, startMs: T0, snapshotEvery: 5000 }),
  );
  const producer = await log.producer();
  let sent = 0;
  while (sent < examples) {
    const records = [];
    for (let k = 0; k < 1000 && sent < examples; k++, sent++) {
      const example = streams[sent % MODELS.length]!.next().value as LabelledExample;
      records.push({ topic: 'labelled', partition: 0, key: Buffer.from(example.model), value: await codecs.labelled.encode(example) });
    }
    await producer.send(records);
  }
}

/** Runs a promoter until the log is idle, after one more example (a task opens at its first batch); its restore report. */
async function restart(log: MemoryTransport, checkpoints: string, checkpointEvery: number, poke: boolean): Promise<RestoreReport> {
  const reports: RestoreReport[] = [];
  const promoter = new PromoterProcessor({
    transport: log, topics: { labelled: 'labelled', promotions: 'promotions', deadLetters: 'dead', checkpoints }, groupId: 'promoter', transactionalIdPrefix: 'promoter',
    codecs, policyOf: () => ({}), actor: 'bench', clock: new ManualClock(T0), checkpointEvery, observer: { restored: (r) => reports.push(r) },
  });
  await promoter.start();
  if (poke) {
    const last = log.records('labelled').at(-1)!;
    await (await log.producer()).send([{ topic: 'labelled', partition: 0, key: last.key, value: last.value }]);
  }
  await log.whenIdle();
  await promoter.stop();
  return reports.at(-1)!;
}

async function measure(days: number): Promise<Measured> {
  const examples = Math.round(days * 86_400 * RATE);
  const log = new MemoryTransport(() => T0);
  await log.ensureTopics([
    { name: 'labelled', partitions: 1 }, { name: 'promotions', partitions: 1 }, { name: 'dead', partitions: 1 },
    { name: 'checkpoints', partitions: 1, compacted: true }, { name: 'no-checkpoints', partitions: 1, compacted: true },
  ]);
  await fill(log, examples, days);
  await restart(log, 'checkpoints', CHECKPOINT_EVERY, false);
  const records = log.records('checkpoints');
  let stateBytes = 0;
  for (const r of records) if (r.key!.toString() === 'chunk-0') stateBytes = Number((JSON.parse(r.value!.subarray(4, 4 + r.value!.readUInt32BE(0)).toString()) as { bytes: number }).bytes);
  const checkpoint = await restart(log, 'checkpoints', CHECKPOINT_EVERY, true);
  const full = await restart(log, 'no-checkpoints', 0, true);
  return {
    days, examples,
    checkpoint: { ms: checkpoint.ms, reread: checkpoint.reread, from: checkpoint.from, stateBytes },
    full: { ms: full.ms, reread: full.reread, from: full.from },
  };
}

async function main(): Promise<void> {
  const measured: Measured[] = [];
  for (const days of [1, 30]) measured.push(await measure(days));
  const longest = measured.at(-1)!;
  const { perItemMs: perExampleMs, fixedMs, at } = extrapolateRestart(longest.full, longest.checkpoint, TARGET_RATE, CHECKPOINT_EVERY);
  const extrapolated = at.map((e) => ({ days: e.days, examples: e.items, full_s: e.full_s, checkpoint_worst_s: e.checkpoint_worst_s }));
  const result = { rate: RATE, checkpoint_every: CHECKPOINT_EVERY, models: MODELS.length, measured, per_example_reread_us: perExampleMs * 1000, checkpoint_fixed_ms: fixedMs, target_rate: TARGET_RATE, extrapolated };

  console.log(`promoter restart, one partition of ${MODELS.length} models, checkpoint every ${fmt(CHECKPOINT_EVERY)} examples; history at ${RATE} labels/s (scaled down):`);
  for (const m of measured) {
    console.log(`  ${m.days} day(s), ${fmt(m.examples)} examples: from the checkpoint ${fmt(m.checkpoint.ms)} ms (${m.checkpoint.from}, ${fmt(m.checkpoint.reread)} re-read, state ${fmt(m.checkpoint.stateBytes)} bytes); full re-read ${fmt(m.full.ms)} ms (${fmt(m.full.reread)} re-read)`);
  }
  console.log(`  re-read cost ${(perExampleMs * 1000).toFixed(1)} µs per example; checkpoint read and decode ${fmt(fixedMs)} ms`);
  console.log(`extrapolated to ${TARGET_RATE} labels/s:`);
  for (const e of extrapolated) console.log(`  ${e.days} day(s), ${fmt(e.examples)} examples: full re-read ${e.full_s.toFixed(0)} s; from the checkpoint at most ${e.checkpoint_worst_s.toFixed(1)} s`);
  mkdirSync(dirname(OUT), { recursive: true });
  writeFileSync(OUT, `${JSON.stringify(result, null, 2)}\n`);
  console.log(`written ${OUT}`);
}

await main();
