/**
 * MulticlassMetrics: every figure of a hand-computed case (a tie in top-k, a
 * rejection), the null rules, the two-class Brier, and properties: revert
 * undoes update, merging two halves gives the whole, a state round trip
 * changes nothing. scikit-learn's figures on long streams: in
 * test/integration/metrics-reference.test.ts.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { StateMismatchError } from '../../core/errors.js';
import { MulticlassMetrics, type MulticlassObservation } from '../../core/metrics/index.js';
import { runs } from '../support/properties.js';

const CLASSES = ['a', 'b', 'c'];
const obs = (label: number, predicted: number, probabilities: number[], weight?: number): MulticlassObservation =>
  weight === undefined ? { label, predicted, probabilities } : { label, predicted, probabilities, weight };

const HAND = [
  obs(0, 0, [0.7, 0.2, 0.1]),
  obs(0, 1, [0.4, 0.5, 0.1]),
  obs(1, 1, [0.2, 0.6, 0.2]),
  obs(2, 0, [0.5, 0.25, 0.25]), // top-2: c ties with b, the earlier class: c ranks 2nd, a hit
  obs(1, 0, [0.5, 0.25, 0.25]), // top-2: b ties with c, the later class: b ranks 3rd, a miss
  obs(-1, 2, [0.1, 0.1, 0.8]), // rejected: "not c"
];

/** Figures equal within `tolerance` (numbers), exactly otherwise (null, arrays' shapes, strings). */
function expectFiguresClose(ours: object, theirs: object, tolerance = 1e-12): void {
  const a = ours as Record<string, unknown>;
  const b = theirs as Record<string, unknown>;
  expect(Object.keys(a).sort()).toEqual(Object.keys(b).sort());
  for (const key of Object.keys(a)) {
    const x = a[key];
    const y = b[key];
    const xs = Array.isArray(x) ? x : [x];
    const ys = Array.isArray(y) ? y : [y];
    expect(xs.length, key).toBe(ys.length);
    xs.forEach((v, i) => {
      if (typeof v === 'number' && typeof ys[i] === 'number') expect(Math.abs(v - (ys[i] as number)), `${key}[${i}]: ${v} vs ${ys[i]}`).toBeLessThanOrEqual(tolerance);
      else expect(v, `${key}[${i}]`).toEqual(ys[i]);
    });
  }
}

