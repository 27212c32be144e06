/**
 * Small inline SVG plots for the report's evaluation, drift and importance
 * sections: an x–y chart (ROC, PR, reliability: lines and dots over fixed
 * axes, with an optional diagonal), grouped bars (reference vs current
 * shares of a feature's bins) and a sparkline (a coefficient over the
 * snapshots). Pure functions from data to an SVG string; every text is
 * escaped here.
 */
import { esc } from './format.js';
import { extent, yTicks } from './svg.js';

const r1 = (x: number) => Math.round(x * 10) / 10;

function attributes(attrs: Record<string, string>): string {
  return Object.entries(attrs).map(([k, v]) => ` data-${k}="${esc(v)}"`).join('');
}

export interface XyLine {
  label: string;
  color: string;
  attrs: Record<string, string>;
  /** [x, y] in data units, in drawing order. */
  points: Array<[number, number]>;
  /** Also a dot per point, with this tooltip each (reliability bins). */
  dots?: string[];
  dashed?: boolean;
}

export interface XyChart {
  attrs: Record<string, string>;
  title: string;
  x: { label: string; lo: number; hi: number };
  y: { label: string; lo: number; hi: number };
  lines: XyLine[];
  /** The line y = x (a random classifier's ROC, perfect calibration). */
  diagonal?: boolean;
  /** A horizontal reference line at this y (a PR curve's prevalence), with its tooltip. */
  baseline?: { y: number; title: string };
  empty: string;
}

const XW = 340;
const XH = 300;
const XM = { left: 48, right: 12, top: 12, bottom: 40 };

/** Lines (and dots) over fixed axes, a grid at the axes' nice ticks. */
export function xyChart(c: XyChart): string {
  const left = XM.left;
  const right = XW - XM.right;
  const top = XM.top;
  const bottom = XH - XM.bottom;
  const x = (v: number) => left + ((v - c.x.lo) / (c.x.hi - c.x.lo)) * (right - left);
  const y = (v: number) => bottom - ((v - c.y.lo) / (c.y.hi - c.y.lo)) * (bottom - top);
  const out: string[] = [`<svg class="xy" viewBox="0 0 ${XW} ${XH}" role="img" aria-label="${esc(c.title)}"${attributes(c.attrs)} data-lines="${c.lines.length}">`];
  out.push(`<rect class="plot" x="${left}" y="${top}" width="${right - left}" height="${bottom - top}"/>`);
  const xs = yTicks([c.x.lo, c.x.hi], { label: '', format: String, lo: c.x.lo, hi: c.x.hi, bounds: [c.x.lo, c.x.hi] });
  const ys = yTicks([c.y.lo, c.y.hi], { label: '', format: String, lo: c.y.lo, hi: c.y.hi, bounds: [c.y.lo, c.y.hi] });
  for (const t of xs.ticks) {
    const xx = r1(x(t));
    out.push(`<line class="grid" x1="${xx}" x2="${xx}" y1="${top}" y2="${bottom}"/><text class="tick" x="${xx}" y="${bottom + 14}" text-anchor="middle">${esc(xs.label(t))}</text>`);
  }
  for (const t of ys.ticks) {
    const yy = r1(y(t));
    out.push(`<line class="grid" x1="${left}" x2="${right}" y1="${yy}" y2="${yy}"/><text class="tick" x="${left - 5}" y="${yy + 4}" text-anchor="end">${esc(ys.label(t))}</text>`);
  }
  out.push(`<text class="axis" x="${(left + right) / 2}" y="${XH - 6}" text-anchor="middle">${esc(c.x.label)}</text>`);
  out.push(`<text class="axis" transform="translate(12 ${(top + bottom) / 2}) rotate(-90)" text-anchor="middle">${esc(c.y.label)}</text>`);
  if (c.diagonal) out.push(`<line class="diagonal" x1="${r1(x(c.x.lo))}" y1="${r1(y(c.y.lo))}" x2="${r1(x(c.x.hi))}" y2="${r1(y(c.y.hi))}"/>`);
  if (c.baseline) {
    const yy = r1(y(c.baseline.y));
    out.push(`<line class="diagonal" x1="${left}" x2="${right}" y1="${yy}" y2="${yy}"><title>${esc(c.baseline.title)}</title></line>`);
  }
  const drawn = c.lines.filter((l) => l.points.length > 0);
  if (drawn.length === 0) out.push(`<text class="empty" x="${(left + right) / 2}" y="${(top + bottom) / 2}" text-anchor="middle">${esc(c.empty)}</text>`);
  for (const line of drawn) {
    const d = line.points.map(([px, py], i) => `${i === 0 ? 'M' : 'L'}${r1(x(px))} ${r1(y(py))}`).join('');
    out.push(`<path class="curve${line.dashed ? ' dashed' : ''}" d="${d}" stroke="${esc(line.color)}" data-points="${line.points.length}"${attributes(line.attrs)}><title>${esc(line.label)}</title></path>`);
    line.dots?.forEach((title, i) => {
      const [px, py] = line.points[i]!;
      out.push(`<circle class="point" cx="${r1(x(px))}" cy="${r1(y(py))}" r="3" fill="${esc(line.color)}"><title>${esc(title)}</title></circle>`);
    });
  }
  out.push('</svg>');
  return out.join('');
}

