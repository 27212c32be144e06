/**
 * BinaryMetrics with bounded memory: past maxDistinctScores the per-score
 * counts become score bins. Checked against an exact BinaryMetrics fed the
 * same seeded streams: the ROC AUC error stays within roc_auc_error_bound,
 * every other figure is unchanged, revert still undoes update, and the PR AUC
 * stays close.
 */
import { describe, expect, it } from 'vitest';
import { BinaryMetrics, Rolling, type BinaryFigures, type BinaryObservation } from '../../core/metrics/index.js';
import { seededRandom } from '../support/random.js';

type Distribution = (random: () => number) => number;

const DISTRIBUTIONS: Record<string, Distribution> = {
  uniform: (random) => random(),
  // Skewed towards 0, like a fraud model's scores.
  skewed: (random) => random() ** 2,
  // Piled up near 0: 18% of the scores fall in the first of 1,000 bins.
  peaked: (random) => random() ** 4,
  // Two decimals: at most 101 distinct scores, many ties.
  ties: (random) => Math.round(random() * 100) / 100,
  // Ten values, several in one bin when bins are coarse.
  coarse: (random) => Math.floor(random() * 10) / 10 + 0.05,
  // Out of range on both sides (they clamp to the first and last bin), and exact 0 and 1.
  outside: (random) => (random() < 0.5 ? [-0.5, 0, 1, 1.5][Math.floor(random() * 4)]! : random() * 1.4 - 0.2),
};

/** A seeded stream; `outsideShare` of the scores come from `outside` (clamped, exact 0 and 1). */
function stream(seed: number, n: number, distribution: Distribution, outsideShare = 0.1): BinaryObservation[] {
  const random = seededRandom(seed);
  return Array.from({ length: n }, () => {
    const score = random() < outsideShare ? DISTRIBUTIONS.outside!(random) : distribution(random);
    const label = random() < 0.1 + 0.8 * Math.min(1, Math.max(0, score)) ? 1 : 0;
    return { label, score, threshold: random() < 0.7 ? 0.5 : 0.3, weight: random() < 0.2 ? 2 : 1 };
  });
}

function both(observations: BinaryObservation[], options: { maxDistinctScores: number; scoreBins?: number }) {
  const exact = new BinaryMetrics(10);
  const binned = new BinaryMetrics(10, options);
  for (const o of observations) {
    exact.update(o);
    binned.update(o);
  }
  return { exact: exact.get(), binned: binned.get(), metric: binned };
}

const AUC_KEYS = new Set(['roc_auc', 'roc_auc_error_bound', 'pr_auc', 'approximate']);

function expectSameExceptAuc(binned: BinaryFigures, exact: BinaryFigures) {
  for (const [key, value] of Object.entries(exact)) {
    if (AUC_KEYS.has(key)) continue;
    const got = (binned as unknown as Record<string, number | null>)[key];
    if (value === null) expect(got, key).toBeNull();
    else expect(Math.abs(got! - value), key).toBeLessThanOrEqual(1e-12);
  }
}

const SEEDS = [1, 2, 3, 4, 5];

describe('binned ROC AUC', () => {
  it('stays exact (bound 0) below maxDistinctScores, and switches once past it', () => {
    const m = new BinaryMetrics(10, { maxDistinctScores: 3 });
    for (const score of [0.1, 0.2, 0.3, 0.2]) m.update({ label: score > 0.15 ? 1 : 0, score, threshold: 0.5 });
    expect(m.get()).toMatchObject({ approximate: false, roc_auc: 1, roc_auc_error_bound: 0 });
    m.update({ label: 0, score: 0.4, threshold: 0.5 }); // a fourth distinct score: switch
    expect(m.approximate).toBe(true);
    // Every score has a bin of its own (bins 100, 200, 300, 400 of 1,000): no ties, bound 0.
    expect(m.get()).toMatchObject({ approximate: true, roc_auc: 0.5, roc_auc_error_bound: 0 });
    m.revert({ label: 0, score: 0.4, threshold: 0.5 });
    expect(m.approximate).toBe(true); // never back
    expect(new BinaryMetrics().get()).toMatchObject({ approximate: false, roc_auc_error_bound: null });
  });

  it('two scores in one bin count as a tie, and the bound covers exactly that', () => {
    const m = new BinaryMetrics(10, { maxDistinctScores: 1, scoreBins: 10 });
    m.update({ label: 0, score: 0.41, threshold: 0.5 });
    m.update({ label: 1, score: 0.45, threshold: 0.5 }); // same bin [0.4, 0.5): the switch
    expect(m.get()).toMatchObject({ approximate: true, roc_auc: 0.5, roc_auc_error_bound: 0.5 });
    m.update({ label: 1, score: 0.95, threshold: 0.5 });
    m.update({ label: 0, score: 0.05, threshold: 0.5 });
    // Pairs: 4, of which (0.45 vs 0.41) is a tie within a bin: binned 3.5/4, exact 4/4, bound 0.5/4.
    expect(m.get()).toMatchObject({ roc_auc: 3.5 / 4, roc_auc_error_bound: 0.5 / 4 });
  });

  it('|binned - exact| <= roc_auc_error_bound over seeds, distributions and bin counts', () => {
    for (const seed of SEEDS) {
      for (const [name, distribution] of Object.entries(DISTRIBUTIONS)) {
        for (const scoreBins of [10, 100, 1000]) {
          const { exact, binned } = both(stream(seed, 3000, distribution), { maxDistinctScores: 50, scoreBins });
          const label = `seed ${seed}, ${name}, ${scoreBins} bins`;
          expect(binned.approximate, label).toBe(true);
          expect(exact.approximate).toBe(false);
          expect(exact.roc_auc_error_bound).toBe(0);
          // 1e-12: the two AUCs are sums in different orders.
          expect(Math.abs(binned.roc_auc! - exact.roc_auc!), label).toBeLessThanOrEqual(binned.roc_auc_error_bound! + 1e-12);
        }
      }
    }
  });

  it('the bound is small with 1,000 bins and continuous scores', () => {
    let worst = 0;
    for (const seed of SEEDS) {
      for (const name of ['uniform', 'skewed']) {
        const { exact, binned } = both(stream(seed, 20_000, DISTRIBUTIONS[name]!, 0), { maxDistinctScores: 1000 });
        expect(Math.abs(binned.roc_auc! - exact.roc_auc!)).toBeLessThanOrEqual(binned.roc_auc_error_bound! + 1e-12);
        worst = Math.max(worst, binned.roc_auc_error_bound!);
      }
    }
    // Measured over these 10 streams of 20,000: bound at most 7.6e-4 (skewed; uniform 4.0e-4), while
    // the actual |binned - exact| is at most 3.4e-5. The bound grows where scores pile up in few
    // bins: 'peaked' gives up to 9.7e-3 with 1,000 bins, and 100 bins give about ten times as much.
    expect(worst).toBeLessThan(0.01);
    expect(worst).toBeGreaterThan(0);
  });
});

