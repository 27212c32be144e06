/**
 * QuantileSketch: hand-computed cases, the relative-error guarantee against
 * exact lower quantiles of seeded delay streams, revert, merge and clone.
 */
import { describe, expect, it } from 'vitest';
import { QuantileSketch } from '../../core/metrics/index.js';
import { seededRandom } from '../support/random.js';

/** The exact lower quantile: the smallest v with (number of samples <= v) >= q * n; the minimum for q = 0. */
function exactQuantile(sorted: number[], q: number): number {
  const rank = q * sorted.length;
  for (let i = 0; i < sorted.length; i++) if (i + 1 >= rank) return sorted[i]!;
  return sorted[sorted.length - 1]!;
}

function sketchOf(values: number[], accuracy = 0.01): QuantileSketch {
  const sketch = new QuantileSketch(accuracy);
  for (const v of values) sketch.update(v);
  return sketch;
}

/** |estimate - exact| <= a * exact, with room for the rounding of log and pow at bucket edges. */
function expectWithin(estimate: number | null, exact: number, accuracy: number, label = '') {
  expect(estimate, label).not.toBeNull();
  expect(Math.abs(estimate! - exact), `${label}: estimate ${estimate}, exact ${exact}`).toBeLessThanOrEqual(accuracy * exact * (1 + 1e-9));
}

const SECOND = 1000;
const DAY = 86_400_000;
const clampDelay = (ms: number) => Math.min(30 * DAY, Math.max(SECOND, ms));

const DELAYS: Record<string, (random: () => number) => number> = {
  // Exponential, mean one hour.
  exponential: (random) => clampDelay(-Math.log(1 - random()) * 3_600_000),
  // Lognormal around ten minutes with a wide spread (Box-Muller).
  lognormal: (random) => clampDelay(600_000 * Math.exp(2 * Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random()))),
  // Whole seconds: many equal values.
  seconds: (random) => clampDelay(Math.round(-Math.log(1 - random()) * 60) * SECOND),
};

describe('QuantileSketch by hand', () => {
  it('[0, 0, 5]: the median is 0 exactly, the maximum about 5', () => {
    const sketch = sketchOf([0, 0, 5]);
    expect(sketch.count()).toBe(3);
    expect(sketch.quantile(0.5)).toBe(0);
    expect(sketch.quantile(0)).toBe(0);
    expect(sketch.quantile(2 / 3)).toBe(0); // 2 samples <= 0, 2 >= 2/3 * 3
    expectWithin(sketch.quantile(0.7), 5, 0.01);
    expectWithin(sketch.quantile(1), 5, 0.01);
  });

  it('a single value: every quantile within 1% of it', () => {
    for (const v of [1e-6, 0.5, 1, 1000, 12_345.678, 30 * DAY, 1e300]) {
      const sketch = sketchOf([v]);
      for (const q of [0, 0.5, 1]) expectWithin(sketch.quantile(q), v, 0.01, `${v} q=${q}`);
    }
  });

  it('lower quantiles of [1, 2, 3, 4] and values below 1e-9 count as 0', () => {
    const sketch = sketchOf([4, 1, 3, 2]);
    expectWithin(sketch.quantile(0), 1, 0.01);
    expectWithin(sketch.quantile(0.25), 1, 0.01);
    expectWithin(sketch.quantile(0.26), 2, 0.01);
    expectWithin(sketch.quantile(0.5), 2, 0.01);
    expectWithin(sketch.quantile(0.75), 3, 0.01);
    expectWithin(sketch.quantile(1), 4, 0.01);
    const tiny = sketchOf([1e-12, 5e-10]);
    expect(tiny.quantile(1)).toBe(0);
  });

  it('the bucket value 2 gamma^i / (gamma + 1) is within a of both ends of the bucket', () => {
    const a = 0.01;
    const gamma = (1 + a) / (1 - a);
    const value = (2 * gamma ** 10) / (gamma + 1);
    expect(Math.abs(value - gamma ** 10) / gamma ** 10).toBeCloseTo(a, 12);
    expect(Math.abs(value - gamma ** 9) / gamma ** 9).toBeCloseTo(a, 12);
  });

  it('weights: update(x, w) counts x w times; revert(x, w) takes them back', () => {
    const sketch = new QuantileSketch();
    sketch.update(10, 3);
    sketch.update(1000);
    expect(sketch.count()).toBe(4);
    expectWithin(sketch.quantile(0.75), 10, 0.01);
    expectWithin(sketch.quantile(0.76), 1000, 0.01);
    sketch.revert(10, 2);
    expectWithin(sketch.quantile(0.5), 10, 0.01);
    expectWithin(sketch.quantile(0.51), 1000, 0.01);
  });

  it('empty is null; bad input is a RangeError', () => {
    const sketch = new QuantileSketch();
    expect(sketch.quantile(0.5)).toBeNull();
    expect(sketch.count()).toBe(0);
    expect(() => sketch.update(-1)).toThrow(/non-negative, got -1/);
    expect(() => sketch.update(-1)).toThrow(RangeError);
    expect(() => sketch.update(Number.NaN)).toThrow(RangeError);
    expect(() => sketch.update(Infinity)).toThrow(RangeError);
    expect(() => sketch.update(1, -1)).toThrow(RangeError);
    expect(() => sketch.revert(5)).toThrow(RangeError); // never added
    expect(() => sketch.quantile(1.5)).toThrow(RangeError);
    expect(() => new QuantileSketch(0)).toThrow(RangeError);
    expect(() => new QuantileSketch(1)).toThrow(RangeError);
    expect(() => sketch.merge(new QuantileSketch(0.02))).toThrow(RangeError);
  });
});

