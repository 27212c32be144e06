/**
 * The per-feature drift table: for each input feature, the latest test of
 * each of its statistics (numeric: PSI and KS; categorical: chi-squared p,
 * Jensen–Shannon distance and new-category rate; data quality: missing,
 * out-of-range and unseen rates) with its threshold and whether it alarms,
 * the alarms over the whole run, and the reference's and the latest
 * window's shares per bin or category as small bars (charts.jsonl,
 * `numeric_histogram` / `category_counts`).
 */
import type { ChartRow, DriftRecord } from '../../core/evaluate/rows.js';
import { esc, int, isoMinute, num, pct } from '../format.js';
import type { ModelData } from '../input.js';
import { bars } from '../plots.js';
import { seriesOf } from './evaluation.js';

/** The statistics shown, in column order: name, how its value reads, whether its threshold is one. */
const STATISTICS: Array<{ statistic: string; name: string; share: boolean; threshold: boolean }> = [
  { statistic: 'psi', name: 'PSI', share: false, threshold: true },
  { statistic: 'ks', name: 'KS', share: false, threshold: true },
  { statistic: 'cat_chi2_p', name: 'χ² p', share: false, threshold: true },
  { statistic: 'cat_js', name: 'JS distance', share: false, threshold: true },
  { statistic: 'cat_new_rate', name: 'new categories', share: true, threshold: false },
  { statistic: 'dq_missing_rate', name: 'missing', share: true, threshold: true },
  { statistic: 'dq_out_of_range_rate', name: 'out of range', share: true, threshold: false },
  { statistic: 'dq_unseen_rate', name: 'unseen', share: true, threshold: false },
];
const SHOWN = new Set(STATISTICS.map((s) => s.statistic));

const REFERENCE_COLOR = '#9e9e9e';
const CURRENT_COLOR = '#1a3a8f';

interface FeatureRow {
  latest: Map<string, DriftRecord>;
  alarms: Map<string, number>;
  charts: ChartRow[];
}

/** The input features' records (role `*`) and charts, by feature name. */
function byFeature(m: ModelData): Map<string, FeatureRow> {
  const rows = new Map<string, FeatureRow>();
  const row = (feature: string) => {
    let r = rows.get(feature);
    if (!r) rows.set(feature, (r = { latest: new Map(), alarms: new Map(), charts: [] }));
    return r;
  };
  for (const d of m.drift) {
    if (d.role !== '*' || !SHOWN.has(d.statistic)) continue;
    const r = row(d.feature);
    const current = r.latest.get(d.statistic);
    if (!current || d.n > current.n || (d.n === current.n && d.at >= current.at)) r.latest.set(d.statistic, d);
    if (d.detected) r.alarms.set(d.statistic, (r.alarms.get(d.statistic) ?? 0) + 1);
  }
  for (const c of m.charts) if (c.role === '*' && (c.chart === 'numeric_histogram' || c.chart === 'category_counts')) row(c.subject).charts.push(c);
  return rows;
}

function statisticCell(spec: (typeof STATISTICS)[number], d: DriftRecord | undefined, alarms: number): string {
  if (!d) return '<td class="n">–</td>';
  const value = spec.share ? pct(d.value) : num(d.value);
  const threshold = spec.threshold ? (spec.share ? pct(d.threshold) : num(d.threshold)) : '';
  const limit = threshold ? `<small>${spec.statistic === 'cat_chi2_p' ? '&lt;' : '&gt;'} ${threshold}</small>` : '';
  const runs = alarms > 0 ? `<small class="alarms">${int(alarms)} alarm${alarms === 1 ? '' : 's'} in the run</small>` : '';
  return `<td class="n stat${d.detected ? ' alarm' : ''}" data-statistic="${esc(spec.statistic)}" data-value="${d.value ?? ''}" data-threshold="${d.threshold}" data-detected="${d.detected}">${value}${limit}${runs}</td>`;
}

/** The reference's and the latest window's shares of a feature chart, as bars. */
function histogram(model: string, c: ChartRow): string {
  const s = seriesOf(c);
  const shares = (name: string) => {
    const counts = s.get(name) ?? [];
    const total = counts.reduce((a, b) => a + b, 0);
    return counts.map((v) => (total > 0 ? v / total : 0));
  };
  const chart = bars({ model, feature: c.subject, chart: c.chart }, `${c.subject}: reference vs ${c.window} ending ${isoMinute(c.window_end)}`, c.labels, [
    { label: 'reference', color: REFERENCE_COLOR, values: shares('reference') },
    { label: 'current', color: CURRENT_COLOR, values: shares('current') },
  ]);
  return `<div class="hist">${chart}<small>${c.chart === 'category_counts' ? 'categories' : 'PSI bins'} · latest ${esc(c.window)} to ${esc(isoMinute(c.window_end))}</small></div>`;
}

export function featuresSection(m: ModelData): string {
  const rows = byFeature(m);
  if (rows.size === 0) return '<p class="none">No input feature tested yet (the reference fills first).</p>';
  const present = STATISTICS.filter((spec) => [...rows.values()].some((r) => r.latest.has(spec.statistic)));
  const names = [...rows.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const head = `<tr><th>feature</th>${present.map((s) => `<th class="n">${esc(s.name)}</th>`).join('')}<th>reference <span class="swatch" style="background:${REFERENCE_COLOR}"></span> vs latest window <span class="swatch" style="background:${CURRENT_COLOR}"></span></th></tr>`;
  const body = names.map((feature) => {
    const r = rows.get(feature)!;
    const alarm = [...r.latest.values()].some((d) => d.detected);
    const cells = present.map((spec) => statisticCell(spec, r.latest.get(spec.statistic), r.alarms.get(spec.statistic) ?? 0));
    return `<tr data-feature="${esc(feature)}"${alarm ? ' class="alarm"' : ''}><th scope="row">${esc(feature)}</th>${cells.join('')}<td>${r.charts.map((c) => histogram(m.model, c)).join('')}</td></tr>`;
  });
  return (
    `<p>The latest test of each input feature against its reference (the model's first predictions), its threshold, and the alarms over the whole run. ` +
    `Highlighted: the latest test alarms. The bars: each bin's or category's share of the reference and of the latest window.</p>` +
    `<table class="features"><thead>${head}</thead><tbody>${body.join('')}</tbody></table>`
  );
}
