/**
 * One model's deterministic stream of labelled examples for the partials'
 * tests on the real ClickHouse (metric-partials.test.ts, status-merged.test.ts):
 * 400 predictions over 6 hours with corrections (chains of them), expired
 * predictions, two segments and a challenger; the unsharded evaluator's
 * points and partials of it, and a shard's rows as the evaluator processor
 * writes them (partials versioned by the shard's offsets, no points).
 */
import { Evaluator, shardPartialRow, windowPartialKey, type EvaluatorOptions, type EvaluatorRows, type MetricPoint, type ShardPartialRow, type Versioned, type WindowPartialRow } from '../../core/evaluate/index.js';
import { type LabelledExample, noExampleClasses } from '../../core/events.js';
import { pointKey } from '../../sinks/evaluator-rows.js';

export const T0 = 1_763_942_400_000; // 2025-11-24T00:00:00Z
const MINUTE = 60_000;
export const MODEL = 'hot';
/** A regression model (regressionStream). */
export const REGRESSION_MODEL = 'eta';
/** Few exact scores and coarse bins: windows switch to bins, and auc_binned differs from the exact AUC; REGRESSION_MODEL a regression model. */
export const OPTIONS: Partial<EvaluatorOptions> = { aucExactLimit: 30, aucBins: 50, kindOf: (model) => (model === REGRESSION_MODEL ? 'regression' : 'binary') };
export const DRAIN_EVERY = 25;
export const DELAY_ACCURACY = 0.01;

/** Bounds on regressionStream's terms (bench/shards.ts RegressionBounds): labels in [1, 500], scores within 50 of them. */
export const REGRESSION_BOUNDS = { error: 100, label: 500, minLabel: 1 };

/**
 * regressionStream's example: labels in [1, 500] (0.1 steps) around a mean of 250, predictions within 50 of
 * the first label, a correction moving the label by up to 50 (so errors stay within 100).
 */
const regression = { score: (random: () => number, label: number) => Math.round((label + (random() - 0.5) * 100) * 10) / 10, label: (random: () => number) => 1 + Math.round(random() * 4990) / 10 };

/** A deterministic regression stream of REGRESSION_MODEL, shaped as stream()'s: 400 predictions over 6 hours, 1 in 10 expired, 1 in 5 corrected (some twice). */
export function regressionStream(model = REGRESSION_MODEL): LabelledExample[] {
  return stream(model, regression);
}

/** A deterministic stream: 400 predictions over 6 hours, labels within an hour (1 in 10 expired), 1 in 5 corrected (some twice). */
export function stream(model = MODEL, numeric?: typeof regression): LabelledExample[] {
  let seed = 12345;
  const random = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
  const out: LabelledExample[] = [];
  const corrections: LabelledExample[] = [];
  for (let i = 0; i < 400; i++) {
    const timestamp = T0 + Math.floor((i * 6 * 60 * MINUTE) / 400);
    const truth = numeric?.label(random) ?? 0;
    const score = numeric ? numeric.score(random, truth) : Math.round(random() * 1000) / 1000;
    const label = random() < 0.1 ? null : numeric ? truth : random() < score ? 1 : 0;
    const delay = Math.floor(random() * 60 * MINUTE);
    const labelled = label !== null;
    const x: LabelledExample = {
      example_id: `p${i}#1`, prediction_id: `p${i}`, model, model_version: 'v1', timestamp, features: {}, categorical: {},
      segments: { region: random() < 0.5 ? 'eu' : 'us' }, score, threshold: 0.5, label, feedback_type: labelled ? 'USER_CONFIRMED' : null, source: labelled ? 'u' : null,
      feedback_timestamp: labelled ? timestamp + delay : null, label_delay_ms: labelled ? delay : null, correction_of: null, replaces: null, arrival: false,
      shadow_scores: { [`${model}/lr@1`]: numeric ? numeric.score(random, truth) : Math.round(random() * 1000) / 1000 }, ...noExampleClasses(),
    };
    out.push(x);
    if (labelled && random() < 0.2) corrections.push(x);
  }
  // Corrections after the first labels, each flipping the label in force; every third corrected again.
  const inForce = new Map(out.map((x) => [x.prediction_id, x]));
  const correct = (old: LabelledExample, n: number): LabelledExample => {
    const x: LabelledExample = {
      ...old, example_id: `${old.prediction_id}#${n}`, label: numeric ? Math.min(500, Math.max(1, Math.round((old.label! + 25 - (n % 2) * 50) * 10) / 10)) : 1 - old.label!, feedback_type: 'EXPERT_REVIEW', source: 'analyst', feedback_timestamp: old.feedback_timestamp! + 1000,
      correction_of: old.example_id,
      replaces: { label: old.label, feedback_type: old.feedback_type!, source: old.source, feedback_timestamp: old.feedback_timestamp!, label_class: null, rejected_class: null, labels: null },
    };
    inForce.set(x.prediction_id, x);
    return x;
  };
  corrections.forEach((c, k) => {
    out.push(correct(inForce.get(c.prediction_id)!, 2));
    if (k % 3 === 0) out.push(correct(inForce.get(c.prediction_id)!, 3));
  });
  return out;
}

