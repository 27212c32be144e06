/**
 * Inline SVG charts for the report: a time-series line chart with vertical
 * markers, estimate series drawn dashed (faded where not trusted) and shaded
 * time spans (windows whose labels are still arriving), and a timeline of
 * events in rows. Pure functions from data to an SVG string; every text is
 * escaped here. The x axis is UTC time.
 */
import { DAY, esc, HOUR, hourMinute, isoMinute, MINUTE, monthDay } from './format.js';

/** One window's figure. */
export interface Point {
  start: number;
  end: number;
  value: number | null;
  count: number;
  /** Drawn faded (an estimate not trusted in this window), with the segments that join it. */
  faded?: boolean;
}

/** A series' points in one window size: `line` joins them, `steps` draws each window as a level segment. */
export interface SeriesLine {
  window: string;
  style: 'line' | 'steps';
  points: Point[];
}

export interface Series {
  label: string;
  color: string;
  /** data-* attributes of the series' paths (role, version…). */
  attrs: Record<string, string>;
  lines: SeriesLine[];
  /** An estimate (not a measured figure): drawn dashed, without dots; its faded points fainter still. */
  estimate?: { faded: string };
}

/** A time span shaded behind the series (a window whose labels are still arriving), with its tooltip. */
export interface Shade {
  start: number;
  end: number;
  title: string;
}

export type MarkerKind = 'promote' | 'rollback' | 'pin' | 'unpin' | 'drift' | 'drift-challenger';

export interface Marker {
  at: number;
  kind: MarkerKind;
  /** Drawn beside a decision's line (drift ticks have none). */
  label: string;
  /** The tooltip. */
  title: string;
}

export interface LineChart {
  /** data-* attributes of the svg (model, metric). */
  attrs: Record<string, string>;
  title: string;
  domain: [number, number];
  y: {
    label: string;
    format: (v: number) => string;
    /** Where the axis must start or end (0 for a loss), and the limits it may not pass ([0, 1] for a share). */
    lo?: number;
    hi?: number;
    bounds?: [number, number];
    /** Axis labels (default: the values with as many decimals as the tick step needs; on a log axis, `format`). */
    tick?: (v: number) => string;
    /** A logarithmic axis with ticks at these of its values (durations, say). */
    log?: { ticks: number[] };
  };
  series: Series[];
  markers: Marker[];
  /** Shown when no series has a figure. */
  empty: string;
  /** Spans shaded behind the series, and a note written in the last run of them when it has room. */
  shade?: { spans: Shade[]; note: string };
}

const W = 600;
const H = 250;
const M = { left: 66, right: 16, top: 30, bottom: 42 };

const r1 = (x: number) => Math.round(x * 10) / 10;

function attributes(attrs: Record<string, string>): string {
  return Object.entries(attrs).map(([k, v]) => ` data-${k}="${esc(v)}"`).join('');
}

/** A step of 1, 2, 2.5 or 5 times a power of ten giving about `count` intervals over `span`. */
function niceStep(span: number, count: number): number {
  const raw = span / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * power).find((s) => s >= raw) ?? 10 * power;
  return step;
}

