/**
 * HTML pieces shared by the sections: tables, color swatches, captioned
 * figures and the chart legend.
 */
import { esc } from './format.js';
import type { SeriesKey } from './series.js';
import { markerColor, type Marker } from './svg.js';

/** A table whose first column heads the rows; the columns in `text` are left-aligned, the others are figures. */
export function table(headers: string[], rows: string[][], classes = '', text: number[] = []): string {
  if (rows.length === 0) return '';
  const align = (i: number) => (i === 0 || text.includes(i) ? '' : ' class="n"');
  const head = headers.map((h, i) => `<th${align(i)}>${h}</th>`).join('');
  const body = rows.map((r) => `<tr>${r.map((c, i) => (i === 0 ? `<th scope="row">${c}</th>` : `<td${align(i)}>${c}</td>`)).join('')}</tr>`).join('\n');
  return `<table class="${classes}"><thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table>`;
}

export const swatch = (color: string) => `<span class="swatch" style="background:${esc(color)}"></span>`;

export function figure(chart: string, caption: string): string {
  return `<figure><figcaption>${esc(caption)}</figcaption>${chart}</figure>`;
}

/** What a model's charts show besides the measured figures. */
export interface LegendExtras {
  /** Some series has an estimated line. */
  estimated: boolean;
  /** Some window is shaded (labels still arriving). */
  immature: boolean;
}

export function legend(keys: SeriesKey[], windows: Array<{ window: string; style: string }>, markers: Marker[], extras: LegendExtras = { estimated: false, immature: false }): string {
  const items = keys.map((k) => `<span class="item">${swatch(k.color)}${esc(k.label)}</span>`);
  const fine = windows.find((w) => w.style === 'line');
  const coarse = windows.find((w) => w.style === 'steps');
  if (fine) items.push(`<span class="item"><span class="line thin"></span>per ${esc(fine.window)} window${coarse ? '' : ' (at its middle)'}</span>`);
  if (coarse) items.push(`<span class="item"><span class="line bold"></span>per ${esc(coarse.window)} window (dot: hover for n)</span>`);
  if (extras.estimated) {
    items.push('<span class="item"><span class="line estimate"></span>estimated from the scores of every prediction, before labels (CBPE)</span>');
    items.push('<span class="item"><span class="line estimate untrusted"></span>estimate not trusted: scores not calibrated on the matured labels</span>');
  }
  if (extras.immature) items.push('<span class="item"><span class="shade"></span>labels still arriving (window not matured: its figures may change)</span>');
  const kinds = new Set(markers.map((m) => m.kind));
  for (const [kind, name] of [['promote', 'promotion'], ['rollback', 'rollback'], ['pin', 'pin or unpin']] as const) {
    if (kinds.has(kind) || (kind === 'pin' && kinds.has('unpin'))) items.push(`<span class="item"><span class="vline" style="border-color:${markerColor(kind)}"></span>${name}</span>`);
  }
  if (kinds.has('drift')) items.push(`<span class="item"><span class="tick" style="background:${markerColor('drift')}"></span>drift alarm (inputs or champion)</span>`);
  return `<div class="legend">${items.join('')}</div>`;
}
