/**
 * The metric points the report does not draw, on disk (sinks/point-spill.ts, issue 13):
 * merged from several run files they give, key by key, what the in-memory
 * sink keeps (the highest version, the later among equals), in
 * metrics.jsonl's order; a FileEvaluatorSink with a spill folder writes the
 * same metrics.jsonl as one without, and removes its run files.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { EvaluatorRows, MetricPoint, Versioned } from '../../core/evaluate/index.js';
import { mulberry32 } from '../../demo/random.js';
import { FileEvaluatorSink } from '../../sinks/evaluator-rows.js';
import { isSpilledPoint, PointSpill } from '../../sinks/point-spill.js';

function point(rng: () => number, window: string): MetricPoint {
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(rng() * xs.length)]!;
  const start = 1000 * Math.floor(rng() * 6);
  return {
    model: pick(['m', 'n']), model_version: pick(['v1', 'v2']), role: pick(['champion', 'challenger']), segment: pick(['*', 'region=eu', 'plan=a\u0000b']),
    window, window_start: start, window_end: start + 500, metric: pick(['f1', 'roc_auc', 'count']), value: rng() < 0.1 ? null : rng(), count: Math.floor(rng() * 100),
  };
}

/** Rows with repeated keys (versions colliding too), sliding windows and tumbling ones. */
function rows(n: number, seed: number): Array<Versioned<MetricPoint>> {
  const rng = mulberry32(seed);
  return Array.from({ length: n }, () => ({ value: point(rng, rng() < 0.8 ? 'last_1000' : rng() < 0.5 ? '1h' : 'total'), version: Math.floor(rng() * 4) }));
}

describe('PointSpill', () => {
  it('gives the latest row of each key, in metrics.jsonl order, over many run files, then removes them', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'point-spill-'));
    const input = rows(2000, 7).filter((r) => r.value.window === 'last_1000');
    const spill = new PointSpill(dir, 'points', 97);
    for (const r of input) await spill.add(r);
    // Runs of at most 97 keys (a buffer keeps the latest row of each key).
    expect(readdirSync(dir).length).toBeGreaterThan(10);
    const got: string[] = [];
    for await (const { json } of spill.sorted()) got.push(json);

    // The reference: the in-memory rule, written out by hand.
    const latest = new Map<string, Versioned<MetricPoint>>();
    for (const r of input) {
      const p = r.value;
      const key = JSON.stringify([p.model, p.model_version, p.role, p.segment, p.window, p.window_start, p.metric]);
      const current = latest.get(key);
      if (!current || r.version >= current.version) latest.set(key, r);
    }
    const cmp = (a: MetricPoint, b: MetricPoint) => {
      const x = [a.model, a.model_version, a.role, a.segment, a.window, a.window_start, a.metric];
      const y = [b.model, b.model_version, b.role, b.segment, b.window, b.window_start, b.metric];
      for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return x[i]! < y[i]! ? -1 : 1;
      return 0;
    };
    const expected = [...latest.values()].map((r) => r.value).sort(cmp).map((p) => JSON.stringify(p));
    // 2 models x 2 versions x 2 roles x 3 segments x 6 starts x 3 metrics = 432 keys at most.
    expect(expected.length).toBeGreaterThan(300);
    expect(expected.length).toBeLessThan(input.length);
    expect(got).toEqual(expected);
    expect(spill.written).toBe(expected.length);
    expect(readdirSync(dir)).toEqual([]);
    // The earliest point of each series (what the report reads of them).
    const earliest = new Map<string, number>();
    for (const { value: p } of input) {
      const key = JSON.stringify([p.model, p.model_version, p.role, p.segment, p.metric]);
      earliest.set(key, Math.min(earliest.get(key) ?? Infinity, p.window_start));
    }
    const kept = new Map([...spill.earliest.values()].map((p) => [JSON.stringify([p.model, p.model_version, p.role, p.segment, p.metric]), p.window_start]));
    expect(kept).toEqual(earliest);
    expect(new Set(kept.values()).size).toBeGreaterThan(1);
    rmSync(dir, { recursive: true });
  });
});

describe('FileEvaluatorSink with a spill folder', () => {
  it('writes the metrics.jsonl it writes without one, and the same count', async () => {
    const input = rows(3000, 11);
    const batches: EvaluatorRows[] = [];
    for (let i = 0; i < input.length; i += 250) batches.push({ points: input.slice(i, i + 250), drift: [], feedback: [], examples: [] });
    const outA = mkdtempSync(join(tmpdir(), 'sink-a-'));
    const outB = mkdtempSync(join(tmpdir(), 'sink-b-'));
    const spillDir = mkdtempSync(join(tmpdir(), 'sink-spill-'));
    const plain = new FileEvaluatorSink(outA);
    const spilled = new FileEvaluatorSink(outB, { dir: spillDir, rows: 101 });
    for (const b of batches) {
      await plain.writeBatch([b]);
      await spilled.writeBatch([b]);
    }
    expect(readdirSync(spillDir).length).toBeGreaterThan(10);
    await plain.close();
    await spilled.close();
    const text = readFileSync(join(outA, 'metrics.jsonl'), 'utf8');
    expect(text.split('\n').length).toBeGreaterThan(400);
    expect(readFileSync(join(outB, 'metrics.jsonl'), 'utf8')).toBe(text);
    expect(spilled.pointCount).toBe(plain.pointCount);
    expect(readdirSync(spillDir)).toEqual([]);
    // The report's rows: the total windows' and the whole model's tumbling ones all; of the
    // sliding windows' and the segments' tumbling ones the earliest per series.
    const drawn = (p: MetricPoint) => p.window === 'total' || (p.window === '1h' && p.segment === '*');
    expect(input.filter((r) => isSpilledPoint(r.value)).length).toBe(input.filter((r) => !drawn(r.value)).length);
    expect(spilled.final().points.filter(drawn)).toEqual(plain.final().points.filter(drawn));
    const kept = spilled.final().points.filter((p) => !drawn(p));
    expect(kept.length).toBeLessThan(plain.final().points.filter((p) => !drawn(p)).length);
    expect(new Set(kept.map((p) => p.segment))).toEqual(new Set(['*', 'region=eu', 'plan=a\u0000b']));
    expect(new Set(kept.map((p) => p.window))).toEqual(new Set(['1h', 'last_1000']));
    for (const dir of [outA, outB, spillDir]) rmSync(dir, { recursive: true });
  });
});
