/**
 * PackedJoinStore (the replay's join store: each pending prediction packed
 * as its Avro body) gives the join exactly what MemoryJoinStore gives:
 * outputs, counters, watermark, sizes and the entries themselves, with
 * feedback before its prediction, duplicates, corrections and expiry; also
 * when all but a bounded number of entries wait in a spill target.
 */
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { avroPredictionPacking } from '../../adapters/codec/prediction-packing.js';
import { ExpirySpill } from '../../adapters/state/expiry-spill.js';
import { FileSpill } from '../../adapters/state/file-spill.js';
import { Joiner, MemoryJoinStore, PackedJoinStore, type JoinerOptions, type JoinOutput, type PackedEntry, type SpillTarget } from '../../core/join/index.js';
import { joinStream, kindOf, type StreamEvent } from '../../bench/stream.js';

const T0 = 1_763_942_400_000;
const HOUR = 3_600_000;
const JOINER: Partial<JoinerOptions> = { joinWindowMs: HOUR, earlyFeedbackTtlMs: 10 * 60_000, kindOf };

function run(joiner: Joiner, events: StreamEvent[]): JoinOutput[] {
  const out: JoinOutput[] = [];
  for (const e of events) for (const o of e.kind === 'prediction' ? joiner.onPrediction(e.event) : joiner.onFeedback(e.event)) out.push(o);
  return out;
}

describe('PackedJoinStore: the join gives what it gives on the heap store', () => {
  for (const seed of [1, 2]) {
    it(`seed ${seed}: same outputs, counters, watermark, sizes and entries`, () => {
      const events = [...joinStream({ predictions: 1500, seed, meanGapMs: 2000, joinWindowMs: HOUR, earlyFeedbackTtlMs: 10 * 60_000, granularityMs: 1000, startMs: T0 })];
      const memory = new MemoryJoinStore();
      const packed = new PackedJoinStore(avroPredictionPacking());
      const a = new Joiner(memory, JOINER);
      const b = new Joiner(packed, JOINER);
      const half = Math.floor(events.length / 2);
      const outA = run(a, events.slice(0, half));
      expect(run(b, events.slice(0, half))).toEqual(outA);
      expect(packed.size()).toBe(memory.size());
      expect(packed.size()).toBeGreaterThan(100);
      for (const [id, e] of memory.all()) expect(packed.get(id)).toEqual(e);

      const restA = run(a, events.slice(half));
      expect(run(b, events.slice(half))).toEqual(restA);
      const endA = a.advance(a.watermark + 30 * 24 * HOUR);
      expect(b.advance(b.watermark + 30 * 24 * HOUR)).toEqual(endA);
      expect(b.counters).toEqual(a.counters);
      expect(b.watermark).toBe(a.watermark);
      expect(packed.size()).toBe(0);
      const kinds = new Set([...outA, ...restA, ...endA].map((o) => (o.kind === 'example' ? (o.example.correction_of ? 'correction' : 'example') : o.kind)));
      expect([...kinds].sort()).toEqual(['arrival', 'correction', 'example', 'rejected', 'unmatched']);
      expect(a.counters.duplicates).toBeGreaterThan(0);
    });
  }
});

describe('PackedJoinStore: set() after get() keeps the packed string', () => {
  it('packs a prediction once however often its entry is written back, and gives it back equal', () => {
    const avro = avroPredictionPacking();
    let packs = 0;
    const store = new PackedJoinStore({ pack: (p) => (packs++, avro.pack(p)), unpack: avro.unpack });
    const events = [...joinStream({ predictions: 200, seed: 3, meanGapMs: 2000, joinWindowMs: HOUR, earlyFeedbackTtlMs: 10 * 60_000, granularityMs: 1000, startMs: T0 })];
    const memory = new MemoryJoinStore();
    const a = new Joiner(memory, JOINER);
    const b = new Joiner(store, JOINER);
    expect(run(b, events)).toEqual(run(a, events));
    const feedback = events.filter((e) => e.kind === 'feedback').length;
    expect(feedback).toBeGreaterThan(100);
    // One pack per prediction stored (a duplicate or a feedback's write-back reuses the string).
    expect(packs).toBeLessThanOrEqual(b.counters.predictions);
    for (const [id, e] of memory.all()) expect(store.get(id)).toEqual(e);
  });
});

/** A spill target on the heap, counting what it holds. */
class MapSpill implements SpillTarget {
  readonly entries = new Map<string, PackedEntry>();
  opened = 0;
  transactions = 0;
  closed = false;
  get = (id: string) => this.entries.get(id);
  has = (id: string) => this.entries.has(id);
  set = (id: string, e: PackedEntry) => void this.entries.set(id, e);
  delete = (id: string) => this.entries.delete(id);
  transaction<T>(fn: () => T): T {
    this.transactions++;
    return fn();
  }
  close(): void {
    this.closed = true;
  }
}

