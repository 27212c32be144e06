/** Fairness by segment: the champion's figures per segment and the gaps per fairness attribute. */
import { ALL_SEGMENTS, parseSegmentKey } from '../../core/contracts/index.js';
import type { MetricPoint } from '../../core/evaluate/rows.js';
import { esc, int, num, pct } from '../format.js';
import { swatch, table } from '../html.js';
import type { ModelData } from '../input.js';
import type { SeriesKey } from '../series.js';

/** The fairness-gap keys among the points' segments, each with its attribute. */
function gapAttributes(points: MetricPoint[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const p of points) {
    const segment = parseSegmentKey(p.segment);
    if (segment?.kind === 'gap') out.set(p.segment, segment.attribute);
  }
  return out;
}

/** One series' whole-history figures by segment (gap keys left out), then by metric. */
function bySegment(total: MetricPoint[], k: SeriesKey, gapOf: Map<string, string>): Map<string, Map<string, number | null>> {
  const mine = total.filter((p) => p.role === k.role && p.model_version === k.version);
  const out = new Map<string, Map<string, number | null>>();
  for (const p of mine) {
    if (gapOf.has(p.segment)) continue;
    if (!out.has(p.segment)) out.set(p.segment, new Map());
    out.get(p.segment)!.set(p.metric, p.value);
  }
  return out;
}

/** A row per segment of one series. */
function segmentsTable(kind: ModelData['kind'], k: SeriesKey, figures: Map<string, Map<string, number | null>>): string {
  const binary = kind === 'binary';
  const segments = [...figures.keys()].sort();
  const rows = segments.map((segment) => {
    const v = figures.get(segment)!;
    const n = v.get('count') ?? null;
    const share = (x: number | null | undefined) => (x === null || x === undefined || !n ? null : x / n);
    const cells = binary
      ? [pct(share(v.get('positives'))), pct(share((v.get('tp') ?? 0) + (v.get('fp') ?? 0))), num(v.get('precision')), num(v.get('recall')), num(v.get('fpr')), num(v.get('f1')), num(v.get('roc_auc')), num(v.get('log_loss'))]
      : kind === 'multiclass'
        ? [num(v.get('accuracy')), num(v.get('macro_f1')), num(v.get('log_loss')), num(v.get('cohen_kappa'))]
        : [num(v.get('mae')), num(v.get('rmse')), num(v.get('r2'))];
    return [esc(segment), int(n), ...cells];
  });
  const headers = binary
    ? ['segment', 'n', 'positives', 'predicted positive', 'precision', 'recall (TPR)', 'FPR', 'F1', 'ROC AUC', 'log loss']
    : kind === 'multiclass'
      ? ['segment', 'n', 'accuracy', 'macro F1', 'log loss', "Cohen's kappa"]
      : ['segment', 'n', 'MAE', 'RMSE', 'R²'];
  return `<h4>${swatch(k.color)}${esc(k.label)}, whole history</h4>${table(headers, rows, 'fairness')}`;
}

/** A row per series with the gaps across one attribute. */
function gapsTable(attribute: string, gapKey: string, gaps: MetricPoint[], keys: SeriesKey[]): string {
  const rows = keys
    .map((k) => {
      const v = (metric: string) => gaps.find((p) => p.segment === gapKey && p.role === k.role && p.model_version === k.version && p.metric === metric)?.value;
      if (v('groups') === undefined) return null;
      return [`${swatch(k.color)}${esc(k.label)}`, num(v('demographic_parity_difference')), num(v('equal_opportunity_difference')), int(v('smallest_group_count')), int(v('groups'))];
    })
    .filter((r): r is string[] => r !== null);
  return (
    `<h4>Gaps across ${esc(attribute)}</h4>` +
    table(['model', 'demographic parity difference (max − min predicted positive share)', 'equal opportunity difference (max − min recall)', 'smallest group (n)', 'groups'], rows, 'gaps')
  );
}

export function fairnessSection(m: ModelData, keys: SeriesKey[]): string {
  const total = m.points.filter((p) => p.window === 'total' && p.segment !== ALL_SEGMENTS);
  if (total.length === 0) return '<p class="none">No segments (predictions carry no <code>segments</code>).</p>';
  const gapOf = gapAttributes(total);
  const parts: string[] = [];
  for (const k of keys.filter((key) => key.role === 'champion')) parts.push(segmentsTable(m.kind, k, bySegment(total, k, gapOf)));
  const gaps = total.filter((p) => gapOf.has(p.segment));
  const gapKeys = [...gapOf.keys()].sort();
  if (gapKeys.length === 0) {
    parts.push('<p class="none">No fairness attribute configured (<code>evaluator.fairness_attributes</code>): no gaps computed.</p>');
  }
  for (const gapKey of gapKeys) parts.push(gapsTable(gapOf.get(gapKey)!, gapKey, gaps, keys));
  return parts.join('\n');
}
