/**
 * Binary relevance and the multi-label pipeline: each label's model is our
 * binary LogisticRegression trained on that label alone (exactly), labels
 * fixed or discovered (bounded), bad examples change nothing, and snapshots
 * predict bit-identically after JSON. River's PerOutputClassifier:
 * test/integration/multilabel-reference.test.ts.
 */
import { describe, expect, it } from 'vitest';
import {
  BinaryRelevance, LogisticRegression, ModelError, MultilabelPipeline, OneHotEncoder, Pipeline, StandardScaler, adagrad, multilabelFromSnapshot,
  multilabelPipelineFromSnapshot, sgd,
} from '../../core/models/index.js';
import { seededRandom } from '../support/random.js';

const LABELS = ['a', 'b', 'c'];

function rows(n: number, seed = 3): Array<{ x: { features: Record<string, number>; categorical: Record<string, string> }; y: Set<string> }> {
  const random = seededRandom(seed);
  return Array.from({ length: n }, () => {
    const f0 = random() * 4 - 2;
    const f1 = random() * 10;
    const y = new Set(LABELS.filter((_, l) => (l === 0 ? f0 > 0 : l === 1 ? f1 > 6 : f0 + f1 / 5 > 1.5)));
    return { x: { features: { f0, f1 }, categorical: { k: random() < 0.5 ? 'u' : 'v' } }, y };
  });
}

const build = () => new MultilabelPipeline([new StandardScaler(), new OneHotEncoder()], new BinaryRelevance(new LogisticRegression({ optimizer: adagrad(0.1) }), { classes: LABELS }));

describe('BinaryRelevance', () => {
  it("each label's probability is a binary LogisticRegression's trained on that label alone, bit for bit", () => {
    const ours = build();
    const alone = LABELS.map(() => new Pipeline([new StandardScaler(), new OneHotEncoder()], new LogisticRegression({ optimizer: adagrad(0.1) })));
    for (const { x, y } of rows(300)) {
      const p = ours.predictProbaOne(x);
      LABELS.forEach((label, l) => expect(p[l]).toBe(alone[l]!.predictOne(x)));
      ours.learnOne(x, y);
      LABELS.forEach((label, l) => alone[l]!.learnOne(x, y.has(label) ? 1 : 0));
    }
    expect(ours.trainingCount).toBe(300);
    const last = ours.predictProbaOne(rows(1, 99)[0]!.x);
    expect(last[0]! + last[1]! + last[2]!).not.toBeCloseTo(1, 3); // independent, not normalised
  });

  it('learns the empty set as a 0 for every label', () => {
    const br = new BinaryRelevance(new LogisticRegression({ optimizer: sgd(0.5) }), { classes: ['x', 'y'] });
    const v = new MultilabelPipeline([new StandardScaler()], br);
    v.learnOne({ features: { f: 1 } }, new Set());
    const p = v.predictProbaOne({ features: { f: 1 } });
    // SGD 0.5 on the intercept (lr 0.01) from 0 with gradient 0.5: intercept −0.005, weight 0 (scaled value 0).
    expect(p[0]).toBe(1 / (1 + Math.exp(0.005)));
    expect(p[1]).toBe(p[0]);
  });

  it('refuses a label outside the fixed ones, a non-Set and a bad weight, changing nothing', () => {
    const model = build();
    model.learnOne(rows(1)[0]!.x, new Set(['a']));
    const before = JSON.stringify(model.toSnapshot());
    expect(() => model.learnOne(rows(1)[0]!.x, new Set(['a', 'zz']))).toThrow(/"zz" is not one of the model's classes/);
    expect(() => model.learnOne(rows(1)[0]!.x, ['a'] as unknown as Set<string>)).toThrow(ModelError);
    expect(() => model.learnOne(rows(1)[0]!.x, new Set(['a']), -1)).toThrow(/weight -1/);
    model.learnOne(rows(1)[0]!.x, new Set(['b']), 0);
    expect(JSON.stringify(model.toSnapshot())).toBe(before);
  });

  it('discovers labels as first seen, each new one untrained, up to maxClasses', () => {
    const br = new BinaryRelevance(new LogisticRegression(), { maxClasses: 3 });
    const v = new MultilabelPipeline([new StandardScaler()], br);
    v.learnOne({ features: { f: 1 } }, new Set(['q']));
    v.learnOne({ features: { f: 2 } }, new Set(['r', 'q']));
    expect(v.classes()).toEqual(['q', 'r']);
    expect(br.estimators()[0]!.trainingCount).toBe(2);
    expect(br.estimators()[1]!.trainingCount).toBe(1);
    expect(() => v.learnOne({ features: { f: 3 } }, new Set(['s', 't']))).toThrow(/2 new labels would make 4, beyond maxClasses \(3\)/);
    expect(v.classes()).toEqual(['q', 'r']);
  });

  it('snapshots predict bit-identically after JSON, and go on learning identically', () => {
    const model = build();
    const data = rows(400);
    data.slice(0, 200).forEach(({ x, y }) => model.learnOne(x, y));
    const copy = multilabelPipelineFromSnapshot(JSON.parse(JSON.stringify(model.toSnapshot())));
    expect(copy.classes()).toEqual(LABELS);
    expect(copy.trainingCount).toBe(200);
    for (const { x, y } of data.slice(200)) {
      expect([...copy.predictProbaOne(x)]).toEqual([...model.predictProbaOne(x)]);
      expect(copy.predictOne(x)).toEqual(model.predictOne(x));
      model.learnOne(x, y);
      copy.learnOne(x, y);
    }
    const estimator = multilabelFromSnapshot(JSON.parse(JSON.stringify(model.estimator.toSnapshot())));
    expect(estimator.algorithm).toBe('binary_relevance');
    expect(() => multilabelPipelineFromSnapshot(model.estimator.toSnapshot())).toThrow(/wrap it in a multilabel_pipeline/);
  });

  it('decides the labels at or above the threshold (default 0.5)', () => {
    const model = build();
    rows(500).forEach(({ x, y }) => model.learnOne(x, y));
    const x = { features: { f0: 1.5, f1: 9 }, categorical: { k: 'u' } };
    const p = model.predictProbaOne(x);
    expect(model.predictOne(x)).toEqual(LABELS.filter((_, l) => p[l]! >= 0.5));
    expect(model.predictOne(x)).toEqual(['a', 'b', 'c']);
    expect(model.predictOne(x, 1)).toEqual([]);
  });
});
