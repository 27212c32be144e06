/**
 * The total window as a data scientist reads it, per role and version: the
 * confusion matrix (counts and rates), the ROC and precision–recall curves
 * (the evaluator's bounded, exact curve points: charts.jsonl, `score_curve`;
 * their AUCs the figures of the totals table) and the reliability diagram
 * (mean score against the fraction of positives per calibration bin, with
 * its count: the `calibration_bin_*` figures of the total window).
 *
 * The confusion table takes any number of classes (a `confusion` chart:
 * row = true class, column = predicted), so a multi-class model's matrix
 * is drawn by the same code.
 */
import { ALL_SEGMENTS } from '../../core/contracts/index.js';
import type { ChartRow } from '../../core/evaluate/rows.js';
import { esc, int, num, pct } from '../format.js';
import { figure, swatch } from '../html.js';
import type { ModelData } from '../input.js';
import { xyChart, type XyLine } from '../plots.js';
import type { Figures, SeriesKey } from '../series.js';

/** A chart row's series by name (values[s * points + i]). */
export function seriesOf(c: ChartRow): Map<string, number[]> {
  const points = c.series.length === 0 ? 0 : c.values.length / c.series.length;
  return new Map(c.series.map((name, s) => [name, c.values.slice(s * points, (s + 1) * points)]));
}

/** The model's total-window chart of a kind for a series. */
function totalChart(m: ModelData, key: SeriesKey, chart: string): ChartRow | undefined {
  return m.charts.find((c) => c.chart === chart && c.role === key.role && c.model_version === key.version && c.segment === ALL_SEGMENTS && c.window === 'total');
}

/**
 * A confusion matrix as a table: a row per true class, a column per
 * predicted one, each cell its count and its share of the row (recall of
 * the diagonal); a last row with each predicted class's precision.
 */
export function confusionTable(classes: string[], counts: number[], attrs: Record<string, string>): string {
  const k = classes.length;
  const at = (r: number, c: number) => counts[r * k + c] ?? 0;
  const rowTotal = (r: number) => classes.reduce((sum, _, c) => sum + at(r, c), 0);
  const colTotal = (c: number) => classes.reduce((sum, _, r) => sum + at(r, c), 0);
  const data = Object.entries(attrs).map(([a, v]) => ` data-${a}="${esc(v)}"`).join('');
  const head = `<tr><th>true \\ predicted</th>${classes.map((c) => `<th class="n">${esc(c)}</th>`).join('')}<th class="n">n</th></tr>`;
  const rows = classes.map((name, r) => {
    const total = rowTotal(r);
    const cells = classes.map((_, c) => {
      const v = at(r, c);
      const share = total > 0 ? v / total : null;
      return `<td class="n${r === c ? ' diag' : ''}" data-true="${esc(name)}" data-predicted="${esc(classes[c]!)}" data-count="${v}">${int(v)}<small>${pct(share)}</small></td>`;
    });
    return `<tr><th scope="row">${esc(name)}</th>${cells.join('')}<td class="n">${int(total)}</td></tr>`;
  });
  const precision = classes.map((_, c) => {
    const total = colTotal(c);
    return `<td class="n" data-precision="${total > 0 ? at(c, c) / total : ''}">${num(total > 0 ? at(c, c) / total : null)}</td>`;
  });
  return `<table class="confusion"${data}><thead>${head}</thead><tbody>${rows.join('')}<tr><th scope="row">precision</th>${precision.join('')}<td></td></tr></tbody></table>`;
}

/** ROC and PR lines of each series that has a curve: (FPR, TPR) and (recall, precision) from the origin. */
function curveLines(m: ModelData, figures: Figures, keys: SeriesKey[]): { roc: XyLine[]; pr: XyLine[]; prevalence: number | null } {
  const roc: XyLine[] = [];
  const pr: XyLine[] = [];
  let prevalence: number | null = null;
  for (const key of keys) {
    const c = totalChart(m, key, 'score_curve');
    if (!c) continue;
    const s = seriesOf(c);
    const tp = s.get('tp') ?? [];
    const fp = s.get('fp') ?? [];
    const positives = tp[tp.length - 1] ?? 0;
    const negatives = fp[fp.length - 1] ?? 0;
    if (!(positives > 0 && negatives > 0)) continue;
    prevalence ??= positives / (positives + negatives);
    const attrs = { role: key.role, version: key.version };
    const auc = figures.total(key.role, key.version, 'roc_auc')?.value;
    const ap = figures.total(key.role, key.version, 'pr_auc')?.value;
    roc.push({ label: `${key.label}: ROC AUC ${num(auc)}`, color: key.color, attrs, points: [[0, 0], ...tp.map((t, i): [number, number] => [fp[i]! / negatives, t / positives])] });
    pr.push({ label: `${key.label}: average precision ${num(ap)}`, color: key.color, attrs, points: tp.map((t, i): [number, number] => [t / positives, t / (t + fp[i]!)]) });
  }
  return { roc, pr, prevalence };
}

