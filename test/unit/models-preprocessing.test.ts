/**
 * Encoders and pipelines: the scaler's running statistics, one-hot columns
 * and their cap, the hashing trick (MurmurHash3 and River's bucket/sign
 * rule), a pipeline checked against River, and features that go missing or
 * appear in the middle of a stream.
 */
import { describe, expect, it } from 'vitest';
import {
  ColumnSpace,
  FeatureHasher,
  GaussianNB,
  hashToken,
  LogisticRegression,
  ModelError,
  murmur3,
  NumericFeatures,
  OneHotEncoder,
  Pipeline,
  SparseVector,
  StandardScaler,
  adam,
  type ModelInput,
} from '../../core/models/index.js';

function encodeWith(encoder: { attach(c: ColumnSpace): void; encode(x: ModelInput, out: SparseVector, learn: boolean): void }) {
  encoder.attach(new ColumnSpace());
  const out = new SparseVector(2);
  return (x: ModelInput, learn = true) => {
    out.clear();
    encoder.encode(x, out, learn);
    return out.entries();
  };
}

describe('StandardScaler', () => {
  it('updates, then transforms, with the population variance (River order)', () => {
    const encode = encodeWith(new StandardScaler());
    // 1 alone: variance 0 gives 0.
    expect(encode({ features: { a: 1 } })).toEqual([[0, 0]]);
    // {1, 2}: mean 1.5, variance 0.25: (2 - 1.5)/0.5 = 1.
    expect(encode({ features: { a: 2 } })).toEqual([[0, 1]]);
    // {1, 2, 4}: mean 7/3, variance 14/9: (4 - 7/3)/(sqrt(14)/3) = 5/sqrt(14).
    const [[, v]] = encode({ features: { a: 4 } }) as [[number, number]];
    expect(v).toBeCloseTo(5 / Math.sqrt(14), 15);
    // Predicting does not update: the same input twice gives the same value.
    expect(encode({ features: { a: 4 } }, false)).toEqual(encode({ features: { a: 4 } }, false));
  });

  it('a feature unseen when predicting is skipped; missing values are skipped', () => {
    const scaler = new StandardScaler();
    const encode = encodeWith(scaler);
    encode({ features: { a: 1, b: 2 } });
    expect(encode({ features: { a: 1, z: 5 } }, false)).toEqual([[0, 0]]);
    const missing = { a: NaN, b: Infinity, c: null, d: undefined } as unknown as Record<string, number>;
    expect(encode({ features: missing })).toEqual([]);
    expect(scaler.statistics('a')).toEqual({ count: 1, mean: 1, variance: 0 });
    expect(scaler.statistics('c')).toBeNull();
  });
});

describe('OneHotEncoder', () => {
  it('one column per value, in order of first appearance, then "other" past the cap', () => {
    const onehot = new OneHotEncoder({ maxCategories: 2 });
    const encode = encodeWith(onehot);
    expect(encode({ features: {}, categorical: { plan: 'gold', region: 'eu' } })).toEqual([[0, 1], [1, 1]]);
    expect(encode({ features: {}, categorical: { plan: 'free' } })).toEqual([[2, 1]]);
    // Unknown value while the feature is not full: skipped when predicting.
    expect(encode({ features: {}, categorical: { region: 'us' } }, false)).toEqual([]);
    // Third value of plan: the shared "other" column.
    expect(encode({ features: {}, categorical: { plan: 'pro' } })).toEqual([[3, 1]]);
    expect(encode({ features: {}, categorical: { plan: 'enterprise' } }, false)).toEqual([[3, 1]]);
    expect(onehot.categoriesOf('plan')).toEqual(['gold', 'free']);
    expect(onehot.featureSpecs()).toEqual([
      { name: 'plan', kind: 'CATEGORICAL' },
      { name: 'region', kind: 'CATEGORICAL' },
    ]);
  });

  it('encodes only the listed features when given', () => {
    const encode = encodeWith(new OneHotEncoder({ features: ['plan'] }));
    expect(encode({ features: {}, categorical: { plan: 'gold', region: 'eu' } })).toEqual([[0, 1]]);
    expect(encode({ features: {} })).toEqual([]);
  });
});

