/**
 * Mergeable multi-class and multi-label partials (core/metrics/class-partial.ts,
 * core/evaluate/window-partial.ts): a class stream with corrections (chains of
 * them, each reverting the label in force; rejections corrected to a class and
 * back), split into k = 1–5 shards by prediction id (Kafka's partitioner), each
 * shard through the evaluator, the windows' partials merged: every window's
 * figures are the unsharded evaluator's points and its own partial's (counts,
 * every figure of counts, the confusion cells exactly; the float sums' figures
 * within floatTolerance, bench/shards.ts). Merge commutative bit for bit, the
 * empty partial its identity. Hand-computed first. Seeds: test/support/properties.ts.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compareMerged, mergeRuns, runEvaluator, shard } from '../../bench/shards.js';
import { mergeWindowPartials, windowFigureList, type EvaluatorOptions, type WindowPartial } from '../../core/evaluate/index.js';
import { MulticlassMetrics, MultilabelMetrics, mergeClassPartials, type ClassPartial } from '../../core/metrics/index.js';
import { CLASS_MODEL, CLASS_NAMES, classStreamOf, type ClassEvent } from '../support/generated-class-stream.js';
import { HOUR } from '../support/generated-stream.js';
import { runs } from '../support/properties.js';

const classes = [...CLASS_NAMES];
const windowOf = (metric: ClassPartial): WindowPartial => ({ metric, labelled: 0, expired: 0, delay: null, lastTimestamp: 0 });
const multiclass = (os: Array<[label: number, predicted: number, p: number[]]>) => {
  const m = new MulticlassMetrics(classes);
  for (const [label, predicted, probabilities] of os) m.update({ label, predicted, probabilities });
  return { kind: 'multiclass' as const, classes: m.toState(), head: null, numericTarget: null };
};
const figure = (p: ClassPartial, name: string, window = '1h') => new Map(windowFigureList(windowOf(p), 0.01, window)).get(name);

describe('class partials: hand-computed', () => {
  // Shard A: (spike → spike), (constructor → spike); shard B: (a|b] → a|b]), a rejection of spike.
  const a = multiclass([[0, 0, [0.7, 0.2, 0.1]], [1, 0, [0.5, 0.4, 0.1]]]);
  const b = multiclass([[2, 2, [0.1, 0.1, 0.8]], [-1, 0, [0.6, 0.3, 0.1]]]);

  it('two shards of two examples: counts, accuracy, per-class figures, kappa, the confusion cells of the four', () => {
    const merged = mergeClassPartials(a, b);
    expect(figure(merged, 'count')).toBe(4);
    expect(figure(merged, 'rejected')).toBe(1);
    expect(figure(merged, 'accuracy')).toBe(0.5); // 2 right of 4 (the rejection is wrong)
    // spike: predicted 3 times (one a rejection), right once: precision 1/3; recall 1/1.
    expect([figure(merged, 'precision[spike]'), figure(merged, 'recall[spike]'), figure(merged, 'support[spike]')]).toEqual([1 / 3, 1, 1]);
    expect([figure(merged, 'precision[constructor]'), figure(merged, 'recall[constructor]'), figure(merged, 'f1[constructor]')]).toEqual([null, 0, 0]);
    expect(figure(merged, 'f1[a|b]]')).toBe(1);
    // Known 3: kappa = 1 − Σ_{i≠j} C_ij / Σ_{i≠j} E_ij; predicted known (col sums) [2, 0, 1], truth (row sums) [1, 1, 1]:
    // off-diagonal expected = (3·3 − (2·1 + 0·1 + 1·1)) / 3 = 2, observed 1.
    expect(figure(merged, 'cohen_kappa')).toBeCloseTo(0.5, 15); // expected sums the fractions 2/3, 1/3, ...: rounded
    expect(figure(merged, 'log_loss')).toBeCloseTo(-(Math.log(0.7) + Math.log(0.4) + Math.log(0.8)) / 3, 14);
    expect(figure(merged, 'confusion[constructor|spike]', 'total')).toBe(1);
    expect(figure(merged, 'confusion[constructor|spike]')).toBeUndefined(); // a tumbling window writes no matrix
    const whole = multiclass([[0, 0, [0.7, 0.2, 0.1]], [1, 0, [0.5, 0.4, 0.1]], [2, 2, [0.1, 0.1, 0.8]], [-1, 0, [0.6, 0.3, 0.1]]]);
    expect(windowFigureList(windowOf(merged), 0.01, 'total')).toEqual(windowFigureList(windowOf(whole), 0.01, 'total'));
  });

  it('multi-label: per-label counts and the samples sums add up', () => {
    const labelled = (os: Array<[number[], number[], number[]]>): ClassPartial => {
      const m = new MultilabelMetrics(classes);
      for (const [t, d, p] of os) m.update({ labels: Uint8Array.from(t), predicted: Uint8Array.from(d), probabilities: p });
      return { kind: 'multilabel', classes: m.toState(), head: null, numericTarget: null };
    };
    const x: Array<[number[], number[], number[]]> = [[[1, 0, 0], [1, 0, 0], [0.9, 0.1, 0.2]], [[1, 1, 0], [1, 0, 0], [0.8, 0.4, 0.3]]];
    const y: Array<[number[], number[], number[]]> = [[[0, 0, 0], [0, 0, 1], [0.1, 0.3, 0.7]]];
    const merged = mergeClassPartials(labelled(x), labelled(y));
    expect(figure(merged, 'count')).toBe(3);
    expect(figure(merged, 'subset_accuracy')).toBe(1 / 3);
    expect(figure(merged, 'hamming_loss')).toBe(2 / 9);
    expect([figure(merged, 'support[spike]'), figure(merged, 'support[constructor]'), figure(merged, 'recall[constructor]')]).toEqual([2, 1, 0]);
    expect(windowFigureList(windowOf(merged), 0.01, 'total')).toEqual(windowFigureList(windowOf(labelled([...x, ...y])), 0.01, 'total'));
  });

  it('a merge refuses other classes, another kind or a binary partial', () => {
    const other = new MulticlassMetrics(['spike', 'constructor', 'x']);
    expect(() => mergeClassPartials(a, { kind: 'multiclass', classes: other.toState(), head: null, numericTarget: null })).toThrow(/classes/);
    expect(() => mergeClassPartials(a, { kind: 'multilabel', classes: new MultilabelMetrics(classes).toState(), head: null, numericTarget: null })).toThrow(/multilabel/);
    expect(() => mergeWindowPartials(windowOf(a), { ...windowOf(a), metric: { tp: 0, fp: 0, tn: 0, fn: 0, logLossSum: 0, brierSum: 0, scorePositives: new Float64Array(1), scoreNegatives: new Float64Array(1), calibration: { count: new Float64Array(1), score: new Float64Array(1), positive: new Float64Array(1) } } }, 0.01)).toThrow(/multiclass partial against a binary/);
  });
});

const probability = fc.integer({ min: 0, max: 20 }).map((n) => n / 20);
const eventArb = (kind: 'multiclass' | 'multilabel'): fc.Arbitrary<ClassEvent> =>
  fc.record({
    pid: fc.nat(30),
    truth: kind === 'multiclass' ? fc.oneof(fc.integer({ min: -1, max: 2 }), fc.constant(null)) : fc.oneof(fc.integer({ min: 0, max: 7 }), fc.constant(null)),
    decided: kind === 'multiclass' ? fc.integer({ min: 0, max: 2 }) : fc.integer({ min: 0, max: 7 }),
    scores: fc.array(probability, { minLength: 3, maxLength: 3 }),
    shadow: fc.array(probability, { minLength: 3, maxLength: 3 }),
    region: fc.constantFrom('eu', 'us'),
    // Within 12 hours, labels within 6 hours: no window closes and no example is late in any shard (docs/scale-out.md).
    at: fc.integer({ min: 0, max: 12 * HOUR }),
    delay: fc.integer({ min: 0, max: 6 * HOUR }),
  });

const options = (kind: 'multiclass' | 'multilabel'): Partial<EvaluatorOptions> => ({ kindOf: () => kind, classesOf: () => classes, rollingSize: 20, rollingEmitEvery: 5 });

for (const kind of ['multiclass', 'multilabel'] as const) {
  describe(`${kind} window partials: property through the evaluator`, () => {
    it('k = 1–5 shards by prediction id, each through the evaluator, merged: every window of the unsharded evaluator, its partial and its points', () => {
      let compared = 0;
      fc.assert(
        fc.property(fc.array(eventArb(kind), { maxLength: 120 }), fc.integer({ min: 1, max: 5 }), fc.constantFrom(1, 7, 1000), (events, k, every) => {
          const stream = classStreamOf(kind, events);
          const unsharded = runEvaluator(stream, options(kind), every, true);
          const merged = mergeRuns(shard(stream, k).map((s) => runEvaluator(s, options(kind), every, false).rows), 0.01);
          // A term of a sum per label for the multi-label log loss.
          const c = compareMerged(merged, unsharded, 0.01, 2 * stream.length * classes.length);
          expect(c.mismatches).toEqual([]);
          expect(c.windows).toBe(unsharded.rows.size);
          expect(merged.size).toBe(unsharded.rows.size);
          compared += c.figures_compared;
        }),
        runs(60),
      );
      expect(compared).toBeGreaterThan(1000);
    });

    it('merge is commutative bit for bit, with an empty shard as identity; a shard left out fails the check', () => {
      const events: ClassEvent[] = Array.from({ length: 60 }, (_, i) => ({
        pid: i, truth: kind === 'multiclass' ? (i % 5) - 1 : i % 8, decided: i % 3, scores: [(i % 7) / 7, (i % 3) / 3, 0.5], shadow: [0.2, 0.3, 0.5],
        region: i % 2 ? 'eu' : 'us', at: i * 60_000, delay: 1000,
      }));
      const stream = classStreamOf(kind, events);
      const unsharded = runEvaluator(stream, options(kind), 7, true);
      expect([...unsharded.rows.keys()].filter((key) => key.startsWith(`${CLASS_MODEL}\u0000`)).length).toBeGreaterThan(3);
      const shards = shard(stream, 2).map((s) => runEvaluator(s, options(kind), 7, false).rows);
      expect(compareMerged(mergeRuns(shards, 0.01), unsharded, 0.01, 2 * stream.length * 3).mismatches).toEqual([]);
      expect(compareMerged(mergeRuns([shards[0]!], 0.01), unsharded, 0.01, 2 * stream.length * 3).mismatches.length).toBeGreaterThan(0);
      for (const [key, row] of shards[0]!) {
        const other = shards[1]!.get(key);
        if (!other) continue;
        const [x, y] = [row.partial.metric as ClassPartial, other.partial.metric as ClassPartial];
        expect(mergeClassPartials(x, y)).toEqual(mergeClassPartials(y, x));
      }
      const two = mergeRuns(shards, 0.01);
      const withEmpty = mergeRuns([...shards, new Map()], 0.01);
      expect([...withEmpty.entries()]).toEqual([...two.entries()]);
    });
  });
}
