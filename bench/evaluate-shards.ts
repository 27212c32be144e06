/**
 * Sharded evaluator benchmark (issue 13, scale-out of one model; the first
 * slice of docs/scale-out.md): one hot model's examples sharded by
 * prediction id over N worker threads, each running the evaluator core on
 * its shard and producing window partials, merged at the end.
 *
 *   npm run bench:evaluate-shards
 *   = node --expose-gc --max-old-space-size=8192 --import tsx bench/evaluate-shards.ts
 *
 * Options: --labels N (labels of the model, default 100000; every ninth is
 * corrected, so about 1.11 N examples), --reps R (default 5), --drain-every
 * N (default 5000, as bench:evaluate), --json PATH (default
 * out/bench/evaluate-shards.json), --quick (20000 labels, 2 reps).
 *
 * The stream is bench:evaluate's (bench/labelled.ts: a champion score and
 * one challenger shadow score, 2 segment attributes, predictions over 7
 * days, labels 1 min to 1 day later, every ninth corrected an hour later)
 * with every example of one model, `hot`; the evaluator's options are
 * bench:evaluate's (the defaults, fairness on `region`).
 *
 * Each rep, for N = 1 and N = 2 (the order alternating between reps),
 * starts N worker threads; each makes the stream and keeps its shard
 * (Kafka's partition of the prediction id among N, bench/shards.ts), then
 * says it is ready. The clock runs from `go` until every worker's partials
 * (the last of each window) are back and merged: examples/s = examples of
 * the stream / that time. Every rep's merge is checked against the
 * evaluator run on the whole stream in the main thread (compareMerged:
 * equal figures, float sums within their summation bound, the binned AUC
 * within its bound of the unsharded roc_auc); a mismatch fails the bench.
 * Each worker also reads its thread's CPU time (/proc/thread-self/stat):
 * the CPU seconds summed over the shards against N = 1's say what work
 * sharding adds, and examples / the slowest worker's CPU seconds projects
 * what N = 2 would reach with a free core each (a projection: it leaves out
 * contention for memory and V8's GC helper threads). Last, the main
 * thread runs the whole stream and then its 2 shards one after the other
 * (warm, no worker alive): the CPU time sharding adds without threads
 * contending.
 *
 * What this is not: N `run` instances over Kafka (no decoding, no
 * transactions, no ClickHouse: docs/scale-out.md, bench:kafka-e2e
 * --instances is not built). On a 2-core machine shared with other work
 * N = 2 can show at most the second core, and only what others leave of
 * it (with Linux's autogroup scheduling, CPU is shared between sessions,
 * not threads): the load average is recorded, and each rep first runs a
 * control (a fixed integer loop in 1 and 2 threads) whose ratio is the
 * parallelism the machine gave then.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname } from 'node:path';
import { Worker } from 'node:worker_threads';
import { DEFAULT_EVALUATOR_OPTIONS, windowPartialKey, type EvaluatorOptions, type WindowPartialRow } from '../core/evaluate/index.js';
import type { ShardJob } from './evaluate-shards-worker.js';
import { labelledStream } from './labelled.js';
import { numberOption } from './options.js';
import { compareMerged, mergeRuns, runEvaluator, shard, type Comparison } from './shards.js';
import { printTable } from './table.js';

const quick = process.argv.includes('--quick');
const LABELS = numberOption('labels', quick ? 20_000 : 100_000);
const REPS = numberOption('reps', quick ? 2 : 5);
const DRAIN_EVERY = numberOption('drain-every', 5000);
const JSON_PATH = ((i) => (i >= 0 ? process.argv[i + 1]! : undefined))(process.argv.indexOf('--json')) ?? 'out/bench/evaluate-shards.json';
const SEED = 1;
const MODEL = 'hot';
const OPTIONS: Partial<EvaluatorOptions> = { fairnessAttributes: ['region'] };
const DELAY_ACCURACY = DEFAULT_EVALUATOR_OPTIONS.delayAccuracy;
const SHARDS = [1, 2];

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const load = () => loadavg().map((x) => x.toFixed(2)).join(' ');

interface Rep {
  shards: number;
  seconds: number;
  examples_per_s: number;
  /** Each worker's own wall time and CPU time (its thread's, from /proc) over its shard, and its examples. */
  worker_seconds: number[];
  worker_cpu_seconds: number[];
  worker_examples: number[];
  merge_seconds: number;
  windows: number;
  load_before: string;
  check: Comparison;
}

