/**
 * Mergeable partial figures (core/metrics/binary-partial.ts,
 * core/evaluate/window-partial.ts): a stream of labelled examples, with
 * corrections that revert the example they replace, split into k shards by
 * prediction id (Kafka's partitioner), one partial per shard, merged and
 * derived, gives the unsharded stream's figures: the counts, bins and the
 * figures of them exactly, the float sums within sumTolerance (summation
 * order), the binned AUC within its error bound of the exact one. Merge is
 * commutative, associative (floats within the tolerance) and has the empty
 * partial as identity. Hand-computed cases first.
 * Seeds: see test/support/properties.ts (FC_SEED replays a failure).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { partitionForKey } from '../../adapters/transport/partitioner.js';
import { compareMerged, mergeRuns, runEvaluator, shard } from '../../bench/shards.js';
import { mergeWindowPartials, windowFigures, type EvaluatorOptions, type WindowPartial } from '../../core/evaluate/index.js';
import {
  BinaryMetrics, LOG_LOSS_EPSILON, QuantileSketch, binaryPartialOf, deriveBinaryPartial, emptyBinaryPartial, mergeBinaryPartials, partialReliability, sumTolerance,
  type BinaryMetricsOptions, type BinaryObservation, type BinaryPartial,
} from '../../core/metrics/index.js';
import { HOUR, streamOf, type Event } from '../support/generated-stream.js';
import { runs } from '../support/properties.js';

const CALIBRATION = 10;
const partialOf = (m: BinaryMetrics, bins: number) => binaryPartialOf(m.toState(), bins);
const mergeAll = (ps: BinaryPartial[], bins: number) => ps.reduce((a, b) => mergeBinaryPartials(a, b), emptyBinaryPartial(CALIBRATION, bins));
const metricsOf = (os: BinaryObservation[], options: BinaryMetricsOptions = {}) => {
  const m = new BinaryMetrics(CALIBRATION, options);
  for (const o of os) m.update(o);
  return m;
};
const obs = (label: number, score: number): BinaryObservation => ({ label, score, threshold: 0.5 });

describe('binary partials: hand-computed', () => {
  // Shard A: a positive at 0.9 (tp), a negative at 0.2 (tn); shard B: a positive at 0.4 (fn), a negative at 0.6 (fp).
  const a = [obs(1, 0.9), obs(0, 0.2)];
  const b = [obs(1, 0.4), obs(0, 0.6)];

  it('two shards of two examples: counts, sums, AUCs and ECE of the four', () => {
    const merged = mergeBinaryPartials(partialOf(metricsOf(a), 10), partialOf(metricsOf(b), 10));
    const f = deriveBinaryPartial(merged);
    expect([f.count, f.positives, f.tp, f.fp, f.tn, f.fn]).toEqual([4, 2, 1, 1, 1, 1]);
    expect([f.accuracy, f.precision, f.recall, f.f1, f.specificity, f.mcc]).toEqual([0.5, 0.5, 0.5, 0.5, 0.5, 0]);
    expect(f.log_loss).toBeCloseTo((-Math.log(0.9) - Math.log(0.8) - Math.log(0.4) - Math.log(0.4)) / 4, 14);
    expect(f.brier).toBeCloseTo((0.01 + 0.04 + 0.36 + 0.36) / 4, 14);
    // Bins 9, 2, 4, 6 of 10: no ties, so the binned AUC is the exact one: 3 of the 4 pairs ordered.
    expect(f.auc_binned).toBe(0.75);
    expect(f.auc_binned_error_bound).toBe(0);
    // Average precision: 0.9 (recall 0.5, precision 1), 0.6 (no recall gained), 0.4 (recall 1, precision 2/3).
    expect(f.pr_auc_binned).toBeCloseTo(0.5 + 1 / 3, 14);
    // One example per calibration bin: (|0.9 - 1| + |0.2 - 0| + |0.4 - 1| + |0.6 - 0|) / 4.
    expect(f.ece).toBeCloseTo(1.5 / 4, 14);
    expect(partialReliability(merged).map((r) => r.count)).toEqual([0, 0, 1, 0, 1, 0, 1, 0, 0, 1]);
  });

  it('with 2 score bins the AUC is binned: 0.5 where the exact is 0.75, and the bound says 0.25', () => {
    const f = deriveBinaryPartial(mergeBinaryPartials(partialOf(metricsOf(a), 2), partialOf(metricsOf(b), 2)));
    // Bin [0, 0.5): 0.2 (neg), 0.4 (pos), one tie; bin [0.5, 1]: 0.6 (neg), 0.9 (pos), one tie; 0.9 over 0.2 ordered.
    expect(f.auc_binned).toBe((1 + 0.5 + 0.5) / 4);
    expect(f.auc_binned_error_bound).toBe((0.5 * (1 + 1)) / 4);
    expect(metricsOf([...a, ...b]).get().roc_auc).toBe(0.75);
  });

  it('a correction reverts its example in its own shard: the merge counts the new label only', () => {
    const shardA = metricsOf(a);
    shardA.revert(obs(1, 0.9));
    shardA.update(obs(0, 0.9)); // corrected: the positive at 0.9 was a negative (now fp)
    const f = deriveBinaryPartial(mergeBinaryPartials(partialOf(shardA, 10), partialOf(metricsOf(b), 10)));
    expect([f.count, f.positives, f.tp, f.fp, f.tn, f.fn]).toEqual([4, 1, 0, 2, 1, 1]);
    expect(f.brier).toBeCloseTo((0.81 + 0.04 + 0.36 + 0.36) / 4, 14);
    // Positive 0.4 against negatives 0.9, 0.6, 0.2: one of three pairs ordered.
    expect(f.auc_binned).toBeCloseTo(1 / 3, 15);
  });

  it('a binned shard and an exact shard merge into the same bins', () => {
    const bins = 10;
    const binned = metricsOf(a, { maxDistinctScores: 1, scoreBins: bins });
    expect(binned.approximate).toBe(true);
    const merged = mergeBinaryPartials(partialOf(binned, bins), partialOf(metricsOf(b), bins));
    expect(merged).toEqual(partialOf(metricsOf([...a, ...b]), bins));
  });

  it('refuses to merge partials of different bins, and a binned state of other bins', () => {
    expect(() => mergeBinaryPartials(emptyBinaryPartial(10, 10), emptyBinaryPartial(10, 20))).toThrow(/score/);
    expect(() => binaryPartialOf(metricsOf(a, { maxDistinctScores: 1, scoreBins: 5 }).toState(), 10)).toThrow(/5 score bins/);
  });

  it('window partials: labels, expired, label delays (sketch) and the last timestamp merge', () => {
    const window = (delays: number[], expired: number, last: number): WindowPartial => {
      const sketch = new QuantileSketch(0.01);
      for (const d of delays) sketch.update(d);
      return { metric: emptyBinaryPartial(CALIBRATION, 10), labelled: delays.length, expired, delay: sketch.toState(), lastTimestamp: last };
    };
    const merged = mergeWindowPartials(window([1000, 2000], 1, 50), window([3000], 0, 40), 0.01);
    const f = windowFigures(merged, 0.01);
    expect([f.labelled, f.expired, f.label_coverage, merged.lastTimestamp]).toEqual([3, 1, 0.75, 50]);
    // Lower median of 1000, 2000, 3000 is 2000: the sketch's bucket value, within 1%.
    expect(Math.abs(f.label_delay_p50! - 2000)).toBeLessThanOrEqual(20);
    expect(f.label_delay_p50).toBe(windowFigures(window([1000, 2000, 3000], 1, 50), 0.01).label_delay_p50);
    expect(() => mergeWindowPartials(window([1], 0, 0), { ...window([1], 0, 0), delay: null }, 0.01)).toThrow(/one side/);
  });
});

/** One step of a stream: a label for prediction `pid` (its first, or a correction of the label in force). */
interface Step {
  pid: number;
  label: number;
  score: number;
  threshold: number;
}

