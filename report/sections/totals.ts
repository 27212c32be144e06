/** The totals table: each series' figures over the whole history (a binary, regression or multi-class model's). */
import { esc, int, num, pct } from '../format.js';
import { swatch, table } from '../html.js';
import type { ModelData } from '../input.js';
import type { Figures, SeriesKey } from '../series.js';

/** The numeric head of a multi-class model: the name before `_mae` of its figures (null: none). */
function numericTarget(m: ModelData): string | null {
  const p = m.points.find((x) => x.window === 'total' && x.metric.endsWith('_mae'));
  return p ? p.metric.slice(0, -'_mae'.length) : null;
}

/** A multi-class model's totals: the class figures, then its numeric head's MAE and RMSE when it has one. */
function multiclassTotals(m: ModelData, figures: Figures, keys: SeriesKey[]): string {
  const target = numericTarget(m);
  const headers = ['model', 'n', 'accuracy', 'macro F1', 'weighted F1', 'micro F1', 'log loss', 'Brier', 'top-k accuracy', "Cohen's kappa", 'rejections', ...(target ? [`${esc(target)} MAE`, `${esc(target)} RMSE`] : [])];
  const rows = keys.map((k) => {
    const v = (metric: string) => figures.total(k.role, k.version, metric)?.value;
    const cells = [num(v('accuracy')), num(v('macro_f1')), num(v('weighted_f1')), num(v('micro_f1')), num(v('log_loss')), num(v('brier')), num(v('top_k_accuracy')), num(v('cohen_kappa')), int(v('rejected') ?? null)];
    const head = target ? [num(v(`${target}_mae`)), num(v(`${target}_rmse`))] : [];
    return [`${swatch(k.color)}${esc(k.label)}`, int(v('count') ?? null), ...cells, ...head];
  });
  if (rows.length === 0) return '<p class="none">No figures yet: no labelled example of this model.</p>';
  return table(headers, rows, 'totals');
}

export function totalsTable(m: ModelData, figures: Figures, keys: SeriesKey[]): string {
  if (m.kind === 'multiclass') return multiclassTotals(m, figures, keys);
  const binary = m.kind === 'binary';
  const headers = binary
    ? ['model', 'n', 'positives', 'precision', 'recall', 'F1', 'log loss', 'ROC AUC', 'PR AUC', 'ECE', 'Brier']
    : ['model', 'n', 'MAE', 'RMSE', 'R²', 'MAPE'];
  const rows = keys.map((k) => {
    const v = (metric: string) => figures.total(k.role, k.version, metric)?.value;
    const n = v('count') ?? null;
    const share = (x: number | null | undefined) => (x === null || x === undefined || !n ? null : x / n);
    const cells = binary
      ? [pct(share(v('positives'))), num(v('precision')), num(v('recall')), num(v('f1')), num(v('log_loss')), num(v('roc_auc')), num(v('pr_auc')), num(v('ece')), num(v('brier'))]
      : [num(v('mae')), num(v('rmse')), num(v('r2')), pct(v('mape'))];
    return [`${swatch(k.color)}${esc(k.label)}`, int(n), ...cells];
  });
  if (rows.length === 0) return '<p class="none">No figures yet: no labelled example of this model.</p>';
  return table(headers, rows, 'totals');
}