describe('multi-class metrics, by hand', () => {
  it('six examples: a top-k tie either way, a rejection', () => {
    const m = new MulticlassMetrics(CLASSES, { topK: 2 });
    for (const o of HAND) m.update(o);
    const f = m.get();
    expect(f.classes).toEqual(CLASSES);
    expect([f.count, f.rejected]).toEqual([6, 1]);
    expect(f.accuracy).toBeCloseTo(2 / 6, 15); // the rejection is a wrong decision
    // Predicted (rejection included as c's false positive) [3, 2, 1]; true [2, 2, 1]; right [1, 1, 0].
    expect(f.precision).toEqual([1 / 3, 1 / 2, 0]);
    expect(f.recall).toEqual([1 / 2, 1 / 2, 0]);
    expect(f.f1).toEqual([2 / 5, 2 / 4, 0]);
    expect(f.support).toEqual([2, 2, 1]);
    expect(f.macro_precision).toBeCloseTo(5 / 18, 15);
    expect(f.macro_recall).toBeCloseTo(1 / 3, 15);
    expect(f.macro_f1).toBeCloseTo(0.3, 15);
    expect(f.micro_precision).toBeCloseTo(2 / 6, 15);
    expect(f.micro_recall).toBeCloseTo(2 / 5, 15);
    expect(f.micro_f1).toBeCloseTo(4 / 11, 15);
    expect(f.weighted_precision).toBeCloseTo((2 / 3 + 2 / 2) / 5, 15);
    expect(f.weighted_recall).toBeCloseTo(2 / 5, 15);
    expect(f.weighted_f1).toBeCloseTo((2 * 0.4 + 2 * 0.5) / 5, 15);
    // Over the five known: -ln p(true), and Σ_k (p_k - y_k)²: 0.14 + 0.62 + 0.24 + 0.875 + 0.875.
    expect(f.log_loss).toBeCloseTo(-(Math.log(0.7) + Math.log(0.4) + Math.log(0.6) + Math.log(0.25) + Math.log(0.25)) / 5, 15);
    expect(f.brier).toBeCloseTo(2.75 / 5, 15);
    expect(f.top_k).toBe(2);
    expect(f.top_k_accuracy).toBeCloseTo(4 / 5, 15);
    // 3 of 5 off the diagonal; expected off-diagonal Σ_{i≠j} predicted_i · true_j / 5 = (25 - 10) / 5 = 3.
    expect(f.cohen_kappa).toBeCloseTo(0, 15);
    const confusion = m.confusion();
    expect(Array.from(confusion.counts)).toEqual([1, 1, 0, 1, 1, 0, 1, 0, 0]);
    expect(Array.from(confusion.rejected)).toEqual([0, 0, 1]);
  });

  it('Cohen\'s kappa off zero, and weights', () => {
    const m = new MulticlassMetrics(CLASSES);
    m.update(obs(0, 0, [1, 0, 0], 2));
    m.update(obs(1, 1, [0, 1, 0]));
    m.update(obs(2, 1, [0, 1, 0]));
    // N = 4; observed off-diagonal 1; predicted [2, 2, 0], true [2, 1, 1]: Σ off = 16 - (4 + 2) = 10, /4 = 2.5.
    expect(m.get().cohen_kappa).toBeCloseTo(1 - 1 / 2.5, 15);
    expect(m.get().accuracy).toBeCloseTo(3 / 4, 15);
    // Probability 0 of the true class: clipped at 2^-52, as sklearn's log_loss clips.
    expect(m.get().log_loss).toBeCloseTo((3 * -Math.log(1 - 2 ** -52) + 52 * Math.LN2) / 4, 12);
    expect(m.get().top_k_accuracy).toBe(1); // k = 3 = the class count: always a hit
  });

  it('top-k ties: among equal probabilities the later class ranks first (sklearn\'s top_k_accuracy_score)', () => {
    const topK = (k: number, o: MulticlassObservation) => {
      const m = new MulticlassMetrics(CLASSES, { topK: k });
      m.update(o);
      return m.get().top_k_accuracy;
    };
    expect(topK(2, obs(2, 0, [0.5, 0.25, 0.25]))).toBe(1);
    expect(topK(2, obs(1, 0, [0.5, 0.25, 0.25]))).toBe(0);
    expect(topK(1, obs(0, 0, [0.5, 0.5, 0]))).toBe(0);
    expect(topK(1, obs(1, 0, [0.5, 0.5, 0]))).toBe(1);
    expect(topK(1, obs(2, 0, [0, 0, 0]))).toBe(1);
    expect(topK(2, obs(0, 0, [0, 0, 0]))).toBe(0);
  });

  it('two classes: Brier halved, as sklearn\'s brier_score_loss by default', () => {
    const m = new MulticlassMetrics(['no', 'yes'], { topK: 1 });
    m.update(obs(1, 1, [0.2, 0.8]));
    m.update(obs(0, 1, [0.4, 0.6]));
    expect(m.get().brier).toBeCloseTo((0.04 + 0.36) / 2, 15); // = the binary Brier of "yes"
    expect(m.get().top_k_accuracy).toBe(0.5);
  });

  it('a ratio with a zero denominator is null, not 0', () => {
    const empty = new MulticlassMetrics(CLASSES).get();
    expect(empty.count).toBe(0);
    for (const key of ['accuracy', 'log_loss', 'brier', 'top_k_accuracy', 'cohen_kappa', 'macro_precision', 'micro_recall', 'weighted_f1'] as const) expect(empty[key], key).toBeNull();
    expect(empty.precision).toEqual([null, null, null]);
    const onlyRejected = new MulticlassMetrics(CLASSES);
    onlyRejected.update(obs(-1, 0, [0.5, 0.5, 0]));
    const f = onlyRejected.get();
    expect([f.count, f.accuracy, f.precision[0], f.micro_precision, f.micro_recall, f.log_loss, f.cohen_kappa]).toEqual([1, 0, 0, 0, null, null, null]);
    // Weighted precision: the only non-null class has support 0, so the plain mean (as sklearn's _nanaverage).
    expect(f.weighted_precision).toBe(0);
    // One class only, always right: kappa's expected disagreement is 0.
    const one = new MulticlassMetrics(CLASSES);
    one.update(obs(1, 1, [0, 1, 0]));
    expect(one.get().cohen_kappa).toBeNull();
    expect(one.get().precision).toEqual([null, 1, null]);
    expect(one.get().macro_precision).toBe(1);
  });

  it('refuses what does not fit, before changing anything', () => {
    const m = new MulticlassMetrics(CLASSES);
    m.update(HAND[0]!);
    const before = m.toState();
    for (const bad of [obs(3, 0, [1, 0, 0]), obs(-2, 0, [1, 0, 0]), obs(0, -1, [1, 0, 0]), obs(0.5, 0, [1, 0, 0]), obs(0, 0, [1, 0]), obs(0, 0, [Number.NaN, 0, 1]), obs(0, 0, [1.5, 0, 0]), obs(0, 0, [1, 0, 0], -1), obs(0, 0, [1, 0, 0], Infinity)]) {
      expect(() => m.update(bad), JSON.stringify(bad)).toThrow(RangeError);
    }
    expect(m.toState()).toEqual(before);
    expect(() => new MulticlassMetrics(['a'])).toThrow(RangeError);
    expect(() => new MulticlassMetrics(['a', 'b', 'a'])).toThrow(/twice/);
    expect(() => new MulticlassMetrics(Array.from({ length: 257 }, (_, i) => `c${i}`))).toThrow(/256/);
    expect(() => new MulticlassMetrics(CLASSES, { topK: 0 })).toThrow(RangeError);
    expect(m.holds(HAND[0]!)).toBe(true);
    expect(m.holds(HAND[1]!)).toBe(false);
  });

  it('merge and fromState refuse other classes or another k', () => {
    const m = new MulticlassMetrics(CLASSES);
    expect(() => m.merge(new MulticlassMetrics(['a', 'c', 'b']))).toThrow(StateMismatchError);
    expect(() => m.merge(new MulticlassMetrics(CLASSES, { topK: 2 }))).toThrow(StateMismatchError);
    expect(() => MulticlassMetrics.fromState(m.toState(), ['a', 'b', 'c', 'd'])).toThrow(StateMismatchError);
    expect(() => MulticlassMetrics.fromState(m.toState(), CLASSES, { topK: 1 })).toThrow(StateMismatchError);
  });
});

