/**
 * What the evaluator of a replay holds, and what one open window costs
 * (issue 13: the replay's memory grows with the time its stream spans).
 *
 *   npm run build && npm run bench:evaluator-memory -- --predictions 200000 --mean-gap-ms 4000
 *
 * Replays bench/replay-stream.ts's stream (the bench:replay config) in
 * this process, holding the evaluators the processor reports (the
 * observer's `evaluated` hook). Once the evaluator's event time is --at-days
 * past the stream's start (by then every window that can be open is: a
 * tumbling window stays open for the join window and the grace, 8 days,
 * after its end), between two chunks: the process's heap and external memory
 * after a forced GC, the cells and their open windows (per tumbling window,
 * and how many hold score bins rather than exact scores), and a heap
 * snapshot of the whole process. After the replay, from the snapshot
 * (bench/heap-snapshot.ts: retained sizes by dominators): the bytes of the
 * evaluators, their cells, and per open window its parts (the exact AUC
 * counts, the score bins, the calibration bins, the label-delay sketch, the
 * estimate sums), the Maps' own overhead per window, and the largest
 * retainers of the process's heap by constructor.
 *
 * Options: --predictions N (default 400,000), --mean-gap-ms G (default 2,000:
 * 400,000 predictions span 9.3 days; at 2 s the 1h windows of every segment
 * hold more than 200 distinct scores, so they hold score bins as those of
 * bench:replay's 500 ms stream do), --at-days D (default 9.1), --seed N
 * (default 42), --keep (leave the temp dir and the snapshot), --json PATH
 * (default out/bench/evaluator-memory.json).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { writeHeapSnapshot } from 'node:v8';
import { loadConfig } from '../adapters/config/index.js';
import { systemClock } from '../core/clock.js';
import type { Cell } from '../core/evaluate/cells.js';
import type { Evaluator } from '../core/evaluate/index.js';
import type { ModelState } from '../core/evaluate/model-state.js';
import { replay } from '../runtime/replay.js';
import { HeapSnapshot } from './heap-snapshot.js';
import { numberOption } from './options.js';
import { replayConfig, writeReplayStream } from './replay-stream.js';

const PREDICTIONS = numberOption('predictions', 400_000);
const GAP = numberOption('mean-gap-ms', 2_000);
const AT_DAYS = numberOption('at-days', 9.1);
const SEED = numberOption('seed', 42);
const KEEP = process.argv.includes('--keep');
const JSON_PATH = ((i) => (i >= 0 ? process.argv[i + 1] : undefined))(process.argv.indexOf('--json')) ?? 'out/bench/evaluator-memory.json';
const MiB = 2 ** 20;

const gc = () => (globalThis as { gc?: () => void }).gc?.();

/** Heap used and external memory (typed arrays' buffers) after forced GCs, between two chunks of the replay. */
function memory() {
  gc();
  gc();
  const m = process.memoryUsage();
  return { rss_mib: m.rss / MiB, heap_used_mib: m.heapUsed / MiB, external_mib: m.external / MiB, array_buffers_mib: m.arrayBuffers / MiB };
}

/** The model states of an evaluator (a private field: this bench reads it as it is). */
const modelsOf = (e: Evaluator) => (e as unknown as { models: Map<string, ModelState> }).models;

/** Cells and open windows by tumbling window, and how many of them hold score bins. */
function structure(evaluators: Evaluator[]) {
  const cells: Cell[] = [];
  for (const e of evaluators) for (const state of modelsOf(e).values()) for (const cell of state.cells.values()) cells.push(cell);
  const names = evaluators[0]!.options.windows.map((w) => w.name);
  const open = names.map((name, i) => {
    let windows = 0;
    let binned = 0;
    for (const cell of cells) {
      windows += cell.tumbling[i]!.size;
      for (const stats of cell.tumbling[i]!.values()) if ('approximate' in stats.metric && stats.metric.approximate) binned++;
    }
    return { window: name, open: windows, per_cell: windows / cells.length, binned };
  });
  const roles = [...new Set(cells.map((c) => `${c.role} ${c.version}`))];
  return { cells: cells.length, roles, open };
}

