/**
 * The total window of a multi-class model, per role and version: each
 * class's support, precision, recall and F1 (the `precision[<class>]`…
 * figures), and the confusion matrix (the `confusion` chart row: row = true
 * class, column = predicted), drawn by the binary section's table.
 */
import { ALL_SEGMENTS } from '../../core/contracts/index.js';
import { esc, int, num } from '../format.js';
import { swatch, table } from '../html.js';
import type { ModelData } from '../input.js';
import type { Figures, SeriesKey } from '../series.js';
import { confusionTable } from './evaluation.js';

/** The classes named by a series' per-class F1 figures of the total window, in the order first seen. */
function classesOf(m: ModelData, key: SeriesKey): string[] {
  const out: string[] = [];
  for (const p of m.points) {
    if (p.role !== key.role || p.model_version !== key.version || p.window !== 'total' || p.segment !== ALL_SEGMENTS) continue;
    const match = /^f1\[(.*)\]$/.exec(p.metric);
    if (match && !out.includes(match[1]!)) out.push(match[1]!);
  }
  return out;
}

function perClassTable(m: ModelData, figures: Figures, key: SeriesKey, classes: string[]): string {
  const v = (metric: string) => figures.total(key.role, key.version, metric)?.value;
  const rows = classes.map((c) => [esc(c), int(v(`support[${c}]`) ?? null), num(v(`precision[${c}]`)), num(v(`recall[${c}]`)), num(v(`f1[${c}]`))]);
  return table(['class', 'support', 'precision', 'recall', 'F1'], rows, 'per-class');
}

export function classesSection(m: ModelData, figures: Figures, keys: SeriesKey[]): string {
  const parts = keys.flatMap((k) => {
    const chart = m.charts.find((c) => c.chart === 'confusion' && c.role === k.role && c.model_version === k.version && c.segment === ALL_SEGMENTS && c.window === 'total');
    // In the model's class order where the matrix gives it.
    const perClass = perClassTable(m, figures, k, chart ? chart.labels : classesOf(m, k));
    if (!perClass && !chart) return [];
    const matrix = chart ? confusionTable(chart.labels, chart.values, { role: k.role, version: k.version }) : '<p class="none">No confusion matrix for this series.</p>';
    return [`<div class="matrix" data-role="${esc(k.role)}" data-version="${esc(k.version)}"><h4>${swatch(k.color)}${esc(k.label)}</h4>${perClass}${matrix}</div>`];
  });
  if (parts.length === 0) return '<p class="none">No labelled example with a class yet.</p>';
  return `<p class="meta">Per class over the whole history; the confusion matrix's row is the true class, a cell its count and share of the row.</p><div class="matrices">${parts.join('')}</div>`;
}