const scoreArb = fc.oneof(fc.double({ min: 0, max: 1, noNaN: true }), fc.constantFrom(0, 1, 0.5, 0.25, 0.999));
const stepsArb = fc.array(fc.record({ pid: fc.nat(25), label: fc.constantFrom(0, 1), score: scoreArb, threshold: fc.constantFrom(0.3, 0.5) }), { maxLength: 150 });

/** Plays steps into k shards (by the prediction id's partition), the whole stream, and an always-exact whole: what the sums' tolerance needs too. */
function play(steps: Step[], k: number, options: BinaryMetricsOptions) {
  const inForce = new Map<number, BinaryObservation>();
  const shards = Array.from({ length: k }, () => new BinaryMetrics(CALIBRATION, options));
  const whole = new BinaryMetrics(CALIBRATION, options);
  const exact = new BinaryMetrics(CALIBRATION);
  const abs = { terms: 0, logLoss: 0, brier: 0, score: 0 };
  const count = (o: BinaryObservation) => {
    const p = Math.min(1 - LOG_LOSS_EPSILON, Math.max(LOG_LOSS_EPSILON, o.score));
    abs.terms++;
    abs.logLoss += -Math.log(o.label === 1 ? p : 1 - p);
    abs.brier += (o.score - o.label) ** 2;
    abs.score += o.score;
  };
  for (const s of steps) {
    const old = inForce.get(s.pid);
    // A correction keeps its prediction (score and threshold); only the label changes.
    const o: BinaryObservation = { label: s.label, score: old?.score ?? s.score, threshold: old?.threshold ?? s.threshold };
    const own = shards[partitionForKey(Buffer.from(String(s.pid)), k)]!;
    for (const m of [own, whole, exact]) {
      if (old) m.revert(old);
      m.update(o);
    }
    if (old) count(old);
    count(o);
    inForce.set(s.pid, o);
  }
  return { shards, whole, exact, abs };
}

