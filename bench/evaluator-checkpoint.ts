/**
 * What an evaluator checkpoint costs, and that it is bounded by the open
 * windows and cells, not by the history: an Evaluator is built from a
 * generated stream of 1, 10 and 30 days of history, then its state is
 * encoded as a checkpoint (adapters/state/evaluator-checkpoint.ts) and
 * restored. Tumbling windows stay open for the join window plus the grace
 * period (8 days), so the state grows over the first 8 days, then levels
 * off; the cells of each champion version (weekly here) stay.
 *
 *   npm run bench:evaluator-checkpoint
 *   = node --expose-gc --max-old-space-size=8192 --import tsx bench/evaluator-checkpoint.ts
 *
 * Options: --rate R (labels per second of event time, default 1: production
 * runs at about 100/s, subsampled 100 times here to build 30 days in about a
 * minute; windows with more than evaluator.auc_exact_limit distinct scores
 * hold a fixed histogram either way, so the state's size barely depends on
 * the rate), --arrivals (the joiner's arrival records too, at prediction
 * time, and the evaluator told of them: joiner.emit_arrivals), --days D
 * (one history of D days instead of 1, 10 and 30), --json PATH (default
 * out/bench/evaluator-checkpoint.json).
 *
 * The stream is production-shaped: 2 models (fraud, binary; eta,
 * regression), 2 segment attributes of 5 values each, 2 challengers'
 * shadow scores, the default options (windows 1h and 1d, join window 7 days,
 * grace 1 day, sliding window 1,000, drift), labels 1 minute to 1 day after
 * the prediction, one prediction in ten expiring unlabelled after the join
 * window, no corrections; examples in label-arrival order.
 *
 * Prints, per history: examples, cells, open windows, checkpoint bytes,
 * encode ms, decode + fromState ms, and what the built and the restored
 * evaluator hold after a forced GC: V8 heap, and apart the typed arrays'
 * buffers (not in heapUsed; the binned AUC histograms are there). The
 * restored one is measured while the checkpoint's bytes are still held.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { decodeEvaluatorState, encodeEvaluatorState } from '../adapters/state/evaluator-checkpoint.js';
import { Evaluator, type EvaluatorOptions } from '../core/evaluate/index.js';
import { type LabelledExample, noExampleClasses } from '../core/events.js';
import { mulberry32, type Random } from '../demo/random.js';
import { numberOption } from './options.js';

const RATE = numberOption('rate', 1);
const ARRIVALS = process.argv.includes('--arrivals');
const DAYS = process.argv.includes('--days') ? [numberOption('days', 1)] : [1, 10, 30];
const JSON_PATH = ((i) => (i >= 0 ? process.argv[i + 1] : undefined))(process.argv.indexOf('--json')) ?? 'out/bench/evaluator-checkpoint.json';
const T0 = 1_763_942_400_000;
const MINUTE = 60_000;
const DAY = 86_400_000;
const JOIN_WINDOW = 7 * DAY;
const OPTIONS: Partial<EvaluatorOptions> = { kindOf: (model) => (model === 'eta' ? 'regression' : 'binary'), joinWindowMs: JOIN_WINDOW, arrivals: ARRIVALS };
const REGIONS = ['eu', 'us', 'apac', 'latam', 'mena'];
const PLANS = ['free', 'pro', 'team', 'business', 'enterprise'];
const gc = () => (globalThis as { gc?: () => void }).gc?.();
/** The V8 heap and, apart, the typed arrays' buffers (outside heapUsed: the metrics' histograms are there). */
const memory = async () => {
  // Buffers are freed after the GC that finds them dead, off the main thread: collect and wait, three times.
  for (let i = 0; i < 3; i++) {
    gc();
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const { heapUsed, arrayBuffers } = process.memoryUsage();
  return { heap: heapUsed, buffers: arrayBuffers };
};
const mib = (bytes: number) => Math.round(bytes / (1024 * 1024));

/** A min-heap of examples on their arrival (label time, or the end of the join window for an expired one). */
class Arrivals {
  private readonly items: Array<{ at: number; example: LabelledExample }> = [];

  get size(): number {
    return this.items.length;
  }

  peek(): number {
    return this.items[0]?.at ?? Number.POSITIVE_INFINITY;
  }

  push(at: number, example: LabelledExample): void {
    const items = this.items;
    items.push({ at, example });
    for (let i = items.length - 1; i > 0; ) {
      const parent = (i - 1) >> 1;
      if (items[parent]!.at <= items[i]!.at) break;
      [items[parent], items[i]] = [items[i]!, items[parent]!];
      i = parent;
    }
  }

  pop(): LabelledExample {
    const items = this.items;
    const top = items[0]!;
    const last = items.pop()!;
    if (items.length > 0) {
      items[0] = last;
      for (let i = 0; ; ) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < items.length && items[l]!.at < items[m]!.at) m = l;
        if (r < items.length && items[r]!.at < items[m]!.at) m = r;
        if (m === i) break;
        [items[m], items[i]] = [items[i]!, items[m]!];
        i = m;
      }
    }
    return top.example;
  }
}

