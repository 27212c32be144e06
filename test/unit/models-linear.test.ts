/**
 * Linear and logistic regression: every optimizer's updates on a 3-example
 * stream, computed by hand (the formulas below), and the same figures as
 * printed by River 0.26.1 (`linear_model.LogisticRegression` /
 * `LinearRegression`, same hyperparameters), to the last digit or two.
 */
import { describe, expect, it } from 'vitest';
import { adagrad, adam, LinearRegression, LogisticRegression, ModelError, sgd, SparseVector, type LinearOptions } from '../../core/models/index.js';

// Columns: 0 = a, 1 = b.
const X = [SparseVector.of([[0, 1], [1, 2]]), SparseVector.of([[0, -1], [1, 0.5]]), SparseVector.of([[0, 2], [1, -1]])];
const Y_BINARY = [1, 0, 1];
const Y_VALUE = [1.5, -0.5, 2.0];
const QUERY = SparseVector.of([[0, 0.5], [1, 1]]);

type Figures = { a: number; b: number; intercept: number };

function trace(model: LogisticRegression | LinearRegression, ys: number[]): Figures[] {
  return X.map((x, i) => {
    model.learnOne(x, ys[i]!);
    const { weights, intercept } = model.coefficients();
    return { a: weights[0]!, b: weights[1]!, intercept };
  });
}

/** |actual - expected| within `digits` significant digits of expected. */
function near(actual: number, expected: number, digits = 15): void {
  expect(Math.abs(actual - expected)).toBeLessThanOrEqual(Math.max(Math.abs(expected), 1e-300) * 10 ** -digits * 5);
}

function nearAll(actual: Figures[], expected: Figures[], digits = 15): void {
  expect(actual).toHaveLength(expected.length);
  actual.forEach((f, i) => {
    near(f.a, expected[i]!.a, digits);
    near(f.b, expected[i]!.b, digits);
    near(f.intercept, expected[i]!.intercept, digits);
  });
}

const sig = (z: number) => 1 / (1 + Math.exp(-z));

describe('logistic regression, SGD (River defaults: lr 0.01, intercept_lr 0.01)', () => {
  it('three updates by hand', () => {
    const m = new LogisticRegression();
    const got = trace(m, Y_BINARY);
    // 1: raw 0, gradient sigmoid(0) - 1 = -0.5; b = 0.01·0.5; w = 0.01·0.5·(1, 2).
    expect(got[0]).toEqual({ a: 0.005, b: 0.01, intercept: 0.005 });
    // 2: raw = -0.005 + 0.005 + 0.005 = 0.005, label 0: gradient g2 = sigmoid(0.005).
    const g2 = sig(0.005);
    const s2 = { a: 0.005 + 0.01 * g2, b: 0.01 - 0.01 * g2 * 0.5, intercept: 0.005 - 0.01 * g2 };
    // 3: label 1: gradient g3 = sigmoid(raw) - 1.
    const raw3 = 2 * s2.a - s2.b + s2.intercept;
    const g3 = sig(raw3) - 1;
    const s3 = { a: s2.a - 0.01 * g3 * 2, b: s2.b + 0.01 * g3, intercept: s2.intercept - 0.01 * g3 };
    nearAll(got, [got[0]!, s2, s3]);
    // River 0.26.1, same stream:
    nearAll(got, [
      { a: 0.005, b: 0.01, intercept: 0.005 },
      { a: 0.010012499973958398, b: 0.007493750013020801, intercept: -1.2499973958398324e-5 },
      { a: 0.01994990704161058, b: 0.0025250464791947095, intercept: 0.004956203559867693 },
    ]);
    near(m.predictOne(QUERY), 0.5043639400758928);
  });

  it('L2 adds l2·w to the gradient of the columns present', () => {
    const got = trace(new LogisticRegression({ l2: 0.1 }), Y_BINARY);
    // Step 2 by hand: w after step 1 is (0.005, 0.01); g2 as before.
    const g2 = sig(0.005);
    near(got[1]!.a, 0.005 - 0.01 * (g2 * -1 + 0.1 * 0.005));
    near(got[1]!.b, 0.01 - 0.01 * (g2 * 0.5 + 0.1 * 0.01));
    nearAll(got, [
      { a: 0.005, b: 0.01, intercept: 0.005 },
      { a: 0.0100074999739584, b: 0.0074837500130208005, intercept: -1.2499973958398324e-5 },
      { a: 0.019934899541636623, b: 0.0025075627291816886, intercept: 0.004956203559867693 },
    ]);
  });

  it('L1: the cumulative penalty (Tsuruoka et al. 2009)', () => {
    const got = trace(new LogisticRegression({ l1: 0.01 }), Y_BINARY);
    // Step 1: u = l1·lr = 1e-4; both weights are positive and shrink by u.
    near(got[0]!.a, 0.005 - 1e-4);
    near(got[0]!.b, 0.01 - 1e-4);
    nearAll(got, [
      { a: 0.0049, b: 0.0099, intercept: 0.005 },
      { a: 0.009812624973169313, b: 0.007293687513415344, intercept: -1.2624973169312638e-5 },
      { a: 0.0196510310648068, b: 0.0022244844675966, intercept: 0.004956578072649431 },
    ]);
  });

  it('the loss gradient is clipped to ±clipGradient', () => {
    const got = trace(new LogisticRegression({ clipGradient: 0.1 }), Y_BINARY);
    // Every |gradient| here is about 0.5, clipped to 0.1: steps of 0.001·x.
    nearAll(got, [
      { a: 0.001, b: 0.002, intercept: 0.001 },
      { a: 0.002, b: 0.0015, intercept: 0 },
      { a: 0.004, b: 0.0005, intercept: 0.001 },
    ]);
  });
});

