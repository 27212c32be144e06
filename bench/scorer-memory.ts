/**
 * Memory of the joiner's shadow scorer when a joiner (re)starts: it reads the
 * whole `model-snapshots` topic (compacted by version, so every snapshot ever
 * published) before its first prediction. Measures the heap held after
 * loading N snapshots of two challengers (logreg and ftrl, the FTRL preset
 * hashing into 4,096 buckets) made over D days, with the scorer's default
 * retention (the 7-day join window) and with no bound (what the scorer did
 * before it pruned by its snapshots' own time). Memory = V8 heap + the typed
 * arrays' backing stores, after a full GC, each snapshot given as its own
 * copy (as the joiner decodes it).
 *
 *   node --expose-gc --import tsx bench/scorer-memory.ts [--snapshots N] [--days D]
 *
 * Defaults: 2,000 snapshots per challenger over 60 days (one every 43 min).
 *
 * Then the same for the scorer library (ChampionScorer, what upstream apps
 * embed), following logreg, on the in-process log holding the snapshots:
 * the memory it holds (the log's own records excluded) with its default
 * retention (7 days) and with none (what it did before).
 */
import { LocalCodec } from '../adapters/codec/codec.js';
import { MemoryTransport } from '../adapters/transport/memory.js';
import { type LabelledExample, type ModelSnapshot, noExampleClasses, type PromotionDecision } from '../core/events.js';
import { ChallengerTrainer, ShadowScorer } from '../core/learn/index.js';
import { ChampionScorer } from '../scorer/index.js';
import { mulberry32 } from '../demo/random.js';
import { numberOption } from './options.js';

const N = numberOption('snapshots', 2000);
const DAYS = numberOption('days', 60);
const DAY = 86_400_000;
const T0 = Date.UTC(2026, 0, 1);

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc');

function example(random: () => number, i: number): LabelledExample {
  const amount = random() * 500;
  const age = random() * 1000;
  return {
    example_id: `e${i}`, prediction_id: `p${i}`, model: 'fraud', model_version: 'v1', timestamp: T0,
    features: { amount, age, f3: random(), f4: random() },
    categorical: { country: ['de', 'fr', 'us', 'br'][i % 4]!, channel: ['web', 'app'][i % 2]! }, segments: {},
    score: 0.5, threshold: 0.5, label: random() < 1 / (1 + Math.exp(-(amount / 100 - 2))) ? 1 : 0,
    feedback_type: 'EXPERT_REVIEW', source: null, feedback_timestamp: T0, label_delay_ms: 0, correction_of: null, shadow_scores: {}, replaces: null, arrival: false,
    ...noExampleClasses(),
  };
}

// The snapshots, made once (the learner learns 20 examples between two).
const random = mulberry32(7);
const learner = new ChallengerTrainer({ challengersOf: () => ['logreg', 'ftrl'] });
const snapshots: ModelSnapshot[] = [];
for (let k = 0; k < N; k++) {
  for (let j = 0; j < 20; j++) learner.learn(example(random, k * 20 + j));
  snapshots.push(...learner.snapshot(T0 + Math.round((k * DAYS * DAY) / N)));
}
const textBytes = snapshots.reduce((sum, s) => sum + s.parameters.length, 0);

/** Heap plus the typed arrays' backing stores (the models' weights live there, outside the heap). */
const used = () => {
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
};

function held(retainMs: number): { kept: number; mb: number; ms: number } {
  gc!();
  const before = used();
  const started = performance.now();
  const scorer = new ShadowScorer({ retainMs });
  // Each snapshot as the joiner has it: its own decoded copy (the parameters text included).
  for (const s of snapshots) scorer.add({ ...s, parameters: Buffer.from(s.parameters).toString() });
  const ms = performance.now() - started;
  gc!();
  const mb = (used() - before) / 1e6;
  const kept = scorer.kept('fraud', 'logreg') + scorer.kept('fraud', 'ftrl');
  // Keep the scorer alive until measured.
  if (scorer.latest('fraud').length !== 2) throw new Error('two challengers expected');
  return { kept, mb, ms };
}

const bounded = held(7 * DAY);
const unbounded = held(Number.POSITIVE_INFINITY);
console.log(`${snapshots.length} snapshots (2 challengers × ${N}) over ${DAYS} days; parameters text ${(textBytes / 1e6).toFixed(1)} MB in all`);
console.log(`retainMs 7 days : ${bounded.kept} pipelines kept, memory held ${bounded.mb.toFixed(1)} MB, loaded in ${bounded.ms.toFixed(0)} ms`);
console.log(`no bound        : ${unbounded.kept} pipelines kept, memory held ${unbounded.mb.toFixed(1)} MB, loaded in ${unbounded.ms.toFixed(0)} ms`);

// The scorer library, reading the same snapshots from the in-process log (one partition, as the learner writes a model's snapshots).
const log = new MemoryTransport();
await log.ensureTopics([{ name: 'model-snapshots', partitions: 4, compacted: true }, { name: 'model-promotions', partitions: 1 }]);
const codecs = { snapshot: new LocalCodec<ModelSnapshot>('ModelSnapshot'), promotion: new LocalCodec<PromotionDecision>('PromotionDecision') };
const producer = await log.producer();
for (let at = 0; at < snapshots.length; at += 500) {
  await producer.send(await Promise.all(snapshots.slice(at, at + 500).map(async (s) => ({ topic: 'model-snapshots', partition: 0, key: Buffer.from(s.version), value: await codecs.snapshot.encode(s) }))));
}

async function library(retainMs: number): Promise<{ kept: number; mb: number }> {
  gc!();
  const before = used();
  const scorer = await ChampionScorer.start({ transport: log, codecs, model: 'fraud', follow: 'logreg', retainMs });
  await log.whenIdle();
  gc!();
  const mb = (used() - before) / 1e6;
  const kept = scorer.keptSnapshots();
  await scorer.close();
  return { kept, mb };
}
const libraryBounded = await library(7 * DAY);
const libraryUnbounded = await library(Number.POSITIVE_INFINITY);
console.log(`scorer library, retainMs 7 days : ${libraryBounded.kept} snapshots kept as text, memory held ${libraryBounded.mb.toFixed(1)} MB`);
console.log(`scorer library, no bound        : ${libraryUnbounded.kept} snapshots kept as text, memory held ${libraryUnbounded.mb.toFixed(1)} MB`);

