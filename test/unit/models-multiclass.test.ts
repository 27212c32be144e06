/**
 * The multi-class learners (core/models/multiclass): hand-computed updates,
 * class discovery and its bound, fixed classes, weights, L1, one-vs-rest's
 * normalisation, naive Bayes against a hand computation and against the
 * binary model, the pipeline, and snapshots that predict bit-identically.
 * Agreement with River example by example: test/integration/multiclass-reference.test.ts.
 */
import { describe, expect, it } from 'vitest';
import {
  GaussianNB,
  GaussianNBMulticlass,
  LinearRegression,
  LogisticRegression,
  ModelError,
  MulticlassPipeline,
  NumericFeatures,
  OneHotEncoder,
  OneVsRest,
  PAClassifier,
  SoftmaxRegression,
  SparseVector,
  StandardScaler,
  adagrad,
  adam,
  createMulticlassEstimator,
  multiclassFromSnapshot,
  multiclassPipelineFromSnapshot,
  sigmoid,
  sgd,
  type MulticlassEstimator,
} from '../../core/models/index.js';
import { seededRandom } from '../support/random.js';

const v = (...values: number[]) => SparseVector.dense(values);
const arr = (p: Float64Array) => Array.from(p);

/** A seeded stream of 3 classes over 4 dense columns (the class shifts the means). */
function stream(seed: number, n: number): Array<{ x: SparseVector; y: string }> {
  const random = seededRandom(seed);
  const classes = ['red', 'green', 'blue'];
  return Array.from({ length: n }, () => {
    const c = Math.floor(random() * 3);
    return { x: v(c + random(), random() * 2 - c, random(), c === 2 ? 1 + random() : random()), y: classes[c]! };
  });
}