describe('logistic regression, AdaGrad (lr 0.1, eps 1e-8)', () => {
  it('three updates by hand', () => {
    const m = new LogisticRegression({ optimizer: adagrad(0.1) });
    const got = trace(m, Y_BINARY);
    // 1: gradient -0.5; per column g = (-0.5, -1), G = g^2, w = -0.1·g / sqrt(G + eps).
    const w1 = { a: (0.1 / Math.sqrt(0.25 + 1e-8)) * 0.5, b: (0.1 / Math.sqrt(1 + 1e-8)) * 1 };
    near(got[0]!.a, w1.a);
    near(got[0]!.b, w1.b);
    expect(got[0]!.intercept).toBe(0.005);
    // 2: label 0, gradient sigmoid(raw); G accumulates.
    const g2 = sig(-w1.a + 0.5 * w1.b + 0.005);
    const ga = -g2;
    const gb = 0.5 * g2;
    near(got[1]!.a, w1.a - (0.1 / Math.sqrt(0.25 + ga * ga + 1e-8)) * ga);
    near(got[1]!.b, w1.b - (0.1 / Math.sqrt(1 + gb * gb + 1e-8)) * gb);
    near(got[1]!.intercept, 0.005 - 0.01 * g2);
    nearAll(got, [
      { a: 0.09999999800000006, b: 0.0999999995, intercept: 0.005 },
      { a: 0.16990174343248884, b: 0.07626096917260382, intercept: 0.00011248101509576253 },
      { a: 0.24781101226974495, b: 0.03737754782122975, intercept: 0.004457135432782807 },
    ]);
    near(m.predictOne(QUERY), 0.5413404561046047);
  });

  it('with L2 and with L1', () => {
    nearAll(trace(new LogisticRegression({ optimizer: adagrad(0.1), l2: 0.1 }), Y_BINARY), [
      { a: 0.09999999800000006, b: 0.0999999995, intercept: 0.005 },
      { a: 0.16915929471880042, b: 0.07534749962880524, intercept: 0.00011248101509576253 },
      { a: 0.24678161982193333, b: 0.03596153889791767, intercept: 0.004458539513473072 },
    ]);
    nearAll(trace(new LogisticRegression({ optimizer: adagrad(0.1), l1: 0.01 }), Y_BINARY), [
      { a: 0.09899999800000006, b: 0.0989999995, intercept: 0.005 },
      { a: 0.16791087930334425, b: 0.07425524296923962, intercept: 0.0001112316406941833 },
      { a: 0.2448505353242394, b: 0.034335396172411034, intercept: 0.004460744896405763 },
    ]);
  });
});