const optionsArb = fc.record({ maxDistinctScores: fc.constantFrom(1, 4, 200, Infinity), scoreBins: fc.constantFrom(1, 7, 1000) });

describe('binary partials: property', () => {
  it('k shards by prediction id, merged: the unsharded partial and figures (floats within the summation bound)', () => {
    fc.assert(
      fc.property(stepsArb, fc.integer({ min: 1, max: 5 }), optionsArb, (steps, k, options) => {
        const bins = options.scoreBins;
        const { shards, whole, exact, abs } = play(steps, k, options);
        const merged = mergeAll(shards.map((m) => partialOf(m, bins)), bins);
        const reference = partialOf(whole, bins);
        expect([merged.tp, merged.fp, merged.tn, merged.fn]).toEqual([reference.tp, reference.fp, reference.tn, reference.fn]);
        expect(merged.scorePositives).toEqual(reference.scorePositives);
        expect(merged.scoreNegatives).toEqual(reference.scoreNegatives);
        expect(merged.calibration.count).toEqual(reference.calibration.count);
        expect(merged.calibration.positive).toEqual(reference.calibration.positive);
        expect(Math.abs(merged.logLossSum - reference.logLossSum)).toBeLessThanOrEqual(sumTolerance(abs.terms, abs.logLoss));
        expect(Math.abs(merged.brierSum - reference.brierSum)).toBeLessThanOrEqual(sumTolerance(abs.terms, abs.brier));
        merged.calibration.score.forEach((s, b) => expect(Math.abs(s - reference.calibration.score[b]!)).toBeLessThanOrEqual(sumTolerance(abs.terms, abs.score)));

        const f = deriveBinaryPartial(merged);
        const g = whole.get();
        for (const name of ['count', 'positives', 'tp', 'fp', 'tn', 'fn', 'accuracy', 'precision', 'recall', 'f1', 'specificity', 'fpr', 'fnr', 'mcc'] as const) expect(f[name]).toBe(g[name]);
        const n = Math.max(1, g.count);
        const slack = (x: number | null) => 4 * Number.EPSILON * Math.abs(x ?? 0);
        if (g.log_loss === null) expect(f.log_loss).toBeNull();
        else expect(Math.abs(f.log_loss! - g.log_loss)).toBeLessThanOrEqual(sumTolerance(abs.terms, abs.logLoss) / n + slack(g.log_loss));
        if (g.brier === null) expect(f.brier).toBeNull();
        else expect(Math.abs(f.brier! - g.brier)).toBeLessThanOrEqual(sumTolerance(abs.terms, abs.brier) / n + slack(g.brier));
        if (g.ece === null) expect(f.ece).toBeNull();
        else expect(Math.abs(f.ece! - g.ece)).toBeLessThanOrEqual(sumTolerance(abs.terms, abs.score) / n + 32 * Number.EPSILON);
        // The binned AUCs: bit for bit those of the unsharded bins, the binned metric's own when it switched, within the bound of the exact AUC.
        const r = deriveBinaryPartial(reference);
        expect([f.auc_binned, f.auc_binned_error_bound, f.pr_auc_binned]).toEqual([r.auc_binned, r.auc_binned_error_bound, r.pr_auc_binned]);
        if (whole.approximate) expect([f.auc_binned, f.auc_binned_error_bound, f.pr_auc_binned]).toEqual([g.roc_auc, g.roc_auc_error_bound, g.pr_auc]);
        const exactAuc = exact.get().roc_auc;
        if (exactAuc === null) expect(f.auc_binned).toBeNull();
        else expect(Math.abs(f.auc_binned! - exactAuc)).toBeLessThanOrEqual(f.auc_binned_error_bound! + 1e-12);
      }),
      runs(300),
    );
  });

  it('merge is commutative (bit for bit), associative (counts and bins exactly, sums within the bound), with the empty partial as identity', () => {
    fc.assert(
      fc.property(stepsArb, optionsArb, (steps, options) => {
        const bins = options.scoreBins;
        const { shards, abs } = play(steps, 3, options);
        const [a, b, c] = shards.map((m) => partialOf(m, bins)) as [BinaryPartial, BinaryPartial, BinaryPartial];
        expect(mergeBinaryPartials(a, b)).toEqual(mergeBinaryPartials(b, a));
        expect(mergeBinaryPartials(a, emptyBinaryPartial(CALIBRATION, bins))).toEqual(a);
        const left = mergeBinaryPartials(mergeBinaryPartials(a, b), c);
        const right = mergeBinaryPartials(a, mergeBinaryPartials(b, c));
        expect({ ...left, logLossSum: 0, brierSum: 0, calibration: { ...left.calibration, score: null } }).toEqual({ ...right, logLossSum: 0, brierSum: 0, calibration: { ...right.calibration, score: null } });
        expect(Math.abs(left.logLossSum - right.logLossSum)).toBeLessThanOrEqual(sumTolerance(abs.terms, abs.logLoss));
        expect(Math.abs(left.brierSum - right.brierSum)).toBeLessThanOrEqual(sumTolerance(abs.terms, abs.brier));
        left.calibration.score.forEach((s, i) => expect(Math.abs(s - right.calibration.score[i]!)).toBeLessThanOrEqual(sumTolerance(abs.terms, abs.score)));
      }),
      runs(200),
    );
  });
});