/** Retained bytes of named parts under each node (a path of property names; '' the node itself). */
function parts(heap: HeapSnapshot, nodes: number[], paths: string[][]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const path of paths) {
    let sum = 0;
    for (const n of nodes) {
      let at: number | undefined = n;
      for (const step of path) at = at === undefined ? undefined : heap.property(at, step);
      if (at !== undefined && heap.type(at) !== 'hidden' && heap.name(at) !== 'null' && heap.name(at) !== 'undefined') sum += heap.retained[at]!;
    }
    out[path.join('.') || '(whole)'] = Math.round(sum / nodes.length);
  }
  return out;
}

const WINDOW_PARTS = [[], ['metric'], ['metric', 'exact'], ['metric', 'binPositives'], ['metric', 'binNegatives'], ['metric', 'binCount'], ['metric', 'binScore'], ['metric', 'binPositive'], ['delay'], ['estimate']];

/** From a heap snapshot: the evaluators' bytes, their cells', and an open window's by its parts. */
function breakdown(heap: HeapSnapshot) {
  const byName = new Map<string, number[]>();
  for (let n = 0; n < heap.count; n++) {
    if (heap.type(n) !== 'object') continue;
    const name = heap.name(n);
    if (['Evaluator', 'ModelState', 'Cell', 'WindowStats', 'Rolling', 'ModelDrift', 'MaturedCalibration'].includes(name)) (byName.get(name) ?? byName.set(name, []).get(name)!).push(n);
  }
  const total = (name: string) => (byName.get(name) ?? []).reduce((s, n) => s + heap.retained[n]!, 0);
  const windows = byName.get('WindowStats') ?? [];
  // A window's kind: its name (total, 1h, 1d), its cell's role and whether its metric holds score bins.
  const groups = new Map<string, number[]>();
  for (const n of windows) {
    const name = heap.name(heap.property(n, 'window')!);
    const role = heap.name(heap.property(heap.property(n, 'cell')!, 'role')!);
    const bins = heap.property(heap.property(n, 'metric')!, 'binPositives');
    const kind = `${name} ${role} ${bins !== undefined && ['Counts', 'Float64Array'].includes(heap.name(bins)) ? 'binned' : 'exact'}`;
    (groups.get(kind) ?? groups.set(kind, []).get(kind)!).push(n);
  }
  // The Maps of open windows by start: their own bytes (the Map, its hash table, the keys as heap numbers).
  let mapBytes = 0;
  for (const cell of byName.get('Cell') ?? []) {
    for (const e of heap.edgesOf(heap.property(cell, 'tumbling')!)) {
      if (e.type !== 'element' || heap.name(e.to) !== 'Map') continue;
      mapBytes += heap.selfSize(e.to);
      for (const table of heap.edgesOf(e.to).filter((t) => t.name === 'table')) {
        mapBytes += heap.selfSize(table.to);
        for (const k of heap.edgesOf(table.to)) if (heap.type(k.to) === 'number') mapBytes += heap.selfSize(k.to);
      }
    }
  }
  const tumbling = windows.filter((n) => heap.name(heap.property(n, 'window')!) !== 'total').length;
  return {
    retained_mib: Object.fromEntries([...byName.keys()].map((name) => [name, Math.round((total(name) / MiB) * 10) / 10])),
    windows: Object.fromEntries([...groups].sort().map(([kind, nodes]) => [kind, { count: nodes.length, bytes: parts(heap, nodes, WINDOW_PARTS) }])),
    tumbling_maps: { bytes: Math.round(mapBytes), per_window: Math.round(mapBytes / Math.max(1, tumbling)) },
  };
}

