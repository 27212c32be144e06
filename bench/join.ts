/**
 * Join benchmark (the joiner issue): in-process join throughput (events/s)
 * and heap per pending prediction at 1M pending, for the heap store
 * (MemoryJoinStore) and the LMDB store (adapters/state/lmdb-join-store.ts).
 *
 *   npm run bench:join
 *   = node --expose-gc --max-old-space-size=8192 --import tsx bench/join.ts
 *
 * Options: --predictions N (mixed stream, default 200000), --pending N
 * (default 1000000), --processor-predictions N (default 30000), --batch N
 * (events per LMDB transaction, default 1000), --dir PATH (LMDB files,
 * default the OS temp dir), --quick (small sizes, for a smoke run).
 *
 * What is measured:
 *  1. Pure Joiner, mixed stream (bench/stream.ts: predictions, 1-2 feedback
 *     each, duplicates, corrections, early feedback, expiries; 1 h window,
 *     10 min early-feedback TTL), events pre-generated so only the join is
 *     timed. The LMDB store runs the stream in transactions of --batch
 *     events (`store.transaction`), and once with no transaction (every
 *     write its own commit, as the processor calls the store today).
 *  2. Heap at 1M pending: 1M predictions (no feedback) through a Joiner on a
 *     fresh store, then full GC; (heapUsed after - heapUsed before) / 1M.
 *     Everything the Joiner and the store keep counts (counters, byModel,
 *     caches); "before" is taken before the store and the Joiner exist.
 *     external/arrayBuffers/RSS deltas and LMDB's bytes are printed too.
 *  3. The same mixed stream again, on the store holding those 1M pending
 *     (their expiry lies beyond the stream): throughput at 1M pending.
 *  4. The processor path: JoinerProcessor on the MemoryTransport (Avro
 *     codecs, changelog records, per-batch transactions, 3 partitions, as
 *     `feedbackloop replay` wires it). Input records are encoded before the
 *     clock starts (that is the producers' work); the time runs from
 *     start() to the end of the input, including the final advance.
 */
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildConfig } from '../adapters/config/index.js';
import { MemoryTransport } from '../adapters/transport/memory.js';
import type { OutgoingRecord } from '../adapters/transport/transport.js';
import { LmdbJoinStore } from '../adapters/state/lmdb-join-store.js';
import { makeCodecs } from '../adapters/codec/codecs.js';
import { joinerTopics } from '../runtime/settings.js';
import { ManualClock } from '../core/clock.js';
import type { Prediction } from '../core/events.js';
import { Joiner, MemoryJoinStore, type JoinEntry, type JoinerOptions, type JoinStore } from '../core/join/index.js';
import { JoinerProcessor } from '../processors/joiner.js';
import { joinStream, kindOf, type StreamEvent, type StreamOptions } from './stream.js';

// ------------------------------------------------------------------ options

function argValue(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}
const quick = process.argv.includes('--quick');
const MIXED_PREDICTIONS = Number(argValue('--predictions') ?? (quick ? 20_000 : 200_000));
const PENDING = Number(argValue('--pending') ?? (quick ? 100_000 : 1_000_000));
const PROCESSOR_PREDICTIONS = Number(argValue('--processor-predictions') ?? (quick ? 5_000 : 30_000));
const BATCH = Number(argValue('--batch') ?? 1000);
const DIR = argValue('--dir') ?? tmpdir();

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) {
  console.error('run with --expose-gc: node --expose-gc --max-old-space-size=8192 --import tsx bench/join.ts');
  process.exit(2);
}

const HOUR = 3_600_000;
const T0 = 1_763_942_400_000;
const WINDOW = HOUR;
const TTL = 10 * 60_000;
const JOINER: Partial<JoinerOptions> = { joinWindowMs: WINDOW, earlyFeedbackTtlMs: TTL, kindOf };
/** The mixed stream: 100 ms between predictions, so ~36k predictions wait at once in steady state. */
const MIXED: StreamOptions = { predictions: MIXED_PREDICTIONS, seed: 42, meanGapMs: 100, joinWindowMs: WINDOW, earlyFeedbackTtlMs: TTL, granularityMs: 1, startMs: T0 };
/** The 1M pending: predictions only, 1 ms apart, before the mixed stream's start; a 30-day window keeps them pending throughout. */
const FILL: StreamOptions = { predictions: PENDING, seed: 7, meanGapMs: 1, joinWindowMs: 30 * 24 * HOUR, earlyFeedbackTtlMs: TTL, predictionsOnly: true, startMs: T0 - PENDING - 1000 };
const FILL_JOINER: Partial<JoinerOptions> = { ...JOINER, joinWindowMs: 30 * 24 * HOUR };

// ------------------------------------------------------------------ helpers