const K = 4;
const observation = fc.record({
  label: fc.integer({ min: -1, max: K - 1 }),
  predicted: fc.integer({ min: 0, max: K - 1 }),
  // Twentieths: ties and zeros.
  probabilities: fc.array(fc.integer({ min: 0, max: 20 }), { minLength: K, maxLength: K }).map((a) => a.map((n) => n / 20)),
  weight: fc.constantFrom(1, 2, 0.5, 3),
});
const names = Array.from({ length: K }, (_, i) => `class ${i}`);

function fed(stream: readonly MulticlassObservation[]): MulticlassMetrics {
  const m = new MulticlassMetrics(names, { topK: 2 });
  for (const o of stream) m.update(o);
  return m;
}

describe('multi-class metrics, properties', () => {
  it('update all then revert a subset = update the rest', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(observation, fc.boolean()), { maxLength: 60 }), (pairs) => {
        const all = fed(pairs.map(([o]) => o));
        for (const [o, gone] of pairs) if (gone) all.revert(o);
        const rest = fed(pairs.filter(([, gone]) => !gone).map(([o]) => o));
        // The counts are sums of halves and integers: exact. The sums of logs may differ in the last bits.
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
        const restored = MulticlassMetrics.fromState(m.toState(), names, { topK: 2 });
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