describe('QuantileSketch on seeded delay streams (1 s to 30 days)', () => {
  const SEEDS = [1, 2, 3, 4, 5, 6];

  it('p50, p95 and p99 are within the relative accuracy of the exact lower quantile', () => {
    for (const accuracy of [0.01, 0.005, 0.05]) {
      for (const seed of SEEDS) {
        for (const [name, delay] of Object.entries(DELAYS)) {
          const random = seededRandom(seed);
          const values = Array.from({ length: 5000 }, () => delay(random));
          const sketch = sketchOf(values, accuracy);
          const sorted = [...values].sort((a, b) => a - b);
          for (const q of [0, 0.5, 0.95, 0.99, 1]) {
            expectWithin(sketch.quantile(q), exactQuantile(sorted, q), accuracy, `a=${accuracy} seed ${seed} ${name} q=${q}`);
          }
        }
      }
    }
  });

  it('revert of every value (in another order) leaves it empty', () => {
    for (const seed of SEEDS) {
      const random = seededRandom(seed);
      const values = Array.from({ length: 3000 }, () => (random() < 0.05 ? 0 : DELAYS.lognormal!(random)));
      const sketch = sketchOf(values);
      for (const v of [...values].reverse()) sketch.revert(v);
      expect(sketch.count()).toBe(0);
      expect(sketch.quantile(0.5)).toBeNull();
      expect(sketch).toEqual(new QuantileSketch());
    }
  });

  it('the merge of two halves is the sketch of the whole; clone is empty with the same accuracy', () => {
    for (const seed of SEEDS) {
      const random = seededRandom(seed);
      const values = Array.from({ length: 4000 }, () => (random() < 0.05 ? 0 : DELAYS.exponential!(random)));
      const whole = sketchOf(values);
      const first = sketchOf(values.slice(0, 1500));
      const second = sketchOf(values.slice(1500));
      expect(first.merge(second)).toBe(first);
      expect(first.count()).toBe(whole.count());
      for (let q = 0; q <= 1; q += 0.01) expect(first.quantile(q)).toBe(whole.quantile(q));
      expect(first).toEqual(whole);
      const clone = whole.clone();
      expect(clone.relativeAccuracy).toBe(0.01);
      expect(clone.count()).toBe(0);
      expect(clone.quantile(0.5)).toBeNull();
    }
  });
});