interface Row {
  what: string;
  store: string;
  events: number;
  seconds: number;
  note: string;
}
const rows: Row[] = [];
interface MemoryRow {
  store: string;
  pending: number;
  heapPerPending: number;
  externalPerPending: number;
  rssPerPending: number;
  diskPerPending: number | null;
}
const memoryRows: MemoryRow[] = [];

function fullGc(): void {
  gc!();
  gc!();
}

function lmdbStore(): LmdbJoinStore {
  return new LmdbJoinStore({ dir: join(DIR, 'feedbackloop-bench') });
}

/** Feeds events to a Joiner; in transactions of BATCH events when `txn` is given. Returns outputs seen. */
function feed(joiner: Joiner, events: StreamEvent[] | Iterable<StreamEvent>, txn?: (fn: () => void) => void): { events: number; outputs: number } {
  let outputs = 0;
  let count = 0;
  const one = (e: StreamEvent) => {
    outputs += (e.kind === 'prediction' ? joiner.onPrediction(e.event) : joiner.onFeedback(e.event)).length;
    count++;
  };
  if (!txn) {
    for (const e of events) one(e);
    return { events: count, outputs };
  }
  if (Array.isArray(events)) {
    for (let i = 0; i < events.length; i += BATCH) {
      txn(() => {
        const end = Math.min(events.length, i + BATCH);
        for (let k = i; k < end; k++) one(events[k]!);
      });
    }
    return { events: count, outputs };
  }
  const iterator = events[Symbol.iterator]();
  let done = false;
  while (!done) {
    txn(() => {
      for (let k = 0; k < BATCH; k++) {
        const next = iterator.next();
        if (next.done) {
          done = true;
          return;
        }
        one(next.value);
      }
    });
  }
  return { events: count, outputs };
}

function timed<T>(fn: () => T): { value: T; seconds: number } {
  const t0 = process.hrtime.bigint();
  const value = fn();
  return { value, seconds: Number(process.hrtime.bigint() - t0) / 1e9 };
}

function runMixed(what: string, storeName: string, joiner: Joiner, events: StreamEvent[], txn?: (fn: () => void) => void, note = ''): void {
  const { value, seconds } = timed(() => feed(joiner, events, txn));
  rows.push({ what, store: storeName, events: value.events, seconds, note });
  log(`${what} / ${storeName}: ${value.events} events in ${seconds.toFixed(2)} s = ${fmt(value.events / seconds)} events/s (${value.outputs} outputs)`);
}