/** The y domain and its ticks: the data's range, widened to nice steps, within the bounds. */
export function yTicks(values: number[], y: LineChart['y']): { lo: number; hi: number; ticks: number[]; label: (v: number) => string } {
  const range = extent(values);
  let [lo, hi] = range ?? [y.lo ?? y.bounds?.[0] ?? 0, y.hi ?? y.bounds?.[1] ?? 1];
  if (y.lo !== undefined) lo = Math.min(lo, y.lo);
  if (y.hi !== undefined) hi = Math.max(hi, y.hi);
  if (!Number.isFinite(lo)) lo = Math.min(0, hi - 1);
  if (!Number.isFinite(hi)) hi = lo + 1;
  if (hi - lo < 1e-9) {
    const pad = Math.abs(hi) > 1e-9 ? Math.abs(hi) * 0.1 : 0.5;
    [lo, hi] = [lo - pad, hi + pad];
  }
  const margin = (hi - lo) * 0.05;
  if (y.lo === undefined) lo -= margin;
  if (y.hi === undefined) hi += margin;
  if (y.bounds) [lo, hi] = [Math.max(lo, y.bounds[0]), Math.min(hi, y.bounds[1])];
  const step = niceStep(hi - lo, 4);
  lo = Math.floor(lo / step + 1e-9) * step;
  hi = Math.ceil(hi / step - 1e-9) * step;
  if (y.bounds) [lo, hi] = [Math.max(lo, y.bounds[0]), Math.min(hi, y.bounds[1])];
  const ticks: number[] = [];
  for (let t = Math.ceil(lo / step - 1e-9) * step; t <= hi + step * 1e-6; t += step) ticks.push(Math.round(t / step) * step);
  let digits = 0;
  while (digits < 6 && Math.abs(Math.round(step * 10 ** digits) - step * 10 ** digits) > 1e-6) digits++;
  return { lo, hi, ticks, label: (v) => v.toFixed(digits) };
}

/** A log10 domain around the (log10) values, with the candidate ticks inside it, at least two of them. */
export function logTicks(values: number[], candidates: number[]): { lo: number; hi: number; ticks: number[] } {
  const logs = candidates.filter((c) => c > 0).map(Math.log10).sort((a, b) => a - b);
  let [lo, hi] = extent(values) ?? [logs[0] ?? 0, logs[logs.length - 1] ?? 1];
  lo -= 0.1;
  hi += 0.1;
  let ticks = logs.filter((t) => t >= lo && t <= hi);
  if (ticks.length < 2) {
    const below = logs.filter((t) => t < lo).pop();
    const above = logs.find((t) => t > hi);
    if (below !== undefined) lo = below;
    if (above !== undefined) hi = above;
    ticks = logs.filter((t) => t >= lo && t <= hi);
  }
  return { lo, hi, ticks };
}

const TIME_STEPS = [MINUTE, 5 * MINUTE, 15 * MINUTE, 30 * MINUTE, HOUR, 2 * HOUR, 3 * HOUR, 6 * HOUR, 12 * HOUR, DAY, 2 * DAY, 7 * DAY, 14 * DAY, 28 * DAY, 91 * DAY, 364 * DAY];

/** Tick times on whole UTC steps, at most `max` of them, labelled by date at midnight and by hour otherwise. */
export function timeTicks(t0: number, t1: number, max = 8): Array<{ at: number; label: string; major: boolean }> {
  const step = TIME_STEPS.find((s) => (t1 - t0) / s <= max) ?? Math.ceil((t1 - t0) / max / DAY) * DAY;
  const ticks: Array<{ at: number; label: string; major: boolean }> = [];
  for (let at = Math.ceil(t0 / step) * step; at <= t1; at += step) {
    const midnight = at % DAY === 0;
    ticks.push({ at, label: midnight ? monthDay(at) : hourMinute(at), major: midnight });
  }
  return ticks;
}

/** The time span to draw: the figures' windows and the markers, padded when it is a single instant. */
export function timeDomain(times: number[]): [number, number] | null {
  const range = extent(times);
  if (range === null) return null;
  const [t0, t1] = range;
  return t1 > t0 ? [t0, t1] : [t0 - HOUR, t1 + HOUR];
}