/**
 * The evaluator's options for the sharded runs: the defaults' windows (total,
 * 1h, 1d, last_1000) and join window (7 days), few exact scores and coarse
 * bins (so windows switch, and the binned AUC differs from the exact one).
 */
const EVALUATOR: Partial<EvaluatorOptions> = { aucExactLimit: 4, aucBins: 10, rollingSize: 20, rollingEmitEvery: 5 };

/** One event of a generated stream: a prediction's first example (labelled, or expired when label is null) or a correction of its label in force. */
const eventArb: fc.Arbitrary<Event> = fc.record({
  model: fc.constantFrom('hot', 'cold'),
  pid: fc.nat(30),
  label: fc.constantFrom(0, 1, 1, 0, null),
  score: scoreArb,
  shadow: scoreArb,
  region: fc.constantFrom('eu', 'us'),
  // Within 12 hours, labels within 6 hours of their prediction: with the 7-day join window no window closes and
  // no example is late in any shard (a shard's watermark is its own: see docs/scale-out.md).
  at: fc.integer({ min: 0, max: 12 * HOUR }),
  delay: fc.integer({ min: 0, max: 6 * HOUR }),
});

describe('window partials: property through the evaluator', () => {
  it('k shards by prediction id, each through the evaluator, merged: every window of the unsharded evaluator, its partial and its points', () => {
    fc.assert(
      fc.property(fc.array(eventArb, { maxLength: 120 }), fc.integer({ min: 1, max: 4 }), fc.constantFrom(1, 7, 1000), (events, k, every) => {
        const stream = streamOf(events);
        const unsharded = runEvaluator(stream, EVALUATOR, every, true);
        const merged = mergeRuns(shard(stream, k).map((s) => runEvaluator(s, EVALUATOR, every, false).rows), 0.01);
        const c = compareMerged(merged, unsharded, 0.01, 2 * stream.length);
        expect(c.mismatches).toEqual([]);
        expect(c.windows).toBe(unsharded.rows.size);
        expect(merged.size).toBe(unsharded.rows.size);
      }),
      runs(60),
    );
  });

  it('the check fails when a shard is left out (it could fail)', () => {
    const events = Array.from({ length: 40 }, (_, i) => ({ model: 'hot', pid: i, label: i % 3 === 0 ? 1 : 0, score: (i * 37 % 100) / 100, shadow: 0.5, region: i % 2 ? 'eu' : 'us', at: i * 60_000, delay: 1000 }));
    const stream = streamOf(events);
    const unsharded = runEvaluator(stream, EVALUATOR, 7, true);
    const shards = shard(stream, 2).map((s) => runEvaluator(s, EVALUATOR, 7, false).rows);
    expect(shards[0]!.size).toBeGreaterThan(0);
    expect(compareMerged(mergeRuns(shards, 0.01), unsharded, 0.01, 2 * stream.length).mismatches).toEqual([]);
    expect(compareMerged(mergeRuns([shards[0]!], 0.01), unsharded, 0.01, 2 * stream.length).mismatches.length).toBeGreaterThan(0);
  });
});
