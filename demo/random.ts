/**
 * Seeded randomness: a small deterministic PRNG, so the same seed gives the
 * same events on every machine (the demo's world, and the benchmarks' and
 * tests' streams).
 */

/** A source of uniform floats in [0, 1). */
export type Random = () => number;

/** mulberry32: a small, fast, seeded 32-bit PRNG. Returns floats in [0, 1). */
export function mulberry32(seed: number): Random {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