/** The smallest and largest finite value (a loop: arrays here can be too long to spread). */
export function extent(values: number[]): [number, number] | null {
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (const v of values) {
    if (!Number.isFinite(v)) continue;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return lo <= hi ? [lo, hi] : null;
}

/**
 * The paths of a series line: joined points, broken at nulls and at missing
 * windows (a lone point drawn as a dot-sized segment, so that it shows); or
 * one level segment per window. Segments that touch a faded point go to the
 * faded path, the others to the plain one.
 */
function seriesPaths(line: SeriesLine, x: (t: number) => number, y: (v: number) => number): { plain: string; faded: string } {
  const plain = { d: '', at: -1 };
  const faded = { d: '', at: -1 };
  const pts = line.points;
  const valid = (i: number) => i >= 0 && i < pts.length && pts[i]!.value !== null && Number.isFinite(pts[i]!.value);
  const joined = (i: number) => valid(i - 1) && valid(i) && pts[i]!.start === pts[i - 1]!.end;
  const at = (i: number) => `${r1(x((pts[i]!.start + pts[i]!.end) / 2))} ${r1(y(pts[i]!.value!))}`;
  for (let i = 0; i < pts.length; i++) {
    if (!valid(i)) continue;
    const p = pts[i]!;
    if (line.style === 'steps') {
      (p.faded ? faded : plain).d += `M${r1(x(p.start))} ${r1(y(p.value!))}H${r1(x(p.end))}`;
      continue;
    }
    if (joined(i)) {
      const pen = p.faded || pts[i - 1]!.faded ? faded : plain;
      pen.d += `${pen.at === i - 1 ? '' : `M${at(i - 1)}`}L${at(i)}`;
      pen.at = i;
    } else if (!joined(i + 1)) {
      const pen = p.faded ? faded : plain;
      pen.d += `M${at(i)}h0.01`;
      pen.at = i;
    }
  }
  return { plain: plain.d, faded: faded.d };
}

/** The shaded spans (clipped to the plot), and the note at the end of the last run of touching spans when it is wide enough. */
function shading(shade: NonNullable<LineChart['shade']>, x: (t: number) => number, left: number, right: number, top: number, bottom: number): string {
  const out: string[] = [];
  let run: [number, number] | null = null;
  for (const s of shade.spans) {
    const x0 = Math.max(left, r1(x(s.start)));
    const x1 = Math.min(right, r1(x(s.end)));
    if (x1 <= x0) continue;
    out.push(`<rect class="immature" data-start="${s.start}" data-end="${s.end}" x="${x0}" y="${top}" width="${r1(x1 - x0)}" height="${bottom - top}"><title>${esc(s.title)}</title></rect>`);
    run = run && Math.abs(run[1] - x0) < 0.2 ? [run[0], x1] : [x0, x1];
  }
  if (run && run[1] - run[0] >= 90) out.push(`<text class="immature-note" x="${r1(run[1] - 4)}" y="${top + 13}" text-anchor="end">${esc(shade.note)}</text>`);
  return out.join('');
}

const MARKER_COLORS: Record<MarkerKind, string> = {
  promote: '#7b1fa2', rollback: '#c62828', pin: '#616161', unpin: '#616161', drift: '#ef6c00', 'drift-challenger': '#b0b0b0',
};

export function markerColor(kind: MarkerKind): string {
  return MARKER_COLORS[kind];
}

/** Vertical grid lines and date/hour labels along the bottom of a plot. */
function xAxis(t0: number, t1: number, x: (t: number) => number, top: number, bottom: number, max?: number): string {
  const right = x(t1);
  return timeTicks(t0, t1, max)
    .map((t) => {
      const xx = r1(x(t.at));
      // A label at the right edge ends there rather than running out of the picture.
      const anchor = right - xx < 24 ? 'end' : 'middle';
      return `<line class="grid${t.major ? ' major' : ''}" x1="${xx}" x2="${xx}" y1="${top}" y2="${bottom}"/>` +
        `<text class="tick${t.major ? ' major' : ''}" x="${xx}" y="${bottom + 16}" text-anchor="${anchor}">${esc(t.label)}</text>`;
    })
    .join('');
}

/** A decision as a labelled vertical line over the plot (the label on the side with more room). */
function decisionLine(m: Marker, xx: number, top: number, bottom: number, middle: number): string {
  const color = MARKER_COLORS[m.kind];
  const end = xx > middle;
  return `<g class="marker ${m.kind}" data-at="${m.at}"><title>${esc(m.title)}</title>` +
    `<line x1="${xx}" x2="${xx}" y1="${top - 4}" y2="${bottom}" stroke="${color}"/>` +
    `<text x="${r1(xx + (end ? -4 : 4))}" y="${top - 8}" text-anchor="${end ? 'end' : 'start'}" fill="${color}">${esc(m.label)}</text></g>`;
}

/** A time-series chart: one path per series and window size, decision lines, drift ticks along the bottom. */
export function lineChart(chart: LineChart): string {
  const [t0, t1] = chart.domain;
  const left = M.left;
  const right = W - M.right;
  const top = M.top;
  const bottom = H - M.bottom;
  const x = (t: number) => left + ((t - t0) / (t1 - t0)) * (right - left);
  // On a log axis the series are drawn as log10 of their values; `raw` turns a drawn value back for labels.
  const log = chart.y.log;
  const raw = (v: number) => (log ? 10 ** v : v);
  const drawn = (v: number | null) => (v === null || !Number.isFinite(v) ? null : !log ? v : v > 0 ? Math.log10(v) : null);
  const seriesList = chart.series.map((s) => ({ ...s, lines: s.lines.map((l) => ({ ...l, points: l.points.map((p) => ({ ...p, value: drawn(p.value) })) })) }));
  const values = seriesList.flatMap((s) => s.lines.flatMap((l) => l.points.map((p) => p.value))).filter((v): v is number => v !== null);
  const axis = log ? { ...logTicks(values, log.ticks), label: (v: number) => chart.y.format(raw(v)) } : yTicks(values, chart.y);
  const { lo, hi, ticks } = axis;
  const tick = chart.y.tick;
  const tickLabel = tick ? (v: number) => tick(raw(v)) : axis.label;
  const y = (v: number) => bottom - ((v - lo) / (hi - lo)) * (bottom - top);
  const out: string[] = [];
  out.push(
    `<svg class="chart" viewBox="0 0 ${W} ${H}" role="img" aria-label="${esc(chart.title)}"${attributes(chart.attrs)}` +
      ` data-t0="${t0}" data-t1="${t1}" data-left="${left}" data-right="${right}" data-series="${chart.series.length}"${values.length === 0 ? ' data-empty="true"' : ''}>`,
  );
  out.push(`<rect class="plot" x="${left}" y="${top}" width="${right - left}" height="${bottom - top}"/>`);
  if (chart.shade) out.push(shading(chart.shade, x, left, right, top, bottom));
  for (const t of ticks) {
    const yy = r1(y(t));
    out.push(`<line class="grid" x1="${left}" x2="${right}" y1="${yy}" y2="${yy}"/><text class="tick" x="${left - 6}" y="${yy + 4}" text-anchor="end">${esc(tickLabel(t))}</text>`);
  }
  out.push(xAxis(t0, t1, x, top, bottom));
  out.push(`<text class="axis" x="${(left + right) / 2}" y="${H - 6}" text-anchor="middle">prediction time (UTC)</text>`);
  out.push(`<text class="axis" transform="translate(13 ${(top + bottom) / 2}) rotate(-90)" text-anchor="middle">${esc(chart.y.label)}</text>`);
  if (values.length === 0) {
    out.push(`<text class="empty" x="${(left + right) / 2}" y="${(top + bottom) / 2}" text-anchor="middle">${esc(chart.empty)}</text>`);
  }
  for (const s of seriesList) {
    for (const line of s.lines) {
      const { plain, faded } = seriesPaths(line, x, y);
      const path = (d: string, cls: string, title: string) =>
        `<path class="series ${line.style}${cls}" d="${d}" stroke="${esc(s.color)}"${attributes({ ...s.attrs, window: line.window })}><title>${esc(title)}</title></path>`;
      if (plain !== '') out.push(path(plain, s.estimate ? ' estimate' : '', `${s.label} (${line.window})`));
      if (faded !== '') out.push(path(faded, s.estimate ? ' estimate untrusted' : ' faded', `${s.label} (${line.window}), ${s.estimate?.faded ?? 'faded'}`));
      if (line.style !== 'steps' || s.estimate) continue;
      for (const p of line.points) {
        if (p.value === null || !Number.isFinite(p.value)) continue;
        out.push(
          `<circle class="point" cx="${r1(x((p.start + p.end) / 2))}" cy="${r1(y(p.value))}" r="3" fill="${esc(s.color)}">` +
            `<title>${esc(`${s.label}, ${line.window} from ${isoMinute(p.start)}: ${chart.y.format(raw(p.value))} (n ${p.count})`)}</title></circle>`,
        );
      }
    }
  }
  for (const m of chart.markers) {
    const xx = r1(x(m.at));
    if (m.kind === 'drift' || m.kind === 'drift-challenger') {
      out.push(`<line class="marker ${m.kind}" data-at="${m.at}" x1="${xx}" x2="${xx}" y1="${bottom - 9}" y2="${bottom}" stroke="${MARKER_COLORS[m.kind]}"><title>${esc(m.title)}</title></line>`);
      continue;
    }
    out.push(decisionLine(m, xx, top, bottom, (left + right) / 2));
  }
  out.push('</svg>');
  return out.join('');
}

export interface TimelineRow {
  label: string;
  kind: 'drift' | 'drift-challenger';
  attrs: Record<string, string>;
  events: Array<{ at: number; title: string }>;
}

/** Events as dots on one row each (drift alarms by statistic and feature), on a time axis; decisions as vertical lines. */
export function timeline(attrs: Record<string, string>, title: string, domain: [number, number], rows: TimelineRow[], decisions: Marker[]): string {
  const [t0, t1] = domain;
  const rowHeight = 20;
  const width = 1240;
  const left = 250;
  const right = width - M.right;
  const top = 24;
  const bottom = top + rows.length * rowHeight;
  const height = bottom + 36;
  const x = (t: number) => left + ((t - t0) / (t1 - t0)) * (right - left);
  const out: string[] = [];
  out.push(`<svg class="timeline" viewBox="0 0 ${width} ${height}" style="max-width:${width}px" role="img" aria-label="${esc(title)}"${attributes(attrs)} data-t0="${t0}" data-t1="${t1}" data-left="${left}" data-right="${right}">`);
  out.push(`<rect class="plot" x="${left}" y="${top}" width="${right - left}" height="${bottom - top}"/>`);
  out.push(xAxis(t0, t1, x, top, bottom, 10));
  out.push(`<text class="axis" x="${(left + right) / 2}" y="${height - 4}" text-anchor="middle">when the alarm was raised (event time, UTC)</text>`);
  rows.forEach((row, i) => {
    const yy = top + i * rowHeight + rowHeight / 2;
    const color = MARKER_COLORS[row.kind];
    out.push(`<g class="row ${row.kind}"${attributes(row.attrs)}><text class="row-label" x="${left - 8}" y="${yy + 4}" text-anchor="end">${esc(row.label)}</text>`);
    out.push(`<line class="grid" x1="${left}" x2="${right}" y1="${yy}" y2="${yy}"/>`);
    for (const e of row.events) {
      out.push(`<circle class="marker ${row.kind}" data-at="${e.at}" cx="${r1(x(e.at))}" cy="${yy}" r="4" fill="${color}"><title>${esc(e.title)}</title></circle>`);
    }
    out.push('</g>');
  });
  for (const m of decisions) out.push(decisionLine(m, r1(x(m.at)), top, bottom, (left + right) / 2));
  out.push('</svg>');
  return out.join('');
}
