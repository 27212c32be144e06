/**
 * Categorical drift (the chi-squared test of homogeneity, its p-value, the
 * Jensen–Shannon distance) and the chi-squared survival function and its
 * inverse, against scipy (bench/reference/categorical_reference.py), to 1e-9.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { categoricalDrift, chiSquaredCritical, chiSquaredSurvival, type CategoryCounts } from '../../core/drift/index.js';
import { seededRandom } from '../support/random.js';

const ROOT = join(import.meta.dirname, '..', '..');

interface Reference {
  cases: Record<string, { chi2: number; p: number; dof: number; js: number }>;
  sf: number[];
  isf: number[];
}

function scipy(input: object): Reference {
  const out = execFileSync(join(ROOT, '.venv/bin/python'), [join(ROOT, 'bench/reference/categorical_reference.py')], { input: JSON.stringify(input), maxBuffer: 64 << 20 });
  return JSON.parse(out.toString('utf8')) as Reference;
}

/** Counts of n draws from `shares` (the last share: `other`). */
function draw(random: () => number, shares: readonly number[], n: number): CategoryCounts {
  const counts = new Array<number>(shares.length).fill(0);
  const total = shares.reduce((a, b) => a + b, 0);
  for (let i = 0; i < n; i++) {
    let r = random() * total;
    let k = 0;
    while (k < shares.length - 1 && (r -= shares[k]!) >= 0) k++;
    counts[k]!++;
  }
  return { counts: counts.slice(0, -1), other: counts[counts.length - 1]! };
}

/** The bins categoricalDrift compares, as scipy is given them. */
function compared(reference: CategoryCounts, current: CategoryCounts): { reference: number[]; current: number[] } {
  const ref = Array.from(reference.counts);
  const cur = Array.from(current.counts);
  if (reference.other > 0 || current.other > 0) {
    ref.push(reference.other);
    cur.push(current.other);
  }
  return { reference: ref, current: cur };
}

function relative(actual: number, expected: number): number {
  return expected === 0 ? Math.abs(actual) : Math.abs(actual - expected) / Math.abs(expected);
}

describe('categorical drift against scipy', () => {
  beforeAll(() => {
    execFileSync('bash', [join(ROOT, 'scripts/python-env.sh')], { stdio: 'inherit' });
  }, 600_000);

  it('chi-squared statistic, p-value and degrees of freedom, Jensen–Shannon distance on same, shifted, new-category and many-category windows', () => {
    const random = seededRandom(16);
    const five = [40, 25, 20, 10, 5, 0];
    const many = Array.from({ length: 60 }, (_, i) => 1 / (i + 1)).concat([0]);
    const cases: Record<string, [CategoryCounts, CategoryCounts]> = {
      same: [draw(random, five, 1000), draw(random, five, 1000)],
      shifted: [draw(random, five, 1000), draw(random, [25, 25, 20, 10, 20, 0], 800)],
      new_categories: [draw(random, five, 1000), draw(random, [40, 25, 20, 10, 5, 3], 1000)],
      pooled_reference: [draw(random, [50, 30, 20], 500), draw(random, [45, 30, 25], 300)],
      two_bins: [{ counts: [990], other: 10 }, { counts: [950], other: 50 }],
      many: [draw(random, many, 2000), draw(random, many.map((w, i) => (i % 7 === 0 ? w * 2 : w)), 1500)],
      small: [{ counts: [3, 1, 1], other: 0 }, { counts: [0, 2, 0], other: 1 }],
    };
    const input = Object.fromEntries(Object.entries(cases).map(([name, [r, c]]) => [name, compared(r, c)]));
    const expected = scipy({ cases: input });
    for (const [name, [reference, current]] of Object.entries(cases)) {
      const figures = categoricalDrift(reference, current)!;
      const e = expected.cases[name]!;
      expect(figures.dof, name).toBe(e.dof);
      expect(relative(figures.chi2, e.chi2), `${name} chi2 ${figures.chi2} vs ${e.chi2}`).toBeLessThanOrEqual(1e-9);
      expect(relative(figures.pValue, e.p), `${name} p ${figures.pValue} vs ${e.p}`).toBeLessThanOrEqual(1e-9);
      expect(Math.abs(figures.js - e.js), `${name} js ${figures.js} vs ${e.js}`).toBeLessThanOrEqual(1e-9);
      expect(figures.newRate, name).toBe(current.other / figures.n);
    }
    // What the cases are about: the same shares pass, a shift and new categories do not.
    expect(expected.cases.same!.p).toBeGreaterThan(0.01);
    expect(expected.cases.shifted!.p).toBeLessThan(1e-10);
    expect(expected.cases.new_categories!.p).toBeLessThan(1e-4);
    expect(expected.cases.small!.dof).toBe(3);
  });

  it('chi2.sf at small and large degrees of freedom, in the body and far in the tails, and chi2.isf', () => {
    const sf: Array<[number, number]> = [];
    for (const dof of [1, 2, 3, 4, 5, 7, 10, 30, 99, 100, 250, 999, 1000, 5000]) {
      for (const z of [-3, -1, 0, 0.5, 2, 5, 10, 40]) {
        // Around the mean (dof) by multiples of the standard deviation √(2 dof), and the far tail.
        const x = dof + z * Math.sqrt(2 * dof);
        if (x > 0) sf.push([x, dof]);
      }
      sf.push([1e-6, dof], [dof + 1, dof], [Math.max(0.1, dof - 1), dof]);
    }
    const isf: Array<[number, number]> = [];
    for (const dof of [1, 2, 5, 30, 99, 1000]) for (const alpha of [0.05, 0.001, 1e-6]) isf.push([alpha, dof]);
    const expected = scipy({ cases: {}, sf, isf });
    let compared = 0;
    sf.forEach(([x, dof], i) => {
      const e = expected.sf[i]!;
      if (e < 1e-290) return; // underflows in scipy (0) — not a comparison
      compared++;
      expect(relative(chiSquaredSurvival(x, dof), e), `sf(${x}, ${dof}) = ${chiSquaredSurvival(x, dof)} vs ${e}`).toBeLessThanOrEqual(1e-9);
    });
    expect(compared).toBeGreaterThanOrEqual(140);
    isf.forEach(([alpha, dof], i) => {
      expect(relative(chiSquaredCritical(alpha, dof), expected.isf[i]!), `isf(${alpha}, ${dof})`).toBeLessThanOrEqual(1e-9);
    });
  });
});