export interface BarSeries {
  label: string;
  color: string;
  /** Shares (0 to 1) per bin. */
  values: number[];
}

/** Grouped bars per bin (reference beside current), the bins' labels as tooltips, the largest share on the axis. */
export function bars(attrs: Record<string, string>, title: string, labels: string[], series: BarSeries[]): string {
  const width = 240;
  const height = 90;
  const top = 13;
  const bottom = height - 14;
  const left = 4;
  const right = width - 4;
  const highest = extent(series.flatMap((s) => s.values))?.[1] ?? 0;
  const max = highest > 0 ? highest : 1;
  const slot = (right - left) / Math.max(1, labels.length);
  const bar = (slot * 0.8) / Math.max(1, series.length);
  const out: string[] = [`<svg class="bars" viewBox="0 0 ${width} ${height}" role="img" aria-label="${esc(title)}"${attributes(attrs)} data-bins="${labels.length}">`];
  out.push(`<line class="grid" x1="${left}" x2="${right}" y1="${bottom}" y2="${bottom}"/>`);
  labels.forEach((label, i) => {
    series.forEach((s, k) => {
      const v = s.values[i] ?? 0;
      const h = ((bottom - top) * v) / max;
      const tip = `${label}: ${s.label} ${(100 * v).toFixed(1)}%`;
      out.push(`<rect x="${r1(left + i * slot + slot * 0.1 + k * bar)}" y="${r1(bottom - h)}" width="${r1(bar)}" height="${r1(h)}" fill="${esc(s.color)}" data-series="${esc(s.label)}" data-share="${v}"><title>${esc(tip)}</title></rect>`);
    });
  });
  out.push(`<text class="tick" x="${left}" y="${height - 2}">${esc(labels[0] ?? '')}</text><text class="tick" x="${right}" y="${height - 2}" text-anchor="end">${esc(labels[labels.length - 1] ?? '')}</text>`);
  out.push(`<text class="tick" x="${right}" y="${top - 3}" text-anchor="end">max ${(100 * max).toFixed(0)}%</text>`);
  out.push('</svg>');
  return out.join('');
}

/** A value over time as a small line, its last point marked; the tooltip says first and last. */
export function sparkline(attrs: Record<string, string>, values: number[], title: string): string {
  const width = 120;
  const height = 24;
  const range = extent(values);
  const out: string[] = [`<svg class="spark" viewBox="0 0 ${width} ${height}" role="img" aria-label="${esc(title)}"${attributes(attrs)} data-points="${values.length}"><title>${esc(title)}</title>`];
  if (range !== null) {
    const [lo, hi] = range[0] === range[1] ? [range[0] - 1, range[1] + 1] : range;
    const x = (i: number) => 2 + (values.length === 1 ? (width - 4) / 2 : (i * (width - 4)) / (values.length - 1));
    const y = (v: number) => height - 3 - ((v - lo) / (hi - lo)) * (height - 6);
    if (lo < 0 && hi > 0) out.push(`<line class="grid" x1="2" x2="${width - 2}" y1="${r1(y(0))}" y2="${r1(y(0))}"/>`);
    out.push(`<path class="curve" d="${values.map((v, i) => `${i === 0 ? 'M' : 'L'}${r1(x(i))} ${r1(y(v))}`).join('')}"/>`);
    out.push(`<circle cx="${r1(x(values.length - 1))}" cy="${r1(y(values[values.length - 1]!))}" r="2"/>`);
  }
  out.push('</svg>');
  return out.join('');
}
