/**
 * Mergeable regression partials (core/metrics/regression-partial.ts,
 * core/evaluate/window-partial.ts): a regression stream with corrections
 * (each reverting the label in force), split into k shards by prediction id
 * (Kafka's partitioner), one partial per shard, merged and derived, gives
 * the unsharded stream's figures: the count exactly, the error sums within
 * sumTolerance, the labels' mean and centred squares within momentTolerance,
 * count, mae, rmse, mape and r2 within regressionTolerance (bench/shards.ts).
 * Merge commutative bit for bit, associative within the bounds, the empty
 * partial its identity; the same through the evaluator (a challenger's shadow scores too). Hand-computed first.
 * Seeds: see test/support/properties.ts (FC_SEED replays a failure).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { partitionForKey } from '../../adapters/transport/partitioner.js';
import { compareMerged, mergeRuns, regressionTolerance, runEvaluator, shard, type RegressionBounds } from '../../bench/shards.js';
import { mergeWindowPartials, windowFigures, type EvaluatorOptions, type WindowPartial } from '../../core/evaluate/index.js';
import {
  RegressionMetrics, deriveRegressionPartial, emptyBinaryPartial, emptyRegressionPartial, mergeRegressionPartials, momentTolerance, regressionPartialOf, sumTolerance,
  type RegressionObservation, type RegressionPartial,
} from '../../core/metrics/index.js';
import { HOUR, streamOf, type Event } from '../support/generated-stream.js';
import { runs } from '../support/properties.js';

const partialOf = (m: RegressionMetrics) => regressionPartialOf(m.toState());
const metricsOf = (os: Array<[label: number, score: number]>) => {
  const m = new RegressionMetrics();
  for (const [label, score] of os) m.update({ label, score });
  return m;
};

describe('regression partials: hand-computed', () => {
  // Shard A: (y 1, ŷ 2), (y 3, ŷ 3); shard B: (y 5, ŷ 2), (y 7, ŷ 9). Errors 1, 0, -3, 2.
  const a = metricsOf([[1, 2], [3, 3]]);
  const b = metricsOf([[5, 2], [7, 9]]);

  it('two shards of two examples: count, mae, rmse, r2, mape of the four', () => {
    const merged = mergeRegressionPartials(partialOf(a), partialOf(b));
    expect([merged.n, merged.absErrorSum, merged.squaredErrorSum, merged.labelMean, merged.labelSquares]).toEqual([4, 6, 14, 4, 20]);
    const f = deriveRegressionPartial(merged);
    expect(f.count).toBe(4);
    expect(f.mae).toBe(1.5);
    expect(f.rmse).toBe(Math.sqrt(3.5));
    // SST = (1-4)² + (3-4)² + (5-4)² + (7-4)² = 20; R² = 1 - 14/20.
    expect(f.r2).toBeCloseTo(0.3, 15);
    expect(f.mape).toBeCloseTo((1 / 1 + 0 + 3 / 5 + 2 / 7) / 4, 15);
    expect(f).toEqual(metricsOf([[1, 2], [3, 3], [5, 2], [7, 9]]).get());
  });

  it('a correction reverts its example in its own shard: the merge counts the new label only', () => {
    const shardA = metricsOf([[1, 2], [3, 3]]);
    shardA.revert({ label: 1, score: 2 });
    shardA.update({ label: 4, score: 2 }); // corrected: y was 4 (error -2)
    const f = deriveRegressionPartial(mergeRegressionPartials(partialOf(shardA), partialOf(b)));
    expect([f.count, f.mae]).toEqual([4, (2 + 0 + 3 + 2) / 4]);
    // Labels 4, 3, 5, 7: mean 4.75, SST 8.75; SSE 4 + 0 + 9 + 4 = 17.
    expect(f.r2).toBeCloseTo(1 - 17 / 8.75, 14);
  });

  it('an empty shard leaves the other; labels that do not vary give r2 null merged too', () => {
    const p = partialOf(a);
    expect(mergeRegressionPartials(p, emptyRegressionPartial())).toEqual(p);
    expect(mergeRegressionPartials(emptyRegressionPartial(), p)).toEqual(p);
    const flat = mergeRegressionPartials(partialOf(metricsOf([[2.5, 1], [2.5, 3]])), partialOf(metricsOf([[2.5, 2]])));
    expect(deriveRegressionPartial(flat).r2).toBeNull();
    expect(deriveRegressionPartial(emptyRegressionPartial())).toEqual(new RegressionMetrics().get());
  });

  it('window partials: a regression window merges with one of its kind only', () => {
    const window = (metric: WindowPartial['metric']): WindowPartial => ({ metric, labelled: 0, expired: 0, delay: null, lastTimestamp: 0 });
    const merged = mergeWindowPartials(window(partialOf(a)), window(partialOf(b)), 0.01);
    expect(windowFigures(merged, 0.01)).toEqual(deriveRegressionPartial(mergeRegressionPartials(partialOf(a), partialOf(b))));
    expect(() => mergeWindowPartials(window(partialOf(a)), window(emptyBinaryPartial(10, 10)), 0.01)).toThrow(/regression partial against a binary/);
  });
});

interface Step {
  pid: number;
  label: number;
  score: number;
}

// Labels and scores: arbitrary doubles of a range, values on a grid (ties, labels that do not vary), a large-mean cluster, zero (mape's epsilon),
// subnormals (gradual underflow: a CI run found -2.5e-323, whose square is 0 while Welford's centred squares kept 5e-324).
const valueArb = fc.oneof(
  fc.double({ min: -1000, max: 1000, noNaN: true }),
  fc.constantFrom(0, 1, 2.5, -3, 100),
  fc.double({ min: 99_990, max: 100_010, noNaN: true }),
  fc.integer({ min: -64, max: 64 }).map((i) => i * Number.MIN_VALUE),
);
const stepsArb = fc.array(fc.record({ pid: fc.nat(25), label: valueArb, score: valueArb }), { maxLength: 150 });

/** What the tolerances need of the terms played (updates and reverts). */
interface Terms {
  terms: number;
  abs: number;
  squares: number;
  percent: number;
  label: number;
  squaredLabel: number;
  bounds: RegressionBounds;
}

