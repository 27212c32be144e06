/**
 * The replay's expiry index (adapters/state/expiry-spill.ts): the later
 * items in sorted runs on disk, taken back exactly as one heap of every item
 * gives them (same items, same (at, id) order), ties and repeated items
 * included; the runs' folder deleted by close().
 */
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ExpirySpill } from '../../adapters/state/expiry-spill.js';
import { ExpiryHeap } from '../../core/join/index.js';

/** Deterministic pseudo-random integers in [0, n) (mulberry32). */
function random(seed: number): (n: number) => number {
  let a = seed;
  return (n) => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return Math.floor((((t ^ (t >>> 14)) >>> 0) / 4294967296) * n);
  };
}

describe('ExpirySpill', () => {
  it('takes back what one heap of every item takes, in the same order', () => {
    const dir = mkdtempSync(join(tmpdir(), 'expiry-spill-test-'));
    const rnd = random(7);
    const heap = new ExpiryHeap();
    const spill = new ExpirySpill(dir, 50, 1);
    let watermark = 0;
    let taken = 0;
    let mostRuns = 0;
    for (let step = 0; step < 200; step++) {
      for (let k = 0; k < 40; k++) {
        // About increasing times (a join window ahead), some earlier (early feedback's TTL), equal times, repeated and non-ASCII ids.
        const at = watermark + (rnd(4) === 0 ? rnd(50) : 1000 + rnd(300));
        const id = rnd(10) === 0 ? `é-${rnd(20)}-🙂` : `p-${rnd(5000)}`;
        heap.add(at, id);
        spill.add(at, id);
      }
      mostRuns = Math.max(mostRuns, spill.runCount);
      watermark += 25 + rnd(50);
      const want = heap.takeUpTo(watermark);
      expect(spill.takeUpTo(watermark)).toEqual(want);
      taken += want.length;
    }
    expect(mostRuns).toBeGreaterThan(20);
    const rest = heap.takeUpTo(Infinity);
    expect(spill.takeUpTo(Infinity)).toEqual(rest);
    expect(taken + rest.length).toBe(8000);
    expect(taken).toBeGreaterThan(4000);
    expect(spill.runCount).toBe(0);
    const path = spill.path!;
    expect(readdirSync(dir)).toEqual([path.split('/').pop()]);
    spill.close();
    spill.close();
    expect(existsSync(path)).toBe(false);
    rmSync(dir, { recursive: true });
  });

  it('keeps at most the bound on the heap: one run each time it fills, of exactly that many items', () => {
    const dir = mkdtempSync(join(tmpdir(), 'expiry-spill-test-'));
    const spill = new ExpirySpill(dir, 3, 1);
    for (let i = 0; i < 7; i++) spill.add(100 - i, `id-${i}`);
    expect(spill.runCount).toBe(2); // items 0-2 and 3-5; item 6 waits on the heap
    expect(spill.takeUpTo(95)).toEqual([
      { at: 94, id: 'id-6' },
      { at: 95, id: 'id-5' },
    ]);
    expect(spill.takeUpTo(99)).toEqual([96, 97, 98, 99].map((at) => ({ at, id: `id-${100 - at}` })));
    expect(spill.runCount).toBe(1);
    expect(spill.takeUpTo(100)).toEqual([{ at: 100, id: 'id-0' }]);
    expect(spill.runCount).toBe(0);
    spill.close();
    expect(readdirSync(dir)).toEqual([]);
    rmSync(dir, { recursive: true });
  });

  it('writes nothing while within the bound', () => {
    const dir = mkdtempSync(join(tmpdir(), 'expiry-spill-test-'));
    const spill = new ExpirySpill(dir, 1000);
    for (let i = 0; i < 999; i++) spill.add(i, `p-${i}`);
    expect(spill.path).toBeUndefined();
    expect(spill.takeUpTo(1)).toEqual([{ at: 0, id: 'p-0' }, { at: 1, id: 'p-1' }]);
    spill.close();
    expect(readdirSync(dir)).toEqual([]);
    rmSync(dir, { recursive: true });
  });
});
