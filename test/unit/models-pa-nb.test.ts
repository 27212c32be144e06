/**
 * Passive-Aggressive classifier and regressor, Gaussian naive Bayes: by
 * hand on the 3-example stream, with River 0.26.1's figures where River
 * computes the same thing.
 */
import { describe, expect, it } from 'vitest';
import { GaussianNB, ModelError, PAClassifier, PARegressor, SparseVector } from '../../core/models/index.js';

const X = [SparseVector.of([[0, 1], [1, 2]]), SparseVector.of([[0, -1], [1, 0.5]]), SparseVector.of([[0, 2], [1, -1]])];
const Y = [1, 0, 1];
const QUERY = SparseVector.of([[0, 0.5], [1, 1]]);
const sig = (z: number) => 1 / (1 + Math.exp(-z));

function trace(m: PAClassifier | PARegressor, ys: number[]): number[][] {
  return X.map((x, i) => {
    m.learnOne(x, ys[i]!);
    const c = m.coefficients();
    return [c.weights[0]!, c.weights[1]!, c.intercept];
  });
}

function closeRows(actual: number[][], expected: number[][]): void {
  actual.forEach((row, i) => row.forEach((v, j) => expect(v).toBeCloseTo(expected[i]![j]!, 14)));
}

describe('PA classifier (C 0.5)', () => {
  it('PA-I by hand', () => {
    const m = new PAClassifier({ C: 0.5, mode: 1 });
    // 1: raw 0, hinge 1, ||x||^2 5: tau = min(0.5, 0.2) = 0.2, +0.2·(1, 2), b 0.2.
    // 2: raw -0.2 + 0.2 + 0.2 = 0.2, label -1: hinge 1.2, ||x||^2 1.25: tau = min(0.5, 0.96) = 0.5.
    // 3: raw 1.4 - 0.15 - 0.3 = 0.95: hinge 0.05, tau 0.01.
    closeRows(trace(m, Y), [
      [0.2, 0.4, 0.2],
      [0.7, 0.15, -0.3],
      [0.72, 0.14, -0.29],
    ]);
    // River's predict_proba_one: sigmoid(0.36 + 0.14 - 0.29).
    expect(m.predictOne(QUERY)).toBeCloseTo(sig(0.21), 15);
    expect(m.predictOne(QUERY)).toBeCloseTo(0.5523079095743252, 15);
  });

  it('PA (mode 0) and PA-II (mode 2), River figures', () => {
    closeRows(trace(new PAClassifier({ C: 0.5, mode: 0 }), Y), [
      [0.2, 0.4, 0.2],
      [1.16, -0.08, -0.76],
      [1.16, -0.08, -0.76],
    ]);
    // Mode 2: tau = loss / (||x||^2 + 1/(2C)) = 1/6 at step 1.
    closeRows(trace(new PAClassifier({ C: 0.5, mode: 2 }), Y), [
      [1 / 6, 2 / 6, 1 / 6],
      [0.6851851851851851, 0.07407407407407401, -0.35185185185185186],
      [0.7037037037037036, 0.06481481481481476, -0.3425925925925926],
    ]);
  });

  it('a sample weight scales C', () => {
    const m = new PAClassifier({ C: 0.1, mode: 1 });
    m.learnOne(X[0]!, 1, 1.5);
    // tau = min(0.15, 0.2)
    expect(m.coefficients().intercept).toBeCloseTo(0.15, 15);
  });
});