describe('PackedJoinStore beyond its in-memory bound (issue 13): the oldest entries wait in the spill target', () => {
  const events = [...joinStream({ predictions: 1500, seed: 4, meanGapMs: 2000, joinWindowMs: HOUR, earlyFeedbackTtlMs: 10 * 60_000, granularityMs: 1000, startMs: T0 })];

  for (const maxInMemory of [0, 1, 50]) {
    it(`at most ${maxInMemory} on the heap: same outputs, counters, sizes and entries as the heap store`, () => {
      const memory = new MemoryJoinStore();
      const target = new MapSpill();
      const packed = new PackedJoinStore(avroPredictionPacking(), { maxInMemory, open: () => (target.opened++, target) });
      const a = new Joiner(memory, JOINER);
      const b = new Joiner(packed, JOINER);
      let most = 0;
      for (let i = 0; i < events.length; i += 100) {
        const batch = events.slice(i, i + 100);
        const outA = run(a, batch);
        expect(packed.transaction(() => run(b, batch))).toEqual(outA);
        expect(packed.size()).toBe(memory.size());
        expect(packed.size() - packed.spilledCount).toBeLessThanOrEqual(maxInMemory);
        expect(target.entries.size).toBe(packed.spilledCount);
        most = Math.max(most, packed.spilledCount);
      }
      for (const [id, e] of memory.all()) expect(packed.get(id)).toEqual(e);
      expect(most).toBeGreaterThan(100);
      expect(target.opened).toBe(1);
      expect(target.transactions).toBeGreaterThan(0);
      expect(b.advance(b.watermark + 30 * 24 * HOUR)).toEqual(a.advance(a.watermark + 30 * 24 * HOUR));
      expect(b.counters).toEqual(a.counters);
      expect(packed.size()).toBe(0);
      expect(target.entries.size).toBe(0);
    });
  }

  it('opens no target while within the bound', async () => {
    let opened = 0;
    const packed = new PackedJoinStore(avroPredictionPacking(), { maxInMemory: 100_000, open: () => (opened++, new MapSpill()) });
    const a = new Joiner(new MemoryJoinStore(), JOINER);
    const b = new Joiner(packed, JOINER);
    expect(run(b, events)).toEqual(run(a, events));
    expect(packed.spilledCount).toBe(0);
    await packed.close();
    expect(opened).toBe(0);
  });

  it('on the spill file (the replay\'s target): same entries, and close() deletes its folder', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'spill-test-'));
    let target: FileSpill | undefined;
    const memory = new MemoryJoinStore();
    const packed = new PackedJoinStore(avroPredictionPacking(), { maxInMemory: 20, open: () => (target = new FileSpill(dir)) });
    const a = new Joiner(memory, JOINER);
    const b = new Joiner(packed, JOINER);
    const half = events.slice(0, Math.floor(events.length / 2));
    for (let i = 0; i < half.length; i += 100) expect(packed.transaction(() => run(b, half.slice(i, i + 100)))).toEqual(run(a, half.slice(i, i + 100)));
    expect(packed.spilledCount).toBeGreaterThan(100);
    expect(packed.size()).toBe(memory.size());
    for (const [id, e] of memory.all()) expect(packed.get(id)).toEqual(e);
    expect(readdirSync(dir)).toHaveLength(1);
    await packed.close();
    expect(existsSync(target!.path)).toBe(false);
    expect(readdirSync(dir)).toHaveLength(0);
    rmSync(dir, { recursive: true });
  });

  it('on the spill file with the expiry items in sorted runs (the replay\'s): same outputs through expiry, and close() deletes both folders', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'spill-test-'));
    let expiries: ExpirySpill | undefined;
    const memory = new MemoryJoinStore();
    const spill = { maxInMemory: 20, open: () => new FileSpill(dir), expiries: () => (expiries = new ExpirySpill(dir, 20, 16)) };
    const packed = new PackedJoinStore(avroPredictionPacking(), spill);
    const a = new Joiner(memory, JOINER);
    const b = new Joiner(packed, JOINER);
    let mostRuns = 0;
    for (let i = 0; i < events.length; i += 100) {
      expect(packed.transaction(() => run(b, events.slice(i, i + 100)))).toEqual(run(a, events.slice(i, i + 100)));
      mostRuns = Math.max(mostRuns, expiries!.runCount);
    }
    expect(b.counters).toEqual(a.counters);
    expect(a.counters.expired_unlabelled + a.counters.expired_labelled).toBeGreaterThan(0);
    expect(mostRuns).toBeGreaterThan(10);
    expect(b.advance(b.watermark + 30 * 24 * HOUR)).toEqual(a.advance(a.watermark + 30 * 24 * HOUR));
    expect(b.counters).toEqual(a.counters);
    expect(packed.size()).toBe(0);
    expect(expiries!.runCount).toBe(0);
    expect(readdirSync(dir)).toHaveLength(2);
    await packed.close();
    expect(readdirSync(dir)).toHaveLength(0);
    rmSync(dir, { recursive: true });
  });
});
