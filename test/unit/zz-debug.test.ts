import { it } from 'vitest';
import { mergeRuns, shard } from '../../bench/shards.js';
import { windowFigures, windowPartialKey, type EvaluatorRows, type WindowPartialRow } from '../../core/evaluate/index.js';
import { DELAY_ACCURACY, regressionStream, shardRows, unsharded } from '../support/partials-stream.js';
it('d', () => {
  const examples = regressionStream();
  const reference = unsharded(examples);
  const rowsOfShards = shard(examples, 2).map((s, i) => shardRows(s, i));
  const lastOf = (rows: EvaluatorRows[]) => { const last = new Map<string, WindowPartialRow>(); for (const r of rows) for (const p of r.partials!) last.set(windowPartialKey(p.value), p.value); return last; };
  const merged = mergeRuns(rowsOfShards.map(lastOf), DELAY_ACCURACY);
  let bad = 0;
  for (const [key, w] of reference.windows) {
    const m = merged.get(key)!;
    const f = windowFigures(m.partial, DELAY_ACCURACY) as any, g = windowFigures(w.partial, DELAY_ACCURACY) as any;
    const p = reference.points.get(`${key}\u0000r2`)?.value;
    if (Math.abs((f.r2 ?? 0) - (g.r2 ?? 0)) > 1e-9 || Math.abs((g.r2 ?? 0) - (p ?? 0)) > 1e-9) { bad++; if (bad < 4) console.log(JSON.stringify({ key: key.split('\u0000').join('|'), merged: m.partial.metric, ref: w.partial.metric, f: f.r2, g: g.r2, p })); }
  }
  console.log('bad', bad, reference.windows.size);
});
