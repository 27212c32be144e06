/**
 * The replay's spill file (adapters/state/file-spill.ts) and its index
 * (adapters/state/spill-index.ts): every entry read back equal to the last
 * one set, through the write buffer and through the file; ids that share a
 * hash told apart by the id in their record; removed slots skipped and
 * reclaimed when the table grows; close() deletes the folder.
 */
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FileSpill } from '../../adapters/state/file-spill.js';
import { idHash, SpillIndex } from '../../adapters/state/spill-index.js';
import type { PackedEntry } from '../../core/join/index.js';

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'file-spill-test-'));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function entry(i: number): PackedEntry {
  return {
    packed: i % 7 === 0 ? null : String.fromCharCode(0, 0x7f, 0x80, 0xff, i % 256) + 'x'.repeat(i % 300),
    shadow_scores: i % 3 === 0 ? {} : { 'challenger-a': i / 1000, ÿ: -0 },
    early: [],
    resolved: i % 5 === 0 ? null : ({ label: i % 2, label_class: undefined } as unknown as PackedEntry['resolved']),
    seq: i % 4,
    seen: [i, i * 31, 2 ** 40 + i],
    expires_at: 1_763_942_400_000 + i,
  };
}

describe('idHash', () => {
  it('is 32-bit FNV-1a of the UTF-16 code units', () => {
    // FNV-1a 32 of "a" and of "foobar" (reference values of the FNV test suite, bytes = code units here).
    expect(idHash('')).toBe(0x811c9dc5);
    expect(idHash('a')).toBe(0xe40c292c);
    expect(idHash('foobar')).toBe(0xbf9cf968);
  });
});

describe('SpillIndex', () => {
  it('finds by hash and check, skips removed slots, keeps every entry when it grows', () => {
    const index = new SpillIndex();
    const records = new Map<number, number>(); // offset -> key
    const check = (key: number) => (offset: number) => records.get(offset) === key;
    // Every key hashes to 5: one probe chain of 3,000 slots, through two growths.
    for (let k = 0; k < 3000; k++) {
      records.set(8 * k, k);
      index.insert(5, 8 * k, 10 + k);
    }
    expect(index.size).toBe(3000);
    expect(index.capacity).toBe(8192); // grew at 717, 1,434 and 2,868 entries (> 0.7 of 1,024, 2,048, 4,096) to a half-load table: 8,192
    for (const k of [0, 1, 1500, 2999]) expect(index.lengthAt(index.find(5, check(k)))).toBe(10 + k);
    expect(index.find(6, check(0))).toBe(-1);
    for (let k = 0; k < 3000; k += 2) index.remove(index.find(5, check(k)));
    expect(index.size).toBe(1500);
    expect(index.find(5, check(0))).toBe(-1);
    const slot = index.find(5, check(2999));
    index.update(slot, 8 * 5000, 77);
    records.set(8 * 5000, 2999);
    expect([index.offsetAt(slot), index.lengthAt(slot)]).toEqual([40_000, 77]);
  });

  it('rejects an offset not a multiple of 8', () => {
    expect(() => new SpillIndex().insert(1, 12, 3)).toThrow('record offset 12 not storable');
  });
});

describe('FileSpill', () => {
  it('reads back the last entry set for each id, from the buffer and from the file, and deletes', () => {
    const spill = new FileSpill(tempDir());
    const ids = Array.from({ length: 20_000 }, (_, i) => (i % 10 === 0 ? `prédiction-${i}-🙂` : `p-${i}`));
    ids.forEach((id, i) => spill.set(id, entry(i)));
    expect(spill.bytes).toBeGreaterThan(2 ** 21); // past two flushes of the 1 MiB buffer
    ids.forEach((id, i) => i % 3 === 0 && spill.set(id, entry(i + 1)));
    ids.forEach((id, i) => i % 4 === 1 && expect(spill.delete(id)).toBe(true));
    expect(spill.delete('p-1')).toBe(false);
    expect(spill.size).toBe(20_000 - 5000);
    ids.forEach((id, i) => {
      const want = i % 4 === 1 ? undefined : entry(i % 3 === 0 ? i + 1 : i);
      expect(spill.has(id)).toBe(want !== undefined);
      expect(spill.get(id)).toEqual(want);
    });
    expect(Object.is(spill.get('p-1004')!.shadow_scores['ÿ'], -0)).toBe(true);
    expect('label_class' in spill.get('p-1004')!.resolved!).toBe(true);
    expect(spill.get('p-')).toBeUndefined();
    spill.close();
  });

  it('tells apart ids with the same hash by the id in their record', () => {
    // Found by search: FNV-1a 32 collisions among short ids.
    const [a, b] = collidingIds();
    expect(idHash(a)).toBe(idHash(b));
    const spill = new FileSpill(tempDir());
    spill.set(a, entry(1));
    expect(spill.has(b)).toBe(false);
    spill.set(b, entry(2));
    expect(spill.get(a)).toEqual(entry(1));
    expect(spill.get(b)).toEqual(entry(2));
    expect(spill.delete(a)).toBe(true);
    expect(spill.get(a)).toBeUndefined();
    expect(spill.get(b)).toEqual(entry(2));
    spill.close();
  });

  it('writes one file in its own folder, and close() deletes the folder', () => {
    const dir = tempDir();
    const spill = new FileSpill(dir);
    spill.set('a', entry(1));
    expect(readdirSync(dir)).toHaveLength(1);
    spill.set('b', { ...entry(2), packed: 'y'.repeat(3 << 20) }); // bigger than the write buffer
    expect(spill.get('b')!.packed).toHaveLength(3 << 20);
    expect(spill.get('a')).toEqual(entry(1));
    spill.set('c', entry(3)); // flushes 'b'
    expect(statSync(join(spill.path, 'entries')).size).toBeGreaterThan(3 << 20);
    expect(spill.get('b')!.packed).toHaveLength(3 << 20);
    spill.close();
    spill.close();
    expect(existsSync(spill.path)).toBe(false);
    expect(readdirSync(dir)).toHaveLength(0);
  });
});

/** Two distinct short ids of equal idHash (birthday search over "id-N"). */
function collidingIds(): [string, string] {
  const seen = new Map<number, string>();
  for (let i = 0; ; i++) {
    const id = `id-${i}`;
    const h = idHash(id);
    const other = seen.get(h);
    if (other !== undefined) return [other, id];
    seen.set(h, id);
  }
}