describe('FeatureHasher', () => {
  it('MurmurHash3 x86_32 reference values', () => {
    expect(murmur3('')).toBe(0);
    expect(murmur3('hello') >>> 0).toBe(0x248bfa47);
    expect(murmur3('The quick brown fox jumps over the lazy dog') >>> 0).toBe(0x2e4ff723);
  });

  it('hashes "name=value" like River 0.26.1 (feature_hash(x, 2**31, seed))', () => {
    // River's buckets at n = 2^31 are the unsigned hash; its sign the signed one.
    expect(hashToken('a', 'b', 0)).toBe(868681382 - 2 ** 31);
    expect(hashToken('a', 'b', 42)).toBe(255412543);
    expect(hashToken('city', 'Paris', 0)).toBe(2114315151 - 2 ** 31);
    expect(hashToken('user', 'u12345', 42)).toBe(275965266);
    // UTF-8: 2- and 3-byte characters and a surrogate pair.
    expect(hashToken('é', '日本', 0)).toBe(1477444308 - 2 ** 31);
    expect(hashToken('k', '😀x', 0)).toBe(1351555138);
    expect(hashToken('k', '😀x', 42)).toBe(1497312739);
  });

  it('buckets and signs as River: feature_hash({num: 2.5, b: 1.0}, 7, 0) = {5: -2.5, 4: -1.0}', () => {
    const encode = encodeWith(new FeatureHasher({ buckets: 7, seed: 0, includeNumeric: true }));
    expect(encode({ features: { num: 2.5, b: 1 } })).toEqual([[5, -2.5], [4, -1]]);
  });

  it('sums the entries of one example that share a bucket; no sign flip when asked', () => {
    const encode = encodeWith(new FeatureHasher({ buckets: 1, alternateSign: false }));
    expect(encode({ features: {}, categorical: { a: 'x', b: 'y', c: 'z' } })).toEqual([[0, 3]]);
    expect(encode({ features: {}, categorical: { a: 'x' } })).toEqual([[0, 1]]);
  });

  it('reserves its block when attached, after the blocks before it', () => {
    const columns = new ColumnSpace();
    const first = new FeatureHasher({ buckets: 16 });
    const second = new FeatureHasher({ buckets: 8, features: ['merchant'] });
    first.attach(columns);
    second.attach(columns);
    expect(columns.size).toBe(24);
    const { column } = second.columnOf('merchant', 'acme');
    expect(column).toBeGreaterThanOrEqual(16);
    expect(column).toBeLessThan(24);
    expect(() => second.attach(new ColumnSpace())).toThrow(ModelError);
  });
});

