/**
 * The multi-label learner (binary relevance) against River 0.26.1's
 * multioutput.PerOutputClassifier (bench/reference/multilabel_reference.py) on
 * a seeded stream of four labels, the fourth first in a true set at example
 * 120, some examples with no label at all and a feature missing from some
 * examples: every label's probability, example by example before it is
 * learned, within 1e-12 of River's, the labels in the same order. Needs Python
 * (.venv by scripts/python-env.sh), no servers.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { BinaryRelevance, LogisticRegression, MultilabelPipeline, NumericFeatures, StandardScaler, adagrad, sgd, type MultilabelEstimator } from '../../core/models/index.js';
import { seededRandom } from '../support/random.js';

const ROOT = join(import.meta.dirname, '..', '..');
const PYTHON = join(ROOT, '.venv', 'bin', 'python');
const N = 600;
const TOLERANCE = 1e-12;
const LABELS = ['a', 'b', 'c', 'd'];

type Row = { x: Record<string, number>; y: string[] };

/** Four features; label l applies when its own linear rule plus noise is positive; d only from example 120; f3 missing 15% of the time. */
function stream(seed: number): Row[] {
  const random = seededRandom(seed);
  const gauss = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  return Array.from({ length: N }, (_, t) => {
    const f = [gauss(), 2 * gauss(), 1 + gauss(), 5 + 3 * gauss()];
    const rules = [f[0]! - 0.5, f[1]! + f[0]!, f[2]! - 1.2, f[3]! - 6];
    const y = LABELS.filter((label, l) => (label !== 'd' || t >= 120) && rules[l]! + 0.5 * gauss() > 0);
    const x: Record<string, number> = {};
    f.forEach((v, j) => {
      if (j === 3 && random() < 0.15) return;
      x[`f${j}`] = v;
    });
    return { x, y };
  });
}

type Spec = { options?: Record<string, unknown>; labels?: string[]; scaled?: boolean };

function river(rows: Row[], models: Record<string, Spec>): Record<string, Array<Array<[string, number]>>> {
  const out = execFileSync(PYTHON, [join(ROOT, 'bench/reference/multilabel_reference.py')], { input: JSON.stringify({ stream: rows, models }), maxBuffer: 256 << 20 });
  return JSON.parse(out.toString('utf8'));
}

/** Progressive validation with ours; returns the largest |difference| from River's probabilities. */
function compare(name: string, estimator: MultilabelEstimator, scaled: boolean, rows: Row[], reference: Array<Array<[string, number]>>): number {
  const model = new MultilabelPipeline([scaled ? new StandardScaler() : new NumericFeatures()], estimator);
  let worst = 0;
  rows.forEach((row, t) => {
    const p = model.predictProbaOne({ features: row.x });
    const theirs = reference[t]!;
    expect([...model.classes()], `${name} example ${t}: labels`).toEqual(theirs.map(([label]) => label));
    theirs.forEach(([, q], l) => (worst = Math.max(worst, Math.abs(p[l]! - q))));
    model.learnOne({ features: row.x }, new Set(row.y));
  });
  expect(worst, `${name}: largest difference from River`).toBeLessThanOrEqual(TOLERANCE);
  return worst;
}

describe('binary relevance against River PerOutputClassifier', () => {
  beforeAll(() => {
    execFileSync('bash', [join(ROOT, 'scripts/python-env.sh')], { stdio: 'inherit' });
  }, 600_000);

  const rows = stream(11);
  const cases: Record<string, { spec: Spec; ours: () => MultilabelEstimator }> = {
    'logistic regression SGD, labels discovered': { spec: {}, ours: () => new BinaryRelevance(new LogisticRegression({ optimizer: sgd(0.01) })) },
    'logistic regression SGD, scaled, labels fixed': {
      spec: { scaled: true, labels: LABELS },
      ours: () => new BinaryRelevance(new LogisticRegression({ optimizer: sgd(0.01) }), { classes: LABELS }),
    },
    'logistic regression AdaGrad L2, scaled, labels discovered': {
      spec: { scaled: true, options: { optimizer: { kind: 'adagrad', lr: 0.1, eps: 1e-8 }, l2: 0.001 } },
      ours: () => new BinaryRelevance(new LogisticRegression({ optimizer: adagrad(0.1, 1e-8), l2: 0.001 })),
    },
  };
  let reference: ReturnType<typeof river>;

  it('runs River once for every case, on a stream with empty sets and a label first seen late', () => {
    reference = river(rows, Object.fromEntries(Object.entries(cases).map(([name, c]) => [name, c.spec])));
    expect(Object.keys(reference).sort()).toEqual(Object.keys(cases).sort());
    expect(rows.findIndex((r) => r.y.includes('d'))).toBeGreaterThanOrEqual(120);
    expect(rows.filter((r) => r.y.length === 0).length).toBeGreaterThan(20);
    // Discovered labels come in the order first seen in a true set: b, c, a, then d.
    const firstSeen = [...new Set(rows.flatMap((r) => r.y))];
    expect(firstSeen).toEqual(['b', 'c', 'a', 'd']);
    expect(reference['logistic regression SGD, labels discovered']![N - 1]!.map(([label]) => label)).toEqual(firstSeen);
  });

  for (const [name, c] of Object.entries(cases)) {
    it(`${name}: every probability within 1e-12 of River's`, () => {
      const worst = compare(name, c.ours(), c.spec.scaled === true, rows, reference[name]!);
      console.log(`${name}: largest |difference| ${worst.toExponential(2)}`);
    });
  }
});
