/**
 * `feedbackloop status`: the latest figures per model (metric_points rows
 * grouped by model, window, role and version) and the version upstream
 * serves. Pure: runtime/status/gather-clickhouse.ts reads the rows.
 */
import type { ModelKind } from '../../core/events.js';

/** A row of metric_points as status reads it (segment `*`). */
export interface MetricPointRow {
  model: string;
  role: string;
  model_version: string;
  window: string;
  window_start_ms: number;
  window_end_ms: number;
  metric: string;
  value: number | null;
  count: number;
  /** Read from metric_points_merged: how many shards' partials this window sums. */
  shards?: number;
}

/** The figures status shows, binary and regression; `count` is shown as n. */
export const BINARY_FIGURES = ['count', 'roc_auc', 'log_loss', 'precision', 'recall', 'label_coverage', 'label_delay_p50'] as const;
export const REGRESSION_FIGURES = ['count', 'rmse', 'mae', 'label_coverage', 'label_delay_p50'] as const;
/** A multi-class and a multi-label model's figures: the same names unsharded and merged (every class figure merges). */
export const MULTICLASS_FIGURES = ['count', 'accuracy', 'macro_f1', 'log_loss', 'label_coverage', 'label_delay_p50'] as const;
export const MULTILABEL_FIGURES = ['count', 'subset_accuracy', 'hamming_loss', 'macro_f1', 'label_coverage', 'label_delay_p50'] as const;
const CLASS_FIGURES = [...MULTICLASS_FIGURES, ...MULTILABEL_FIGURES];
export const STATUS_METRICS: readonly string[] = [...new Set<string>([...BINARY_FIGURES, ...REGRESSION_FIGURES, ...CLASS_FIGURES])];
/** A sharded model's figures (metric_points_merged): the binned AUC in place of the exact one, which does not merge; a regression model's as unsharded. */
export const MERGED_BINARY_FIGURES = ['count', 'auc_binned', 'log_loss', 'precision', 'recall', 'label_coverage', 'label_delay_p50'] as const;
export const MERGED_STATUS_METRICS: readonly string[] = [...new Set<string>([...MERGED_BINARY_FIGURES, ...REGRESSION_FIGURES, ...CLASS_FIGURES])];

export interface FigureLine {
  role: string;
  version: string;
  window: string;
  window_start_ms: number;
  window_end_ms: number;
  /** A tumbling window whose end is still ahead (its figures will change). */
  open: boolean;
  /** Merged figures: the shards summed in this window (a shard without examples in it has no row). */
  shards?: number;
  figures: Record<string, number | null>;
}

export interface ModelFigures {
  model: string;
  task: ModelKind;
  /** Read merged from its shards' partials (metric_points_merged): how many shards wrote them; null: read from metric_points. */
  shards: number | null;
  lines: FigureLine[];
}

const ROLE_ORDER = ['champion', 'previous', 'challenger'];
const roleRank = (role: string) => (ROLE_ORDER.includes(role) ? ROLE_ORDER.indexOf(role) : ROLE_ORDER.length);

/**
 * Groups figure rows by model, window (tumbling first, then total), role (champion, previous, challengers) and
 * version; `merged`: the models read from metric_points_merged, with their shard counts.
 */
export function figuresByModel(rows: MetricPointRow[], now: number, merged: ReadonlyMap<string, number> = new Map()): ModelFigures[] {
  const models = new Map<string, Map<string, FigureLine>>();
  for (const row of rows) {
    let lines = models.get(row.model);
    if (!lines) models.set(row.model, (lines = new Map()));
    const key = JSON.stringify([row.window, row.window_start_ms, row.role, row.model_version]);
    let line = lines.get(key);
    if (!line) {
      line = {
        role: row.role, version: row.model_version, window: row.window, window_start_ms: row.window_start_ms, window_end_ms: row.window_end_ms,
        open: row.window !== 'total' && row.window_end_ms > now, ...(row.shards === undefined ? {} : { shards: row.shards }), figures: {},
      };
      lines.set(key, line);
    }
    line.figures[row.metric] = row.value;
  }
  return [...models].sort(([a], [b]) => a.localeCompare(b)).map(([model, lines]) => {
    const all = [...lines.values()].sort(
      (a, b) =>
        Number(a.window === 'total') - Number(b.window === 'total') ||
        a.window.localeCompare(b.window) ||
        roleRank(a.role) - roleRank(b.role) ||
        a.version.localeCompare(b.version),
    );
    const task = taskOfLines(all);
    const shards = merged.get(model) ?? null;
    // Only the task's figures: the query asks for every task's names, and a binary model has an accuracy point too.
    const names = figureNamesOf(task, shards !== null);
    for (const line of all) line.figures = Object.fromEntries(Object.entries(line.figures).filter(([name]) => names.includes(name)));
    return { model, task, shards, lines: all };
  });
}

/** The figures status shows of a model of `task`, read merged or not: a merged binary model has the binned AUC. */
export function figureNamesOf(task: ModelKind, merged: boolean): readonly string[] {
  if (task === 'multiclass') return MULTICLASS_FIGURES;
  if (task === 'multilabel') return MULTILABEL_FIGURES;
  if (task === 'regression') return REGRESSION_FIGURES;
  return merged ? MERGED_BINARY_FIGURES : BINARY_FIGURES;
}

/** A model's task, from the figures its lines hold (only a multi-label model has subset_accuracy, only a class model macro_f1). */
function taskOfLines(lines: readonly FigureLine[]): ModelKind {
  const has = (name: string) => lines.some((l) => name in l.figures);
  if (has('subset_accuracy')) return 'multilabel';
  if (has('macro_f1')) return 'multiclass';
  const regression = (has('rmse') || has('mae')) && !has('roc_auc') && !has('precision');
  return regression ? 'regression' : 'binary';
}

/** The version upstream serves and the rows it was read from: metric_points, or a sharded model's merged partials. */
export interface UpstreamVersion {
  version: string;
  source: 'metric_points' | 'metric_points_merged';
}

/**
 * Per model, the version upstream serves: the champion-role version of the `total` window with the latest end,
 * and whether that row was merged from the model's shards (it carries `shards`).
 */
export function upstreamVersions(rows: MetricPointRow[]): Map<string, UpstreamVersion> {
  const best = new Map<string, MetricPointRow>();
  for (const row of rows) {
    if (row.role !== 'champion' || row.window !== 'total') continue;
    const current = best.get(row.model);
    if (!current || row.window_end_ms > current.window_end_ms) best.set(row.model, row);
  }
  return new Map(
    [...best].map(([model, row]) => [model, { version: row.model_version, source: row.shards === undefined ? 'metric_points' : 'metric_points_merged' }]),
  );
}