describe('logistic regression, Adam (lr 0.1, beta1 0.9, beta2 0.999, eps 1e-8)', () => {
  it('three updates by hand', () => {
    const m = new LogisticRegression({ optimizer: adam(0.1) });
    const got = trace(m, Y_BINARY);
    // Step t: lr_t = 0.1·sqrt(1 - 0.999^t) / (1 - 0.9^t); m = 0.9m + 0.1g; v = 0.999v + 0.001g^2; w -= lr_t·m / (sqrt(v) + eps).
    const lr1 = (0.1 * Math.sqrt(1 - 0.999)) / (1 - 0.9);
    const ma = 0.1 * -0.5;
    const va = 0.001 * 0.25;
    const mb = 0.1 * -1;
    const vb = 0.001 * 1;
    const w1 = { a: -(lr1 * ma) / (Math.sqrt(va) + 1e-8), b: -(lr1 * mb) / (Math.sqrt(vb) + 1e-8) };
    near(got[0]!.a, w1.a);
    near(got[0]!.b, w1.b);
    const g2 = sig(-w1.a + 0.5 * w1.b + 0.005);
    const lr2 = (0.1 * Math.sqrt(1 - 0.999 ** 2)) / (1 - 0.9 ** 2);
    const ma2 = 0.9 * ma + 0.1 * -g2;
    const va2 = 0.999 * va + 0.001 * (g2 * g2);
    near(got[1]!.a, w1.a - (lr2 * ma2) / (Math.sqrt(va2) + 1e-8));
    nearAll(got, [
      { a: 0.09999993675448679, b: 0.09999996837723339, intercept: 0.005 },
      { a: 0.19993412002199534, b: 0.1474151105897777, intercept: 0.00011248090094323742 },
      { a: 0.29806245791371855, b: 0.15615385176370286, intercept: 0.004484402061220854 },
    ]);
    near(m.predictOne(QUERY), 0.5768045835788261);
  });

  it('with L2 and with L1', () => {
    nearAll(trace(new LogisticRegression({ optimizer: adam(0.1), l2: 0.1 }), Y_BINARY), [
      { a: 0.09999993675448679, b: 0.09999996837723339, intercept: 0.005 },
      { a: 0.19986318573596318, b: 0.14658231122231188, intercept: 0.00011248090094323742 },
      { a: 0.29809006744623157, b: 0.1539260251008275, intercept: 0.0044827020641201795 },
    ]);
    nearAll(trace(new LogisticRegression({ optimizer: adam(0.1), l1: 0.01 }), Y_BINARY), [
      { a: 0.09899993675448679, b: 0.09899996837723339, intercept: 0.005 },
      { a: 0.19793493056286027, b: 0.1454099091187382, intercept: 0.00011123152654038144 },
      { a: 0.29505369457820085, b: 0.15311577702614476, intercept: 0.004488060690296463 },
    ]);
  });
});

describe('linear regression (squared loss, gradient 2·(raw - y))', () => {
  it('SGD: three updates by hand, in decimals', () => {
    const m = new LinearRegression();
    // 1: raw 0, g = -3: b = 0.03, w = 0.03·(1, 2).
    // 2: raw = -0.03 + 0.03 + 0.03 = 0.03, g = 2·0.53 = 1.06: b = 0.0194, w = (0.0406, 0.0547).
    // 3: raw = 0.0812 - 0.0547 + 0.0194 = 0.0459, g = -3.9082: b = 0.058482, w = (0.118764, 0.015618).
    nearAll(trace(m, Y_VALUE), [
      { a: 0.03, b: 0.06, intercept: 0.03 },
      { a: 0.0406, b: 0.0547, intercept: 0.0194 },
      { a: 0.118764, b: 0.015618, intercept: 0.058482 },
    ], 14);
    // 0.5·0.118764 + 0.015618 + 0.058482
    near(m.predictOne(QUERY), 0.133482, 14);
  });

  it('SGD with L2 and with L1 (River figures)', () => {
    nearAll(trace(new LinearRegression({ l2: 0.1 }), Y_VALUE), [
      { a: 0.03, b: 0.06, intercept: 0.03 },
      { a: 0.04057, b: 0.054639999999999994, intercept: 0.0194 },
      { a: 0.11869342999999999, b: 0.015503359999999994, intercept: 0.058482 },
    ]);
    nearAll(trace(new LinearRegression({ l1: 0.01 }), Y_VALUE), [
      { a: 0.0299, b: 0.059899999999999995, intercept: 0.03 },
      { a: 0.040401, b: 0.0544995, intercept: 0.019399 },
      { a: 0.11847293999999998, b: 0.01531353, intercept: 0.05848497 },
    ]);
  });

  it('AdaGrad: by hand, then River figures', () => {
    const got = trace(new LinearRegression({ optimizer: adagrad(0.1) }), Y_VALUE);
    // 1: g = -3, per column (-3, -6): w = 0.1·3/sqrt(9 + eps), 0.1·6/sqrt(36 + eps).
    near(got[0]!.a, (0.1 / Math.sqrt(9 + 1e-8)) * 3);
    near(got[0]!.b, (0.1 / Math.sqrt(36 + 1e-8)) * 6);
    nearAll(got, [
      { a: 0.09999999994444445, b: 0.09999999998611112, intercept: 0.03 },
      { a: 0.13047757264226348, b: 0.09202547775812017, intercept: 0.02039999999902778 },
      { a: 0.22218057183824197, b: 0.04047294950327663, intercept: 0.05661340664851909 },
    ]);
  });

  it('Adam: River figures, and with L2 and L1', () => {
    nearAll(trace(new LinearRegression({ optimizer: adam(0.1) }), Y_VALUE), [
      { a: 0.09999998945907558, b: 0.09999999472953751, intercept: 0.03 },
      { a: 0.18650475797289395, b: 0.16085512332308616, intercept: 0.020399999841886132 },
      { a: 0.27205774339580696, b: 0.16903450974993517, intercept: 0.05574891199259437 },
    ]);
    nearAll(trace(new LinearRegression({ optimizer: adam(0.1), l2: 0.1 }), Y_VALUE), [
      { a: 0.09999998945907558, b: 0.09999999472953751, intercept: 0.03 },
      { a: 0.18635163920158238, b: 0.16072329775007588, intercept: 0.020399999841886132 },
      { a: 0.2718769854615474, b: 0.1686595946296693, intercept: 0.05575240023198664 },
    ]);
    nearAll(trace(new LinearRegression({ optimizer: adam(0.1), l1: 0.01 }), Y_VALUE), [
      { a: 0.09899998945907558, b: 0.09899999472953751, intercept: 0.03 },
      { a: 0.18452001004236335, b: 0.1588485351718429, intercept: 0.020389999841886136 },
      { a: 0.26906449506160945, b: 0.16598528954534675, intercept: 0.05577837014679073 },
    ]);
  });
});

