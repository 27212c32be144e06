/** PSI and KS against numpy/scipy (bench/reference/drift_reference.py) on seeded samples, to 1e-9. */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { histogram, kolmogorovSmirnov, psi, quantileEdges } from '../../core/drift/index.js';
import { seededRandom } from '../support/random.js';

const ROOT = join(import.meta.dirname, '..', '..');

function normal(random: () => number, mean: number, sd: number): number {
  // Box–Muller.
  return mean + sd * Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
}

describe('drift statistics against numpy/scipy', () => {
  beforeAll(() => {
    execFileSync('bash', [join(ROOT, 'scripts/python-env.sh')], { stdio: 'inherit' });
  }, 600_000);

  it('edges, counts, PSI, KS statistic and p-value on shifted, widened, identical and discrete samples', () => {
    const random = seededRandom(21);
    const reference = Array.from({ length: 2000 }, () => normal(random, 0, 1));
    const cases = {
      shifted: { reference, current: Array.from({ length: 1500 }, () => normal(random, 0.3, 1)), bins: 10 },
      widened: { reference, current: Array.from({ length: 700 }, () => normal(random, 0, 1.5)), bins: 10 },
      same: { reference, current: Array.from({ length: 1000 }, () => normal(random, 0, 1)), bins: 10 },
      discrete: {
        reference: Array.from({ length: 500 }, () => Math.floor(random() * 4)),
        current: Array.from({ length: 400 }, () => Math.floor(random() * 5)),
        bins: 10,
      },
    };
    const out = execFileSync(join(ROOT, '.venv/bin/python'), [join(ROOT, 'bench/reference/drift_reference.py')], {
      input: JSON.stringify({ cases }),
      maxBuffer: 64 << 20,
    });
    const ref = JSON.parse(out.toString('utf8')) as Record<string, { edges: number[]; reference_counts: number[]; current_counts: number[]; psi: number; ks: number; ks_p: number }>;
    for (const [name, c] of Object.entries(cases)) {
      const expected = ref[name]!;
      const edges = quantileEdges(c.reference, c.bins);
      expect(edges.length, name).toBe(expected.edges.length);
      edges.forEach((e, i) => expect(Math.abs(e - expected.edges[i]!), `${name} edge ${i}`).toBeLessThanOrEqual(1e-9));
      const rc = histogram(edges, c.reference);
      const cc = histogram(edges, c.current);
      expect(rc, name).toEqual(expected.reference_counts);
      expect(cc, name).toEqual(expected.current_counts);
      expect(Math.abs(psi(rc, cc)! - expected.psi), `${name} psi`).toBeLessThanOrEqual(1e-9);
      const ks = kolmogorovSmirnov(c.reference, c.current)!;
      expect(Math.abs(ks.statistic - expected.ks), `${name} ks`).toBeLessThanOrEqual(1e-9);
      expect(Math.abs(ks.pValue - expected.ks_p), `${name} ks p`).toBeLessThanOrEqual(1e-9);
    }
    // The shifted and widened samples drift; the same distribution does not.
    expect(ref.shifted!.psi).toBeGreaterThan(0.05);
    expect(ref.same!.psi).toBeLessThan(0.02);
  });
});
