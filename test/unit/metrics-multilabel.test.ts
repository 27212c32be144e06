/**
 * MultilabelMetrics: every figure of a hand-computed case (an example with
 * both sets empty, one with no decided label), the null rules, and
 * properties: revert undoes update, merging two halves gives the whole, a
 * state round trip changes nothing. scikit-learn's figures on long streams:
 * in test/integration/metrics-reference.test.ts.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { StateMismatchError } from '../../core/errors.js';
import { MultilabelMetrics, type MultilabelObservation } from '../../core/metrics/index.js';
import { runs } from '../support/properties.js';

const LABELS = ['x', 'y', 'z'];
const obs = (labels: number[], predicted: number[], probabilities: number[], weight?: number): MultilabelObservation => {
  const o = { labels: Uint8Array.from(labels), predicted: Uint8Array.from(predicted), probabilities };
  return weight === undefined ? o : { ...o, weight };
};

const HAND = [
  obs([1, 1, 0], [1, 0, 0], [0.9, 0.4, 0.2]),
  obs([0, 0, 0], [0, 0, 0], [0.1, 0.1, 0.1]), // both sets empty
  obs([0, 0, 1], [0, 1, 1], [0.3, 0.6, 0.8]),
  obs([1, 0, 0], [1, 0, 0], [0.7, 0.2, 0.5]),
];

function expectFiguresClose(ours: object, theirs: object, tolerance: number): void {
  const a = ours as Record<string, unknown>;
  const b = theirs as Record<string, unknown>;
  expect(Object.keys(a).sort()).toEqual(Object.keys(b).sort());
  for (const key of Object.keys(a)) {
    const xs = Array.isArray(a[key]) ? (a[key] as unknown[]) : [a[key]];
    const ys = Array.isArray(b[key]) ? (b[key] as unknown[]) : [b[key]];
    expect(xs.length, key).toBe(ys.length);
    xs.forEach((v, i) => {
      if (typeof v === 'number' && typeof ys[i] === 'number') expect(Math.abs(v - (ys[i] as number)), `${key}[${i}]`).toBeLessThanOrEqual(tolerance);
      else expect(v, `${key}[${i}]`).toEqual(ys[i]);
    });
  }
}

describe('multi-label metrics, by hand', () => {
  it('four examples', () => {
    const m = new MultilabelMetrics(LABELS);
    for (const o of HAND) m.update(o);
    const f = m.get();
    expect(f.labels).toEqual(LABELS);
    expect(f.count).toBe(4);
    // x: tp 2, tn 2; y: fn 1, fp 1, tn 2; z: tp 1, tn 3.
    expect(f.precision).toEqual([1, 0, 1]);
    expect(f.recall).toEqual([1, 0, 1]);
    expect(f.f1).toEqual([1, 0, 1]);
    expect(f.support).toEqual([2, 1, 1]);
    expect([f.macro_precision, f.macro_recall, f.macro_f1]).toEqual([2 / 3, 2 / 3, 2 / 3]);
    expect([f.micro_precision, f.micro_recall, f.micro_f1]).toEqual([3 / 4, 3 / 4, 3 / 4]);
    expect([f.weighted_precision, f.weighted_recall, f.weighted_f1]).toEqual([3 / 4, 3 / 4, 3 / 4]);
    // Per example |T∩D|/|D|, /|T|, 2|T∩D|/(|T|+|D|): (1, 1/2, 2/3), (-, -, -), (1/2, 1, 2/3), (1, 1, 1).
    expect(f.samples_precision).toBeCloseTo(2.5 / 3, 15);
    expect(f.samples_recall).toBeCloseTo(2.5 / 3, 15);
    expect(f.samples_f1).toBeCloseTo(7 / 9, 15);
    expect(f.hamming_loss).toBeCloseTo(2 / 12, 15);
    expect(f.subset_accuracy).toBe(0.5);
    expect(f.jaccard).toBeCloseTo((1 / 2 + 1 + 1 / 2 + 1) / 4, 15); // both empty: 1
    const logs = [0.9, 0.4, 0.8, 0.9, 0.9, 0.9, 0.7, 0.4, 0.8, 0.7, 0.8, 0.5];
    expect(f.log_loss).toBeCloseTo(-logs.reduce((s, p) => s + Math.log(p), 0) / 12, 15);
    const c = m.confusion();
    expect([c.tp, c.fp, c.fn, c.tn].map((a) => Array.from(a))).toEqual([[2, 0, 1], [0, 1, 0], [0, 1, 0], [2, 2, 3]]);
  });

  it('weights, and a ratio with a zero denominator is null', () => {
    const m = new MultilabelMetrics(LABELS);
    const empty = m.get();
    for (const key of ['hamming_loss', 'subset_accuracy', 'jaccard', 'log_loss', 'samples_precision', 'micro_f1', 'macro_recall'] as const) expect(empty[key], key).toBeNull();
    m.update(obs([0, 0, 0], [0, 0, 0], [0, 0, 0], 3));
    m.update(obs([1, 0, 0], [0, 0, 0], [1, 0, 0], 1));
    const f = m.get();
    expect(f.count).toBe(4);
    expect(f.precision).toEqual([null, null, null]);
    expect(f.recall).toEqual([0, null, null]);
    expect(f.samples_precision).toBeNull(); // no example decided a label
    expect(f.samples_recall).toBe(0);
    expect(f.subset_accuracy).toBe(3 / 4);
    expect(f.jaccard).toBe(3 / 4);
    expect(f.hamming_loss).toBeCloseTo(1 / 12, 15);
    // Probabilities 0 and 1, all right: each pair clipped to 1 - 2^-52.
    expect(f.log_loss).toBeCloseTo(-Math.log(1 - 2 ** -52), 20);
  });

  it('refuses what does not fit, before changing anything; merge and fromState refuse other labels', () => {
    const m = new MultilabelMetrics(LABELS);
    m.update(HAND[0]!);
    const before = m.toState();
    for (const bad of [obs([1, 0], [1, 0, 0], [0, 0, 0]), obs([1, 0, 0], [2, 0, 0], [0, 0, 0]), obs([1, 0, 0], [1, 0, 0], [0, 0]), obs([1, 0, 0], [1, 0, 0], [0, -0.1, 0]), obs([1, 0, 0], [1, 0, 0], [0, 0, 0], Number.NaN)]) {
      expect(() => m.update(bad)).toThrow(RangeError);
    }
    expect(m.toState()).toEqual(before);
    expect(m.holds(HAND[0]!)).toBe(true);
    expect(m.holds(HAND[2]!)).toBe(false);
    expect(() => m.merge(new MultilabelMetrics(['x', 'y']))).toThrow(StateMismatchError);
    expect(() => MultilabelMetrics.fromState(m.toState(), ['x', 'z', 'y'])).toThrow(StateMismatchError);
  });
});

const L = 4;
const flags = fc.array(fc.integer({ min: 0, max: 1 }), { minLength: L, maxLength: L });
const observation = fc
  .record({
    labels: flags,
    predicted: flags,
    probabilities: fc.array(fc.integer({ min: 0, max: 20 }), { minLength: L, maxLength: L }).map((a) => a.map((n) => n / 20)),
    weight: fc.constantFrom(1, 2, 0.5, 3),
  })
  .map((o) => ({ ...o, labels: Uint8Array.from(o.labels), predicted: Uint8Array.from(o.predicted) }));
const names = Array.from({ length: L }, (_, i) => `label ${i}`);

function fed(stream: readonly MultilabelObservation[]): MultilabelMetrics {
  const m = new MultilabelMetrics(names);
  for (const o of stream) m.update(o);
  return m;
}

describe('multi-label metrics, properties', () => {
  it('update all then revert a subset = update the rest', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(observation, fc.boolean()), { maxLength: 60 }), (pairs) => {
        const all = fed(pairs.map(([o]) => o));
        for (const [o, gone] of pairs) if (gone) all.revert(o);
        const rest = fed(pairs.filter(([, gone]) => !gone).map(([o]) => o));
        expect(all.confusion()).toEqual(rest.confusion());
        expectFiguresClose(all.get(), rest.get(), 1e-9);
      }),
      runs(200),
    );
  });

  it('merging the metrics of two halves gives the metric of the whole', () => {
    fc.assert(
      fc.property(fc.array(observation, { maxLength: 60 }), fc.nat(60), (stream, at) => {
        const first = fed(stream.slice(0, at));
        first.merge(fed(stream.slice(at)));
        const whole = fed(stream);
        expect(first.confusion()).toEqual(whole.confusion());
        expectFiguresClose(first.get(), whole.get(), 1e-9);
      }),
      runs(200),
    );
  });

  it('toState / fromState: the same figures, and the same after more updates', () => {
    fc.assert(
      fc.property(fc.array(observation, { maxLength: 40 }), fc.array(observation, { maxLength: 10 }), (stream, more) => {
        const m = fed(stream);
        const restored = MultilabelMetrics.fromState(m.toState(), names);
        expect(restored.get()).toEqual(m.get());
        for (const o of more) {
          m.update(o);
          restored.update(o);
        }
        expect(restored.toState()).toEqual(m.toState());
      }),
      runs(100),
    );
  });
});