interface Done {
  rows: WindowPartialRow[];
  seconds: number;
  cpuSeconds: number;
}

/** A worker for one shard, once it made its shard: `go` starts it, `done` resolves with its partials. */
async function startWorker(shard: number, shards: number): Promise<{ examples: number; go: () => Promise<Done> }> {
  const job: ShardJob = { labels: LABELS, seed: SEED, model: MODEL, shard, shards, drainEvery: DRAIN_EVERY, options: OPTIONS };
  // A worker does not inherit `--import tsx`'s hooks here (Node 20): it registers them, then loads the TypeScript worker.
  const entry = `import { register } from 'tsx/esm/api'; register(); await import(${JSON.stringify(new URL('./evaluate-shards-worker.ts', import.meta.url).href)});`;
  const worker = new Worker(entry, { eval: true, workerData: job });
  const ready = await new Promise<{ examples: number }>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  const go = () =>
    new Promise<Done>((resolve, reject) => {
      worker.once('message', (done: Done) => {
        void worker.terminate();
        resolve(done);
      });
      worker.once('error', reject);
      worker.postMessage('go');
    });
  return { examples: ready.examples, go };
}

async function rep(shards: number, total: number, reference: ReturnType<typeof runEvaluator>): Promise<Rep> {
  const workers = await Promise.all(Array.from({ length: shards }, (_, i) => startWorker(i, shards)));
  const worker_examples = workers.map((w) => w.examples);
  if (worker_examples.reduce((a, b) => a + b, 0) !== total) throw new Error(`the shards hold ${worker_examples.join(' + ')} examples, the stream ${total}`);
  const load_before = load();
  const started = performance.now();
  const done = await Promise.all(workers.map((w) => w.go()));
  const merging = performance.now();
  const merged = mergeRuns(done.map((d) => new Map(d.rows.map((r) => [windowPartialKey(r), r]))), DELAY_ACCURACY);
  const ended = performance.now();
  const seconds = (ended - started) / 1000;
  const check = compareMerged(merged, reference, DELAY_ACCURACY, 2 * total);
  return {
    shards, seconds, examples_per_s: total / seconds, worker_seconds: done.map((d) => d.seconds), worker_cpu_seconds: done.map((d) => d.cpuSeconds), worker_examples,
    merge_seconds: (ended - merging) / 1000, windows: merged.size, load_before, check,
  };
}

/** The control's loop: a fixed integer loop in a worker, posting its time (no allocation, no shared state). */
const LOOP = `const { parentPort } = require('node:worker_threads'); let x = 0; for (let i = 0; i < 2e8; i++) x = (x + i * 7) % 1000003; parentPort.postMessage(x);`;

/**
 * The parallelism the machine gives right now: `threads` copies of the loop
 * at once, in loops per second; the ratio of 2 to 1 is what N = 2 could
 * reach at best in this rep.
 */
async function control(threads: number): Promise<number> {
  const started = performance.now();
  await Promise.all(Array.from({ length: threads }, () => new Promise((resolve, reject) => {
    const w = new Worker(LOOP, { eval: true });
    w.once('message', (x) => void w.terminate().then(() => resolve(x)));
    w.once('error', reject);
  })));
  return threads / ((performance.now() - started) / 1000);
}

