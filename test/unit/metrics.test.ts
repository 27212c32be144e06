/** Metrics on a hand-computed case, the null rules, and revert/rolling mechanics. */
import { describe, expect, it } from 'vitest';
import { BinaryMetrics, RegressionMetrics, Rolling } from '../../core/metrics/index.js';

const obs = (label: number, score: number) => ({ label, score, threshold: 0.5 });
const HAND = [obs(1, 0.9), obs(0, 0.8), obs(1, 0.6), obs(0, 0.4), obs(1, 0.4), obs(0, 0.1)];

describe('binary metrics, by hand', () => {
  it('six examples with a tie', () => {
    const m = new BinaryMetrics(10);
    for (const o of HAND) m.update(o);
    const f = m.get();
    expect([f.tp, f.fp, f.tn, f.fn]).toEqual([2, 1, 2, 1]);
    expect(f.accuracy).toBeCloseTo(4 / 6, 15);
    expect(f.precision).toBeCloseTo(2 / 3, 15);
    expect(f.recall).toBeCloseTo(2 / 3, 15);
    expect(f.f1).toBeCloseTo(2 / 3, 15);
    expect(f.specificity).toBeCloseTo(2 / 3, 15);
    expect(f.fpr).toBeCloseTo(1 / 3, 15);
    expect(f.fnr).toBeCloseTo(1 / 3, 15);
    expect(f.mcc).toBeCloseTo(1 / 3, 15);
    // Positives {0.9, 0.6, 0.4} against negatives {0.8, 0.4, 0.1}: 3 + 2 + (0.5 + 1) wins of 9 pairs.
    expect(f.roc_auc).toBeCloseTo(6.5 / 9, 15);
    // Average precision: 1/3·1 + 1/3·2/3 + 1/3·3/5.
    expect(f.pr_auc).toBeCloseTo(34 / 45, 15);
    expect(f.brier).toBeCloseTo(1.34 / 6, 15);
    expect(f.log_loss).toBeCloseTo(-(Math.log(0.9) + Math.log(0.2) + Math.log(0.6) + Math.log(0.6) + Math.log(0.4) + Math.log(0.9)) / 6, 15);
    // Bins 9, 8, 6, 4 (two examples), 1: |0.9-1| + |0.8-0| + |0.6-1| + |0.8-1| + |0.1-0| over 6.
    expect(f.ece).toBeCloseTo(1.6 / 6, 15);
    expect(m.reliability()[4]).toEqual({ lower: 0.4, upper: 0.5, count: 2, mean_score: 0.4, fraction_positive: 0.5 });
  });

  it('a ratio with a zero denominator is null, not 0', () => {
    const empty = new BinaryMetrics().get();
    expect(empty.count).toBe(0);
    for (const key of ['accuracy', 'precision', 'recall', 'f1', 'mcc', 'log_loss', 'brier', 'roc_auc', 'pr_auc', 'ece'] as const) {
      expect(empty[key]).toBeNull();
    }
    const onlyPositives = new BinaryMetrics();
    onlyPositives.update(obs(1, 0.3));
    onlyPositives.update(obs(1, 0.7));
    const f = onlyPositives.get();
    expect(f.precision).toBe(1); // the one predicted positive is right
    expect(f.specificity).toBeNull();
    expect(f.fpr).toBeNull();
    expect(f.roc_auc).toBeNull();
    expect(f.mcc).toBeNull();
  });

  it('revert undoes update exactly, per-score counts included', () => {
    const m = new BinaryMetrics();
    for (const o of HAND) m.update(o);
    const before = m.get();
    const extra = obs(1, 0.8);
    m.update(extra);
    expect(m.get().roc_auc).not.toBeCloseTo(before.roc_auc!, 6);
    m.revert(extra);
    expect(m.get()).toEqual(before);
  });

  it('Rolling keeps the last n in order and reverts what leaves; a correction inside the window is reverted', () => {
    const rolling = new Rolling(new BinaryMetrics(), 3);
    for (const o of HAND) rolling.update(o);
    const direct = new BinaryMetrics();
    for (const o of HAND.slice(-3)) direct.update(o);
    // Equal up to the rounding of sums that had values added and subtracted.
    for (const [key, value] of Object.entries(direct.get())) {
      const got = (rolling.get() as unknown as Record<string, number | null>)[key];
      if (value === null) expect(got).toBeNull();
      else expect(got).toBeCloseTo(value, 12);
    }
    expect(rolling.revert(HAND[5]!)).toBe(true);
    expect(rolling.revert(HAND[0]!)).toBe(false); // already out of the window
    expect(rolling.count()).toBe(2);
    expect(rolling.get().count).toBe(2);
  });
});

describe('regression metrics, by hand', () => {
  it('MAE, RMSE, R², MAPE of three examples', () => {
    const m = new RegressionMetrics();
    m.update({ label: 10, score: 12 });
    m.update({ label: 20, score: 18 });
    m.update({ label: 30, score: 33 });
    const f = m.get();
    expect(f.mae).toBeCloseTo(7 / 3, 15);
    expect(f.rmse).toBeCloseTo(Math.sqrt(17 / 3), 15);
    // SST = 200 around the mean 20; SSE = 17.
    expect(f.r2).toBeCloseTo(1 - 17 / 200, 15);
    expect(f.mape).toBeCloseTo((0.2 + 0.1 + 0.1) / 3, 15);
    expect(new RegressionMetrics().get()).toEqual({ count: 0, mae: null, rmse: null, r2: null, mape: null });
  });

  // Found by the property suite: labels near 1e-162 square to a denormal SST, and SSE/SST overflowed to -Infinity.
  it('R² is null, never infinite, when the labels barely vary', () => {
    const m = new RegressionMetrics();
    m.update({ label: 1.5717277847026288e-162, score: 0.5 });
    m.update({ label: 0, score: 0.5 });
    expect(m.get().r2).toBeNull();
    expect(m.get().rmse).toBeCloseTo(0.5, 15);
  });
});
