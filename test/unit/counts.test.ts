/**
 * Counts (core/metrics/counts.ts): whatever is added, every value is the one
 * a Float64Array holds after the same additions (Object.is, so -0 and NaN
 * too), and the array is the narrowest that holds them.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Counts } from '../../core/metrics/counts.js';
import { runs } from '../support/properties.js';

const weight = fc.oneof(
  fc.constantFrom(1, 1, 1, -1, 2, 0, -0, 0.5, 255, 256, 65_535, 65_536, 2 ** 32 - 1, 2 ** 32, -(2 ** 32), Number.NaN, Number.POSITIVE_INFINITY),
  fc.double({ noNaN: false }),
);

describe('Counts', () => {
  it('holds what a Float64Array holds after the same additions', () => {
    const adds = fc.array(fc.tuple(fc.nat(4), weight), { maxLength: 60 });
    fc.assert(
      fc.property(adds, (list) => {
        const counts = new Counts(5);
        const reference = new Float64Array(5);
        for (const [i, w] of list) {
          counts.add(i, w);
          reference[i] = reference[i]! + w;
        }
        for (let i = 0; i < 5; i++) expect(Object.is(counts.values[i], reference[i])).toBe(true);
        expect(Array.from(counts.toFloat64())).toEqual(Array.from(reference));
        const restored = Counts.from(reference);
        for (let i = 0; i < 5; i++) expect(Object.is(restored.values[i], reference[i])).toBe(true);
      }),
      runs(300),
    );
  });

  it('takes the narrowest array that fits, and only widens', () => {
    const counts = new Counts(3);
    expect(counts.values).toBeInstanceOf(Uint8Array);
    for (let i = 0; i < 255; i++) counts.add(0, 1);
    expect(counts.values).toBeInstanceOf(Uint8Array);
    counts.add(0, 1);
    expect(counts.values).toBeInstanceOf(Uint16Array);
    counts.add(0, -256);
    expect(counts.values).toBeInstanceOf(Uint16Array);
    counts.add(1, 70_000);
    expect(counts.values).toBeInstanceOf(Uint32Array);
    counts.add(2, 0.5);
    expect(counts.values).toBeInstanceOf(Float64Array);
    expect(Array.from(counts.values)).toEqual([0, 70_000, 0.5]);
    expect(new Counts(1).values).toBeInstanceOf(Uint8Array);
    const negative = new Counts(2);
    negative.add(1, -1);
    expect(negative.values).toBeInstanceOf(Float64Array);
    expect(Array.from(negative.values)).toEqual([0, -1]);
    expect(Counts.from([3, 300]).values).toBeInstanceOf(Uint16Array);
  });
});
