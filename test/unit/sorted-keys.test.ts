/**
 * sortedKeys and sortSmall (core/sorted-keys.ts) give the order of
 * Array.prototype.sort: keys of any record (integer-like, non-ASCII, more
 * than the insertion sort's limit), numbers ascending.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { sortedKeys, sortSmall } from '../../core/sorted-keys.js';
import { runs } from '../support/properties.js';

describe('sortedKeys', () => {
  it('orders a record\'s keys as Object.keys(record).sort() does', () => {
    const key = fc.oneof(fc.string(), fc.string({ unit: 'grapheme' }), fc.nat(50).map(String));
    fc.assert(
      fc.property(fc.dictionary(key, fc.integer(), { maxKeys: 40 }), (record) => {
        expect(sortedKeys(record)).toEqual(Object.keys(record).sort());
      }),
      runs(300),
    );
  });

  it('sorts numbers ascending, short and long lists, in place', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ noNaN: true }), { maxLength: 40 }), (values) => {
        const items = [...values];
        expect(sortSmall(items)).toBe(items);
        expect(items).toEqual([...values].sort((a, b) => a - b));
      }),
      runs(300),
    );
  });

  it('sorts a reversed list of strings', () => {
    expect(sortSmall(['d', 'c', 'b', 'a'])).toEqual(['a', 'b', 'c', 'd']);
  });
});
