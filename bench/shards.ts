/**
 * One model's labelled examples sharded by prediction id, each shard run
 * through the evaluator core, the shards' window partials merged, and the
 * merged figures checked against the unsharded evaluator: shared by
 * bench/evaluate-shards.ts and test/unit/property-partials.test.ts.
 *
 * Sharding is Kafka's default partitioner (murmur2 of the key) over the
 * prediction id, the key the design gives labelled examples
 * (docs/scale-out.md): a correction has its example's prediction id, so it
 * lands in the same shard.
 *
 * The check (compareMerged), for every window the unsharded evaluator
 * wrote a partial of (and no other):
 *  - the merged partial's figures against the unsharded partial's: equal,
 *    the float sums' figures (log_loss, brier, ece, calibration mean
 *    scores) within floatTolerance; a regression window's (mae, rmse, mape,
 *    r2) within regressionTolerance, given bounds on the stream's errors
 *    and labels (r2 only where its total squares are clear of their
 *    rounding: see core/metrics/regression-partial.ts);
 *  - the merged figures against the unsharded evaluator's last points of the
 *    window: equal by name (floats within floatTolerance); roc_auc against
 *    auc_binned within auc_binned_error_bound (plus 1e-12: the two AUCs are
 *    summed in different orders).
 */
import { partitionForKey } from '../adapters/transport/partitioner.js';
import { Evaluator, calibrationFigures, isBinaryPartial, isRegressionPartial, mergeWindowPartials, windowFigureList, windowPartialKey, type EvaluatorOptions, type MetricPoint, type WindowPartialRow } from '../core/evaluate/index.js';
import type { LabelledExample } from '../core/events.js';
import { LOG_LOSS_EPSILON, MULTICLASS_LOG_LOSS_EPSILON, momentTolerance, sumTolerance, type RegressionPartial } from '../core/metrics/index.js';

/** The shard of an example among `shards`: Kafka's default partition of its prediction id. */
export function shardOf(e: LabelledExample, shards: number): number {
  return partitionForKey(Buffer.from(e.prediction_id), shards);
}

/** The examples of each of `shards` shards, in stream order. */
export function shard(examples: readonly LabelledExample[], shards: number): LabelledExample[][] {
  const out: LabelledExample[][] = Array.from({ length: shards }, () => []);
  for (const e of examples) out[shardOf(e, shards)]!.push(e);
  return out;
}

/** What a run of the evaluator over one stream left: the last partial of each window, and (with keepPoints) the last value of each point. */
export interface EvaluatorRun {
  rows: Map<string, WindowPartialRow>;
  points: Map<string, number | null>;
  /** Points written (every drain's, rolling and drift ones included). */
  pointsWritten: number;
}

const pointKey = (p: Pick<MetricPoint, 'model' | 'model_version' | 'role' | 'segment' | 'window' | 'window_start'>, metric: string) => `${windowPartialKey(p)}\u0000${metric}`;

/** Runs the evaluator core over `examples`, taking the partials of the changed windows and draining every `drainEvery` examples. */
export function runEvaluator(examples: readonly LabelledExample[], options: Partial<EvaluatorOptions>, drainEvery: number, keepPoints: boolean): EvaluatorRun {
  const evaluator = new Evaluator(options);
  const run: EvaluatorRun = { rows: new Map(), points: new Map(), pointsWritten: 0 };
  const take = (rows: WindowPartialRow[], points: MetricPoint[]) => {
    for (const r of rows) run.rows.set(windowPartialKey(r), r);
    run.pointsWritten += points.length;
    if (keepPoints) for (const p of points) run.points.set(pointKey(p, p.metric), p.value);
  };
  for (let i = 0; i < examples.length; i++) {
    evaluator.onExample(examples[i]!);
    if ((i + 1) % drainEvery === 0) take(evaluator.partials(), evaluator.drain().points);
  }
  take(evaluator.partials(), evaluator.finish().points);
  return run;
}

/** The shards' partials merged window by window. */
export function mergeRuns(runs: ReadonlyArray<Map<string, WindowPartialRow>>, delayAccuracy: number): Map<string, WindowPartialRow> {
  const merged = new Map<string, WindowPartialRow>();
  for (const rows of runs) {
    for (const [key, row] of rows) {
      const before = merged.get(key);
      merged.set(key, before ? { ...row, partial: mergeWindowPartials(before.partial, row.partial, delayAccuracy) } : row);
    }
  }
  return merged;
}

