/**
 * What an evaluator restart costs: the processor, on the in-process log,
 * takes over a partition whose group has committed all but the last
 * example, so it first re-reads the partition's history (decoding every
 * record and applying it to a new Evaluator, writing nothing), then
 * processes the one remaining example and flushes.
 *
 *   npm run bench:evaluator-restart
 *   = node --expose-gc --max-old-space-size=8192 --import tsx bench/evaluator-restart.ts
 *
 * Options: --examples N (default 600000), --days D (default 30; the history
 * spans D days of event time).
 *
 * Prints the time from start to the first flush and the peak heap in that
 * time (sampled every 50 ms, no forced GC, so it is what the process really
 * held at the sample), next to the heap held by the examples' records alone.
 * The stream is bench/labelled.ts (3 models, champion + 1 challenger, 2
 * segment attributes, fairness on `region`, every ninth label corrected).
 */
import { LocalCodec } from '../adapters/codec/codec.js';
import { MemoryTransport } from '../adapters/transport/memory.js';
import { ManualClock } from '../core/clock.js';
import type { LabelledExample } from '../core/events.js';
import type { EvaluatorRows } from '../core/evaluate/index.js';
import { EvaluatorProcessor } from '../processors/evaluator.js';
import type { EvaluatorSink } from '../sinks/evaluator-rows.js';
import { labelledStream, T0 } from './labelled.js';
import { numberOption } from './options.js';

const EXAMPLES = numberOption('examples', 600_000);
const DAYS = numberOption('days', 30);
const MiB = 1024 * 1024;
const gc = () => (globalThis as { gc?: () => void }).gc?.();
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

async function main(): Promise<void> {
  const codec = new LocalCodec<LabelledExample>('LabelledExample');
  const log = new MemoryTransport();
  await log.ensureTopics([{ name: 'labelled', partitions: 1 }]);
  const producer = await log.producer();
  // In a function of its own, so the decoded examples are garbage once they are records.
  const count = await (async () => {
    const examples = labelledStream(EXAMPLES, 1, undefined, DAYS);
    for (let at = 0; at < examples.length; at += 10_000) {
      await producer.send(await Promise.all(examples.slice(at, at + 10_000).map(async (e) => ({ topic: 'labelled', key: Buffer.from(e.model), value: await codec.encode(e) }))));
    }
    return examples.length;
  })();
  log.commitOffsets('bench', [{ topic: 'labelled', partition: 0, offset: count - 1 }]);
  gc();
  const baseline = process.memoryUsage().heapUsed;

  let written: EvaluatorRows | undefined;
  let flushedAt = 0;
  const sink: EvaluatorSink = {
    connect: async () => {},
    writeBatch: async (batches) => {
      written ??= batches[0];
      flushedAt ||= performance.now();
    },
    close: async () => {},
  };
  const processor = new EvaluatorProcessor({
    transport: log, topic: 'labelled', groupId: 'bench', codec, evaluator: { fairnessAttributes: ['region'] }, sink,
    deadLetters: { connect: async () => {}, writeBatch: async () => {}, close: async () => {} },
    flush: { maxRows: 1, maxBytes: 1e12, intervalMs: 1e12 }, clock: new ManualClock(T0),
  });
  let peak = baseline;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().heapUsed)), 50);
  const started = performance.now();
  await processor.start();
  await log.whenIdle();
  clearInterval(sampler);
  peak = Math.max(peak, process.memoryUsage().heapUsed);
  await processor.stop({ final: true });
  if (!written || written.examples.length !== 1) throw new Error(`expected one example written after the rebuild, got ${written?.examples.length}`);
  const seconds = (flushedAt - started) / 1000;

  console.log(`evaluator restart: ${fmt(count)} examples of history over ${DAYS} days re-read, then 1 processed`);
  console.log(`  start to first flush   ${seconds.toFixed(1)} s (${fmt(count / seconds)} examples/s re-read)`);
  console.log(`  peak heap              ${fmt(peak / MiB)} MiB, of which ${fmt(baseline / MiB)} MiB is the log's records and the bench itself`);
  console.log(`  rows of the first flush: ${fmt(written.points.length)} points, ${fmt(written.drift.length)} drift records`);
}

await main();
