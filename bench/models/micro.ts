/**
 * Micro-benchmark: learnOne per second for logistic regression (SGD) on 20
 * dense numeric features, on one core — the estimator alone on a prepared
 * SparseVector, and through a pipeline from event-shaped input
 * ({ features: Record<string, number> }, objects made by JSON.parse as a
 * consumer would). Also the heap bytes allocated per call (needs
 * --expose-gc): 0 for the estimator; through a pipeline, V8 boxes each double
 * it reads from the input object during for-in (our code allocates nothing).
 *
 * The trainer checks each step with `learnedFinite` (its last guard,
 * core/learn/trainer.ts); "learn + check" measures that.
 *
 * Usage: node --expose-gc --import tsx bench/models/micro.ts
 */
import { LogisticRegression, NumericFeatures, Pipeline, SparseVector, StandardScaler, type ModelInput } from '../../core/models/index.js';

const D = 20;
const N = 4096;
let seed = 12345;
const random = () => {
  seed = (seed * 1103515245 + 12345) % 2147483648;
  return seed / 2147483648;
};
const vectors: SparseVector[] = [];
const inputs: ModelInput[] = [];
const labels: number[] = [];
for (let i = 0; i < N; i++) {
  const values = Array.from({ length: D }, () => random() * 2 - 1);
  vectors.push(SparseVector.dense(values));
  inputs.push(JSON.parse(JSON.stringify({ features: Object.fromEntries(values.map((v, j) => [`f${j}`, v])) })) as ModelInput);
  labels.push(values[0]! + 0.5 * values[1]! > 0 ? 1 : 0);
}

/** Best of 5 rounds of ~0.3 s: calls per second. */
function rate(body: (i: number) => void): number {
  for (let i = 0; i < 200_000; i++) body(i & (N - 1));
  let best = 0;
  for (let round = 0; round < 5; round++) {
    const start = process.hrtime.bigint();
    let calls = 0;
    while (Number(process.hrtime.bigint() - start) < 3e8) {
      for (let i = 0; i < N; i++) body(i);
      calls += N;
    }
    best = Math.max(best, calls / (Number(process.hrtime.bigint() - start) / 1e9));
  }
  return best;
}

function bytesPerCall(body: (i: number) => void): string {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) return 'n/a (run with --expose-gc)';
  gc();
  const before = process.memoryUsage().heapUsed;
  const calls = 20_000; // well under a young-generation collection
  for (let c = 0; c < calls; c++) body(c & (N - 1));
  return ((process.memoryUsage().heapUsed - before) / calls).toFixed(1);
}

const estimator = new LogisticRegression();
const raw = new Pipeline([new NumericFeatures()], new LogisticRegression());
const scaled = new Pipeline([new StandardScaler()], new LogisticRegression());
let sink = 0;
const cases: Array<[string, (i: number) => void]> = [
  ['estimator.learnOne(SparseVector)', (i) => estimator.learnOne(vectors[i]!, labels[i]!)],
  ['estimator predictOne + learnOne', (i) => {
    sink += estimator.predictOne(vectors[i]!);
    estimator.learnOne(vectors[i]!, labels[i]!);
  }],
  ['pipeline [NumericFeatures] learnOne', (i) => raw.learnOne(inputs[i]!, labels[i]!)],
  ['pipeline [NumericFeatures] predict + learn', (i) => {
    sink += raw.predictOne(inputs[i]!);
    raw.learnOne(inputs[i]!, labels[i]!);
  }],
  ['pipeline [StandardScaler] learnOne', (i) => scaled.learnOne(inputs[i]!, labels[i]!)],
  // What the trainer does per challenger and example: learn, then its last guard.
  ['pipeline [StandardScaler] learn + check', (i) => {
    scaled.learnOne(inputs[i]!, labels[i]!);
    if (!scaled.learnedFinite()) sink = NaN;
  }],
  ['pipeline [StandardScaler] predict + learn', (i) => {
    sink += scaled.predictOne(inputs[i]!);
    scaled.learnOne(inputs[i]!, labels[i]!);
  }],
];

console.log(`\nLogistic regression (SGD 0.01), ${D} dense numeric features, one core (node ${process.version})`);
console.log(`${'case'.padEnd(44)}${'calls/s'.padStart(12)}${'heap bytes/call'.padStart(18)}`);
for (const [name, body] of cases) {
  const r = rate(body);
  console.log(`${name.padEnd(44)}${(r / 1e6).toFixed(2).padStart(10)} M${bytesPerCall(body).padStart(18)}`);
}
if (Number.isNaN(sink)) console.log('');