describe('PA regressor (C 0.5, eps 0.1)', () => {
  it('PA-I by hand, with the loss max(0, |y - p| - eps)', () => {
    // 1: p 0, loss 1.4, tau = min(0.5, 1.4/5) = 0.28, up.
    // 2: p = -0.28 + 0.28 + 0.28 = 0.28, y -0.5: loss 0.68, tau = min(0.5, 0.544) = 0.5, down.
    // 3: p = 1.56 - 0.31 - 0.22 = 1.03, y 2: loss 0.87, tau = 0.174, up.
    const m = new PARegressor({ C: 0.5, mode: 1, eps: 0.1 });
    closeRows(trace(m, [1.5, -0.5, 2]), [
      [0.28, 0.56, 0.28],
      [0.78, 0.31, -0.22],
      [1.128, 0.136, -0.046],
    ]);
    expect(m.predictOne(QUERY)).toBeCloseTo(0.564 + 0.136 - 0.046, 14);
  });

  it('inside the eps tube nothing moves', () => {
    const m = new PARegressor({ eps: 1 });
    m.learnOne(X[0]!, 0.5);
    expect([...m.coefficients().weights, m.coefficients().intercept]).toEqual([0, 0, 0]);
  });

  it('checks its hyperparameters', () => {
    expect(() => new PARegressor({ C: 0 })).toThrow(ModelError);
    expect(() => new PAClassifier({ mode: 3 as never })).toThrow(/mode/);
    expect(() => new PARegressor({ eps: -0.1 })).toThrow(/eps/);
  });
});

describe('Gaussian naive Bayes', () => {
  const pdf = (x: number, mean: number, variance: number) => Math.exp(-((x - mean) ** 2) / (2 * variance)) / Math.sqrt(2 * Math.PI * variance);

  it('four examples by hand (River: 0.20630967954181262)', () => {
    const m = new GaussianNB();
    expect(m.predictOne(QUERY)).toBe(0.5);
    m.learnOne(X[0]!, 1);
    // Only class 1 seen: certain (River: {True: 1.0}).
    expect(m.predictOne(QUERY)).toBe(1);
    m.learnOne(X[1]!, 0);
    m.learnOne(X[2]!, 1);
    m.learnOne(SparseVector.of([[0, 0], [1, 1]]), 0);
    // Class 1: a in {1, 2} (mean 1.5, variance 0.25), b in {2, -1} (0.5, 2.25).
    // Class 0: a in {-1, 0} (-0.5, 0.25), b in {0.5, 1} (0.75, 0.0625). Priors 1/2.
    const j1 = Math.log(0.5) + Math.log(1e-9 + pdf(0.5, 1.5, 0.25)) + Math.log(1e-9 + pdf(1, 0.5, 2.25));
    const j0 = Math.log(0.5) + Math.log(1e-9 + pdf(0.5, -0.5, 0.25)) + Math.log(1e-9 + pdf(1, 0.75, 0.0625));
    const p = m.predictOne(QUERY);
    expect(p).toBeCloseTo(Math.exp(j1) / (Math.exp(j0) + Math.exp(j1)), 14);
    expect(p).toBeCloseTo(0.20630967954181262, 15);
    // A column present in x but never learned adds log(1e-9) to both classes (River: 0.5000000000000009).
    expect(m.predictOne(SparseVector.of([[0, 0.5], [2, 3]]))).toBeCloseTo(0.5000000000000009, 15);
  });

  it('after two examples of different classes with zero variance: River 0.49999999999999906', () => {
    const m = new GaussianNB();
    m.learnOne(X[0]!, 1);
    m.learnOne(X[1]!, 0);
    expect(m.predictOne(QUERY)).toBe(0.49999999999999906);
  });

  it('sample weights count in the prior and the statistics', () => {
    const heavy = new GaussianNB();
    heavy.learnOne(SparseVector.of([[0, 1]]), 1, 3);
    heavy.learnOne(SparseVector.of([[0, 1]]), 0, 1);
    const repeated = new GaussianNB();
    for (let i = 0; i < 3; i++) repeated.learnOne(SparseVector.of([[0, 1]]), 1);
    repeated.learnOne(SparseVector.of([[0, 1]]), 0);
    expect(heavy.predictOne(SparseVector.of([[0, 1]]))).toBe(repeated.predictOne(SparseVector.of([[0, 1]])));
    expect(heavy.predictOne(SparseVector.of([[0, 1]]))).toBeCloseTo(0.75, 14);
  });
});
