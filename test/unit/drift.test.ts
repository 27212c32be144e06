/**
 * Drift statistics by hand, and the concept-drift detectors on seeded
 * streams with a known change point: each fires within its stated delay,
 * and the false alarms on a stationary stream of 100k are counted.
 */
import { describe, expect, it } from 'vitest';
import { ADWIN, DDM, PageHinkley, histogram, kolmogorovSmirnov, kolmogorovSmirnovSorted, psi, quantileEdges, type DriftDetector } from '../../core/drift/index.js';
import { seededRandom } from '../support/random.js';

describe('PSI and KS by hand', () => {
  it('quantile edges, bins and PSI', () => {
    const reference = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
    expect(quantileEdges(reference, 2)).toEqual([5.5]);
    expect(quantileEdges(reference, 4)).toEqual([3.25, 5.5, 7.75]);
    const edges = [5.5];
    expect(histogram(edges, reference)).toEqual([5, 5]);
    expect(histogram(edges, [1, 2, 3, 9])).toEqual([3, 1]);
    // (0.75 - 0.5) ln(0.75/0.5) + (0.25 - 0.5) ln(0.25/0.5)
    expect(psi([5, 5], [3, 1])).toBeCloseTo(0.25 * Math.log(1.5) - 0.25 * Math.log(0.5), 15);
    expect(psi([5, 5], [5, 5])).toBe(0);
    expect(psi([5, 5], [0, 0])).toBeNull();
    // An empty current bin counts as 1e-4, not zero: finite.
    expect(psi([5, 5], [4, 0])).toBeCloseTo((1 - 0.5) * Math.log(1 / 0.5) + (1e-4 - 0.5) * Math.log(1e-4 / 0.5), 12);
    // A constant feature: one edge, two bins.
    expect(quantileEdges([3, 3, 3, 3], 10)).toEqual([3]);
  });

  it('KS statistic', () => {
    expect(kolmogorovSmirnov([1, 2, 3, 4, 5], [2.5, 3.5, 6, 7])!.statistic).toBe(0.5);
    expect(kolmogorovSmirnov([1, 2, 3], [1, 2, 3])!.statistic).toBe(0);
    expect(kolmogorovSmirnov([1, 2], [5, 6])!.statistic).toBe(1);
    expect(kolmogorovSmirnov([], [1])).toBeNull();
  });

  it("KS on samples sorted by Float64Array's sort (the monitors' fixed reference, sorted once) gives the comparator sort's figures", () => {
    const random = seededRandom(11);
    for (let round = 0; round < 20; round++) {
      // Ties, -0 beside 0, negatives: the orders may differ only among equal values.
      const draw = (n: number) => Array.from({ length: n }, () => (random() < 0.1 ? (random() < 0.5 ? -0 : 0) : Math.round((random() - 0.3) * 20) / 4));
      const a = draw(50 + round);
      const b = draw(30 + 2 * round);
      expect(kolmogorovSmirnovSorted(Float64Array.from(a).sort(), Float64Array.from(b).sort())).toEqual(kolmogorovSmirnov(a, b));
    }
    expect(kolmogorovSmirnovSorted([1, 2, 3, 4, 5], [2.5, 3.5, 6, 7])!.statistic).toBe(0.5);
  });
});

function hits(detector: DriftDetector, stream: (i: number, random: () => number) => number, length: number, seed: number): number[] {
  const random = seededRandom(seed);
  const out: number[] = [];
  for (let i = 0; i < length; i++) {
    detector.update(stream(i, random));
    if (detector.driftDetected) out.push(i);
  }
  return out;
}

const CHANGE = 5000;
const cases: Array<{ name: string; make: () => DriftDetector; before: number; after: number; maxDelay: number; maxStationaryAlarms: number }> = [
  // Error rate (0/1 errors) 0.2 -> 0.6.
  { name: 'ADWIN', make: () => new ADWIN(), before: 0.2, after: 0.6, maxDelay: 150, maxStationaryAlarms: 1 },
  { name: 'PageHinkley', make: () => new PageHinkley(), before: 0.2, after: 0.6, maxDelay: 200, maxStationaryAlarms: 3 },
  // DDM, error rate 0.1 -> 0.4: slower, and prone to early alarms before its minimum settles.
  { name: 'DDM', make: () => new DDM(), before: 0.1, after: 0.4, maxDelay: 1000, maxStationaryAlarms: 2 },
];

describe('concept-drift detectors', () => {
  for (const c of cases) {
    it(`${c.name} fires within ${c.maxDelay} examples of a change in every one of 20 seeded streams`, () => {
      const delays: number[] = [];
      for (let seed = 1; seed <= 20; seed++) {
        const found = hits(c.make(), (i, r) => (r() < (i < CHANGE ? c.before : c.after) ? 1 : 0), 2 * CHANGE, seed);
        const first = found.find((h) => h >= CHANGE);
        expect(first, `${c.name} seed ${seed}: no detection after the change`).toBeDefined();
        delays.push(first! - CHANGE);
      }
      console.log(`${c.name}: detection delays over 20 streams: median ${delays.sort((a, b) => a - b)[10]}, max ${Math.max(...delays)}`);
      expect(Math.max(...delays)).toBeLessThanOrEqual(c.maxDelay);
    });

    it(`${c.name} false alarms on a stationary stream of 100,000 are counted (at most ${c.maxStationaryAlarms})`, () => {
      const alarms = hits(c.make(), (_i, r) => (r() < c.before ? 1 : 0), 100_000, 7).length;
      console.log(`${c.name}: ${alarms} false alarms in 100,000 stationary examples (error rate ${c.before})`);
      expect(alarms).toBeLessThanOrEqual(c.maxStationaryAlarms);
    });
  }

  it('ADWIN shrinks its window to the new regime after a change and tracks its mean', () => {
    const adwin = new ADWIN();
    hits(adwin, (i, r) => (r() < (i < CHANGE ? 0.2 : 0.6) ? 1 : 0), CHANGE + 3000, 3);
    expect(adwin.count).toBeLessThan(3100);
    expect(adwin.estimation).toBeGreaterThan(0.55);
    expect(adwin.estimation).toBeLessThan(0.65);
  });

  it('DDM warns before it declares a drift', () => {
    const ddm = new DDM();
    let firstWarning = -1;
    let firstDrift = -1;
    const random = seededRandom(11);
    for (let i = 0; i < 2 * CHANGE && firstDrift < 0; i++) {
      ddm.update(random() < (i < CHANGE ? 0.1 : 0.4) ? 1 : 0);
      if (i >= CHANGE && ddm.warningDetected && firstWarning < 0) firstWarning = i;
      if (i >= CHANGE && ddm.driftDetected) firstDrift = i;
    }
    expect(firstWarning).toBeGreaterThanOrEqual(CHANGE);
    expect(firstWarning).toBeLessThan(firstDrift);
  });
});
