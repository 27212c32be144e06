/**
 * The multi-class learners against River 0.26.1 (bench/reference/multiclass_reference.py)
 * on a seeded stream of four classes, the fourth first seen at example 150, with
 * a feature missing from some examples: every predicted probability, example by
 * example before it is learned, within 1e-12 of River's, the classes in the
 * same order. Needs Python (.venv by scripts/python-env.sh), no servers.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  GaussianNBMulticlass,
  LogisticRegression,
  MulticlassPipeline,
  NumericFeatures,
  OneVsRest,
  PAClassifier,
  SoftmaxRegression,
  StandardScaler,
  adagrad,
  adam,
  sgd,
  type MulticlassEstimator,
} from '../../core/models/index.js';
import { seededRandom } from '../support/random.js';

const ROOT = join(import.meta.dirname, '..', '..');
const PYTHON = join(ROOT, '.venv', 'bin', 'python');
const N = 800;
const TOLERANCE = 1e-12;

type Row = { x: Record<string, number>; y: string };

/** Four classes with their own means; class d only from example 150; f4 missing 15% of the time. */
function stream(seed: number): Row[] {
  const random = seededRandom(seed);
  const gauss = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  const means: Record<string, number[]> = { a: [0, 1, 0, 5, -1], b: [1, 0, 0, 4, 0], c: [0, 0, 1.5, 6, 1], d: [1, 1, 1, 5, 2] };
  const scales = [1, 2, 0.5, 3, 1];
  return Array.from({ length: N }, (_, t) => {
    const classes = t < 150 ? ['a', 'b', 'c'] : ['a', 'b', 'c', 'd'];
    const y = classes[Math.floor(random() * classes.length)]!;
    const x: Record<string, number> = {};
    for (let j = 0; j < 5; j++) {
      const v = means[y]![j]! + scales[j]! * gauss();
      if (j === 4 && random() < 0.15) continue;
      x[`f${j}`] = v;
    }
    return { x, y };
  });
}

type Spec = Record<string, unknown> & { scaled?: boolean };

function river(rows: Row[], models: Record<string, Spec>): Record<string, Array<Array<[string, number]>>> {
  const out = execFileSync(PYTHON, [join(ROOT, 'bench/reference/multiclass_reference.py')], {
    input: JSON.stringify({ stream: rows, models }),
    maxBuffer: 256 << 20,
  });
  return JSON.parse(out.toString('utf8'));
}

/** Progressive validation with ours; returns the largest |difference| from River's probabilities. */
function compare(name: string, estimator: MulticlassEstimator, scaled: boolean, rows: Row[], reference: Array<Array<[string, number]>>): number {
  const model = new MulticlassPipeline([scaled ? new StandardScaler() : new NumericFeatures()], estimator);
  let worst = 0;
  rows.forEach((row, t) => {
    const p = model.predictProbaOne({ features: row.x });
    const theirs = reference[t]!;
    expect([...model.classes()], `${name} example ${t}: classes`).toEqual(theirs.map(([c]) => c));
    theirs.forEach(([, q], c) => {
      worst = Math.max(worst, Math.abs(p[c]! - q));
    });
    model.learnOne({ features: row.x }, row.y);
  });
  expect(worst, `${name}: largest difference from River`).toBeLessThanOrEqual(TOLERANCE);
  return worst;
}

describe('multi-class learners against River', () => {
  beforeAll(() => {
    execFileSync('bash', [join(ROOT, 'scripts/python-env.sh')], { stdio: 'inherit' });
  }, 600_000);

  const rows = stream(7);
  const adamSpec = { kind: 'adam', lr: 0.05, beta1: 0.9, beta2: 0.999, eps: 1e-8 } as const;
  const cases: Record<string, { spec: Spec; ours: () => MulticlassEstimator }> = {
    'softmax SGD': { spec: { kind: 'softmax', optimizer: { kind: 'sgd', lr: 0.01 } }, ours: () => new SoftmaxRegression({ optimizer: sgd(0.01), interceptLr: 0 }) },
    'softmax SGD, scaled': {
      spec: { kind: 'softmax', optimizer: { kind: 'sgd', lr: 0.05 }, scaled: true },
      ours: () => new SoftmaxRegression({ optimizer: sgd(0.05), interceptLr: 0 }),
    },
    'softmax SGD L2': {
      spec: { kind: 'softmax', optimizer: { kind: 'sgd', lr: 0.02 }, l2: 0.01, scaled: true },
      ours: () => new SoftmaxRegression({ optimizer: sgd(0.02), l2: 0.01, interceptLr: 0 }),
    },
    'softmax SGD with intercept (River: a constant feature)': {
      spec: { kind: 'softmax', optimizer: { kind: 'sgd', lr: 0.01 }, bias: true },
      ours: () => new SoftmaxRegression({ optimizer: sgd(0.01), interceptLr: 0.01 }),
    },
    'softmax AdaGrad': {
      spec: { kind: 'softmax', optimizer: { kind: 'adagrad', lr: 0.1, eps: 1e-8 }, scaled: true },
      ours: () => new SoftmaxRegression({ optimizer: adagrad(0.1, 1e-8), interceptLr: 0 }),
    },
    'softmax Adam (a step count per class)': {
      spec: { kind: 'softmax', optimizer: adamSpec, scaled: true },
      ours: () => new SoftmaxRegression({ optimizer: adam(0.05, 0.9, 0.999, 1e-8), interceptLr: 0 }),
    },
    'one-vs-rest logistic regression': {
      spec: { kind: 'ovr', base: 'logistic_regression', scaled: true },
      ours: () => new OneVsRest(new LogisticRegression()),
    },
    'one-vs-rest logistic regression AdaGrad L2': {
      spec: { kind: 'ovr', base: 'logistic_regression', options: { optimizer: { kind: 'adagrad', lr: 0.1, eps: 1e-8 }, l2: 0.001 }, scaled: true },
      ours: () => new OneVsRest(new LogisticRegression({ optimizer: adagrad(0.1, 1e-8), l2: 0.001 })),
    },
    'one-vs-rest PA-I': {
      spec: { kind: 'ovr', base: 'pa_classifier', options: { C: 0.05, mode: 1 }, scaled: true },
      ours: () => new OneVsRest(new PAClassifier({ C: 0.05, mode: 1 })),
    },
    'Gaussian naive Bayes': { spec: { kind: 'gaussian_nb' }, ours: () => new GaussianNBMulticlass() },
  };
  let reference: ReturnType<typeof river>;

  it('runs River once for every case', () => {
    reference = river(rows, Object.fromEntries(Object.entries(cases).map(([name, c]) => [name, c.spec])));
    expect(Object.keys(reference).sort()).toEqual(Object.keys(cases).sort());
    // River's classes appear as first seen: none, then a, b, c, and d from example 150 on.
    const probe = reference['softmax SGD']!;
    expect(probe[0]).toEqual([]);
    const firstSeen = [...new Set(rows.map((r) => r.y))];
    expect(firstSeen).toHaveLength(4);
    expect(firstSeen[3]).toBe('d');
    expect(probe[N - 1]!.map(([c]) => c)).toEqual(firstSeen);
    expect(rows.findIndex((r) => r.y === 'd')).toBeGreaterThanOrEqual(150);
  });

  for (const [name, c] of Object.entries(cases)) {
    it(`${name}: every probability within 1e-12 of River's`, () => {
      const worst = compare(name, c.ours(), c.spec.scaled === true, rows, reference[name]!);
      console.log(`${name}: largest difference from River ${worst.toExponential(2)}`);
    });
  }
});