async function main(): Promise<void> {
  const stream = labelledStream(LABELS, SEED, undefined, 7, [MODEL]);
  const total = stream.length;
  console.log(`sharded evaluator benchmark: one model, ${fmt(LABELS)} labels + corrections = ${fmt(total)} examples; ${cpus().length} cores; load ${load()}`);
  const started = performance.now();
  const reference = runEvaluator(stream, OPTIONS, DRAIN_EVERY, true);
  const referenceSeconds = (performance.now() - started) / 1000;
  console.log(`  unsharded, main thread: ${fmt(total / referenceSeconds)} examples/s (${referenceSeconds.toFixed(2)} s), ${fmt(reference.rows.size)} windows`);

  const reps: Rep[] = [];
  const controlRatios: number[] = [];
  for (let r = 0; r < REPS; r++) {
    const order = r % 2 === 0 ? SHARDS : [...SHARDS].reverse();
    const controls: Record<number, number> = {};
    for (const n of order) controls[n] = await control(n);
    controlRatios.push(controls[2]! / controls[1]!);
    console.log(`  rep ${r + 1}/${REPS} control: a fixed loop in 2 threads runs ${controlRatios[r]!.toFixed(2)}x the loops/s of 1 thread (the parallelism available now)`);
    for (const n of order) {
      const result = await rep(n, total, reference);
      reps.push(result);
      const ok = result.check.mismatches.length === 0 ? 'merge = unsharded' : `MISMATCH: ${result.check.mismatches[0]}`;
      console.log(`  rep ${r + 1}/${REPS} N=${n}: ${fmt(result.examples_per_s)} examples/s (${result.seconds.toFixed(2)} s; workers ${result.worker_seconds.map((s) => s.toFixed(2)).join(', ')} s, CPU ${result.worker_cpu_seconds.map((s) => s.toFixed(2)).join(', ')} s; merge ${(result.merge_seconds * 1000).toFixed(0)} ms), load before ${result.load_before}; ${ok}`);
    }
  }
  const sequential = sequentialCpu(stream);
  console.log(`  sequential, main thread (warm): the whole stream ${sequential.whole_cpu_seconds.toFixed(2)} CPU s, its 2 shards one after the other ${sequential.shards_cpu_seconds.toFixed(2)} CPU s (x${(sequential.shards_cpu_seconds / sequential.whole_cpu_seconds).toFixed(2)})`);
  const summary = { ...summarise(reps, total, referenceSeconds, reference.rows.size, controlRatios), sequential };
  report(summary);
  if (reps.some((r) => r.check.mismatches.length > 0)) {
    console.error('the merged figures differ from the unsharded ones');
    process.exitCode = 1;
  }
}

/** The process's CPU seconds (every thread: the GC's helpers too). */
const processCpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

/**
 * The work sharding adds without contention between threads: the CPU time
 * of the whole stream and of its 2 shards one after the other, in the main
 * thread, after the reference run warmed it up (no worker alive).
 */
function sequentialCpu(stream: ReturnType<typeof labelledStream>) {
  let started = processCpu();
  runEvaluator(stream, OPTIONS, DRAIN_EVERY, false);
  const whole = processCpu() - started;
  started = processCpu();
  for (const part of shard(stream, 2)) runEvaluator(part, OPTIONS, DRAIN_EVERY, false);
  const shards = processCpu() - started;
  return { what: 'process CPU seconds (GC helper threads included), main thread, no worker alive', whole_cpu_seconds: whole, shards_cpu_seconds: shards, ratio: shards / whole };
}