/** The unsharded evaluator: the last point of each key, and of each window its last partial. */
export function unsharded(examples: LabelledExample[], options: Partial<EvaluatorOptions> = OPTIONS) {
  const evaluator = new Evaluator(options);
  const points = new Map<string, MetricPoint>();
  const windows = new Map<string, WindowPartialRow>();
  const take = () => {
    for (const r of evaluator.partials()) windows.set(windowPartialKey(r), r);
    for (const p of evaluator.drain().points) points.set(pointKey(p), p);
  };
  examples.forEach((e, i) => {
    evaluator.onExample(e);
    if ((i + 1) % DRAIN_EVERY === 0) take();
  });
  take();
  return { points, windows };
}

/** A shard through the evaluator core: its rows per drain, each partial (and with `points`, each point) versioned by the shard's offset after it (as the processor does). */
export function shardRows(examples: LabelledExample[], shardId: number, options: { points?: boolean; evaluator?: Partial<EvaluatorOptions> } = {}): EvaluatorRows[] {
  const evaluator = new Evaluator(options.evaluator ?? OPTIONS);
  const out: EvaluatorRows[] = [];
  const take = (offset: number) => {
    const partials: Array<Versioned<ShardPartialRow>> = evaluator.partials().map((p) => ({ value: shardPartialRow(evaluator.options, p, shardId), version: offset }));
    const drained = evaluator.drain().points;
    const points = options.points ? drained.map((value) => ({ value, version: offset })) : [];
    out.push({ points, drift: [], feedback: [], charts: [], examples: [], partials });
  };
  examples.forEach((e, i) => {
    evaluator.onExample(e);
    if ((i + 1) % DRAIN_EVERY === 0) take(i + 1);
  });
  take(examples.length);
  return out;
}

/** The shards' drains interleaved, as their tasks' flushes come: the first of each shard, then the second of each, and so on. */
export function interleaved(rowsOfShards: readonly EvaluatorRows[][]): EvaluatorRows[][] {
  const rounds: EvaluatorRows[][] = [];
  rowsOfShards.forEach((rows) =>
    rows.forEach((r, i) => {
      (rounds[i] ??= []).push(r);
    }),
  );
  return rounds;
}

/** Writes the shards' drains through the sink, interleaved, one drain per batch. */
export async function writeInterleaved(sink: { writeBatch(rows: EvaluatorRows[]): Promise<void> }, rowsOfShards: readonly EvaluatorRows[][]): Promise<void> {
  for (const round of interleaved(rowsOfShards)) for (const rows of round) await sink.writeBatch([rows]);
}

/** Of a shard's drains, each window's last partial (what metric_partials FINAL keeps of it). */
export function lastPartials(rows: readonly EvaluatorRows[]): Map<string, WindowPartialRow> {
  const last = new Map<string, WindowPartialRow>();
  for (const r of rows) for (const p of r.partials!) last.set(windowPartialKey(p.value), p.value);
  return last;
}