/** Figures taken from float sums (the others are exact): binary, multi-class and multi-label ones. */
const FLOAT_FIGURE = /^(log_loss|brier|ece|calibration_bin_\d+_mean_score|samples_precision|samples_recall|samples_f1|jaccard)$/;

/**
 * How far a float figure of a merge may be from the unsharded one, when every
 * window's sums have at most `terms` terms (updates and reverts): the sum's
 * bound (sumTolerance, each term at most -log(1e-15) for log loss, 1 for
 * Brier and scores) over the figure's count, plus a few roundings of the
 * division and of ECE's sum over bins.
 */
export function floatTolerance(name: string, value: number, count: number, terms: number): number {
  // A term's largest: −ln ε for log loss (the class metrics clip at ε = 2^-52, below the binary 1e-15), 2 for a multi-class Brier term, 1 otherwise.
  const largest = name === 'log_loss' ? -Math.log(Math.min(LOG_LOSS_EPSILON, MULTICLASS_LOG_LOSS_EPSILON)) : name === 'brier' ? 2 : 1;
  return sumTolerance(terms, largest * terms) / Math.max(1, count) + 32 * Number.EPSILON * Math.abs(value) + 32 * Number.EPSILON;
}

/** Bounds on a regression stream's terms: the largest |score − label| and |label|, and the smallest |label| (at least machine epsilon). */
export interface RegressionBounds {
  error: number;
  label: number;
  minLabel: number;
}

/** Figures of a regression window taken from float sums. */
const REGRESSION_FIGURE = /^(mae|rmse|mape|r2)$/;

/**
 * How far a merged regression figure may be from the unsharded one (the
 * reference partial's sums), every window's sums having at most `terms`
 * terms bounded by `b`: the sums' bound (sumTolerance) over the count for
 * mae and mape, through the square root for rmse (|√a − √b| ≤ |a − b| / √b),
 * and for r2 the first-order bound of 1 − SSE/SST with SSE and SST each within
 * theirs (momentTolerance for SST); undefined (not compared) where SST is not
 * clear of twice its bound: R² is ill-conditioned there.
 */
export function regressionTolerance(name: string, reference: RegressionPartial, terms: number, b: RegressionBounds): number | undefined {
  const n = Math.max(1, reference.n);
  const slack = (x: number) => 32 * Number.EPSILON * Math.abs(x) + 32 * Number.EPSILON;
  const sse = sumTolerance(terms, terms * b.error * b.error);
  if (name === 'mae') return sumTolerance(terms, terms * b.error) / n + slack(reference.absErrorSum / n);
  if (name === 'mape') return sumTolerance(terms, (terms * b.error) / Math.max(b.minLabel, Number.EPSILON)) / n + slack(reference.percentSum / n);
  const mse = reference.squaredErrorSum / n;
  if (name === 'rmse') return sse / n / Math.max(Math.sqrt(Math.max(0, mse)), Number.MIN_VALUE) + slack(Math.sqrt(Math.max(0, mse)));
  const sst = momentTolerance(terms, terms * b.label, terms * b.label * b.label, n).squares;
  if (!(reference.labelSquares > 2 * sst)) return undefined;
  return (sse + Math.abs(reference.squaredErrorSum / reference.labelSquares) * sst) / (reference.labelSquares - sst) + slack(1);
}

/** Every figure of a merged window by the name the evaluator's points give it (AUCs binned). */
function figuresOf(row: WindowPartialRow, delayAccuracy: number): Array<[string, number | null]> {
  const out = windowFigureList(row.partial, delayAccuracy, row.window);
  for (const c of calibrationFigures(row)) out.push(c);
  return out;
}

export interface Comparison {
  windows: number;
  figures_compared: number;
  /** The first 20 differences found (none when the merge is right). */
  mismatches: string[];
  /** Largest |merged - unsharded| among the float figures, and the largest of its allowed tolerance. */
  max_float_difference: number;
  max_float_tolerance: number;
  /** Largest |auc_binned - roc_auc (unsharded points)|, and the largest auc_binned_error_bound among windows. */
  max_auc_difference: number;
  max_auc_error_bound: number;
}

function equalOrNull(a: number | null | undefined, b: number | null | undefined): boolean {
  return a === b || (Number.isNaN(a) && Number.isNaN(b));
}

