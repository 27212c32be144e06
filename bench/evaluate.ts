/**
 * Evaluator benchmark (the evaluator issue): throughput of the pure core and
 * of the processor path, memory per example held, and drift alarms on a
 * stationary stream and after a known change point.
 *
 *   npm run bench:evaluate
 *   = node --expose-gc --import tsx bench/evaluate.ts
 *
 * Options: --examples N (default 200000), --stationary N (default 100000),
 * --quick (small sizes, for a smoke run).
 *
 * What is measured:
 *  1. Pure Evaluator (default options: total, 1h, 1d, last_1000; segments;
 *     fairness on `region`; PSI/KS on 2 features and every score; ADWIN,
 *     Page-Hinkley, DDM), 3 models, a champion and one challenger shadow
 *     score, 2 segment attributes, predictions spread over 7 days, labels
 *     1 min to 1 day later, every ninth label corrected. Examples are made
 *     before the clock starts; the time includes a drain every 5,000
 *     examples (as the processor's flushes would).
 *  2. Heap held after the run (full GC), per example applied.
 *  3. The processor on the in-process log (Avro decode, evaluator, rows
 *     versioned, drained at the end) with an in-memory sink.
 *  4. Drift alarms: a stationary stream (error rate 0.2, features and scores
 *     from fixed distributions) — every alarm is a false one; and a stream
 *     whose error rate goes 0.2 → 0.5 and whose `amount` feature shifts at
 *     a known example: the delay of the first alarm of each statistic.
 */
import { LocalCodec } from '../adapters/codec/codec.js';
import { MemoryTransport } from '../adapters/transport/memory.js';
import { ManualClock } from '../core/clock.js';
import { DEFAULT_EVALUATOR_OPTIONS, Evaluator } from '../core/evaluate/index.js';
import type { LabelledExample } from '../core/events.js';
import { EvaluatorProcessor } from '../processors/evaluator.js';
import { FileEvaluatorSink } from '../sinks/evaluator-rows.js';
import { labelledStream as stream, T0 } from './labelled.js';
import { numberOption } from './options.js';

const quick = process.argv.slice(2).includes('--quick');
const EXAMPLES = numberOption('examples', quick ? 20_000 : 200_000);
const STATIONARY = numberOption('stationary', quick ? 20_000 : 100_000);

const gc = () => (globalThis as { gc?: () => void }).gc?.();
const heap = () => {
  gc();
  return process.memoryUsage().heapUsed;
};
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

