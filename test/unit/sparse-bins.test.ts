/**
 * The sparse form of a partial's bins (core/metrics/sparse-bins.ts) and the
 * metric_partials row of a window partial (adapters/clickhouse/partial-rows.ts):
 * dense -> sparse -> dense gives the arrays back, the sparse form holds the
 * non-zero bins only, ascending; a row through JSON (as ClickHouse takes and
 * gives it) gives the shard's partial back.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { metricPartialRow, shardPartialOf } from '../../adapters/clickhouse/index.js';
import { Evaluator, shardPartialRow } from '../../core/evaluate/index.js';
import { type LabelledExample, noExampleClasses } from '../../core/events.js';
import { denseBins, sparseBins } from '../../core/metrics/index.js';
import { runs } from '../support/properties.js';

/** Bin values, mostly zero, with integers, fractions and negatives (a float sum's residue). */
const binValue = fc.oneof({ weight: 6, arbitrary: fc.constant(0) }, { weight: 2, arbitrary: fc.integer({ min: 1, max: 50 }) }, { weight: 1, arbitrary: fc.double({ min: -1e3, max: 1e3, noNaN: true }) });
const arraysArb = fc.integer({ min: 0, max: 60 }).chain((length) =>
  fc.array(fc.array(binValue, { minLength: length, maxLength: length }).map((a) => Float64Array.from(a, (x) => (Object.is(x, -0) ? 0 : x))), { minLength: 1, maxLength: 3 }),
);

describe('sparse bins', () => {
  it('hand case: the non-zero bins of either array, ascending, with both arrays at them', () => {
    const sparse = sparseBins([Float64Array.from([0, 2, 0, 0, 1]), Float64Array.from([0, 0, 0, 3, 1])]);
    expect(sparse).toEqual({ bins: [1, 3, 4], values: [[2, 0, 1], [0, 3, 1]] });
    expect(denseBins(sparse, 5)).toEqual([Float64Array.from([0, 2, 0, 0, 1]), Float64Array.from([0, 0, 0, 3, 1])]);
  });

  it('round trip: dense(sparse(arrays)) = arrays; only the non-zero bins are kept', () => {
    fc.assert(
      fc.property(arraysArb, (arrays) => {
        const sparse = sparseBins(arrays);
        const length = arrays[0]!.length;
        expect(denseBins(sparse, length)).toEqual(arrays);
        const nonZero = Array.from({ length }, (_, b) => b).filter((b) => arrays.some((a) => a[b] !== 0));
        expect(sparse.bins).toEqual(nonZero);
        // Through JSON, as a row goes to ClickHouse and back.
        expect(denseBins(JSON.parse(JSON.stringify(sparse)), length)).toEqual(arrays);
      }),
      runs(200),
    );
  });

  it('refuses a bin out of range and arrays of unequal lengths', () => {
    expect(() => denseBins({ bins: [5], values: [[1]] }, 5)).toThrow(/bin 5/);
    expect(() => denseBins({ bins: [1, 2], values: [[1]] }, 5)).toThrow(/2 bins, 1 values/);
    expect(() => sparseBins([new Float64Array(2), new Float64Array(3)])).toThrow(/lengths 2, 3/);
  });
});

const T0 = 1_763_942_400_000;

function example(i: number, label: number | null): LabelledExample {
  const timestamp = T0 + i * 60_000;
  const labelled = label !== null;
  return {
    example_id: `p${i}#1`, prediction_id: `p${i}`, model: 'm', model_version: 'v1', timestamp, features: {}, categorical: {}, segments: {},
    score: (i * 37 % 100) / 100, threshold: 0.5, label, feedback_type: labelled ? 'USER_CONFIRMED' : null, source: labelled ? 'u' : null,
    feedback_timestamp: labelled ? timestamp + 1000 * (i + 1) : null, label_delay_ms: labelled ? 1000 * (i + 1) : null, correction_of: null, replaces: null, arrival: false,
    shadow_scores: { 'm/lr@1': 0.3 }, ...noExampleClasses(),
  };
}

describe('metric_partials rows', () => {
  it("a window partial's row, through JSON, gives the shard's partial back (champion with label delays, challenger without)", () => {
    const evaluator = new Evaluator({ aucExactLimit: 5, aucBins: 20 });
    for (let i = 0; i < 40; i++) evaluator.onExample(example(i, i % 7 === 0 ? null : i % 3 === 0 ? 1 : 0));
    const rows = evaluator.partials().map((p) => shardPartialRow(evaluator.options, p, 3));
    expect(new Set(rows.map((r) => r.role))).toEqual(new Set(['champion', 'challenger']));
    for (const r of rows) {
      const row = metricPartialRow(r, 17, 1_000);
      expect(row.score_bins.length).toBeLessThan(20);
      expect(row.score_bins.length).toBe(row.score_positives.length);
      expect(shardPartialOf(JSON.parse(JSON.stringify(row)))).toEqual(r);
    }
  });
});
