/**
 * mergeSorted (core/merge-sorted.ts): the k-way merge the external sort and
 * the replay's point spill share. Merging sorted sources must give what one
 * stable sort of their concatenation gives: ties in source order.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { mergeSorted } from '../../core/merge-sorted.js';
import { runs } from '../support/properties.js';

type Item = { key: number; source: number; at: number };

async function* from<T>(items: T[]): AsyncGenerator<T> {
  yield* items;
}

async function merged(sources: Item[][]): Promise<Item[]> {
  const out: Item[] = [];
  for await (const item of mergeSorted(sources.map((s) => from(s)), (a, b) => a.key - b.key)) out.push(item);
  return out;
}

describe('mergeSorted', () => {
  it('equals a stable sort of the sources one after the other, ties in source order (property)', async () => {
    const sourcesArb = fc.array(fc.array(fc.integer({ min: 0, max: 5 }), { maxLength: 30 }), { maxLength: 12 });
    await fc.assert(
      fc.asyncProperty(sourcesArb, async (keys) => {
        const sources = keys.map((ks, source) => [...ks].sort((a, b) => a - b).map((key, at) => ({ key, source, at })));
        const expected = sources.flat().sort((a, b) => a.key - b.key);
        expect(await merged(sources)).toEqual(expected);
      }),
      runs(300),
    );
  });

  it('a hand case: three runs with ties, and empty sources', async () => {
    const item = (key: number, source: number, at: number): Item => ({ key, source, at });
    const sources = [[item(1, 0, 0), item(3, 0, 1)], [], [item(1, 2, 0), item(2, 2, 1), item(3, 2, 2)], [item(0, 3, 0)]];
    expect((await merged(sources)).map((i) => `${i.key}/${i.source}`)).toEqual(['0/3', '1/0', '1/2', '2/2', '3/0', '3/2']);
  });
});