async function main(): Promise<void> {
  const options = { fairnessAttributes: ['region'] };
  const examples = stream(EXAMPLES, 1);
  const codec = new LocalCodec<LabelledExample>('LabelledExample');
  const records = await Promise.all(examples.map(async (e) => ({ topic: 'labelled', key: Buffer.from(e.model), value: await codec.encode(e) })));

  // 2b, measured first (no other evaluator alive): heap held when the examples come decoded from Avro
  // (each with strings of its own, as the processor has them).
  const beforeDecoded = heap();
  let decodedEvaluator: Evaluator | undefined = new Evaluator(options);
  for (let i = 0; i < records.length; i++) {
    decodedEvaluator.onExample(await codec.decode(records[i]!.value));
    if (i % 5000 === 4999) decodedEvaluator.drain();
  }
  decodedEvaluator.drain();
  const heldDecoded = heap() - beforeDecoded;
  if (Object.keys(decodedEvaluator.health()).length !== 3) throw new Error('three models expected');
  decodedEvaluator = undefined;

  // 1 and 2: the pure core.
  const before = heap();
  const evaluator = new Evaluator(options);
  let points = 0;
  let started = performance.now();
  for (let i = 0; i < examples.length; i++) {
    evaluator.onExample(examples[i]!);
    if (i % 5000 === 4999) points += evaluator.drain().points.length;
  }
  points += evaluator.finish().points.length;
  const coreSeconds = (performance.now() - started) / 1000;
  const held = heap() - before;
  const health = evaluator.health();
  const openWindows = Object.values(health).reduce((sum, h) => sum + h.open_windows, 0);

  // 3: the processor on the in-process log.
  const log = new MemoryTransport();
  await log.ensureTopics([{ name: 'labelled', partitions: 3 }]);
  const producer = await log.producer();

  await producer.send(records);
  const sink = new FileEvaluatorSink('/nonexistent');
  const processor = new EvaluatorProcessor({
    transport: log, topic: 'labelled', groupId: 'bench', codec, evaluator: options, sink,
    deadLetters: { connect: async () => {}, writeBatch: async () => {}, close: async () => {} },
    flush: { maxRows: 5000, maxBytes: 1e12, intervalMs: 1e12 }, clock: new ManualClock(T0),
  });
  started = performance.now();
  await processor.start();
  await log.whenIdle();
  await processor.stop({ final: true });
  const processorSeconds = (performance.now() - started) / 1000;

  // 4: drift alarms. The error detectors in arrival order (per label: delays in examples are
  // theirs); matured order (the default) is measured by bench:drift-delay.
  const alarms = (xs: LabelledExample[]) => {
    const e = new Evaluator({ ...options, rollingSize: 0, drift: { ...DEFAULT_EVALUATOR_OPTIONS.drift, detectorOrder: 'arrival' } });
    const fired: Array<{ statistic: string; feature: string; role: string; n: number; model: string }> = [];
    // Drift records do not depend on when the evaluator is drained.
    xs.forEach((x, i) => {
      e.onExample(x);
      if (i % 5000 === 4999 || i === xs.length - 1) fired.push(...e.drain().drift.filter((d) => d.detected));
    });
    return fired;
  };
  const stationary = alarms(stream(STATIONARY, 2).filter((x) => x.correction_of === null));
  const changeAt = Math.floor(STATIONARY / 2);
  // n counts one model's examples; the change happens at its example changeAt / 3.
  const changed = alarms(stream(STATIONARY, 3, { at: changeAt }));
  const perModelChange = Math.floor(changeAt / 3);
  const count = (fired: typeof stationary) => {
    const out: Record<string, number> = {};
    for (const f of fired) out[`${f.statistic}:${f.feature}`] = (out[`${f.statistic}:${f.feature}`] ?? 0) + 1;
    return out;
  };
  const delays: Record<string, number | null> = {};
  for (const key of ['adwin:error', 'page_hinkley:error', 'ddm:error', 'psi:amount', 'ks:amount', 'psi:age', 'ks:age']) {
    const [statistic, feature] = key.split(':');
    const first = changed.filter((f) => f.model === 'fraud' && f.role !== 'challenger' && f.statistic === statistic && f.feature === feature && f.n > perModelChange).map((f) => f.n - perModelChange);
    delays[key] = first.length ? Math.min(...first) : null;
  }

  console.log(`evaluator benchmark (${EXAMPLES.toLocaleString('en-US')} labels + corrections = ${examples.length.toLocaleString('en-US')} examples, 3 models, champion + 1 challenger, 2 segment attributes)`);
  console.log(`  pure core, with a drain every 5,000 examples   ${fmt(examples.length / coreSeconds)} examples/s  (${((coreSeconds * 1e6) / examples.length).toFixed(1)} µs each; ${fmt(points)} points written)`);
  console.log(`  processor on the in-process log (Avro decode)  ${fmt(examples.length / processorSeconds)} examples/s`);
  console.log(`  heap held after the run                        ${fmt(held / 1024 / 1024)} MiB = ${fmt(held / examples.length)} B per example (${fmt(openWindows)} open tumbling windows; no example is remembered)`);
  console.log(`  the same, the examples decoded from Avro       ${fmt(heldDecoded / 1024 / 1024)} MiB = ${fmt(heldDecoded / examples.length)} B per example`);
  console.log(`  stationary stream, ${STATIONARY.toLocaleString('en-US')} examples: false alarms by statistic:feature ${JSON.stringify(count(stationary))} (PSI/KS tests made: every 1,000 examples per feature and score)`);
  console.log(`  change at example ${changeAt.toLocaleString('en-US')} (per model ${perModelChange.toLocaleString('en-US')}; error 0.2 -> 0.5, amount +30): first alarm delay in that model's examples ${JSON.stringify(delays)}`);
}

await main();
