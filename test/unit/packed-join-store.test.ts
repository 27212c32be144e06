/**
 * PackedJoinStore (the replay's join store: each pending prediction packed
 * as its Avro body) gives the join exactly what MemoryJoinStore gives:
 * outputs, counters, watermark, sizes and the entries themselves, with
 * feedback before its prediction, duplicates, corrections and expiry.
 */
import { describe, expect, it } from 'vitest';
import { avroPredictionPacking } from '../../adapters/codec/prediction-packing.js';
import { Joiner, MemoryJoinStore, PackedJoinStore, type JoinerOptions, type JoinOutput } from '../../core/join/index.js';
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
