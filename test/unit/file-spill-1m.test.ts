/**
 * The replay's spill file at the scale it is for (issue 13: a backtest of
 * a week of traffic): 1,000,000 pending predictions spilled, a quarter of
 * them replaced and a quarter deleted, then every one of the million read
 * back equal to the last entry set (or gone). What stays in the process is
 * the index (12 bytes a slot, off the heap), not the entries: the JS heap
 * grows by a small fraction of the ~300 MB written to the file.
 *
 * The replay itself at 1M predictions (byte-identical to a heap-only run)
 * takes minutes; it is measured by `npm run bench:replay`, not here.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { FileSpill } from '../../adapters/state/file-spill.js';
import type { PackedEntry } from '../../core/join/index.js';

const N = 1_000_000;
const MiB = 2 ** 20;

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** A pending prediction of about 250 bytes packed, distinct per (i, version). */
function entry(i: number, version: number): PackedEntry {
  return {
    packed: `\u0000${i.toString(36)}:${version}:` + 'f'.repeat(200 + (i % 50)),
    shadow_scores: i % 2 === 0 ? {} : { 'logreg@3': (i % 997) / 997 },
    early: [],
    resolved: null,
    seq: version,
    seen: [i],
    expires_at: 1_763_942_400_000 + i,
  };
}

const id = (i: number): string => `prediction-${i.toString(16).padStart(8, '0')}`;

describe('FileSpill with 1,000,000 entries', () => {
  it('reads back the latest entry of every id after replacements and deletions, with the entries off the heap', () => {
    const dir = mkdtempSync(join(tmpdir(), 'file-spill-1m-'));
    try {
      gc();
      const heapBefore = process.memoryUsage().heapUsed;
      const spill = new FileSpill(dir);
      for (let i = 0; i < N; i++) spill.set(id(i), entry(i, 0));
      for (let i = 0; i < N; i += 4) spill.set(id(i), entry(i, 1)); // replaced
      for (let i = 1; i < N; i += 4) expect(spill.delete(id(i))).toBe(true); // deleted
      expect(spill.size).toBe(N - N / 4);
      expect(spill.bytes).toBeGreaterThan(250 * N);
      expect(statSync(join(spill.path, 'entries')).size).toBeGreaterThan(250 * N - 2 * MiB); // all but the write buffer is in the file
      // The index: three Uint32Arrays of a power-of-two capacity, at most 0.7 used.
      expect(spill.size / spill.capacity).toBeLessThanOrEqual(0.7);
      gc();
      const heapGrowth = process.memoryUsage().heapUsed - heapBefore;
      // 1M entries on the heap would be ~470 MB (PackedJoinStore) and the file holds ~330 MB; the heap keeps neither.
      expect(heapGrowth).toBeLessThan(64 * MiB);

      let checked = 0;
      for (let i = 0; i < N; i++) {
        const got = spill.get(id(i));
        if (i % 4 === 1) {
          if (got !== undefined || spill.has(id(i))) throw new Error(`${id(i)} was deleted but is found`);
        } else {
          const want = entry(i, i % 4 === 0 ? 1 : 0);
          if (got?.packed !== want.packed || got.seq !== want.seq || got.expires_at !== want.expires_at) {
            throw new Error(`${id(i)}: read ${JSON.stringify(got?.packed?.slice(0, 20))}, want ${JSON.stringify(want.packed!.slice(0, 20))}`);
          }
          checked++;
        }
      }
      expect(checked).toBe(N - N / 4);
      expect(spill.get(id(N))).toBeUndefined();
      spill.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
