/**
 * What an evaluator restart costs (issue 13): restoring a partition from its
 * checkpoint and re-reading the tail after it, against re-reading the
 * partition from its start, after 1 and 30 days of history.
 *
 *   npm run bench:evaluator-restart
 *   = node --expose-gc --max-old-space-size=8192 --import tsx bench/evaluator-restart.ts
 *
 * Options: --rate R (labels/s of the history, default 0.1), --checkpoint-every C
 * (examples between two checkpoints, default 6000: evaluator.checkpoint_interval's
 * default of 1 minute at the target rate), --target-rate T (default 100: the
 * rate the figures are extrapolated to), --out FILE (default
 * .cache/bench/evaluator-restart.json).
 *
 * The history is scaled down (the in-process log holds every record in
 * memory, and the first pass computes every figure): D days at R labels/s,
 * plus every ninth label corrected (bench/labelled.ts: 3 models, champion +
 * 1 challenger, 2 segment attributes, fairness on `region`), in one
 * partition. For each history an evaluator reads it all, flushing (and
 * checkpointing) every C examples, and is abandoned (as a crash: its last
 * checkpoint is up to C examples behind); the last C/2 records come after
 * it, and the group is left committed up to the last record, so each restarted evaluator restores the partition, then
 * processes that record. Measured, from its `restored` report, with the peak
 * heap (sampled every 50 ms, no forced GC) above the log's records:
 *   - from the checkpoint, the checkpoint topic as written (every checkpoint
 *     of the history in it: a Kafka topic before compaction, whose active
 *     segment is never compacted);
 *   - from the checkpoint, the topic compacted (only the latest);
 *   - from the start (checkpoints off): the full re-read.
 * The full re-read gives the cost per record; extrapolated to T labels/s:
 * full = cost × records, checkpoint = (compacted restore − its tail × cost)
 * + cost × C (the longest tail: a restart just before the next checkpoint).
 * Prints a table and writes JSON.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { LocalCodec } from '../adapters/codec/codec.js';
import { MemoryTransport } from '../adapters/transport/memory.js';
import { ManualClock } from '../core/clock.js';
import type { LabelledExample } from '../core/events.js';
import type { RestoreReport } from '../core/observer.js';
import { EvaluatorProcessor } from '../processors/evaluator.js';
import { parseChunk } from '../processors/checkpoint.js';
import type { EvaluatorSink } from '../sinks/evaluator-rows.js';
import { labelledStream, T0 } from './labelled.js';
import { numberOption } from './options.js';
import { extrapolateRestart } from './restart-extrapolation.js';

const RATE = numberOption('rate', 0.1);
const CHECKPOINT_EVERY = numberOption('checkpoint-every', 6000);
const TARGET_RATE = numberOption('target-rate', 100);
const OUT = (() => {
  const i = process.argv.indexOf('--out');
  return i > 0 ? process.argv[i + 1]! : '.cache/bench/evaluator-restart.json';
})();
const MiB = 1024 * 1024;
const gc = () => (globalThis as { gc?: () => void }).gc?.();
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const codec = new LocalCodec<LabelledExample>('LabelledExample');
const nothing = { connect: async () => {}, writeBatch: async () => {}, close: async () => {} };
const sink: EvaluatorSink = nothing;

interface Restart {
  from: string;
  reason?: string;
  reread: number;
  ms: number;
  /** Peak heap above the log's records while it ran. */
  peakHeapMiB: number;
  /** Checkpoint records (and their bytes) in the topic it restored from. */
  checkpointRecords: number;
  checkpointBytes: number;
}

interface Measured {
  days: number;
  examples: number;
  records: number;
  checkpoints: number;
  stateBytes: number;
  firstPassS: number;
  uncompacted: Restart;
  compacted: Restart;
  full: Restart;
}

function evaluator(log: MemoryTransport, checkpoints: boolean, reports: RestoreReport[]): EvaluatorProcessor {
  return new EvaluatorProcessor({
    transport: log, topic: 'labelled', groupId: 'bench', codec, evaluator: { fairnessAttributes: ['region'] }, sink, deadLetters: nothing,
    flush: { maxRows: CHECKPOINT_EVERY, maxBytes: 1e12, intervalMs: 1e12 }, clock: new ManualClock(T0),
    ...(checkpoints ? { checkpoints: { topic: 'checkpoints', intervalMs: 0 } } : {}), observer: { restored: (r) => reports.push(r) },
  });
}

function checkpointLog(log: MemoryTransport): { records: number; bytes: number; stateBytes: number; checkpoints: number } {
  let bytes = 0;
  let stateBytes = 0;
  let checkpoints = 0;
  const records = log.records('checkpoints');
  for (const r of records) {
    bytes += r.value?.length ?? 0;
    const { header } = parseChunk(r);
    if (header.index === 0) {
      stateBytes = header.bytes;
      checkpoints++;
    }
  }
  return { records: records.length, bytes, stateBytes, checkpoints };
}

