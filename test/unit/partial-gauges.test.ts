/**
 * feedbackloop_partial_count (adapters/prometheus/partial-gauges.ts): each
 * shard's counts of every cell's total window, set from the partials a
 * flush wrote, through the evaluator's observer hooks. Two shards of one
 * model's stream (test/support/partials-stream.ts): summed over shards the
 * gauges are the unsharded evaluator's counts exactly; only `total`, segment
 * `*` unless segments are on, labelled and expired for the champion only; a
 * shard no longer held (a flush without it, or a batch whose evaluators no
 * longer include its evaluator) loses its series; a shard opened with its
 * state restored exports its restored totals at once.
 */
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { partialGaugeSamples, type GaugeSample } from '../support/partial-gauge-samples.js';
import { evaluatorMetrics } from '../../adapters/prometheus/model-gauges.js';
import type { BinaryPartial } from '../../core/metrics/index.js';
import { PARTIAL_STATS } from '../../adapters/prometheus/partial-gauges.js';
import { shard } from '../../bench/shards.js';
import { Evaluator, shardPartialRow, type EvaluatorRows } from '../../core/evaluate/index.js';
import { interleaved, OPTIONS, shardRows, stream, unsharded } from '../support/partials-stream.js';

const samples = partialGaugeSamples;

/** Sum over shards, as the recording rules do: per (role, version, segment, stat). */
function summed(all: GaugeSample[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const s of all) {
    const key = [s.labels.role, s.labels.version, s.labels.segment, s.labels.stat].join('|');
    out.set(key, (out.get(key) ?? 0) + s.value);
  }
  return out;
}

const examples = stream('hot');
const reference = unsharded(examples);
const shards = shard(examples, 2).map((s, i) => shardRows(s, i));
const evaluators = [new Evaluator(), new Evaluator()]; // stand-ins: the gauges only tell them apart

/** Every flush of both shards, interleaved, through the hooks. */
function flushAll(hooks: ReturnType<typeof evaluatorMetrics>): void {
  for (const round of interleaved(shards)) {
    const rows: EvaluatorRows = { points: [], drift: [], feedback: [], charts: [], examples: [], partials: round.flatMap((r) => r.partials ?? []) };
    hooks.flushed(evaluators, rows, 0.01, [0, 1]);
  }
}

describe('feedbackloop_partial_count', () => {
  it('summed over shards, the unsharded total window\'s counts exactly; total and segment * only; labelled and expired for the champion', async () => {
    const registry = new Registry();
    flushAll(evaluatorMetrics(registry, { segments: false }));
    const all = await samples(registry);
    expect(new Set(all.map((s) => s.labels.shard))).toEqual(new Set(['0', '1']));
    expect(new Set(all.map((s) => s.labels.segment))).toEqual(new Set(['*']));
    expect(Object.keys(all[0]!.labels).sort()).toEqual(['model', 'role', 'segment', 'shard', 'stat', 'version']);
    const sums = summed(all);
    let compared = 0;
    for (const w of reference.windows.values()) {
      if (w.window !== 'total' || w.segment !== '*') continue;
      const { labelled, expired } = w.partial;
      const metric = w.partial.metric as BinaryPartial;
      const expected: Record<string, number> = { tp: metric.tp, fp: metric.fp, tn: metric.tn, fn: metric.fn, labelled, expired };
      for (const stat of PARTIAL_STATS) {
        const got = sums.get([w.role, w.model_version, '*', stat].join('|'));
        if (w.role === 'champion' || (stat !== 'labelled' && stat !== 'expired')) {
          expect(got, `${w.role} ${stat}`).toBe(expected[stat]);
          compared++;
        } else expect(got, `${w.role} ${stat}`).toBeUndefined();
      }
    }
    expect(compared).toBe(6 + 4); // the champion and the challenger
    expect(sums.get('champion|v1|*|tp')! + sums.get('champion|v1|*|fn')!).toBeGreaterThan(100);
  });

  it('with segments on, the segments\' total windows too', async () => {
    const registry = new Registry();
    flushAll(evaluatorMetrics(registry, { segments: true }));
    const segments = new Set((await samples(registry)).map((s) => s.labels.segment));
    expect(segments).toEqual(new Set(['*', 'region=eu', 'region=us']));
  });

  it('a shard no longer held loses its series: a flush without it, or a batch without its evaluator', async () => {
    const registry = new Registry();
    const hooks = evaluatorMetrics(registry, { segments: false });
    flushAll(hooks);
    const before = await samples(registry);
    // A flush with nothing changed keeps every series.
    hooks.flushed(evaluators, { points: [], drift: [], feedback: [], charts: [], examples: [], partials: [] }, 0.01, [0, 1]);
    expect(await samples(registry)).toEqual(before);
    // Partition 1 revoked: the next flush holds only partition 0.
    hooks.flushed([evaluators[0]!], { points: [], drift: [], feedback: [], charts: [], examples: [], partials: [] }, 0.01, [0]);
    const after = await samples(registry);
    expect(after.length).toBeGreaterThan(0);
    expect(after).toEqual(before.filter((s) => s.labels.shard === '0'));
    // A batch whose evaluators are others (partition 0 rebuilt after a failed write): its series go too.
    hooks.evaluated(0, [], 0.001, [new Evaluator()]);
    expect(await samples(registry)).toEqual([]);
  });

  it('a shard opened with its state restored exports its totals at once, replacing an earlier evaluator\'s; a batch before its task is listed keeps it', async () => {
    const flushedRegistry = new Registry();
    flushAll(evaluatorMetrics(flushedRegistry, { segments: false }));
    const shard1 = (await samples(flushedRegistry)).filter((s) => s.labels.shard === '1');
    expect(shard1.length).toBeGreaterThan(0);
    // The shard's evaluator as a restore leaves it: every example applied, nothing marked as changed.
    const restored = new Evaluator(OPTIONS);
    for (const e of shard(examples, 2)[1]!) restored.restore(e);
    restored.discard();
    expect(restored.partials()).toEqual([]);
    const totals = restored.totalPartials().map((p) => shardPartialRow(restored.options, p, 1));

    const registry = new Registry();
    const hooks = evaluatorMetrics(registry, { segments: false });
    flushAll(hooks); // shard 1 held by evaluators[1] until now
    hooks.shardOpened(1, restored, totals);
    expect((await samples(registry)).filter((s) => s.labels.shard === '1')).toEqual(shard1);
    // A batch of partition 0 before the opened task is registered: its evaluators do not include it yet.
    hooks.evaluated(0, [], 0.001, [evaluators[0]!]);
    expect((await samples(registry)).filter((s) => s.labels.shard === '1')).toEqual(shard1);
    // Listed once, then no longer held: its series go.
    hooks.evaluated(1, [], 0.001, [evaluators[0]!, restored]);
    hooks.evaluated(0, [], 0.001, [evaluators[0]!]);
    expect((await samples(registry)).filter((s) => s.labels.shard === '1')).toEqual([]);
  });
});