function log(line: string): void {
  process.stderr.write(`  ${line}\n`);
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

function memory() {
  const m = process.memoryUsage();
  return { heap: m.heapUsed, external: m.external, rss: m.rss };
}

// ------------------------------------------------------------------ 1. mixed stream, fresh stores

log(`generating the mixed stream (${fmt(MIXED_PREDICTIONS)} predictions)...`);
let mixed: StreamEvent[] = [...joinStream(MIXED)];
log(`${fmt(mixed.length)} events`);

{
  // Warm the JIT on a small prefix (not timed), then measure.
  const warm = mixed.slice(0, 20_000);
  feed(new Joiner(new MemoryJoinStore(), JOINER), warm);
  const warmStore = lmdbStore();
  feed(new Joiner(warmStore, JOINER), warm, (fn) => warmStore.transaction(fn));
  await warmStore.close();

  runMixed('pure Joiner, mixed stream', 'memory', new Joiner(new MemoryJoinStore(), JOINER), mixed);

  const txnStore = lmdbStore();
  runMixed('pure Joiner, mixed stream', 'lmdb', new Joiner(txnStore, JOINER), mixed, (fn) => txnStore.transaction(fn), `transaction per ${BATCH} events`);
  await txnStore.close();

  const autoStore = lmdbStore();
  const autoEvents = mixed.slice(0, Math.min(mixed.length, 100_000));
  runMixed('pure Joiner, mixed stream', 'lmdb', new Joiner(autoStore, JOINER), autoEvents, undefined, 'no transaction: a commit per write');
  await autoStore.close();
}

// ------------------------------------------------------------------ 2 + 3. 1M pending: heap, then the mixed stream on top

async function pending(storeName: 'memory' | 'lmdb'): Promise<void> {
  mixed = []; // not part of the measurement
  fullGc();
  const before = memory();
  const store: JoinStore = storeName === 'memory' ? new MemoryJoinStore() : lmdbStore();
  const txn = store instanceof LmdbJoinStore ? (fn: () => void) => store.transaction(fn) : undefined;
  const filler = new Joiner(store, FILL_JOINER);
  const { value, seconds } = timed(() => feed(filler, joinStream(FILL), txn));
  rows.push({ what: `fill to ${fmt(PENDING)} pending (predictions only)`, store: storeName, events: value.events, seconds, note: 'includes generating the events' });
  log(`fill / ${storeName}: ${fmt(value.events)} predictions in ${seconds.toFixed(2)} s, pending ${fmt(store.size())}`);
  fullGc();
  const after = memory();
  const n = store.size();
  const disk = store instanceof LmdbJoinStore ? store.stats().usedBytes / n : null;
  memoryRows.push({
    store: storeName,
    pending: n,
    heapPerPending: (after.heap - before.heap) / n,
    externalPerPending: (after.external - before.external) / n,
    rssPerPending: (after.rss - before.rss) / n,
    diskPerPending: disk,
  });
  // Keep the filler Joiner (its counters) alive up to the measurement.
  if (filler.counters.predictions !== n) throw new Error(`expected ${n} predictions counted, got ${filler.counters.predictions}`);

  mixed = [...joinStream(MIXED)];
  const joiner = new Joiner(store, JOINER);
  runMixed(`pure Joiner, mixed stream, on ${fmt(PENDING)} pending`, storeName, joiner, mixed, txn, txn ? `transaction per ${BATCH} events` : '');
  if (store instanceof LmdbJoinStore) await store.close();
}

await pending('memory');
await pending('lmdb');
mixed = [];

// ------------------------------------------------------------------ 4. the processor path

async function processorPath(storeName: 'memory' | 'lmdb'): Promise<void> {
  const config = buildConfig({});
  const t = config.topics;
  const clock = new ManualClock(T0);
  const transport = new MemoryTransport(() => clock.now());
  await transport.ensureTopics([
    { name: t.predictions, partitions: t.partitions },
    { name: t.feedback, partitions: t.partitions },
    { name: t.labelled_examples, partitions: t.partitions },
    { name: t.unmatched_feedback, partitions: t.partitions },
    { name: t.dead_letters, partitions: t.partitions },
    { name: t.joiner_changelog, partitions: t.partitions, compacted: true },
  ]);
  const codecs = makeCodecs(config.topics, undefined);
  const records: OutgoingRecord[] = [];
  let end = Number.NEGATIVE_INFINITY;
  let events = 0;
  for (const e of joinStream({ ...MIXED, predictions: PROCESSOR_PREDICTIONS })) {
    events++;
    end = Math.max(end, e.event.timestamp);
    records.push(
      e.kind === 'prediction'
        ? { topic: t.predictions, key: Buffer.from(e.event.prediction_id), value: await codecs.prediction.encode(e.event) }
        : { topic: t.feedback, key: Buffer.from(e.event.prediction_id), value: await codecs.feedback.encode(e.event) },
    );
  }
  await (await transport.producer()).send(records);
  const stores: LmdbJoinStore[] = [];
  let batches = 0;
  const processor = new JoinerProcessor({
    transport,
    topics: joinerTopics(config),
    groupId: 'bench-joiner',
    transactionalIdPrefix: 'bench-joiner',
    codecs,
    joiner: JOINER,
    createStore: (partition) => {
      if (storeName === 'memory') return new MemoryJoinStore();
      const store = new LmdbJoinStore({ dir: join(DIR, 'feedbackloop-bench'), partition });
      stores.push(store);
      return store;
    },
    clock,
    observer: {
      joined: () => {
        batches++;
      },
    },
  });
  const t0 = process.hrtime.bigint();
  await processor.start();
  await transport.whenIdle();
  await processor.advanceTasks(end);
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  await processor.stop();
  const outputs = transport.records(t.labelled_examples).length;
  rows.push({
    what: 'JoinerProcessor on MemoryTransport',
    store: storeName,
    events,
    seconds,
    note: `${t.partitions} partitions, ${fmt(batches)} batches (avg ${(events / batches).toFixed(1)} records)${storeName === 'lmdb' ? ', no store transaction' : ''}`,
  });
  log(`processor / ${storeName}: ${fmt(events)} events in ${seconds.toFixed(2)} s, ${fmt(outputs)} labelled-examples records`);
  await transport.close();
  for (const store of stores) await store.close();
}

await processorPath('memory');
await processorPath('lmdb');

// ------------------------------------------------------------------ 5. where the time goes: store operations

interface OpRow {
  op: string;
  memory: number;
  lmdb: number;
}
const opRows: OpRow[] = [];
/** Results the timed loops feed, so the JIT cannot drop the lookups. */
let sink = 0;

async function storeOps(): Promise<void> {
  const n = quick ? 20_000 : 100_000;
  const source = [...joinStream({ ...FILL, predictions: n, startMs: T0 })];
  const entries: JoinEntry[] = source.map((e) => {
    const p = e.event as Prediction;
    return { prediction: p, shadow_scores: {}, early: [], resolved: null, seq: 0, seen: [], expires_at: p.timestamp + WINDOW };
  });
  const ids = entries.map((e) => e.prediction!.prediction_id);
  const misses = ids.map((id) => `${id}-missing`);
  const results = new Map<string, { memory: number; lmdb: number }>();
  for (const kind of ['memory', 'lmdb'] as const) {
    const store = kind === 'memory' ? new MemoryJoinStore() : lmdbStore();
    const txn = store instanceof LmdbJoinStore ? <T>(fn: () => T) => store.transaction(fn) : <T>(fn: () => T) => fn();
    const op = (name: string, count: number, fn: () => void) => {
      const t0 = process.hrtime.bigint();
      txn(fn);
      const ns = Number(process.hrtime.bigint() - t0) / count;
      const row = results.get(name) ?? { memory: 0, lmdb: 0 };
      row[kind] = ns;
      results.set(name, row);
    };
    op('set (new key)', n, () => { for (let i = 0; i < n; i++) store.set(ids[i]!, entries[i]!); });
    op('addExpiry', n, () => { for (let i = 0; i < n; i++) store.addExpiry(entries[i]!.expires_at, ids[i]!); });
    op('get (hit)', n, () => { for (let i = 0; i < n; i++) sink += store.get(ids[i]!)!.seq; });
    op('get (miss)', n, () => { for (let i = 0; i < n; i++) sink += store.get(misses[i]!) ? 1 : 0; });
    op('get + set (existing key)', n, () => { for (let i = 0; i < n; i++) store.set(ids[i]!, store.get(ids[i]!)!); });
    op('takeExpired, per item (one due per call)', n, () => { for (let i = 0; i < n; i++) store.takeExpired(entries[i]!.expires_at); });
    op('delete', n, () => { for (let i = 0; i < n; i++) store.delete(ids[i]!); });
    if (store instanceof LmdbJoinStore) await store.close();
  }
  for (const [op, r] of results) opRows.push({ op, ...r });
  rmSync(join(DIR, 'feedbackloop-bench'), { recursive: true, force: true });
}

await storeOps(); // warm-up round (JIT), not reported
opRows.length = 0;
await storeOps();
if (sink !== 0) throw new Error('entries were changed by the store');

// ------------------------------------------------------------------ report

const pad = (s: string, n: number) => s.padEnd(n);
const lpad = (s: string, n: number) => s.padStart(n);
console.log('');
console.log(`feedbackloop join benchmark — node ${process.version}, ${process.platform}/${process.arch}`);
console.log(`command: node ${process.execArgv.join(' ')} ${process.argv.slice(1).map((a) => a.replace(process.cwd() + '/', '')).join(' ')}`);
console.log(`mixed stream: ${fmt(MIXED_PREDICTIONS)} predictions, 100 ms apart, window 1 h, early-feedback TTL 10 min, seed 42`);
console.log('');
console.log(`${pad('throughput', 52)} ${pad('store', 7)} ${lpad('events', 10)} ${lpad('seconds', 8)} ${lpad('events/s', 10)}  note`);
for (const r of rows) {
  console.log(`${pad(r.what, 52)} ${pad(r.store, 7)} ${lpad(fmt(r.events), 10)} ${lpad(r.seconds.toFixed(2), 8)} ${lpad(fmt(r.events / r.seconds), 10)}  ${r.note}`);
}
console.log('');
console.log(`${pad('memory at pending', 20)} ${pad('store', 7)} ${lpad('heap B/pending', 15)} ${lpad('external B/p', 12)} ${lpad('RSS B/p', 9)} ${lpad('LMDB B/p', 9)}`);
for (const m of memoryRows) {
  console.log(
    `${pad(fmt(m.pending), 20)} ${pad(m.store, 7)} ${lpad(m.heapPerPending.toFixed(1), 15)} ${lpad(m.externalPerPending.toFixed(1), 12)} ${lpad(m.rssPerPending.toFixed(0), 9)} ${lpad(m.diskPerPending === null ? '-' : m.diskPerPending.toFixed(0), 9)}`,
  );
}
console.log('');
console.log(`${pad(`store operation (ns/op, ${quick ? '20k' : '100k'} keys, in one transaction for LMDB)`, 62)} ${lpad('memory', 8)} ${lpad('lmdb', 8)}`);
for (const r of opRows) console.log(`${pad(r.op, 62)} ${lpad(fmt(r.memory), 8)} ${lpad(fmt(r.lmdb), 8)}`);
console.log('');
console.log('heap = V8 heapUsed after full GC, minus before the store and Joiner existed, over the entries pending (Joiner counters and the store\'s own state included).');
console.log('external = off-heap memory V8 knows of (Buffers); RSS includes the LMDB pages mapped into the process; LMDB B/p = map pages in use.');
rmSync(join(DIR, 'feedbackloop-bench'), { recursive: true, force: true });
