/**
 * Seeded randomness: a small deterministic PRNG and the draws the synthetic
 * worlds make from it, so the same seed gives the same events on every
 * machine (the demo's world, and the benchmarks' and tests' streams).
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

/** One of `choices`, each with a probability proportional to its weight. */
export function pick<T>(random: Random, choices: ReadonlyArray<readonly [T, number]>): T {
  let r = random() * choices.reduce((sum, [, w]) => sum + w, 0);
  for (const [value, w] of choices) if ((r -= w) < 0) return value;
  return choices[choices.length - 1]![0];
}

/** A standard normal draw (Box-Muller; two uniforms). */
export const gaussian = (random: Random): number => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());

/** A draw log-uniform in [min, max], rounded to an integer (one uniform). */
export const logUniform = (random: Random, min: number, max: number): number =>
  Math.round(Math.exp(Math.log(min) + random() * (Math.log(max) - Math.log(min))));
