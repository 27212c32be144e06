/**
 * Snapshots and clones, for every algorithm: a snapshot survives
 * JSON.stringify/JSON.parse and the rebuilt model predicts bit-identically,
 * then keeps learning in lockstep with the original (optimizer state
 * included); a clone has the hyperparameters and nothing learned.
 */
import { describe, expect, it } from 'vitest';
import {
  ALGORITHMS,
  adagrad,
  adam,
  decodeFloats,
  decodeNumber,
  encodeFloats,
  encodeNumber,
  FeatureHasher,
  FTRLLogisticRegression,
  GaussianNB,
  LinearRegression,
  LogisticRegression,
  ModelError,
  modelFromSnapshot,
  NumericFeatures,
  OneHotEncoder,
  PAClassifier,
  PARegressor,
  Pipeline,
  pipelineFromSnapshot,
  SparseVector,
  StandardScaler,
  type Estimator,
  type ModelInput,
} from '../../core/models/index.js';

/** A seeded stream with drifting features: new numeric and categorical features appear, some go missing. */
function stream(n: number, seed: number): Array<{ x: ModelInput; y: number; value: number }> {
  let s = seed >>> 0;
  const random = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const out: Array<{ x: ModelInput; y: number; value: number }> = [];
  for (let i = 0; i < n; i++) {
    const features: Record<string, number> = { f0: random() * 2 - 1, f1: random() * 10 };
    if (random() < 0.8) features['f2'] = random() - 0.5;
    if (i > n / 2) features['late'] = random() * 3;
    const categorical: Record<string, string> = { plan: ['free', 'gold', 'pro'][Math.floor(random() * 3)]!, user: `u${Math.floor(random() * 500)}` };
    const value = 2 * features['f0']! - 0.3 * features['f1']! + (categorical['plan'] === 'gold' ? 1 : 0) + random() * 0.1;
    out.push({ x: { features, categorical }, y: value > -1 ? 1 : 0, value });
  }
  return out;
}

const TRAIN = stream(400, 1);
const MORE = stream(100, 2);
const QUERIES = stream(100, 3).map((e) => e.x);

const roundTrip = (snapshot: unknown) => JSON.parse(JSON.stringify(snapshot)) as unknown;

function bitsEqual(a: number[], b: number[]): void {
  expect(a.length).toBe(b.length);
  const da = new Float64Array(a);
  const db = new Float64Array(b);
  expect(new Uint8Array(da.buffer)).toEqual(new Uint8Array(db.buffer));
}

const ESTIMATORS: Array<[string, () => Estimator]> = [
  ['logistic_regression sgd', () => new LogisticRegression()],
  ['logistic_regression adagrad l2', () => new LogisticRegression({ optimizer: adagrad(0.1), l2: 0.01 })],
  ['logistic_regression adam l1', () => new LogisticRegression({ optimizer: adam(0.05), l1: 0.001 })],
  ['linear_regression adam l1+l2', () => new LinearRegression({ optimizer: adam(0.01), l1: 0.001, l2: 0.01 })],
  ['linear_regression adagrad', () => new LinearRegression({ optimizer: adagrad(0.1) })],
  ['ftrl_logistic_regression', () => new FTRLLogisticRegression({ alpha: 0.1, l1: 0.5, l2: 1 })],
  ['pa_classifier', () => new PAClassifier({ C: 0.1, mode: 2 })],
  ['pa_regressor', () => new PARegressor({ C: 0.1, eps: 0.05 })],
  ['gaussian_nb', () => new GaussianNB()],
];

function pipelineFor(estimator: Estimator): Pipeline {
  if (estimator instanceof GaussianNB) return new Pipeline([new NumericFeatures(), new OneHotEncoder({ maxCategories: 2 })], estimator);
  return new Pipeline(
    [new StandardScaler(), new OneHotEncoder({ features: ['plan'], maxCategories: 2 }), new FeatureHasher({ features: ['user'], buckets: 64, seed: 9 })],
    estimator,
  );
}

