/**
 * Multi-class and multi-label metrics benchmark: time per update/revert and
 * the garbage collections during the timed loop (none expected: update and
 * revert allocate nothing).
 *
 *   npm run bench:class-metrics
 *   = node --expose-gc --import tsx bench/class-metrics.ts
 *
 * Each case runs in a process of its own (so V8 sees one observation shape:
 * a metric fed objects with and without `weight` reads the weight through a
 * polymorphic load, which copies the double, and then does allocate). It
 * feeds a seeded stream of 10,000 observations (the reference tests'
 * streams: probabilities in twentieths, 10% rejections), updating all and
 * then reverting all, after a warm-up; the figure is the mean over every
 * call, and `gcs` the collections V8 reported meanwhile.
 */
import { execFileSync } from 'node:child_process';
import { PerformanceObserver } from 'node:perf_hooks';
import { MulticlassMetrics, MultilabelMetrics, type Metric } from '../core/metrics/index.js';
import { multiclassStream, multilabelStream } from '../test/support/class-streams.js';

let gcs = 0;
new PerformanceObserver((list) => {
  gcs += list.getEntries().length;
}).observe({ entryTypes: ['gc'] });

/** Runs `rounds` of update-all then revert-all; ns per call and the GCs seen. */
async function measure<O>(metric: Metric<O, unknown>, stream: readonly O[], rounds: number): Promise<{ ns: number; gcs: number }> {
  const round = () => {
    for (let i = 0; i < stream.length; i++) metric.update(stream[i]!);
    for (let i = 0; i < stream.length; i++) metric.revert(stream[i]!);
  };
  for (let r = 0; r < 20; r++) round();
  (globalThis as { gc?: () => void }).gc?.();
  await new Promise((resolve) => setTimeout(resolve, 50)); // let the observer see the GCs before the loop
  const before = gcs;
  const start = process.hrtime.bigint();
  for (let r = 0; r < rounds; r++) round();
  const ns = Number(process.hrtime.bigint() - start) / (rounds * 2 * stream.length);
  await new Promise((resolve) => setTimeout(resolve, 50));
  return { ns, gcs: gcs - before };
}

const names = (n: number, prefix: string) => Array.from({ length: n }, (_, i) => `${prefix}${i}`);
const cases: Array<[string, () => Promise<{ ns: number; gcs: number }>]> = [
  ['multiclass, 7 classes', () => measure(new MulticlassMetrics(names(7, 'c')), multiclassStream(1, 10_000, 7, { rejectRate: 0.1 }), 200)],
  ['multiclass, 7 classes, weighted', () => measure(new MulticlassMetrics(names(7, 'c')), multiclassStream(2, 10_000, 7, { rejectRate: 0.1, weighted: true }), 200)],
  ['multiclass, 256 classes', () => measure(new MulticlassMetrics(names(256, 'c')), multiclassStream(3, 10_000, 256, { rejectRate: 0.1 }), 20)],
  ['multilabel, 7 labels', () => measure(new MultilabelMetrics(names(7, 'l')), multilabelStream(4, 10_000, 7), 200)],
  ['multilabel, 7 labels, weighted', () => measure(new MultilabelMetrics(names(7, 'l')), multilabelStream(5, 10_000, 7, { weighted: true }), 200)],
];
const only = process.argv[2];
if (only === undefined) {
  for (let i = 0; i < cases.length; i++) {
    process.stdout.write(execFileSync(process.execPath, [...process.execArgv, import.meta.filename, String(i)]));
  }
} else {
  const [name, run] = cases[Number(only)]!;
  const { ns, gcs: collections } = await run();
  console.log(`${name}: ${ns.toFixed(0)} ns per update/revert, ${collections} GCs in the timed loop`);
}