function summarise(reps: Rep[], total: number, referenceSeconds: number, windows: number, controlRatios: number[]) {
  const by = (n: number) => reps.filter((r) => r.shards === n);
  const medianRate = (n: number) => median(by(n).map((r) => r.examples_per_s));
  const pairRatios = by(2).map((r, i) => r.examples_per_s / by(1)[i]!.examples_per_s);
  const worst = (f: (c: Comparison) => number) => reps.reduce((m, r) => Math.max(m, f(r.check)), 0);
  return {
    bench: 'evaluate-shards',
    command: `node ${process.execArgv.join(' ')} ${process.argv.slice(1).map((a) => a.replace(`${process.cwd()}/`, '')).join(' ')}`,
    node: process.version,
    at: new Date().toISOString(),
    cores: cpus().length,
    load_average_end: loadavg(),
    path: 'evaluator core (no Avro, no Kafka) per worker thread over its shard, drain every drain_every examples, partials of the changed windows taken before each drain, merged in the main thread',
    options: { labels: LABELS, examples: total, reps: REPS, drain_every: DRAIN_EVERY, seed: SEED, evaluator: OPTIONS },
    windows,
    unsharded_main_thread: { seconds: referenceSeconds, examples_per_s: total / referenceSeconds },
    n1: { median_examples_per_s: medianRate(1), reps: by(1).map(strip) },
    n2: { median_examples_per_s: medianRate(2), reps: by(2).map(strip) },
    ratio_of_medians: medianRate(2) / medianRate(1),
    pair_ratios: pairRatios,
    median_pair_ratio: median(pairRatios),
    cpu: {
      what: 'CPU seconds of the workers\' threads (/proc; GC helper threads not counted): the work sharding adds, and what N = 2 would reach with a free core each (a projection, not a measurement)',
      n1_median_cpu_seconds: median(by(1).map((r) => r.worker_cpu_seconds[0]!)),
      n2_median_cpu_seconds_summed: median(by(2).map((r) => r.worker_cpu_seconds.reduce((a, b) => a + b, 0))),
      n1_projected_examples_per_s: median(by(1).map((r) => total / r.worker_cpu_seconds[0]!)),
      n2_projected_examples_per_s: median(by(2).map((r) => total / r.worker_cpu_seconds.reduce((a, b) => Math.max(a, b), 0))),
    },
    control: { what: 'a fixed integer loop in 2 threads against 1, loops/s ratio, once per rep: the parallelism available to N = 2', ratios: controlRatios, median: median(controlRatios) },
    check: {
      all_equal: reps.every((r) => r.check.mismatches.length === 0),
      figures_compared_per_rep: reps[0]?.check.figures_compared ?? 0,
      max_float_difference: worst((c) => c.max_float_difference),
      max_float_tolerance: worst((c) => c.max_float_tolerance),
      max_auc_difference: worst((c) => c.max_auc_difference),
      max_auc_error_bound: worst((c) => c.max_auc_error_bound),
      mismatches: reps.flatMap((r) => r.check.mismatches).slice(0, 20),
    },
  };
}

/** A rep for the JSON: its check summed up to counts. */
function strip(r: Rep) {
  const { check, ...rest } = r;
  return { ...rest, mismatches: check.mismatches.length };
}

function report(s: ReturnType<typeof summarise>): void {
  mkdirSync(dirname(JSON_PATH), { recursive: true });
  writeFileSync(JSON_PATH, `${JSON.stringify(s, null, 2)}\n`);
  console.log('');
  printTable([
    ['', 'median examples/s', 'reps'],
    ['N = 1 worker thread', fmt(s.n1.median_examples_per_s), s.n1.reps.map((r) => fmt(r.examples_per_s)).join(', ')],
    ['N = 2 worker threads', fmt(s.n2.median_examples_per_s), s.n2.reps.map((r) => fmt(r.examples_per_s)).join(', ')],
  ]);
  console.log(`  N=2 / N=1: ${s.ratio_of_medians.toFixed(2)} (ratio of medians), ${s.median_pair_ratio.toFixed(2)} (median of per-rep ratios); the control loop's 2 / 1 threads: ${s.control.median.toFixed(2)} (median); load average at the end ${s.load_average_end.map((x) => x.toFixed(2)).join(' ')} on ${s.cores} cores shared with other work`);
  const c = s.cpu;
  console.log(`  CPU (the workers' threads): N=1 ${c.n1_median_cpu_seconds.toFixed(2)} s, N=2 ${c.n2_median_cpu_seconds_summed.toFixed(2)} s summed (x${(c.n2_median_cpu_seconds_summed / c.n1_median_cpu_seconds).toFixed(2)} the work); examples / CPU s of the slowest worker (a projection for a free core each): N=1 ${fmt(c.n1_projected_examples_per_s)}, N=2 ${fmt(c.n2_projected_examples_per_s)} (x${(c.n2_projected_examples_per_s / c.n1_projected_examples_per_s).toFixed(2)})`);
  console.log(`  check: ${s.check.all_equal ? 'every rep\'s merge equals the unsharded figures' : 'MISMATCHES'} (${fmt(s.check.figures_compared_per_rep)} figures per rep; float figures differ by at most ${s.check.max_float_difference.toExponential(2)}, tolerance up to ${s.check.max_float_tolerance.toExponential(2)}; |auc_binned - roc_auc| at most ${s.check.max_auc_difference.toExponential(2)}, bound up to ${s.check.max_auc_error_bound.toExponential(2)})`);
  console.log(`written to ${JSON_PATH}`);
}

await main();