describe('snapshot round trip through JSON: bit-identical predictions', () => {
  for (const [name, make] of ESTIMATORS) {
    it(name, () => {
      const model = pipelineFor(make());
      const label = model.task === 'binary' ? (e: { y: number }) => e.y : (e: { value: number }) => e.value;
      TRAIN.forEach((e, i) => model.learnOne(e.x, label(e), i % 7 === 0 ? 2 : 1));
      const restored = pipelineFromSnapshot(roundTrip(model.toSnapshot()));
      bitsEqual(QUERIES.map((q) => restored.predictOne(q)), QUERIES.map((q) => model.predictOne(q)));
      expect(restored.trainingCount).toBe(model.trainingCount);
      // The whole state came back: both keep learning identically.
      for (const e of MORE) {
        model.learnOne(e.x, label(e));
        restored.learnOne(e.x, label(e));
      }
      bitsEqual(QUERIES.map((q) => restored.predictOne(q)), QUERIES.map((q) => model.predictOne(q)));
      expect(JSON.stringify(restored.toSnapshot())).toBe(JSON.stringify(model.toSnapshot()));
    });
  }

  it('a bare estimator round-trips too', () => {
    const m = new LogisticRegression({ optimizer: adam() });
    m.learnOne(SparseVector.of([[0, 1], [3, -2]]), 1);
    const back = modelFromSnapshot(roundTrip(m.toSnapshot())) as LogisticRegression;
    expect(back).toBeInstanceOf(LogisticRegression);
    const q = SparseVector.of([[0, 0.3], [3, 1]]);
    expect(Object.is(back.predictOne(q), m.predictOne(q))).toBe(true);
    expect(() => pipelineFromSnapshot(roundTrip(m.toSnapshot()))).toThrow(/wrap it in a pipeline/);
  });

  it('-0, NaN, ±Infinity and subnormals survive (where plain JSON numbers would not)', () => {
    const specials = [-0, 0, NaN, Infinity, -Infinity, 5e-324, -1.7976931348623157e308, 0.1 + 0.2];
    expect(JSON.parse(JSON.stringify(specials))).not.toEqual(specials);
    const back = decodeFloats(JSON.parse(JSON.stringify(encodeFloats(new Float64Array(specials)))), 'x');
    bitsEqual([...back], specials);
    for (const v of specials) expect(Object.is(decodeNumber(JSON.parse(JSON.stringify(encodeNumber(v))), 'x'), v)).toBe(true);
    // An intercept of -0 comes back as -0.
    const m = new LinearRegression({ interceptInit: -0, interceptLr: 0 });
    const back2 = modelFromSnapshot(roundTrip(m.toSnapshot())) as LinearRegression;
    expect(Object.is(back2.coefficients().intercept, -0)).toBe(true);
  });

  it('every length of base64 padding', () => {
    for (let n = 0; n < 5; n++) {
      const a = new Float64Array(n).map((_, i) => Math.PI * (i + 1));
      expect([...decodeFloats(encodeFloats(a), 'x')]).toEqual([...a]);
    }
  });

  it('the snapshot envelope', () => {
    const s = pipelineFor(new LogisticRegression()).toSnapshot();
    expect(s.algorithm).toBe('pipeline');
    expect(s.version).toBe(1);
    expect(s.hyperparameters).toEqual({
      encoders: [
        { kind: 'standard_scaler' },
        { kind: 'one_hot', features: ['plan'], maxCategories: 2 },
        { kind: 'feature_hasher', buckets: 64, seed: 9, alternateSign: true, features: ['user'], includeNumeric: false },
      ],
      estimator: {
        algorithm: 'logistic_regression',
        hyperparameters: { optimizer: { kind: 'sgd', lr: 0.01 }, l2: 0, l1: 0, interceptInit: 0, interceptLr: 0.01, clipGradient: 1e12 },
      },
    });
    expect(ALGORITHMS).toContain('ftrl_logistic_regression');
  });
});

describe('bad snapshots are refused with the field named', () => {
  const good = () => roundTrip(pipelineFor(new LogisticRegression()).toSnapshot()) as Record<string, any>;

  it('unknown algorithm, other version, not an object', () => {
    expect(() => modelFromSnapshot({ ...good(), algorithm: 'xgboost' })).toThrow(/unknown "xgboost"/);
    expect(() => modelFromSnapshot({ ...good(), version: 2 })).toThrow(/version 2/);
    expect(() => modelFromSnapshot('{}')).toThrow(ModelError);
    expect(() => modelFromSnapshot({ ...good(), state: [] })).toThrow(/snapshot.state: expected an object/);
  });

  it('malformed state', () => {
    const s = good();
    s['state']['estimator']['weights'] = 'not base64!';
    expect(() => modelFromSnapshot(s)).toThrow(/logistic_regression.state.weights/);
    const t = good();
    t['state']['estimator']['dimension'] = 3;
    expect(() => modelFromSnapshot(t)).toThrow(/expected 3 values/);
    const u = good();
    u['hyperparameters']['estimator']['hyperparameters']['l2'] = '0.1';
    expect(() => modelFromSnapshot(u)).toThrow(/l2 must be a finite number/);
  });
});

describe('clone: same hyperparameters, nothing learned', () => {
  for (const [name, make] of ESTIMATORS) {
    it(name, () => {
      const model = pipelineFor(make());
      const fresh = pipelineFor(make());
      const label = model.task === 'binary' ? (e: { y: number }) => e.y : (e: { value: number }) => e.value;
      for (const e of TRAIN.slice(0, 50)) model.learnOne(e.x, label(e));
      const clone = model.clone();
      expect(clone.trainingCount).toBe(0);
      expect(clone.columnCount).toBe(fresh.columnCount);
      expect(JSON.stringify(clone.toSnapshot())).toBe(JSON.stringify(fresh.toSnapshot()));
      expect(clone.toSnapshot().hyperparameters).toEqual(model.toSnapshot().hyperparameters);
      // Learning in the clone leaves the original alone.
      const before = JSON.stringify(model.toSnapshot());
      for (const e of TRAIN.slice(50, 60)) clone.learnOne(e.x, label(e));
      expect(JSON.stringify(model.toSnapshot())).toBe(before);
      // And a bare estimator's clone equals a new one.
      expect(JSON.stringify(make().clone().toSnapshot())).toBe(JSON.stringify(make().toSnapshot()));
    });
  }
});