/** The i-th prediction and its labelled (or expired) example. */
function example(i: number, timestamp: number, random: Random): LabelledExample {
  const model = i % 2 === 0 ? 'fraud' : 'eta';
  const binary = model === 'fraud';
  const label = binary ? (random() < 0.2 ? 1 : 0) : Math.round(random() * 600);
  const score = binary ? Math.min(1, Math.max(0, (label ? 0.7 : 0.2) + (random() - 0.5) * 0.5)) : label + (random() - 0.5) * 120;
  const expired = random() < 0.1;
  const delay = MINUTE + Math.floor(random() * (DAY - MINUTE));
  const week = 1 + Math.floor((timestamp - T0) / (7 * DAY));
  return {
    example_id: `${i}#1`, prediction_id: String(i), model, model_version: `v${week}`, timestamp,
    features: { amount: random() * 100, age: random() * 80, tenure: Math.floor(random() * 10) }, categorical: {},
    segments: { region: REGIONS[Math.floor(random() * 5)]!, plan: PLANS[Math.floor(random() * 5)]! },
    score, threshold: 0.5, label: expired ? null : label,
    feedback_type: expired ? null : 'USER_CONFIRMED', source: expired ? null : `app${i % 7}`,
    feedback_timestamp: expired ? null : timestamp + delay, label_delay_ms: expired ? null : delay, correction_of: null, replaces: null, arrival: false,
    shadow_scores: { [`${model}/lr@${week}`]: score * 0.95, [`${model}/ftrl@${week}`]: score * 1.05 },
    ...noExampleClasses(),
  };
}

/** The joiner's arrival record of the prediction of `e`. */
function arrivalOf(e: LabelledExample): LabelledExample {
  return { ...e, example_id: `${e.prediction_id}@arrival`, label: null, feedback_type: null, source: null, feedback_timestamp: null, label_delay_ms: null, arrival: true };
}

/** An evaluator fed `days` of history at RATE labels per second, discarded (as after a write) every 1,000 examples. */
function build(days: number): { evaluator: Evaluator; examples: number } {
  const evaluator = new Evaluator(OPTIONS);
  const arrivals = new Arrivals();
  const random = mulberry32(7);
  const gap = 1000 / RATE;
  const end = T0 + days * DAY;
  let applied = 0;
  const apply = (e: LabelledExample) => {
    evaluator.onExample(e);
    if (++applied % 1000 === 0) evaluator.discard();
  };
  for (let i = 0, t = T0; t < end; i++, t += gap) {
    while (arrivals.peek() <= t) apply(arrivals.pop());
    const e = example(i, Math.floor(t), random);
    if (ARRIVALS) apply(arrivalOf(e));
    arrivals.push(e.feedback_timestamp ?? e.timestamp + JOIN_WINDOW, e);
  }
  // What has arrived by the end of the history (the rest is still waiting in the joiner).
  while (arrivals.peek() <= end) apply(arrivals.pop());
  evaluator.discard();
  return { evaluator, examples: applied };
}

interface Result {
  days: number;
  labels_per_second: number;
  examples: number;
  cells: number;
  open_windows: number;
  checkpoint_bytes: number;
  encode_ms: number;
  decode_and_restore_ms: number;
  heap_built_mib: number;
  array_buffers_built_mib: number;
  heap_restored_mib: number;
  array_buffers_restored_mib: number;
}

async function measure(days: number): Promise<Result> {
  const base = await memory();
  let { evaluator, examples } = build(days);
  const built = await memory();
  const health = Object.values(evaluator.health());
  let started = performance.now();
  const bytes = encodeEvaluatorState(evaluator);
  const encodeMs = performance.now() - started;
  evaluator = undefined as unknown as Evaluator; // only the bytes from here on
  const beforeRestore = await memory();
  started = performance.now();
  const restored = decodeEvaluatorState(bytes, OPTIONS);
  const restoreMs = performance.now() - started;
  const after = await memory();
  const cells = [...restored.live(true)].filter((f) => f.window === 'total').length;
  return {
    days, labels_per_second: RATE, examples, cells, open_windows: health.reduce((sum, h) => sum + h.open_windows, 0),
    checkpoint_bytes: bytes.length, encode_ms: Math.round(encodeMs), decode_and_restore_ms: Math.round(restoreMs),
    heap_built_mib: mib(built.heap - base.heap), array_buffers_built_mib: mib(built.buffers - base.buffers),
    heap_restored_mib: mib(after.heap - beforeRestore.heap), array_buffers_restored_mib: mib(after.buffers - beforeRestore.buffers),
  };
}

async function main(): Promise<void> {
  const results: Result[] = [];
  for (const days of DAYS) results.push(await measure(days));
  const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
  console.log(`evaluator checkpoint (${RATE} labels/s of event time; production is about 100/s${ARRIVALS ? '; with arrival records' : ''})`);
  for (const r of results) {
    console.log(`  ${String(r.days).padStart(2)} days: ${fmt(r.examples)} examples, ${fmt(r.cells)} cells, ${fmt(r.open_windows)} open windows`);
    console.log(`           checkpoint ${fmt(r.checkpoint_bytes / 1024)} KiB, encode ${fmt(r.encode_ms)} ms, decode + fromState ${fmt(r.decode_and_restore_ms)} ms`);
    console.log(`           held: built ${fmt(r.heap_built_mib)} MiB heap + ${fmt(r.array_buffers_built_mib)} MiB typed arrays, restored ${fmt(r.heap_restored_mib)} MiB heap + ${fmt(r.array_buffers_restored_mib)} MiB typed arrays`);
  }
  const report = { when: new Date().toISOString(), node: process.version, options: `defaults, join window 7 days${ARRIVALS ? ', arrival records' : ''}`, results };
  mkdirSync(dirname(JSON_PATH), { recursive: true });
  writeFileSync(JSON_PATH, `${JSON.stringify(report, null, 2)}\n`);
  console.log(`written to ${JSON_PATH}`);
}

await main();
