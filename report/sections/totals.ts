/** The totals table: each series' figures over the whole history. */
import { esc, int, num, pct } from '../format.js';
import { swatch, table } from '../html.js';
import type { ModelData } from '../input.js';
import type { Figures, SeriesKey } from '../series.js';

export function totalsTable(m: ModelData, figures: Figures, keys: SeriesKey[]): string {
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