describe('lazy updates and bad examples', () => {
  it('a column absent from an example keeps its weight and its Adam moments', () => {
    const m = new LogisticRegression({ optimizer: adam(0.1) });
    m.learnOne(SparseVector.of([[0, 1], [1, 1]]), 1);
    const before = m.coefficients().weights[1];
    m.learnOne(SparseVector.of([[0, 1]]), 1);
    expect(m.coefficients().weights[1]).toBe(before);
    // River: {'a': 0.19982329024136147, 'b': 0.09999993675448679} after the same two examples.
    near(m.coefficients().weights[0]!, 0.19982329024136147);
    near(m.coefficients().weights[1]!, 0.09999993675448679);
  });

  it('a column beyond the learned ones predicts as weight 0 and does not grow the model', () => {
    const m = new LogisticRegression();
    for (let i = 0; i < 3; i++) m.learnOne(X[i]!, Y_BINARY[i]!);
    const snapshot = JSON.stringify(m.toSnapshot());
    expect(m.predictOne(SparseVector.of([[0, 0.5], [1, 1], [7, 100]]))).toBe(m.predictOne(QUERY));
    expect(JSON.stringify(m.toSnapshot())).toBe(snapshot);
  });

  it('a bad label or weight throws before changing anything; weight 0 changes nothing', () => {
    const m = new LogisticRegression({ optimizer: adam() });
    m.learnOne(X[0]!, 1);
    const snapshot = JSON.stringify(m.toSnapshot());
    expect(() => m.learnOne(X[1]!, 2)).toThrow(ModelError);
    expect(() => m.learnOne(X[1]!, NaN)).toThrow(/label NaN is not 0 or 1/);
    expect(() => m.learnOne(X[1]!, 1, -1)).toThrow(/weight -1/);
    expect(() => new LinearRegression().learnOne(X[1]!, Infinity)).toThrow(/finite/);
    m.learnOne(X[1]!, 0, 0);
    expect(JSON.stringify(m.toSnapshot())).toBe(snapshot);
    expect(m.trainingCount).toBe(1);
  });

  it('a sample weight scales the loss gradient', () => {
    const a = new LinearRegression();
    a.learnOne(X[0]!, 1.5, 2);
    // g = 2·(0 - 1.5)·2 = -6: b = 0.06, w = 0.06·(1, 2).
    expect(a.coefficients().intercept).toBeCloseTo(0.06, 15);
    expect(a.coefficients().weights[1]).toBeCloseTo(0.12, 15);
  });

  it('hyperparameters are checked', () => {
    const bad: LinearOptions[] = [{ l2: -1 }, { optimizer: sgd(0) }, { optimizer: { kind: 'adam', lr: 0.1, beta1: 1, beta2: 0.9, eps: 1e-8 } }, { clipGradient: 0 }];
    for (const options of bad) expect(() => new LogisticRegression(options)).toThrow(ModelError);
    expect(() => new LogisticRegression({ optimizer: { kind: 'rmsprop' } as never })).toThrow(/optimizer.kind/);
  });
});
