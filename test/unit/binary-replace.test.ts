/**
 * BinaryMetrics.replace (a sliding window's step: revert the oldest, add the
 * newest) leaves exactly the state revert then update leave: the same
 * per-score arrays (ExactScores.tryReplace moves only the entries between
 * the two places), bit for bit the same sums, in exact and bounded metrics
 * (the switch to bins included), with ties, repeated scores and weights.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BinaryMetrics, Rolling, type BinaryFigures, type BinaryObservation } from '../../core/metrics/index.js';
import { runs } from '../support/properties.js';

/** Scores from a few values (ties, a score leaving as the same one comes) or anywhere in [0, 1]. */
const score = fc.oneof(fc.constantFrom(0, 0.25, 0.5, 0.75, 1), fc.double({ min: 0, max: 1, noNaN: true }));
const observation = fc.record({ label: fc.constantFrom(0, 1), score, threshold: fc.constant(0.5), weight: fc.constantFrom(undefined, 1, 2, 0.5) });

/** The same metric without replace: Rolling falls back to revert then update. */
function sequential(metric: BinaryMetrics): BinaryMetrics {
  return Object.assign(metric, { replace: undefined });
}

describe('BinaryMetrics.replace', () => {
  it('leaves the state revert then update leave', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 10 }), fc.constantFrom(Infinity, 3, 8), fc.array(observation, { maxLength: 120 }), (size, limit, observations) => {
        const options = { maxDistinctScores: limit, scoreBins: 20 };
        const stepped = new Rolling<BinaryObservation, BinaryFigures, BinaryMetrics>(new BinaryMetrics(10, options), size);
        const twice = new Rolling<BinaryObservation, BinaryFigures, BinaryMetrics>(sequential(new BinaryMetrics(10, options)), size);
        for (const o of observations) {
          stepped.update(o);
          twice.update(o);
          expect(stepped.toState((m) => m.toState())).toEqual(twice.toState((m) => m.toState()));
        }
        expect(stepped.get()).toEqual(twice.get());
      }),
      runs(300),
    );
  });

  it('moves the entries between the two places when the oldest score leaves and a new one comes', () => {
    const metric = new BinaryMetrics();
    const at = (score: number, label = 0) => ({ label, score, threshold: 0.5 });
    for (const s of [0.1, 0.3, 0.5, 0.7, 0.9]) metric.update(at(s));
    metric.replace(at(0.3), at(0.8, 1));
    metric.replace(at(0.9), at(0.2));
    expect(Array.from(metric.toState().scores.score)).toEqual([0.1, 0.2, 0.5, 0.7, 0.8]);
    expect(Array.from(metric.toState().scores.positives)).toEqual([0, 0, 0, 0, 1]);
    expect(Array.from(metric.toState().scores.negatives)).toEqual([1, 1, 1, 1, 0]);
  });
});