/** A restarted evaluator, the group committed up to the last record: restores, processes it, is abandoned. */
async function restart(log: MemoryTransport, checkpoints: boolean): Promise<Restart> {
  const end = log.records('labelled').length;
  log.commitOffsets('bench', [{ topic: 'labelled', partition: 0, offset: end - 1 }]);
  const topic = checkpointLog(log);
  gc();
  const baseline = process.memoryUsage().heapUsed;
  let peak = baseline;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().heapUsed)), 50);
  const reports: RestoreReport[] = [];
  const processor = evaluator(log, checkpoints, reports);
  await processor.start();
  await log.whenIdle();
  clearInterval(sampler);
  peak = Math.max(peak, process.memoryUsage().heapUsed);
  await processor.abandon();
  const report = reports.at(-1);
  if (!report || reports.length !== 1) throw new Error(`expected one restore, got ${reports.length}`);
  return {
    from: report.from, ...(report.reason === undefined ? {} : { reason: report.reason }), reread: report.reread, ms: report.ms,
    peakHeapMiB: (peak - baseline) / MiB, checkpointRecords: checkpoints ? topic.records : 0, checkpointBytes: checkpoints ? topic.bytes : 0,
  };
}

async function measure(days: number): Promise<Measured> {
  const examples = Math.round(days * 86_400 * RATE);
  const log = new MemoryTransport(() => T0);
  await log.ensureTopics([{ name: 'labelled', partitions: 1 }, { name: 'checkpoints', partitions: 1, compacted: true }]);
  const producer = await log.producer();
  // In a function of its own, so the decoded examples are garbage once they are records.
  const send = async (stream: LabelledExample[]) => {
    for (let at = 0; at < stream.length; at += 10_000) {
      await producer.send(await Promise.all(stream.slice(at, at + 10_000).map(async (e) => ({ topic: 'labelled', partition: 0, key: Buffer.from(e.model), value: await codec.encode(e) }))));
    }
  };
  const stream = labelledStream(examples, 1, undefined, days);
  const records = stream.length;
  // The last half interval comes after the crash: the restarts re-read at least that much after the checkpoint.
  const late = stream.splice(Math.max(1, records - Math.floor(CHECKPOINT_EVERY / 2)));
  await send(stream);
  stream.length = 0;

  // The first pass: every figure computed, a checkpoint every CHECKPOINT_EVERY examples; then a crash.
  const started = performance.now();
  const first = evaluator(log, true, []);
  await first.start();
  await log.whenIdle();
  await first.abandon();
  const firstPassS = (performance.now() - started) / 1000;
  await send(late);
  late.length = 0;
  const written = checkpointLog(log);

  const uncompacted = await restart(log, true);
  // Compacts the checkpoint topic (the latest record per key); the labelled records are kept (a reader at 0).
  log.release([{ topic: 'labelled', partition: 0, offset: 0 }]);
  const compacted = await restart(log, true);
  const full = await restart(log, false);
  return { days, examples, records, checkpoints: written.checkpoints, stateBytes: written.stateBytes, firstPassS, uncompacted, compacted, full };
}

async function main(): Promise<void> {
  const measured: Measured[] = [];
  for (const days of [1, 30]) measured.push(await measure(days));
  const longest = measured.at(-1)!;
  const { perItemMs: perRecordMs, fixedMs, at } = extrapolateRestart(longest.full, longest.compacted, TARGET_RATE, CHECKPOINT_EVERY);
  const extrapolated = at.map((e) => ({ days: e.days, records: e.items, full_s: e.full_s, checkpoint_worst_s: e.checkpoint_worst_s }));
  const result = { rate: RATE, checkpoint_every: CHECKPOINT_EVERY, measured, per_record_reread_us: perRecordMs * 1000, checkpoint_fixed_ms: fixedMs, target_rate: TARGET_RATE, extrapolated };

  console.log(`evaluator restart, one partition (3 models), a checkpoint every ${fmt(CHECKPOINT_EVERY)} examples; history at ${RATE} labels/s (scaled down):`);
  console.log('  days  records    state      from checkpoint, as written             from checkpoint, compacted     full re-read');
  for (const m of measured) {
    const r = (x: Restart) => `${fmt(x.ms)} ms, ${fmt(x.reread)} re-read, +${fmt(x.peakHeapMiB)} MiB`;
    console.log(
      `  ${String(m.days).padStart(4)}  ${fmt(m.records).padStart(7)}  ${(m.stateBytes / MiB).toFixed(2)} MiB  ` +
        `${r(m.uncompacted)} (${fmt(m.uncompacted.checkpointRecords)} records, ${(m.uncompacted.checkpointBytes / MiB).toFixed(0)} MiB read)  ` +
        `${r(m.compacted)}  ${r(m.full)}`,
    );
  }
  console.log(`  first pass (every figure, checkpoints): ${measured.map((m) => `${m.days} d ${m.firstPassS.toFixed(1)} s`).join(', ')}`);
  console.log(`  re-read cost ${(perRecordMs * 1000).toFixed(1)} µs per record; checkpoint read and decode (compacted, 30 days) ${fmt(fixedMs)} ms`);
  console.log(`extrapolated to ${TARGET_RATE} labels/s (the state's size assumed as measured: see the README):`);
  for (const e of extrapolated) console.log(`  ${e.days} day(s), ${fmt(e.records)} records: full re-read ${e.full_s.toFixed(0)} s; from the compacted checkpoint at most ${e.checkpoint_worst_s.toFixed(1)} s`);
  mkdirSync(dirname(OUT), { recursive: true });
  writeFileSync(OUT, `${JSON.stringify(result, null, 2)}\n`);
  console.log(`written ${OUT}`);
}

await main();
