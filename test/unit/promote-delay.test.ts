/**
 * The delay-aware promotion test (promoter.maturity, core/promote/maturity.ts)
 * on seeded streams where positives' labels come 1 to 4 days after their
 * prediction and negatives' within the hour, fed in label-arrival order
 * (bench/promotion-delay-sim.ts).
 */
import { describe, expect, it } from 'vitest';
import { delayedStream, HORIZON_MS, sharpenedBelowHalf } from '../../bench/promotion-delay-sim.js';
import { noisy } from '../../bench/promotion-sim.js';
import type { LabelledExample } from '../../core/events.js';
import { ConfidenceSequence, PromotionPolicy, type PolicyDecision, type PolicyOptions } from '../../core/promote/index.js';
import { MATURITY_BINS } from '../../core/promote/maturity.js';

const SEEDS = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
const PREDICTIONS = 20_000;

function decisions(examples: readonly LabelledExample[], options: Partial<PolicyOptions>): PolicyDecision[] {
  const policy = new PromotionPolicy('fraud', options);
  return examples.flatMap((x) => policy.observe(x));
}

/** PROMOTE decisions over the seeded streams of a champion and a challenger, with and without maturity. */
function promotions(champion: ReturnType<typeof noisy>, challenger: ReturnType<typeof noisy>) {
  const count = { today: 0, matured: 0, maturedOther: 0 };
  for (const seed of SEEDS) {
    const examples = delayedStream({ seed, predictions: PREDICTIONS, champion, challenger });
    count.today += decisions(examples, {}).filter((d) => d.decision === 'PROMOTE').length;
    const matured = decisions(examples, { maturityMs: HORIZON_MS });
    count.matured += matured.filter((d) => d.decision === 'PROMOTE').length;
    count.maturedOther += matured.filter((d) => d.decision !== 'PROMOTE').length;
  }
  return count;
}

describe('delay-aware promotion', () => {
  it('never replaces a true-model champion by a challenger that is better only on the fast-labelled negatives (today\'s test does)', () => {
    // The challenger pushes every score below 0.5 further down: better on negatives, worse overall.
    const count = promotions(noisy(0), sharpenedBelowHalf(0, 1));
    expect(count.today).toBe(10);
    expect(count.matured).toBe(0);
    expect(count.maturedOther).toBe(0);
  });

  it('still promotes a truly better challenger under the same delays', () => {
    const count = promotions(noisy(1), noisy(0.3));
    expect(count.matured).toBe(10);
    expect(count.maturedOther).toBe(0);
  });

  it('tests only matured examples, in prediction-time order: a label after its prediction matured is late, and the bins stay bounded', () => {
    const examples = delayedStream({ seed: 3, predictions: 12_000, champion: noisy(1), challenger: noisy(1) });
    const horizon = 2 * 24 * 3_600_000; // shorter than the positives' delays up to 4 days
    const policy = new PromotionPolicy('fraud', { maturityMs: horizon });
    let mostBins = 0;
    for (const x of examples) {
      policy.observe(x);
      mostBins = Math.max(mostBins, policy.toState().comparisons[0]?.pending?.length ?? 0);
      const state = policy.state();
      const c = state.challengers[0];
      if (c === undefined) continue;
      expect(c.n + c.maturing + state.counters.late + state.counters.unpaired).toBe(state.counters.labelled);
    }
    const { late, labelled } = policy.state().counters;
    const positivesLaterThanHorizon = examples.filter((x) => x.label === 1 && x.label_delay_ms! >= horizon + horizon / MATURITY_BINS).length;
    expect(late).toBeGreaterThanOrEqual(positivesLaterThanHorizon);
    expect(late).toBeLessThan(labelled);
    expect(mostBins).toBeLessThanOrEqual(MATURITY_BINS + 2);
    expect(mostBins).toBeGreaterThan(MATURITY_BINS / 2);
  });

  it('merging a bin gives the sequence of its differences added one by one', () => {
    const values = Array.from({ length: 50 }, (_, i) => Math.sin(i * 1.7) * 3 + (i % 7));
    const one = new ConfidenceSequence();
    for (const v of values) one.update(v);
    const merged = new ConfidenceSequence();
    for (const part of [values.slice(0, 13), values.slice(13, 14), values.slice(14)]) {
      const bin = new ConfidenceSequence();
      for (const v of part) bin.update(v);
      merged.merge(bin.count, bin.mean, bin.toState().squares);
    }
    expect(merged.count).toBe(one.count);
    expect(merged.mean).toBeCloseTo(one.mean, 12);
    expect(merged.variance).toBeCloseTo(one.variance, 12);
    expect(merged.lower(0.05)).toBeCloseTo(one.lower(0.05), 12);
  });

  it('maturity 0 is the test as labels arrive; a state from before maturity restores', () => {
    const examples = delayedStream({ seed: 5, predictions: 3000, champion: noisy(1), challenger: noisy(0.3) });
    const a = new PromotionPolicy('fraud', { maturityMs: 0 });
    const b = new PromotionPolicy('fraud');
    for (const x of examples) expect(a.observe(x)).toEqual(b.observe(x));
    expect(a.policy).toBe(b.policy);
    expect(a.policy).not.toMatch(/maturity/);
    const { clock: _clock, ...old } = b.toState();
    const before = { ...old, counters: { labelled: old.counters.labelled, unlabelled: old.counters.unlabelled, unpaired: old.counters.unpaired } };
    for (const c of before.comparisons) delete c.pending;
    const restored = PromotionPolicy.fromState('fraud', {}, before as never);
    expect(restored.state()).toEqual(b.state());
  });
});