describe('binned mode, everything else', () => {
  it('every non-AUC figure and the reliability bins are the exact metric’s', () => {
    for (const seed of SEEDS) {
      for (const distribution of Object.values(DISTRIBUTIONS)) {
        const observations = stream(seed, 2000, distribution);
        const { exact, binned, metric } = both(observations, { maxDistinctScores: 20, scoreBins: 100 });
        expectSameExceptAuc(binned, exact);
        const reference = new BinaryMetrics(10);
        for (const o of observations) reference.update(o);
        expect(metric.reliability()).toEqual(reference.reliability());
      }
    }
  });

  it('update then revert of every observation, before and after the switch, gives the empty state', () => {
    const options = { maxDistinctScores: 300, scoreBins: 50 };
    const empty = new BinaryMetrics(10, options).get();
    for (const seed of SEEDS) {
      for (const [name, distribution] of Object.entries(DISTRIBUTIONS)) {
        const observations = stream(seed, 1000, distribution);
        const m = new BinaryMetrics(10, options);
        // 200 in and 100 of them out again while still exact (fewer than 300 distinct scores) ...
        observations.slice(0, 200).forEach((o) => m.update(o));
        observations.slice(0, 100).forEach((o) => m.revert(o));
        expect(m.approximate).toBe(false);
        // ... then the rest in, which switches (but for the few distinct scores of 'ties' and 'coarse') ...
        observations.slice(200).forEach((o) => m.update(o));
        expect(m.approximate, name).toBe(name !== 'ties' && name !== 'coarse');
        // ... and all out, those from before the switch included, in another order than they came.
        [...observations.slice(100)].reverse().forEach((o) => m.revert(o));
        expect(m.get()).toEqual({ ...empty, approximate: m.approximate });
        expect(m.get()).toMatchObject({ count: 0, roc_auc: null, pr_auc: null, roc_auc_error_bound: null });
      }
    }
  });

  it('a sliding window reverts what leaves it, in binned mode too', () => {
    const observations = stream(7, 4000, DISTRIBUTIONS.uniform!);
    const rolling = new Rolling(new BinaryMetrics(10, { maxDistinctScores: 200 }), 500);
    observations.forEach((o) => rolling.update(o));
    const { binned } = both(observations.slice(-500), { maxDistinctScores: 1 });
    const got = rolling.get();
    expect(got.approximate).toBe(true);
    for (const [key, value] of Object.entries(binned)) {
      const ours = (got as unknown as Record<string, number | boolean | null>)[key];
      if (typeof value === 'number') expect(Math.abs((ours as number) - value), key).toBeLessThanOrEqual(1e-12);
      else expect(ours, key).toEqual(value);
    }
  });

  it('is deterministic: the same updates and reverts give the same state; clone keeps the options', () => {
    const observations = stream(11, 2000, DISTRIBUTIONS.skewed!);
    const a = new BinaryMetrics(10, { maxDistinctScores: 300, scoreBins: 200 });
    const b = a.clone();
    for (const m of [a, b]) {
      observations.forEach((o, i) => (i % 7 === 3 ? m.revert(observations[i - 1]!) : m.update(o)));
    }
    expect(b.maxDistinctScores).toBe(300);
    expect(b.scoreBins).toBe(200);
    expect(a.get()).toEqual(b.get());
    expect(a.get().approximate).toBe(true);
  });

  it('rejects bad options', () => {
    expect(() => new BinaryMetrics(10, { maxDistinctScores: 0 })).toThrow(RangeError);
    expect(() => new BinaryMetrics(10, { maxDistinctScores: 2.5 })).toThrow(RangeError);
    expect(() => new BinaryMetrics(10, { scoreBins: 0 })).toThrow(RangeError);
  });
});

describe('binned PR AUC', () => {
  it('is within 0.02 of the exact average precision on continuous streams', () => {
    let worst = 0;
    for (const seed of SEEDS) {
      for (const name of ['uniform', 'skewed', 'peaked']) {
        const { exact, binned } = both(stream(seed, 20_000, DISTRIBUTIONS[name]!, 0), { maxDistinctScores: 1000 });
        worst = Math.max(worst, Math.abs(binned.pr_auc! - exact.pr_auc!));
      }
    }
    // Measured (an empirical figure, not a bound) over these 15 streams of 20,000 with 1,000 bins:
    // at most 1.7e-3 (peaked; uniform 3.7e-4, skewed 4.8e-4). With 100 bins it is several times larger.
    expect(worst).toBeLessThan(0.02);
  });
});
