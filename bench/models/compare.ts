/**
 * Our side of bench/models, and the comparison table: progressive validation
 * of core/models on the exported streams with the hyperparameters of
 * models.json, next to River's figures from compare.py.
 *
 * Usage: tsx bench/models/compare.ts DATA_DIR RIVER_JSON [MODELS_JSON]
 *
 * Same protocol as compare.py: predict, score, learn, example by example;
 * accuracy with p >= 0.5, log loss clipped at 1e-15, MAE for regression.
 * Throughput is timed after one untimed pass (V8 compiles the hot loop during
 * it; that pass also gives the metrics), over passes on fresh clones until
 * they add up to MIN_SECONDS.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  createEstimator,
  FeatureHasher,
  NumericFeatures,
  OneHotEncoder,
  Pipeline,
  StandardScaler,
  type Encoder,
  type JsonObject,
  type ModelInput,
} from '../../core/models/index.js';
import type { ModelKind } from '../../core/events.js';
import { printTable } from '../table.js';

const MIN_SECONDS = 0.5;

interface Spec {
  name: string;
  algorithm: string;
  hyperparameters: JsonObject;
  encode: 'scaled' | 'raw';
}
interface Meta {
  name: string;
  task: ModelKind;
  numeric: string[];
  onehot: string[];
  hashed: string[];
}
interface Result {
  dataset: string;
  model: string;
  n: number;
  accuracy?: number;
  logloss?: number;
  mae?: number;
  throughput: number;
}
type Row = { x: ModelInput; y: number };

const [dataDir, riverPath, modelsPath = join(new URL('.', import.meta.url).pathname, 'models.json')] = process.argv.slice(2);
if (!dataDir || !riverPath) {
  console.error('usage: compare.ts DATA_DIR RIVER_JSON [MODELS_JSON]');
  process.exit(2);
}
const specs = JSON.parse(readFileSync(modelsPath, 'utf8')) as {
  binary: Spec[];
  regression: Spec[];
  hashing: { buckets: number };
};
const metas = JSON.parse(readFileSync(join(dataDir, 'meta.json'), 'utf8')) as Meta[];
const river = JSON.parse(readFileSync(riverPath, 'utf8')) as { river: string; hasherSeed: number; results: Result[] };

function modelFor(spec: Spec, meta: Meta): Pipeline {
  const estimator = createEstimator(spec.algorithm, spec.hyperparameters);
  const encoders: Encoder[] = [spec.encode === 'raw' ? new NumericFeatures() : new StandardScaler()];
  if (spec.encode === 'scaled' && meta.onehot.length > 0) encoders.push(new OneHotEncoder({ features: meta.onehot }));
  if (spec.encode === 'scaled' && meta.hashed.length > 0) {
    encoders.push(new FeatureHasher({ features: meta.hashed, buckets: specs.hashing.buckets, seed: river.hasherSeed }));
  }
  return new Pipeline(encoders, estimator);
}

function onePass(model: Pipeline, rows: Row[], task: Meta['task']): { metrics: Partial<Result>; seconds: number } {
  let correct = 0;
  let loss = 0;
  let absErr = 0;
  const start = process.hrtime.bigint();
  if (task === 'binary') {
    for (let i = 0; i < rows.length; i++) {
      const { x, y } = rows[i]!;
      const p = model.predictOne(x);
      if ((p >= 0.5 ? 1 : 0) === y) correct++;
      const q = Math.min(1 - 1e-15, Math.max(1e-15, p));
      loss -= y === 1 ? Math.log(q) : Math.log(1 - q);
      model.learnOne(x, y);
    }
  } else {
    for (let i = 0; i < rows.length; i++) {
      const { x, y } = rows[i]!;
      absErr += Math.abs(model.predictOne(x) - y);
      model.learnOne(x, y);
    }
  }
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const n = rows.length;
  return { metrics: task === 'binary' ? { accuracy: correct / n, logloss: loss / n } : { mae: absErr / n }, seconds };
}

const ours: Result[] = [];
for (const meta of metas) {
  const rows: Row[] = readFileSync(join(dataDir, `${meta.name}.jsonl`), 'utf8')
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => {
      const e = JSON.parse(line) as { features: Record<string, number>; categorical: Record<string, string>; y: number };
      return { x: { features: e.features, categorical: e.categorical }, y: e.y };
    });
  if (!river.results.some((r) => r.dataset === meta.name)) continue;
  for (const spec of specs[meta.task as 'binary' | 'regression']) {
    const model = modelFor(spec, meta);
    const { metrics } = onePass(model.clone(), rows, meta.task);
    let seconds = 0;
    let passes = 0;
    while (seconds < MIN_SECONDS) {
      seconds += onePass(model.clone(), rows, meta.task).seconds;
      passes++;
    }
    ours.push({ dataset: meta.name, model: spec.name, n: rows.length, ...metrics, throughput: (passes * rows.length) / seconds });
  }
}

// ---- the table ----
const f = (v: number | undefined, digits: number) => (v === undefined ? '-' : v.toFixed(digits));
const k = (v: number) => (v >= 1e6 ? `${(v / 1e6).toFixed(2)}M` : `${(v / 1e3).toFixed(1)}k`);
const header = ['dataset', 'model', 'metric', 'ours', 'River', 'diff', 'ours ex/s', 'River ex/s', 'ratio'];
const lines: string[][] = [];
const ratios: number[] = [];
let worstAccuracy = 0;
for (const o of ours) {
  const r = river.results.find((x) => x.dataset === o.dataset && x.model === o.model);
  if (!r) continue;
  const ratio = o.throughput / r.throughput;
  ratios.push(ratio);
  const speed = [k(o.throughput), k(r.throughput), `${ratio.toFixed(1)}x`];
  if (o.accuracy !== undefined && r.accuracy !== undefined) {
    const pp = 100 * (o.accuracy - r.accuracy);
    worstAccuracy = Math.max(worstAccuracy, Math.abs(pp));
    lines.push([o.dataset, o.model, 'accuracy', f(100 * o.accuracy, 2) + '%', f(100 * r.accuracy, 2) + '%', `${pp >= 0 ? '+' : ''}${pp.toFixed(2)} pp`, ...speed]);
    const rel = (100 * (o.logloss! - r.logloss!)) / r.logloss!;
    lines.push(['', '', 'log loss', f(o.logloss, 4), f(r.logloss, 4), `${rel >= 0 ? '+' : ''}${rel.toFixed(2)} %`, '', '', '']);
  } else {
    const rel = (100 * (o.mae! - r.mae!)) / r.mae!;
    lines.push([o.dataset, o.model, 'MAE', f(o.mae, 4), f(r.mae, 4), `${rel >= 0 ? '+' : ''}${rel.toFixed(2)} %`, ...speed]);
  }
}
console.log(`\nProgressive validation, ours (core/models) vs River ${river.river}; diff = ours - River (accuracy in percentage points, log loss and MAE relative)`);
printTable([header, ...lines], 3);
const geo = Math.exp(ratios.reduce((s, r) => s + Math.log(r), 0) / ratios.length);
console.log(`\nthroughput ratio (predict+learn per second, ours / River): min ${Math.min(...ratios).toFixed(1)}x, geometric mean ${geo.toFixed(1)}x, max ${Math.max(...ratios).toFixed(1)}x`);
console.log(`largest accuracy difference: ${worstAccuracy.toFixed(2)} pp`);