/** The latest event time of the evaluators' models. */
const watermarkOf = (evaluators: Iterable<Evaluator>) => {
  let latest = Number.NEGATIVE_INFINITY;
  for (const e of evaluators) for (const state of modelsOf(e).values()) latest = Math.max(latest, state.watermark);
  return latest;
};

/** The largest retainers of the heap: object nodes by retained size, and self sizes summed by constructor. */
function largest(heap: HeapSnapshot) {
  const objects: number[] = [];
  const byConstructor = new Map<string, number>();
  for (let n = 0; n < heap.count; n++) {
    const type = heap.type(n);
    const key = type === 'object' || type === 'native' ? heap.name(n) : `(${type})`;
    byConstructor.set(key, (byConstructor.get(key) ?? 0) + heap.selfSize(n));
    if (type === 'object' && /^[A-Z]/.test(heap.name(n))) objects.push(n);
  }
  objects.sort((a, b) => heap.retained[b]! - heap.retained[a]!);
  const mib = (x: number) => Math.round((x / MiB) * 10) / 10;
  return {
    retained_mib: objects.slice(0, 25).map((n) => [heap.name(n), mib(heap.retained[n]!)]),
    self_by_constructor_mib: [...byConstructor].sort((a, b) => b[1] - a[1]).slice(0, 20).map(([name, bytes]) => [name, mib(bytes)]),
  };
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'feedbackloop-evaluator-memory-'));
  try {
    const stream = await writeReplayStream(join(dir, 'predictions.jsonl'), join(dir, 'feedback.jsonl'), PREDICTIONS, SEED, GAP);
    writeFileSync(join(dir, 'config.yaml'), replayConfig());
    console.log(`${PREDICTIONS} predictions, one every ${GAP} ms on average (${((PREDICTIONS * GAP) / 86_400_000).toFixed(1)} days): ${stream.predictions + stream.feedback} events`);
    const evaluators = new Set<Evaluator>();
    let start = Number.NaN;
    let taken: { days: number; memory: ReturnType<typeof memory>; structure: ReturnType<typeof structure>; snapshot: string } | undefined;
    const started = performance.now();
    // Between two chunks, once the event time is AT_DAYS past the start: the figures and a snapshot.
    const onProgress = () => {
      const latest = watermarkOf(evaluators);
      if (Number.isNaN(start) && Number.isFinite(latest)) start = latest;
      const days = (latest - start) / 86_400_000;
      if (taken || !(days >= AT_DAYS)) return;
      taken = { days, memory: memory(), structure: structure([...evaluators]), snapshot: writeHeapSnapshot(join(dir, 'process.heapsnapshot')) };
    };
    await replay({
      predictions: join(dir, 'predictions.jsonl'), feedback: join(dir, 'feedback.jsonl'), out: join(dir, 'out'), config: loadConfig(join(dir, 'config.yaml')), clock: systemClock,
      observer: { evaluated: (_partition, _examples, _seconds, all) => all.forEach((e) => evaluators.add(e)) },
      onProgress,
    });
    const seconds = (performance.now() - started) / 1000;
    evaluators.clear();
    if (!taken) throw new Error(`the event time never came ${AT_DAYS} days past the start: a longer stream (--predictions, --mean-gap-ms) or a smaller --at-days`);
    const heap = new HeapSnapshot(taken.snapshot);
    const report = {
      when: new Date().toISOString(), node: process.version, predictions: PREDICTIONS, mean_gap_ms: GAP, seed: SEED, replay_seconds: seconds,
      at_days: taken.days, structure: taken.structure, process: taken.memory, evaluator: breakdown(heap), largest: largest(heap),
    };
    console.log(JSON.stringify(report, (_k, v: unknown) => (typeof v === 'number' && !Number.isInteger(v) ? Math.round(v * 10) / 10 : v), 2));
    mkdirSync(dirname(JSON_PATH), { recursive: true });
    writeFileSync(JSON_PATH, `${JSON.stringify(report, null, 2)}\n`);
  } finally {
    if (KEEP) console.log(`kept ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  }
}

await main();