/** Plays steps into k shards (by the prediction id's partition) and the whole stream; a correction keeps its prediction (score). */
function play(steps: Step[], k: number) {
  const inForce = new Map<number, RegressionObservation>();
  const shards = Array.from({ length: k }, () => new RegressionMetrics());
  const whole = new RegressionMetrics();
  const t: Terms = { terms: 0, abs: 0, squares: 0, percent: 0, label: 0, squaredLabel: 0, bounds: { error: 0, label: 0, minLabel: Infinity } };
  const count = (o: RegressionObservation) => {
    const e = Math.abs(o.score - o.label);
    t.terms++;
    t.abs += e;
    t.squares += e * e;
    t.percent += e / Math.max(Math.abs(o.label), Number.EPSILON);
    t.label += Math.abs(o.label);
    t.squaredLabel += o.label * o.label;
    t.bounds = { error: Math.max(t.bounds.error, e), label: Math.max(t.bounds.label, Math.abs(o.label)), minLabel: Math.min(t.bounds.minLabel, Math.abs(o.label)) };
  };
  for (const s of steps) {
    const old = inForce.get(s.pid);
    const o: RegressionObservation = { label: s.label, score: old?.score ?? s.score };
    const own = shards[partitionForKey(Buffer.from(String(s.pid)), k)]!;
    for (const m of [own, whole]) {
      if (old) m.revert(old);
      m.update(o);
    }
    if (old) count(old);
    count(o);
    inForce.set(s.pid, o);
  }
  return { shards, whole, t };
}

const mergeAll = (ps: RegressionPartial[]) => ps.reduce((a, b) => mergeRegressionPartials(a, b), emptyRegressionPartial());

/** The merged partial's sums against the reference's, each within its bound. */
function expectSumsClose(merged: RegressionPartial, reference: RegressionPartial, t: Terms): void {
  expect(merged.n).toBe(reference.n);
  expect(Math.abs(merged.absErrorSum - reference.absErrorSum)).toBeLessThanOrEqual(sumTolerance(t.terms, t.abs));
  expect(Math.abs(merged.squaredErrorSum - reference.squaredErrorSum)).toBeLessThanOrEqual(sumTolerance(t.terms, t.squares));
  expect(Math.abs(merged.percentSum - reference.percentSum)).toBeLessThanOrEqual(sumTolerance(t.terms, t.percent));
  const moments = momentTolerance(t.terms, t.label, t.squaredLabel, reference.n);
  expect(Math.abs(merged.labelMean - reference.labelMean)).toBeLessThanOrEqual(moments.mean);
  expect(Math.abs(merged.labelSquares - reference.labelSquares)).toBeLessThanOrEqual(moments.squares);
}

