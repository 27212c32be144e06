/**
 * The evaluator's shards' partial counts as a Prometheus gauge
 * (docs/scale-out.md, "Merging where figures are read"): with
 * evaluator.write_partials, each instance exports, per shard it holds (the
 * labelled-examples partition), the counts of each cell's `total` window,
 * feedbackloop_partial_count{model, role, version, segment, shard, stat}
 * with stat tp, fp, tn, fn for a binary model; n, abs_error_sum,
 * squared_error_sum, percent_sum for a regression one (the weight and the
 * error sums, which add across shards); and, for the champion, labelled and
 * expired. Summed over shards (and instances) they are the model's counts
 * and sums, so the rules (dashboards/prometheus/rules) divide sums for the
 * merged precision, recall, …, mae, rmse, mape: a ratio of per-shard ratios
 * would be wrong. Not exported: a regression window's r2 (its labels'
 * centred squares merge by Chan's formula, not by a sum; Σy and Σy² would
 * add, but SST = Σy² − (Σy)²/n cancels catastrophically for labels far
 * from 0: the merged r2 is in ClickHouse, metric_points_merged), and class
 * (multiclass, multilabel) models.
 *
 * Cheap: set at each flush from the partials the flush wrote (only the
 * windows changed since the last one), nothing computed at scrape time.
 * Bounded as feedbackloop_model_metric is: one series per cell of a held
 * shard's evaluator and stat (segment `*` only unless
 * evaluator.prometheus_segments), and a shard's series are removed once its
 * partition is no longer held here (the next flush or batch after a
 * rebalance, as the live gauges follow the evaluators). A shard rebuilt here
 * after a rebalance (its re-read writes no rows) exports its cells' totals
 * as restored when its task opens, not only once they change again.
 */
import { Gauge, type Registry } from 'prom-client';
import { ALL_SEGMENTS } from '../../core/contracts/index.js';
import { isBinaryPartial, isRegressionPartial, type Evaluator, type EvaluatorRows, type MetricPartial, type ShardPartialRow } from '../../core/evaluate/index.js';

/** The `stat` label's values of a binary model: the confusion counts, and the champion's labelled and expired predictions. */
export const PARTIAL_STATS = ['tp', 'fp', 'tn', 'fn', 'labelled', 'expired'] as const;
/** The `stat` label's values of a regression model: the weight, the error sums, and the champion's labelled and expired predictions. */
export const REGRESSION_PARTIAL_STATS = ['n', 'abs_error_sum', 'squared_error_sum', 'percent_sum', 'labelled', 'expired'] as const;
const ALL_STATS = [...new Set<string>([...PARTIAL_STATS, ...REGRESSION_PARTIAL_STATS])];
const CHAMPION_ONLY = new Set<string>(['labelled', 'expired']);

/** A partial's exported stats but labelled and expired, or none (a class model's: not exported). */
function metricStats(metric: MetricPartial): Record<string, number> | undefined {
  if (isBinaryPartial(metric)) return { tp: metric.tp, fp: metric.fp, tn: metric.tn, fn: metric.fn };
  if (isRegressionPartial(metric)) return { n: metric.n, abs_error_sum: metric.absErrorSum, squared_error_sum: metric.squaredErrorSum, percent_sum: metric.percentSum };
  return undefined;
}

type Labels = { model: string; role: string; version: string; segment: string; shard: string };

export interface PartialGauges {
  /** After a flush: its rows' `total` partials, and the shards (partitions) held with their evaluators. */
  flushed(rows: EvaluatorRows, held: ReadonlyArray<{ shard: number; evaluator: Evaluator }>): void;
  /** A shard's task opened with its state restored: its cells' `total` partials as restored, a previous evaluator's series replaced. */
  opened(shard: number, evaluator: Evaluator, totals: readonly ShardPartialRow[]): void;
  /** The evaluators held now (after a batch or a flush): the series of shards no longer held go. */
  held(evaluators: readonly Evaluator[]): void;
}

export function partialGauges(registry: Registry, options: { segments: boolean }): PartialGauges {
  const gauge = new Gauge({
    name: 'feedbackloop_partial_count',
    help: `A shard's counts and sums of a cell's total window (evaluator.write_partials; shard: the labelled-examples partition this instance holds): stat ${PARTIAL_STATS.join(', ')} (binary) or ${REGRESSION_PARTIAL_STATS.join(', ')} (regression); labelled and expired: champion only. Sum over shards for the model's counts and sums (the merged_metric recording rules). Segment * unless evaluator.prometheus_segments.`,
    labelNames: ['model', 'role', 'version', 'segment', 'shard', 'stat'],
    registers: [registry],
  });
  /**
   * Per shard: the evaluator that holds it and the label sets exported (a cell's key); `listed`: the
   * evaluator was among those of a batch or flush since (a task opened is listed once registered: a
   * batch of another partition in between does not drop it; the next flush settles it either way).
   */
  const shards = new Map<number, { evaluator: Evaluator; cells: Map<string, Labels>; listed: boolean }>();

  const drop = (shard: number) => {
    for (const labels of shards.get(shard)?.cells.values() ?? []) for (const stat of ALL_STATS) gauge.remove({ ...labels, stat });
    shards.delete(shard);
  };
  const set = (row: ShardPartialRow, stats: Record<string, number>, cells: Map<string, Labels>) => {
    const labels: Labels = { model: row.model, role: row.role, version: row.model_version, segment: row.segment, shard: String(row.shard) };
    cells.set(JSON.stringify([row.model, row.role, row.model_version, row.segment]), labels);
    const values: Record<string, number> = { ...stats, labelled: row.partial.labelled, expired: row.partial.expired };
    for (const [stat, value] of Object.entries(values)) if (row.role === 'champion' || !CHAMPION_ONLY.has(stat)) gauge.set({ ...labels, stat }, value);
  };

  const setTotals = (rows: Iterable<ShardPartialRow>) => {
    for (const value of rows) {
      if (value.window !== 'total' || (!options.segments && value.segment !== ALL_SEGMENTS)) continue;
      const stats = metricStats(value.partial.metric); // class windows: not exported (docs/scale-out.md)
      const entry = shards.get(value.shard);
      if (stats && entry) set(value, stats, entry.cells);
    }
  };

  return {
    opened(shard, evaluator, totals) {
      drop(shard); // a previous evaluator's cells, gone with it
      shards.set(shard, { evaluator, cells: new Map(), listed: false });
      setTotals(totals);
    },
    flushed(rows, held) {
      const now = new Set(held.map((h) => h.shard));
      for (const shard of [...shards.keys()]) if (!now.has(shard)) drop(shard);
      for (const { shard, evaluator } of held) {
        const known = shards.get(shard);
        if (known && known.evaluator !== evaluator) drop(shard); // rebuilt: its cells start again
        if (!shards.has(shard)) shards.set(shard, { evaluator, cells: new Map(), listed: true });
        shards.get(shard)!.listed = true;
      }
      setTotals((rows.partials ?? []).map((p) => p.value));
    },
    held(evaluators) {
      const now = new Set(evaluators);
      for (const [shard, entry] of [...shards]) {
        if (now.has(entry.evaluator)) entry.listed = true;
        else if (entry.listed) drop(shard);
      }
    },
  };
}