describe('softmax regression', () => {
  it('one SGD step by hand: p = 1/2 each, g = p - [c = y], intercept by interceptLr', () => {
    const model = new SoftmaxRegression({ optimizer: sgd(0.1), interceptLr: 0.1, classes: ['a', 'b'] });
    expect(arr(model.predictProbaOne(v(1, 2)))).toEqual([0.5, 0.5]);
    model.learnOne(v(1, 2), 'a');
    const { weights, intercepts } = model.coefficients();
    expect(arr(weights[0]!)).toEqual([0.05, 0.1]);
    expect(arr(weights[1]!)).toEqual([-0.05, -0.1]);
    expect(arr(intercepts)).toEqual([0.05, -0.05]);
    // raw a = 0.05 + 0.2 + 0.05 = 0.3, raw b = -0.3: P(a) = sigmoid(0.6)
    const p = model.predictProbaOne(v(1, 2));
    expect(p[0]).toBeCloseTo(sigmoid(0.6), 15);
    expect(p[0]! + p[1]!).toBeCloseTo(1, 15);
  });

  it('discovers classes as River does: the first has p = 0 clamped to 1e-15, then a new one joins', () => {
    const model = new SoftmaxRegression({ optimizer: sgd(0.1), interceptLr: 0 });
    expect(arr(model.predictProbaOne(v(1)))).toEqual([]);
    model.learnOne(v(1), 'a');
    expect(model.classes()).toEqual(['a']);
    // No class known before: p(a) = 0 -> clamped to 1e-15, g = 1e-15 - 1.
    expect(model.coefficients().weights[0]![0]).toBe(0.1 * (1 - 1e-15));
    expect(arr(model.predictProbaOne(v(1)))).toEqual([1]);
    model.learnOne(v(1), 'b');
    expect(model.classes()).toEqual(['a', 'b']);
    // p(a) = 1 -> clamped to 1 - 1e-15, g_a = 1 - 1e-15; b is new: g_b = 1e-15 - 1.
    const { weights } = model.coefficients();
    expect(weights[0]![0]).toBe(0.1 * (1 - 1e-15) - 0.1 * (1 - 1e-15));
    expect(weights[1]![0]).toBe(0.1 * (1 - 1e-15));
    expect(model.trainingCount).toBe(2);
  });

  it('past maxClasses: a ModelError naming the limit, nothing learned', () => {
    const model = new SoftmaxRegression({ maxClasses: 2 });
    model.learnOne(v(1), 'a');
    model.learnOne(v(1), 'b');
    const before = JSON.stringify(model.toSnapshot());
    expect(() => model.learnOne(v(1), 'c')).toThrow(ModelError);
    expect(() => model.learnOne(v(1), 'c')).toThrow(/beyond maxClasses \(2\)/);
    expect(JSON.stringify(model.toSnapshot())).toBe(before);
    expect(model.trainingCount).toBe(2);
  });

  it('fixed classes: uniform before learning, a class outside the list is refused', () => {
    const model = new SoftmaxRegression({ classes: ['x', 'y', 'z'] });
    expect(arr(model.predictProbaOne(v(3, 4)))).toEqual([1 / 3, 1 / 3, 1 / 3]);
    expect(() => model.learnOne(v(1), 'w')).toThrow(/"w" is not one of the model's classes/);
    expect(() => model.learnOne(v(1), 7 as unknown as string)).toThrow(/not a class name/);
    expect(() => model.learnOne(v(1), 'x', -1)).toThrow(/weight -1/);
    expect(model.trainingCount).toBe(0);
  });

  it('weight 0 changes nothing; weight 2 under SGD is one step at twice the rates', () => {
    const a = new SoftmaxRegression({ optimizer: sgd(0.1), interceptLr: 0.1, classes: ['a', 'b', 'c'] });
    a.learnOne(v(1, -2, 0.5), 'b', 0);
    expect(a.trainingCount).toBe(0);
    expect(a.coefficients().weights.every((w) => w.every((x) => x === 0))).toBe(true);
    a.learnOne(v(1, -2, 0.5), 'b', 2);
    const b = new SoftmaxRegression({ optimizer: sgd(0.2), interceptLr: 0.2, classes: ['a', 'b', 'c'] });
    b.learnOne(v(1, -2, 0.5), 'b');
    expect(a.coefficients()).toEqual(b.coefficients());
  });

  it('L1 (cumulative penalty) holds weights at exactly 0 when the penalty outruns the gradient', () => {
    const model = new SoftmaxRegression({ optimizer: sgd(0.1), l1: 1, interceptLr: 0.1, classes: ['a', 'b'] });
    for (const { x, y } of stream(3, 50)) model.learnOne(SparseVector.dense([x.values[0]! * 0.1]), y === 'red' ? 'a' : 'b');
    const { weights, intercepts } = model.coefficients();
    expect(arr(weights[0]!)).toEqual([0]);
    expect(arr(weights[1]!)).toEqual([0]);
    expect(intercepts[0]).not.toBe(0);
  });

  it('learns a 3-class stream with each optimizer (accuracy > 0.75 on the last 1,000 after 2,000; chance 1/3)', () => {
    for (const optimizer of [sgd(0.05), adagrad(0.1), adam(0.05)]) {
      const model = new SoftmaxRegression({ optimizer });
      const data = stream(11, 3000);
      data.slice(0, 2000).forEach(({ x, y }) => model.learnOne(x, y));
      let correct = 0;
      for (const { x, y } of data.slice(2000)) {
        const p = model.predictProbaOne(x);
        if (model.classes()[p.indexOf(Math.max(...p))] === y) correct++;
      }
      // Measured: SGD 0.862, AdaGrad 0.890, Adam 0.794 (unscaled columns); chance is 1/3.
      expect(correct / 1000, optimizer.kind).toBeGreaterThan(0.75);
    }
  });

  it('refuses bad hyperparameters, naming them', () => {
    expect(() => new SoftmaxRegression({ maxClasses: 1 })).toThrow(/maxClasses must be an integer from 2/);
    expect(() => new SoftmaxRegression({ classes: ['a'] })).toThrow(/2 to maxClasses/);
    expect(() => new SoftmaxRegression({ classes: ['a', 'a'] })).toThrow(/distinct/);
    expect(() => new SoftmaxRegression({ classes: ['a', 'b', 'c'], maxClasses: 2 })).toThrow(/2 to maxClasses \(2\)/);
    expect(() => new SoftmaxRegression({ l2: -1 })).toThrow(/l2 must be/);
    expect(() => new SoftmaxRegression({ optimizer: { kind: 'rmsprop' } as never })).toThrow(/optimizer.kind/);
  });
});

describe('one-vs-rest', () => {
  it('normalises the binary probabilities: after one step by hand, P = (sigmoid(0.1), sigmoid(-0.1))', () => {
    const model = new OneVsRest(new LogisticRegression({ optimizer: sgd(0.1), interceptLr: 0.1 }), { classes: ['a', 'b'] });
    expect(arr(model.predictProbaOne(v(1)))).toEqual([0.5, 0.5]);
    model.learnOne(v(1), 'a');
    // a's model: g = -0.5, w = b = 0.05; b's model: g = 0.5, w = b = -0.05.
    const p = model.predictProbaOne(v(1));
    expect(p[0]).toBeCloseTo(sigmoid(0.1) / (sigmoid(0.1) + sigmoid(-0.1)), 15);
    expect(p[0]).toBeCloseTo(0.52497918747894, 13);
    expect(p[1]).toBeCloseTo(sigmoid(-0.1), 15);
  });

  it('a class first seen gets an untrained clone; every model learns every example', () => {
    const model = new OneVsRest(new PAClassifier({ C: 0.5 }));
    model.learnOne(v(1, 0), 'a');
    model.learnOne(v(0, 1), 'b');
    expect(model.classes()).toEqual(['a', 'b']);
    expect(model.estimators().map((e) => e.trainingCount)).toEqual([2, 1]);
    expect(model.trainingCount).toBe(2);
  });

  it('all binary probabilities 0: uniform, as River', () => {
    const model = new OneVsRest(new LogisticRegression({ interceptInit: -1000 }), { classes: ['a', 'b', 'c'] });
    expect(arr(model.predictProbaOne(v(0)))).toEqual([1 / 3, 1 / 3, 1 / 3]);
  });

  it('refuses a base that is not binary', () => {
    expect(() => new OneVsRest(new LinearRegression())).toThrow(/must be a binary model/);
  });
});

describe('Gaussian naive Bayes, multi-class', () => {
  it('by hand: two classes of one column, mean 1 and 5, variance 1 each', () => {
    const model = new GaussianNBMulticlass();
    for (const [x, y] of [
      [0, 'a'],
      [4, 'b'],
      [2, 'a'],
      [6, 'b'],
    ] as const) {
      model.learnOne(v(x), y);
    }
    const pdfA = 1 / Math.sqrt(2 * Math.PI);
    const pdfB = Math.exp(-8) / Math.sqrt(2 * Math.PI);
    const p = model.predictProbaOne(v(1));
    expect(p[0]).toBeCloseTo((1e-9 + pdfA) / (1e-9 + pdfA + 1e-9 + pdfB), 15);
    expect(p[0]! + p[1]!).toBeCloseTo(1, 15);
  });

  it('one class seen is certain; no class, no prediction; a fixed class never learned has probability 0', () => {
    const model = new GaussianNBMulticlass();
    expect(arr(model.predictProbaOne(v(1)))).toEqual([]);
    model.learnOne(v(1), 'only');
    expect(arr(model.predictProbaOne(v(3)))).toEqual([1]);
    const fixed = new GaussianNBMulticlass({ classes: ['a', 'b', 'c'] });
    expect(arr(fixed.predictProbaOne(v(1)))).toEqual([1 / 3, 1 / 3, 1 / 3]);
    fixed.learnOne(v(1), 'a');
    fixed.learnOne(v(3), 'c');
    const p = fixed.predictProbaOne(v(2));
    expect(p[1]).toBe(0);
    expect(p[0]! + p[2]!).toBeCloseTo(1, 14);
  });

  it('on two classes, equals the binary GaussianNB within 1e-15', () => {
    const binary = new GaussianNB();
    const multi = new GaussianNBMulticlass({ classes: ['0', '1'] });
    const random = seededRandom(5);
    let worst = 0;
    for (let t = 0; t < 500; t++) {
      const y = random() < 0.4 ? 1 : 0;
      const x = v(y + random(), 2 * random() - y, random() * 3);
      worst = Math.max(worst, Math.abs(binary.predictOne(x) - multi.predictProbaOne(x)[1]!));
      binary.learnOne(x, y, 1 + (t % 3));
      multi.learnOne(x, String(y), 1 + (t % 3));
    }
    expect(worst).toBeLessThanOrEqual(1e-15);
  });
});

describe('the multi-class pipeline', () => {
  const input = (t: number) => ({ features: { a: t % 7, b: (t * 13) % 5, c: t % 2 === 0 ? t : NaN }, categorical: { plan: ['free', 'pro', 'team'][t % 3]! } });
  const label = (t: number) => ['p', 'q', 'r'][(t * 7) % 3]!;

  it('a bad class or weight changes nothing, encoders included', () => {
    const model = new MulticlassPipeline([new StandardScaler(), new OneHotEncoder({ features: ['plan'] })], new SoftmaxRegression({ classes: ['p', 'q', 'r'] }));
    for (let t = 0; t < 20; t++) model.learnOne(input(t), label(t));
    const before = JSON.stringify(model.toSnapshot());
    expect(() => model.learnOne(input(99), 'nope')).toThrow(ModelError);
    expect(() => model.learnOne(input(99), 'p', NaN)).toThrow(ModelError);
    model.learnOne(input(99), 'p', 0);
    expect(JSON.stringify(model.toSnapshot())).toBe(before);
  });

  it('predictOne is the arg-max, the first class on a tie, null before any class', () => {
    const discovering = new MulticlassPipeline([new NumericFeatures()], new SoftmaxRegression());
    expect(discovering.predictOne(input(1))).toBeNull();
    const fixed = new MulticlassPipeline([new NumericFeatures()], new SoftmaxRegression({ classes: ['p', 'q', 'r'] }));
    expect(fixed.predictOne(input(1))).toBe('p');
    fixed.learnOne(input(1), 'r');
    expect(fixed.predictOne(input(1))).toBe('r');
    expect(fixed.learnedFinite()).toBe(true);
  });

  const makers: Record<string, () => MulticlassEstimator> = {
    'softmax SGD L1 L2': () => new SoftmaxRegression({ optimizer: sgd(0.05), l1: 0.001, l2: 0.01 }),
    'softmax AdaGrad': () => new SoftmaxRegression({ optimizer: adagrad(0.1), maxClasses: 5 }),
    'softmax Adam, fixed classes': () => new SoftmaxRegression({ optimizer: adam(0.02), classes: ['r', 'q', 'p'] }),
    'one-vs-rest FTRL': () => createMulticlassEstimator('one_vs_rest', { estimator: { algorithm: 'ftrl_logistic_regression', hyperparameters: { l1: 0.1 } } }),
    'one-vs-rest logistic Adam': () => new OneVsRest(new LogisticRegression({ optimizer: adam(0.01) }), { classes: ['p', 'q', 'r'] }),
    'Gaussian naive Bayes': () => new GaussianNBMulticlass(),
  };
  for (const [name, make] of Object.entries(makers)) {
    it(`${name}: a snapshot through JSON predicts bit-identically, and keeps learning identically`, () => {
      const model = new MulticlassPipeline([new StandardScaler(), new OneHotEncoder({ features: ['plan'] })], make());
      for (let t = 0; t < 300; t++) model.learnOne(input(t), label(t));
      const restored = multiclassPipelineFromSnapshot(JSON.parse(JSON.stringify(model.toSnapshot())));
      expect(restored.classes()).toEqual(model.classes());
      expect(restored.trainingCount).toBe(300);
      for (let t = 300; t < 400; t++) {
        expect(arr(restored.predictProbaOne(input(t)))).toStrictEqual(arr(model.predictProbaOne(input(t))));
        model.learnOne(input(t), label(t));
        restored.learnOne(input(t), label(t));
      }
      expect(JSON.stringify(restored.toSnapshot())).toBe(JSON.stringify(model.toSnapshot()));
      // A clone has the hyperparameters and nothing learned.
      const clone = model.clone();
      expect(clone.trainingCount).toBe(0);
      expect(clone.hyperparameters()).toEqual(model.hyperparameters());
    });
  }

  it('estimator snapshots too; errors name what is wrong', () => {
    const model = new SoftmaxRegression({ classes: ['a', 'b'] });
    model.learnOne(v(1, 2), 'b');
    const snapshot = JSON.parse(JSON.stringify(model.toSnapshot()));
    const restored = multiclassFromSnapshot(snapshot) as MulticlassEstimator;
    expect(arr(restored.predictProbaOne(v(1, 2)))).toStrictEqual(arr(model.predictProbaOne(v(1, 2))));
    expect(() => multiclassFromSnapshot({ ...snapshot, algorithm: 'logistic_regression' })).toThrow(/unknown "logistic_regression"/);
    expect(() => multiclassFromSnapshot({ ...snapshot, state: { ...snapshot.state, classes: ['b', 'a'] } })).toThrow(/do not match the model's fixed classes/);
    expect(() => multiclassFromSnapshot({ ...snapshot, state: { ...snapshot.state, weights: 'AAAA' } })).toThrow(/softmax_regression.state.weights/);
    expect(() => multiclassPipelineFromSnapshot(snapshot)).toThrow(/wrap it in a multiclass_pipeline/);
  });
});