describe('Pipeline', () => {
  const STREAM: Array<[ModelInput, number]> = [
    [{ features: { a: 1, b: 2 }, categorical: { plan: 'gold' } }, 1],
    [{ features: { a: -1, b: 0.5 }, categorical: { plan: 'free' } }, 0],
    [{ features: { a: 2, b: -1 }, categorical: { plan: 'gold' } }, 1],
    [{ features: { a: 0 }, categorical: { plan: 'pro' } }, 0],
    [{ features: { a: 3, b: 1, c: 5 }, categorical: { plan: 'free' } }, 1],
  ];

  it('StandardScaler + OneHotEncoder + Adam logistic regression: the same predictions as River', () => {
    // River: (SelectType(float) | StandardScaler()) + (SelectType(str) | OneHotEncoder(drop_zeros=True))
    //        | LogisticRegression(optimizer=optim.Adam(0.05), l2=0.01), progressive validation.
    const river = [0.5, 0.5012499973958399, 0.503195119182359, 0.4905076441758225, 0.5619004706442347];
    const m = new Pipeline([new StandardScaler(), new OneHotEncoder()], new LogisticRegression({ optimizer: adam(0.05), l2: 0.01 }));
    STREAM.forEach(([x, y], i) => {
      expect(m.predictOne(x)).toBeCloseTo(river[i]!, 15);
      m.learnOne(x, y);
    });
    expect(m.predictOne({ features: { a: 0.5, b: 1 }, categorical: { plan: 'gold' } })).toBeCloseTo(0.5123820020174733, 15);
    expect(m.trainingCount).toBe(5);
    expect(m.columnCount).toBe(6);
    expect(m.featureSchema()).toEqual([
      { name: 'a', kind: 'NUMERIC' },
      { name: 'b', kind: 'NUMERIC' },
      { name: 'c', kind: 'NUMERIC' },
      { name: 'plan', kind: 'CATEGORICAL' },
    ]);
  });

  it('a feature or category never seen does not change a prediction, nor the model', () => {
    const m = new Pipeline([new StandardScaler(), new OneHotEncoder()], new LogisticRegression());
    for (const [x, y] of STREAM) m.learnOne(x, y);
    const before = JSON.stringify(m.toSnapshot());
    const base = m.predictOne({ features: { a: 1 }, categorical: { plan: 'gold' } });
    expect(m.predictOne({ features: { a: 1, brand_new: 7 }, categorical: { plan: 'gold', country: 'fr' } })).toBe(base);
    expect(m.predictOne({ features: { a: 1 }, categorical: { plan: 'platinum' } })).toBe(
      m.predictOne({ features: { a: 1 }, categorical: {} }),
    );
    expect(JSON.stringify(m.toSnapshot())).toBe(before);
  });

  it('a feature appearing mid-stream gets a new column; the others keep theirs', () => {
    const m = new Pipeline([new NumericFeatures()], new LogisticRegression());
    m.learnOne({ features: { a: 1, b: 2 } }, 1);
    m.learnOne({ features: { a: 1, b: 2, c: 3 } }, 0);
    expect(m.transformOne({ features: { c: 1, a: 2 } })).toEqual([[2, 1], [0, 2]]);
    expect(m.columnCount).toBe(3);
  });

  it('missing values (absent, NaN, null, ±Infinity) are skipped, as if the key were absent', () => {
    const clean = new Pipeline([new StandardScaler()], new LogisticRegression({ optimizer: adam() }));
    const dirty = clean.clone();
    const rows = [
      { a: 1, b: 2 },
      { a: 2, b: 1 },
      { a: -1, b: 0 },
    ];
    const holes = [{ c: NaN }, { c: null }, { c: Infinity, d: -Infinity }] as unknown as Array<Record<string, number>>;
    rows.forEach((row, i) => {
      clean.learnOne({ features: row }, i % 2);
      dirty.learnOne({ features: { ...row, ...holes[i] } }, i % 2);
    });
    expect(dirty.predictOne({ features: { a: 0.3, b: 0.7 } })).toBe(clean.predictOne({ features: { a: 0.3, b: 0.7 } }));
    expect(dirty.columnCount).toBe(2);
  });

  it('key order does not matter', () => {
    // Up to rounding: the dot product adds the columns in the order the example lists them.
    const ordered = new Pipeline([new StandardScaler()], new LogisticRegression());
    const shuffled = ordered.clone();
    let seed = 7;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (let i = 0; i < 200; i++) {
      const values = { a: random(), b: random() - 0.5, c: random() * 3 };
      const y = values.a + values.b > 0.6 ? 1 : 0;
      ordered.learnOne({ features: values }, y);
      const keys = Object.keys(values).sort(() => random() - 0.5);
      shuffled.learnOne({ features: Object.fromEntries(keys.map((k) => [k, values[k as keyof typeof values]])) }, y);
    }
    expect(shuffled.predictOne({ features: { c: 1, a: 0.2, b: 0.1 } })).toBeCloseTo(ordered.predictOne({ features: { a: 0.2, b: 0.1, c: 1 } }), 14);
    expect(shuffled.transformOne({ features: { c: 1, a: 0.2, b: 0.1 } })).toEqual([...ordered.transformOne({ features: { c: 1, a: 0.2, b: 0.1 } })]);
  });

  it('a bad label changes nothing, not even the scaler', () => {
    const m = new Pipeline([new StandardScaler()], new GaussianNB());
    m.learnOne({ features: { a: 1 } }, 1);
    const before = JSON.stringify(m.toSnapshot());
    expect(() => m.learnOne({ features: { a: 5, b: 1 } }, 0.5)).toThrow(ModelError);
    m.learnOne({ features: { a: 5, b: 1 } }, 1, 0);
    expect(JSON.stringify(m.toSnapshot())).toBe(before);
  });

  it('an encoder belongs to one pipeline', () => {
    const scaler = new StandardScaler();
    new Pipeline([scaler], new LogisticRegression());
    expect(() => new Pipeline([scaler], new LogisticRegression())).toThrow(/already belongs/);
  });
});