/** Reliability lines: per non-empty calibration bin of the total window, (mean score, fraction positive), the count in the tooltip. */
function reliabilityLines(figures: Figures, keys: SeriesKey[]): XyLine[] {
  const lines: XyLine[] = [];
  for (const key of keys) {
    const points: Array<[number, number]> = [];
    const dots: string[] = [];
    for (let b = 0; b < 100; b++) {
      const id = String(b).padStart(2, '0');
      const score = figures.total(key.role, key.version, `calibration_bin_${id}_mean_score`);
      const positive = figures.total(key.role, key.version, `calibration_bin_${id}_fraction_positive`);
      if (!score) break;
      if (score.value === null || positive?.value === null || positive?.value === undefined) continue;
      points.push([score.value, positive.value]);
      dots.push(`${key.label}, bin ${b + 1}: mean score ${num(score.value)}, fraction positive ${num(positive.value)} (n ${int(score.count)})`);
    }
    if (points.length > 0) lines.push({ label: key.label, color: key.color, attrs: { role: key.role, version: key.version }, points, dots });
  }
  return lines;
}

export function evaluationSection(m: ModelData, figures: Figures, keys: SeriesKey[]): string {
  if (m.kind !== 'binary') return '<p class="none">Curves and the confusion matrix are drawn for binary models.</p>';
  const { roc, pr, prevalence } = curveLines(m, figures, keys);
  const reliability = reliabilityLines(figures, keys);
  const attrs = (chart: string) => ({ model: m.model, chart });
  const charts = [
    figure(xyChart({ attrs: attrs('roc'), title: `${m.model}: ROC curve`, x: { label: 'false positive rate', lo: 0, hi: 1 }, y: { label: 'true positive rate (recall)', lo: 0, hi: 1 }, lines: roc, diagonal: true, empty: 'no curve yet (needs positives and negatives)' }), 'ROC curve'),
    figure(xyChart({
      attrs: attrs('pr'), title: `${m.model}: precision–recall curve`, x: { label: 'recall', lo: 0, hi: 1 }, y: { label: 'precision', lo: 0, hi: 1 }, lines: pr,
      ...(prevalence === null ? {} : { baseline: { y: prevalence, title: `share of positives ${pct(prevalence)} (a random model's precision)` } }), empty: 'no curve yet (needs positives and negatives)',
    }), 'Precision–recall curve'),
    figure(xyChart({ attrs: attrs('reliability'), title: `${m.model}: reliability diagram`, x: { label: 'mean predicted probability', lo: 0, hi: 1 }, y: { label: 'fraction of positives', lo: 0, hi: 1 }, lines: reliability, diagonal: true, empty: 'no calibration bins yet' }), 'Reliability diagram (per calibration bin; hover a dot for n)'),
  ];
  const aucs = keys
    .filter((k) => figures.total(k.role, k.version, 'count'))
    .map((k) => `<span class="item">${swatch(k.color)}${esc(k.label)}: ROC AUC <b data-role="${esc(k.role)}" data-version="${esc(k.version)}" data-metric="roc_auc">${num(figures.total(k.role, k.version, 'roc_auc')?.value)}</b>, average precision <b data-role="${esc(k.role)}" data-version="${esc(k.version)}" data-metric="pr_auc">${num(figures.total(k.role, k.version, 'pr_auc')?.value)}</b>, ECE ${num(figures.total(k.role, k.version, 'ece')?.value)}</span>`);
  const matrices = keys.flatMap((k) => {
    const c = totalChart(m, k, 'confusion');
    if (!c) return [];
    return [`<div class="matrix"><h4>${swatch(k.color)}${esc(k.label)}</h4>${confusionTable(c.labels, c.values, { role: k.role, version: k.version })}</div>`];
  });
  return (
    `<div class="legend">${aucs.join('')}</div>` +
    `<div class="charts small">${charts.join('')}</div>` +
    `<h4>Confusion matrices at each prediction's threshold (row: true class; cell: count and share of the row)</h4>` +
    (matrices.length > 0 ? `<div class="matrices">${matrices.join('')}</div>` : '<p class="none">No confusion matrix yet.</p>')
  );
}
