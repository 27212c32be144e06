/**
 * feedbackloop_partial_count (adapters/prometheus/partial-gauges.ts) of a
 * regression model: each shard exports its total window's weight n and
 * error sums (abs_error_sum, squared_error_sum, percent_sum), labelled and
 * expired for the champion. Two shards of one regression stream
 * (test/support/partials-stream.ts): each shard's series are its partials'
 * values; summed over shards n is the unsharded one exactly and the error
 * sums within a float sum's reordering bound, so the rules' mae, rmse and
 * mape are the unsharded figures; a shard no longer held loses its series;
 * a shard opened with its state restored exports its restored totals.
 */
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { partialGaugeSamples } from '../support/partial-gauge-samples.js';
import { evaluatorMetrics } from '../../adapters/prometheus/model-gauges.js';
import { REGRESSION_PARTIAL_STATS } from '../../adapters/prometheus/partial-gauges.js';
import { shard } from '../../bench/shards.js';
import { Evaluator, isRegressionPartial, shardPartialRow, type EvaluatorRows, type ShardPartialRow } from '../../core/evaluate/index.js';
import { deriveRegressionPartial, sumTolerance, type RegressionPartial } from '../../core/metrics/index.js';
import { interleaved, OPTIONS, REGRESSION_BOUNDS, regressionStream, shardRows, unsharded } from '../support/partials-stream.js';

const samples = partialGaugeSamples;

const examples = regressionStream();
const reference = unsharded(examples);
const shardExamples = shard(examples, 2);
const shards = shardExamples.map((s, i) => shardRows(s, i));
const evaluators = [new Evaluator(), new Evaluator()]; // stand-ins: the gauges only tell them apart
const NO_ROWS: EvaluatorRows = { points: [], drift: [], feedback: [], charts: [], examples: [], partials: [] };

function flushAll(hooks: ReturnType<typeof evaluatorMetrics>): void {
  for (const round of interleaved(shards)) hooks.flushed(evaluators, { ...NO_ROWS, partials: round.flatMap((r) => r.partials ?? []) }, 0.01, [0, 1]);
}

/** The last `total`, segment `*` partial each shard's flushes wrote, by role. */
function lastTotals(): Map<string, RegressionPartial> {
  const out = new Map<string, RegressionPartial>();
  for (const rows of shards) for (const r of rows) for (const p of r.partials ?? []) {
    const v: ShardPartialRow = p.value;
    if (v.window === 'total' && v.segment === '*' && isRegressionPartial(v.partial.metric)) out.set(`${v.shard}|${v.role}`, v.partial.metric);
  }
  return out;
}

/** A float sum's reordering bound over the stream's terms: fewer than 1000 (400 predictions; a correction is a revert and an apply), each |term| at most `bound`. */
const within = (bound: number) => sumTolerance(1000, 1000 * bound);

describe('feedbackloop_partial_count of a regression model', () => {
  it('per shard, its total partial\'s n and error sums; labelled and expired for the champion only', async () => {
    const registry = new Registry();
    flushAll(evaluatorMetrics(registry, { segments: false }));
    const all = await samples(registry);
    expect(new Set(all.map((s) => s.labels.shard))).toEqual(new Set(['0', '1']));
    expect(new Set(all.map((s) => s.labels.model))).toEqual(new Set(['eta']));
    const totals = lastTotals();
    let compared = 0;
    for (const [key, p] of totals) {
      const [shardId, role] = key.split('|');
      const expected: Record<string, number> = { n: p.n, abs_error_sum: p.absErrorSum, squared_error_sum: p.squaredErrorSum, percent_sum: p.percentSum };
      const got = all.filter((s) => s.labels.shard === shardId && s.labels.role === role);
      const stats = role === 'champion' ? REGRESSION_PARTIAL_STATS : REGRESSION_PARTIAL_STATS.filter((s) => s !== 'labelled' && s !== 'expired');
      expect(got.map((s) => s.labels.stat).sort()).toEqual([...stats].sort());
      for (const s of got) if (String(s.labels.stat) in expected) {
        expect(s.value, `${key} ${String(s.labels.stat)}`).toBe(expected[s.labels.stat as string]);
        compared++;
      }
    }
    expect(totals.size).toBe(4); // two shards, champion and challenger
    expect(compared).toBe(16);
    expect(all.some((s) => s.labels.stat === 'tp')).toBe(false);
  });

  it('summed over shards, the unsharded n exactly and its mae, rmse and mape as sums divided', async () => {
    const registry = new Registry();
    flushAll(evaluatorMetrics(registry, { segments: false }));
    const all = await samples(registry);
    let checked = 0;
    for (const w of reference.windows.values()) {
      if (w.window !== 'total' || w.segment !== '*' || !isRegressionPartial(w.partial.metric)) continue;
      const sum = (stat: string) => all.filter((s) => s.labels.role === w.role && s.labels.stat === stat).reduce((a, s) => a + s.value, 0);
      const p = w.partial.metric;
      expect(sum('n')).toBe(p.n);
      expect(Math.abs(sum('abs_error_sum') - p.absErrorSum)).toBeLessThanOrEqual(within(REGRESSION_BOUNDS.error));
      expect(Math.abs(sum('squared_error_sum') - p.squaredErrorSum)).toBeLessThanOrEqual(within(REGRESSION_BOUNDS.error ** 2));
      expect(Math.abs(sum('percent_sum') - p.percentSum)).toBeLessThanOrEqual(within(REGRESSION_BOUNDS.error / REGRESSION_BOUNDS.minLabel));
      const figures = deriveRegressionPartial(p);
      expect(sum('abs_error_sum') / sum('n')).toBeCloseTo(figures.mae!, 9);
      expect(Math.sqrt(sum('squared_error_sum') / sum('n'))).toBeCloseTo(figures.rmse!, 9);
      expect(sum('percent_sum') / sum('n')).toBeCloseTo(figures.mape!, 9);
      if (w.role === 'champion') {
        expect(sum('labelled')).toBe(w.partial.labelled);
        expect(sum('expired')).toBe(w.partial.expired);
      }
      checked++;
    }
    expect(checked).toBe(2);
  });

  it('a shard no longer held loses its series; a shard opened restored exports its restored totals', async () => {
    const flushedRegistry = new Registry();
    flushAll(evaluatorMetrics(flushedRegistry, { segments: false }));
    const shard1 = (await samples(flushedRegistry)).filter((s) => s.labels.shard === '1');
    expect(shard1.length).toBe(6 + 4);

    const registry = new Registry();
    const hooks = evaluatorMetrics(registry, { segments: false });
    flushAll(hooks);
    hooks.flushed([evaluators[0]!], NO_ROWS, 0.01, [0]); // partition 1 revoked
    const left = await samples(registry);
    expect(left.length).toBe(6 + 4);
    expect(left.every((s) => s.labels.shard === '0')).toBe(true);

    // Partition 1 back here, rebuilt by a restore (nothing marked as changed): its totals at once.
    const restored = new Evaluator(OPTIONS);
    for (const e of shardExamples[1]!) restored.restore(e);
    restored.discard();
    hooks.shardOpened(1, restored, restored.totalPartials().map((p) => shardPartialRow(restored.options, p, 1)));
    expect((await samples(registry)).filter((s) => s.labels.shard === '1')).toEqual(shard1);
  });
});
