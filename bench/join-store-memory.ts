/**
 * Heap held per pending prediction in the replay's join state (issue 13):
 * N predictions shaped like bench/replay-stream.ts's (4 numeric features, 1
 * categorical, 2 segment attributes) are encoded as the in-process log holds
 * them, decoded as the joiner decodes them, and joined (no feedback) into a
 * MemoryJoinStore (decoded predictions) and into a PackedJoinStore (each
 * prediction as its Avro body, what the replay uses); memory = V8 heap used
 * after a full GC, minus that before the join (the encoded records stay
 * alive in both).
 *
 *   npm run bench:join-store-memory [-- --predictions N]
 *
 * Default: 100,000 predictions, all inside the 7-day join window.
 */
import { makeCodecs } from '../adapters/codec/codecs.js';
import { buildConfig } from '../adapters/config/index.js';
import { noPredictionClasses, type Prediction } from '../core/events.js';
import { avroPredictionPacking } from '../adapters/codec/prediction-packing.js';
import { Joiner, MemoryJoinStore, PackedJoinStore, type JoinStore } from '../core/join/index.js';
import { mulberry32 } from '../demo/random.js';
import { numberOption } from './options.js';

const N = numberOption('predictions', 100_000);
const T0 = 1_763_942_400_000;
const COUNTRIES = ['DE', 'FR', 'US', 'BR', 'IN', 'JP'];
const REGIONS = ['eu', 'us', 'latam', 'apac'];
const PLANS = ['free', 'pro', 'enterprise'];

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc');

function heapUsed(): number {
  gc!();
  gc!();
  return process.memoryUsage().heapUsed;
}

function prediction(random: () => number, i: number): Prediction {
  const pick = (values: string[]) => values[Math.floor(random() * values.length)]!;
  return {
    prediction_id: `p-${i}`,
    model: 'fraud-detector',
    model_version: 'v7',
    timestamp: T0 + i * 500,
    features: { amount: Math.round(random() * 50_000) / 100, account_age_days: Math.floor(random() * 2000), hour: Math.floor(random() * 24), items: 1 + Math.floor(random() * 9) },
    categorical: { country: pick(COUNTRIES) },
    segments: { region: pick(REGIONS), plan: pick(PLANS) },
    score: random(),
    threshold: 0.5, shadow_scores: {},
    ...noPredictionClasses(),
  };
}

async function main(): Promise<void> {
  const codecs = makeCodecs(buildConfig({}).topics, undefined);
  const random = mulberry32(42);
  const records: Buffer[] = [];
  for (let i = 0; i < N; i++) records.push(await codecs.prediction.encode(prediction(random, i)));
  const encoded = records.reduce((sum, r) => sum + r.length, 0) / records.length;
  const stores: Array<[string, () => JoinStore]> = [['memory', () => new MemoryJoinStore()], ['packed', () => new PackedJoinStore(avroPredictionPacking())]];
  for (const [name, create] of stores) {
    const store = create();
    const joiner = new Joiner(store, { joinWindowMs: 7 * 86_400_000 });
    const before = heapUsed();
    for (const bytes of records) joiner.onPrediction(await codecs.prediction.decode(bytes));
    const after = heapUsed();
    const perEntry = (after - before) / store.size();
    console.log(JSON.stringify({ store: name, predictions: N, pending: store.size(), heap_mib: Math.round((after - before) / 2 ** 20), bytes_per_pending: Math.round(perEntry), avro_bytes_per_prediction: Math.round(encoded) }));
  }
}

await main();