describe('regression partials: property', () => {
  it('k shards by prediction id, merged: the unsharded sums and figures (floats within their bounds)', () => {
    let r2Compared = 0;
    fc.assert(
      fc.property(stepsArb, fc.integer({ min: 1, max: 5 }), (steps, k) => {
        const { shards, whole, t } = play(steps, k);
        const merged = mergeAll(shards.map(partialOf));
        const reference = partialOf(whole);
        expectSumsClose(merged, reference, t);
        const f = deriveRegressionPartial(merged);
        const g = whole.get();
        expect(f.count).toBe(g.count);
        for (const name of ['mae', 'rmse', 'mape', 'r2'] as const) {
          const tolerance = regressionTolerance(name, reference, t.terms, t.bounds);
          if (tolerance === undefined) continue; // r2 of labels that barely vary (see regressionTolerance)
          if (name === 'r2') r2Compared++;
          if (g[name] === null) expect(f[name], name).toBeNull();
          else expect(Math.abs(f[name]! - g[name]), name).toBeLessThanOrEqual(tolerance);
        }
      }),
      runs(300),
    );
    expect(r2Compared).toBeGreaterThan(50);
  });

  it('merge is commutative (bit for bit), associative (n exactly, the rest within the bounds), with the empty partial as identity', () => {
    fc.assert(
      fc.property(stepsArb, (steps) => {
        const { shards, t } = play(steps, 3);
        const [a, b, c] = shards.map(partialOf) as [RegressionPartial, RegressionPartial, RegressionPartial];
        expect(mergeRegressionPartials(a, b)).toEqual(mergeRegressionPartials(b, a));
        expect(mergeRegressionPartials(a, emptyRegressionPartial())).toEqual(a);
        expectSumsClose(mergeRegressionPartials(mergeRegressionPartials(a, b), c), mergeRegressionPartials(a, mergeRegressionPartials(b, c)), t);
      }),
      runs(200),
    );
  });

  it('the bound is not vacuous: a shard left out is caught', () => {
    const steps = Array.from({ length: 40 }, (_, i) => ({ pid: i, label: (i * 7) % 13, score: (i * 5) % 11 }));
    const { shards, whole } = play(steps, 2);
    const f = deriveRegressionPartial(partialOf(shards[0]!));
    expect(f.count).toBeLessThan(whole.get().count);
    expect(deriveRegressionPartial(mergeAll(shards.map(partialOf))).count).toBe(whole.get().count);
  });
});

const EVALUATOR: Partial<EvaluatorOptions> = { kindOf: (model) => (model === 'eta' ? 'regression' : 'binary'), rollingSize: 20, rollingEmitEvery: 5 };

/** A regression model `eta`'s events: labels in [0.25, 125] (or none: expired), its score and its challenger's shadow score in [0, 250]. */
const eventArb: fc.Arbitrary<Event> = fc.record({
  model: fc.constant('eta'),
  pid: fc.nat(30),
  label: fc.oneof(fc.integer({ min: 1, max: 500 }).map((n) => n / 4), fc.constant(null)),
  score: fc.integer({ min: 0, max: 2000 }).map((n) => n / 8),
  shadow: fc.integer({ min: 0, max: 2000 }).map((n) => n / 8),
  region: fc.constantFrom('eu', 'us'),
  // Within 12 hours, labels within 6 hours: no window closes and no example is late in any shard (docs/scale-out.md).
  at: fc.integer({ min: 0, max: 12 * HOUR }),
  delay: fc.integer({ min: 0, max: 6 * HOUR }),
});

// Labels in [0.25, 125], scores and shadow scores in [0, 250]: |error| ≤ 250.
const BOUNDS: RegressionBounds = { error: 250, label: 125, minLabel: 0.25 };

describe('regression window partials: property through the evaluator', () => {
  it('k shards by prediction id, each through the evaluator, merged: every window of the unsharded evaluator, its partial and its points', () => {
    fc.assert(
      fc.property(fc.array(eventArb, { maxLength: 120 }), fc.integer({ min: 1, max: 4 }), fc.constantFrom(1, 7, 1000), (events, k, every) => {
        const stream = streamOf(events);
        const unsharded = runEvaluator(stream, EVALUATOR, every, true);
        const merged = mergeRuns(shard(stream, k).map((s) => runEvaluator(s, EVALUATOR, every, false).rows), 0.01);
        const c = compareMerged(merged, unsharded, 0.01, 2 * stream.length, BOUNDS);
        expect(c.mismatches).toEqual([]);
        expect(c.windows).toBe(unsharded.rows.size);
        expect(merged.size).toBe(unsharded.rows.size);
      }),
      runs(60),
    );
  });

  it('the regression windows are there, and a shard left out fails the check', () => {
    const events: Event[] = Array.from({ length: 40 }, (_, i) => ({ model: 'eta', pid: i, label: 1 + ((i * 37) % 100), score: (i * 13) % 90, shadow: (i * 7) % 90, region: i % 2 ? 'eu' : 'us', at: i * 60_000, delay: 1000 }));
    const stream = streamOf(events);
    const unsharded = runEvaluator(stream, EVALUATOR, 7, true);
    expect([...unsharded.rows.keys()].filter((key) => key.startsWith('eta\u0000')).length).toBeGreaterThan(3);
    expect([...unsharded.points.keys()].some((key) => key.endsWith('\u0000r2'))).toBe(true);
    const shards = shard(stream, 2).map((s) => runEvaluator(s, EVALUATOR, 7, false).rows);
    expect(compareMerged(mergeRuns(shards, 0.01), unsharded, 0.01, 2 * stream.length, BOUNDS).mismatches).toEqual([]);
    expect(compareMerged(mergeRuns([shards[0]!], 0.01), unsharded, 0.01, 2 * stream.length, BOUNDS).mismatches.length).toBeGreaterThan(0);
  });
});
