/**
 * FTRL-Proximal (McMahan et al. 2013, Algorithm 1) on the 3-example stream,
 * by hand: z and n per column, weights from them, exact zeros under l1.
 */
import { describe, expect, it } from 'vitest';
import { FTRLLogisticRegression, ModelError, SparseVector } from '../../core/models/index.js';

const X = [SparseVector.of([[0, 1], [1, 2]]), SparseVector.of([[0, -1], [1, 0.5]]), SparseVector.of([[0, 2], [1, -1]])];
const Y = [1, 0, 1];
const sig = (z: number) => 1 / (1 + Math.exp(-z));

/** The paper's weight of a coordinate. */
function weightOf(z: number, n: number, alpha: number, beta: number, l1: number, l2: number): number {
  return Math.abs(z) <= l1 ? 0 : -(z - Math.sign(z) * l1) / ((beta + Math.sqrt(n)) / alpha + l2);
}

/** One coordinate's (z, n) update for gradient g with its weight w at prediction time. */
function update(z: number, n: number, w: number, g: number, alpha: number): [number, number] {
  const sigma = (Math.sqrt(n + g * g) - Math.sqrt(n)) / alpha;
  return [z + g - sigma * w, n + g * g];
}

describe('FTRL-Proximal logistic regression', () => {
  it('three updates by hand (alpha 0.1, beta 1, l1 0.5, l2 1)', () => {
    const [alpha, beta, l1, l2] = [0.1, 1, 0.5, 1];
    const m = new FTRLLogisticRegression({ alpha, beta, l1, l2 });

    // 1: every weight 0, p = 0.5, gradient p - y = -0.5; per column (-0.5, -1), intercept -0.5.
    //    sigma = |g| / alpha and w = 0, so z = g and n = g^2.
    m.learnOne(X[0]!, 1);
    let c = m.coefficients();
    // |z_a| = 0.5 <= l1: exactly 0. w_b = (1 - 0.5) / ((1 + 1)/0.1 + 1) = 0.5/21.
    expect(c.weights[0]).toBe(0);
    expect(c.weights[1]).toBeCloseTo(0.5 / 21, 15);
    // The intercept has no l1/l2: 0.5 / ((1 + 0.5)/0.1) = 1/30.
    expect(c.intercept).toBeCloseTo(1 / 30, 15);

    // 2 and 3 by the formulas, carrying z, n per coordinate.
    let za = -0.5, na = 0.25, zb = -1, nb = 1, z0 = -0.5, n0 = 0.25;
    let wa = 0, wb = weightOf(zb, nb, alpha, beta, l1, l2), w0 = weightOf(z0, n0, alpha, beta, 0, 0);
    for (const i of [1, 2]) {
      const x = X[i]!;
      const xa = x.values[0]!;
      const xb = x.values[1]!;
      const g = sig(wa * xa + wb * xb + w0) - Y[i]!;
      [za, na] = update(za, na, wa, g * xa, alpha);
      [zb, nb] = update(zb, nb, wb, g * xb, alpha);
      [z0, n0] = update(z0, n0, w0, g, alpha);
      wa = weightOf(za, na, alpha, beta, l1, l2);
      wb = weightOf(zb, nb, alpha, beta, l1, l2);
      w0 = weightOf(z0, n0, alpha, beta, 0, 0);
      m.learnOne(x, Y[i]!);
      c = m.coefficients();
      expect(c.weights[0]).toBeCloseTo(wa, 15);
      expect(c.weights[1]).toBeCloseTo(wb, 15);
      expect(c.intercept).toBeCloseTo(w0, 15);
    }
    // After step 2 column a has |z| = 0.5 + p > l1: it is no longer 0.
    expect(wa).not.toBe(0);
    expect(m.predictOne(SparseVector.of([[0, 0.5], [1, 1]]))).toBeCloseTo(sig(0.5 * wa + wb + w0), 15);
  });

  it('l1 keeps weights at exactly 0 until a feature earns them', () => {
    const m = new FTRLLogisticRegression({ l1: 5 });
    for (let i = 0; i < 3; i++) m.learnOne(X[i]!, Y[i]!);
    expect([...m.coefficients().weights]).toEqual([0, 0]);
  });

  it('without intercept the bias stays 0; weight scales the gradient', () => {
    const m = new FTRLLogisticRegression({ intercept: false });
    m.learnOne(X[0]!, 1);
    expect(m.coefficients().intercept).toBe(0);
    const a = new FTRLLogisticRegression({ l1: 0, l2: 0, beta: 0, alpha: 1 });
    a.learnOne(SparseVector.of([[0, 1]]), 1, 4);
    // g = -0.5·4 = -2: z = -2, n = 4, w = 2 / (sqrt(4)/1) = 1.
    expect(a.coefficients().weights[0]).toBe(1);
  });

  it('checks its hyperparameters', () => {
    expect(() => new FTRLLogisticRegression({ alpha: 0 })).toThrow(ModelError);
    expect(() => new FTRLLogisticRegression({ l1: -1 })).toThrow(ModelError);
    expect(() => new FTRLLogisticRegression({ intercept: 'yes' as never })).toThrow(/intercept/);
  });
});
