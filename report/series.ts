/**
 * A model's series: who is drawn (champion, previous champion,
 * challengers) in which color, which tumbling windows are drawn, and the
 * figures of each series by window and metric.
 */
import { ALL_SEGMENTS } from '../core/contracts/index.js';
import { parseDuration } from '../core/duration.js';
import type { MetricPoint } from '../core/evaluate/rows.js';
import type { Point, SeriesLine } from './svg.js';

/** Windows per series above which a window size is too fine to draw. */
export const MAX_FINE_POINTS = 400;

const CHAMPION_COLORS = ['#1a3a8f', '#4a63c8', '#0d1b4a'];
const PREVIOUS_COLOR = '#6d6d6d';
const CHALLENGER_COLORS = ['#00897b', '#d81b60', '#9e9d24', '#039be5', '#8d5524', '#5e35b1'];

export interface SeriesKey {
  role: string;
  version: string;
  label: string;
  color: string;
}

export const ROLE_ORDER: Record<string, number> = { champion: 0, previous: 1, challenger: 2 };

/** A challenger's version names its model (`fraud-detector/logreg`): show the part after it. */
export const short = (model: string, version: string) => (version.startsWith(`${model}/`) ? version.slice(model.length + 1) : version);

export function seriesKeys(model: string, points: MetricPoint[]): SeriesKey[] {
  const seen = new Map<string, { role: string; version: string; first: number }>();
  for (const p of points) {
    if (p.segment !== ALL_SEGMENTS || !(p.role in ROLE_ORDER)) continue;
    const key = `${p.role}\u0000${p.model_version}`;
    const first = p.window === 'total' ? Number.POSITIVE_INFINITY : p.window_start;
    const current = seen.get(key);
    if (!current) seen.set(key, { role: p.role, version: p.model_version, first });
    else current.first = Math.min(current.first, first);
  }
  const sorted = [...seen.values()].sort((a, b) => ROLE_ORDER[a.role]! - ROLE_ORDER[b.role]! || a.first - b.first || (a.version < b.version ? -1 : a.version > b.version ? 1 : 0));
  let champions = 0;
  let challengers = 0;
  return sorted.map(({ role, version }) => {
    const label = role === 'challenger' ? `challenger ${short(model, version)}` : `${role} ${version}`;
    const color =
      role === 'champion' ? CHAMPION_COLORS[champions++ % CHAMPION_COLORS.length]! : role === 'previous' ? PREVIOUS_COLOR : CHALLENGER_COLORS[challengers++ % CHALLENGER_COLORS.length]!;
    return { role, version, label, color };
  });
}

/** The model's figures for all examples (ALL_SEGMENTS), by role, version, window and metric, in time order. */
export class Figures {
  private readonly byKey = new Map<string, Point[]>();
  private readonly totals = new Map<string, MetricPoint>();

  constructor(points: MetricPoint[]) {
    for (const p of points) {
      if (p.segment !== ALL_SEGMENTS) continue;
      if (p.window === 'total') this.totals.set(`${p.role}\u0000${p.model_version}\u0000${p.metric}`, p);
      const key = `${p.role}\u0000${p.model_version}\u0000${p.window}\u0000${p.metric}`;
      if (!this.byKey.has(key)) this.byKey.set(key, []);
      this.byKey.get(key)!.push({ start: p.window_start, end: p.window_end, value: p.value, count: p.count });
    }
    for (const list of this.byKey.values()) list.sort((a, b) => a.start - b.start);
  }

  series(role: string, version: string, window: string, metric: string): Point[] {
    return this.byKey.get(`${role}\u0000${version}\u0000${window}\u0000${metric}`) ?? [];
  }

  total(role: string, version: string, metric: string): MetricPoint | undefined {
    return this.totals.get(`${role}\u0000${version}\u0000${metric}`);
  }
}

/** Which tumbling windows to draw: the finest that is not too dense as a line, the coarsest as level segments. */
export function chooseWindows(points: MetricPoint[]): Array<{ window: string; style: SeriesLine['style'] }> {
  const starts = new Map<string, Set<number>>();
  for (const p of points) {
    if (p.segment !== ALL_SEGMENTS || parseDuration(p.window) === undefined) continue;
    if (!starts.has(p.window)) starts.set(p.window, new Set());
    starts.get(p.window)!.add(p.window_start);
  }
  const windows = [...starts.keys()].sort((a, b) => parseDuration(a)! - parseDuration(b)!);
  if (windows.length === 0) return [];
  const coarse = windows[windows.length - 1]!;
  const fine = windows.find((w) => starts.get(w)!.size <= MAX_FINE_POINTS);
  if (fine === undefined || fine === coarse) return [{ window: coarse, style: 'line' }];
  return [{ window: fine, style: 'line' }, { window: coarse, style: 'steps' }];
}