/** Checks a merge against the unsharded run (see the file's comment); `terms` bounds the terms of any window's sums. */
export function compareMerged(merged: Map<string, WindowPartialRow>, unsharded: EvaluatorRun, delayAccuracy: number, terms: number, regression?: RegressionBounds): Comparison {
  const c: Comparison = { windows: 0, figures_compared: 0, mismatches: [], max_float_difference: 0, max_float_tolerance: 0, max_auc_difference: 0, max_auc_error_bound: 0 };
  const miss = (m: string) => void (c.mismatches.length < 20 && c.mismatches.push(m));
  for (const key of merged.keys()) if (!unsharded.rows.has(key)) miss(`window ${key.split('\u0000').join('|')} only in the merge`);
  for (const [key, reference] of unsharded.rows) {
    const row = merged.get(key);
    const where = key.split('\u0000').join('|');
    if (!row) {
      miss(`window ${where} missing from the merge`);
      continue;
    }
    c.windows++;
    if (row.partial.lastTimestamp !== reference.partial.lastTimestamp) miss(`${where}: last timestamp ${row.partial.lastTimestamp} != ${reference.partial.lastTimestamp}`);
    const mine = new Map(figuresOf(row, delayAccuracy));
    const count = mine.get('count') ?? 0;
    const reg = isRegressionPartial(reference.partial.metric) ? reference.partial.metric : undefined;
    const against = (name: string, value: number | null | undefined, expected: number | null | undefined, what: string, n = count) => {
      if (reg && REGRESSION_FIGURE.test(name) && (typeof value === 'number' || typeof expected === 'number')) {
        if (!regression) throw new Error('compareMerged: a regression window, and no bounds on its terms');
        const tolerance = regressionTolerance(name, reg, terms, regression);
        if (tolerance === undefined) return; // r2 of labels that barely vary: not compared
        c.figures_compared++;
        if (typeof value !== 'number' || typeof expected !== 'number') return miss(`${where} ${name}: ${value} vs ${what} ${expected}`);
        const difference = Math.abs(value - expected);
        c.max_float_difference = Math.max(c.max_float_difference, difference);
        c.max_float_tolerance = Math.max(c.max_float_tolerance, tolerance);
        if (!(difference <= tolerance)) miss(`${where} ${name}: ${value} vs ${what} ${expected} (tolerance ${tolerance})`);
        return;
      }
      c.figures_compared++;
      if (FLOAT_FIGURE.test(name) && typeof value === 'number' && typeof expected === 'number') {
        const difference = Math.abs(value - expected);
        const tolerance = floatTolerance(name, expected, n, terms);
        c.max_float_difference = Math.max(c.max_float_difference, difference);
        c.max_float_tolerance = Math.max(c.max_float_tolerance, tolerance);
        if (!(difference <= tolerance)) miss(`${where} ${name}: ${value} vs ${what} ${expected} (tolerance ${tolerance})`);
      } else if (!equalOrNull(value, expected)) miss(`${where} ${name}: ${value} vs ${what} ${expected}`);
    };
    // (1) the unsharded window's own partial.
    for (const [name, expected] of figuresOf(reference, delayAccuracy)) against(name, mine.get(name), expected, 'unsharded partial', binCount(reference, name) ?? count);
    // (2) the unsharded evaluator's points.
    for (const [name, value] of mine) {
      if (name === 'auc_binned_error_bound' || name === 'pr_auc_binned') continue; // no point of that name (pr_auc: checked via (1))
      const metric = name === 'auc_binned' ? 'roc_auc' : name;
      const pk = `${key}\u0000${metric}`;
      if (!unsharded.points.has(pk)) {
        miss(`${where} ${metric}: no unsharded point`);
        continue;
      }
      const expected = unsharded.points.get(pk)!;
      if (name !== 'auc_binned') {
        against(name, value, expected, 'unsharded point', binCount(row, name) ?? count);
        continue;
      }
      c.figures_compared++;
      const bound = mine.get('auc_binned_error_bound') ?? 0;
      c.max_auc_error_bound = Math.max(c.max_auc_error_bound, bound);
      if (value === null || expected === null) {
        if (value !== expected) miss(`${where} auc_binned ${value} vs roc_auc ${expected}`);
        continue;
      }
      c.max_auc_difference = Math.max(c.max_auc_difference, Math.abs(value - expected));
      if (!(Math.abs(value - expected) <= bound + 1e-12)) miss(`${where} auc_binned ${value} vs roc_auc ${expected}: beyond the bound ${bound}`);
    }
  }
  return c;
}

/** A calibration bin's weight, for the tolerance of its mean score (undefined for other figures). */
function binCount(row: WindowPartialRow, name: string): number | undefined {
  const m = /^calibration_bin_(\d+)_mean_score$/.exec(name);
  const metric = row.partial.metric;
  return m && isBinaryPartial(metric) ? metric.calibration.count[Number(m[1])] : undefined;
}
