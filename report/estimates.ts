/**
 * What the report draws from the arrival records' figures: a series' estimated
 * line (CBPE: `estimated_<metric>`, from the scores of every prediction, labelled
 * or not) with its windows where the estimate is not trusted
 * (`estimate_trusted` = 0 or missing) marked faded, and the windows whose
 * labels are still arriving (the champion's `pending` > 0) as shaded spans.
 */
import { int, isoMinute } from './format.js';
import type { chooseWindows, Figures, SeriesKey } from './series.js';
import type { Point, Series, Shade } from './svg.js';

/** The metrics the evaluator estimates before labels come (points `estimated_<metric>`). */
export const ESTIMATED_METRICS: ReadonlySet<string> = new Set(['precision', 'recall', 'f1', 'accuracy', 'roc_auc']);

export const UNTRUSTED = 'faded: estimate not trusted (scores not calibrated on matured labels)';
export const IMMATURE_NOTE = 'labels still arriving';

type Windows = ReturnType<typeof chooseWindows>;

/** A series' estimated points of one window size, faded where the estimate is not trusted. */
function estimatedPoints(figures: Figures, k: SeriesKey, window: string, metric: string): Point[] {
  const trusted = new Map<number, number | null>();
  for (const p of figures.series(k.role, k.version, window, 'estimate_trusted')) trusted.set(p.start, p.value);
  return figures.series(k.role, k.version, window, `estimated_${metric}`).map((p) => ({ ...p, faded: trusted.get(p.start) !== 1 }));
}

/** The estimated line of `metric` for a series, in its color, dashed; null when it has no estimate. */
export function estimateSeries(figures: Figures, k: SeriesKey, windows: Windows, metric: string): Series | null {
  if (!ESTIMATED_METRICS.has(metric)) return null;
  const lines = windows.map((w) => ({ window: w.window, style: w.style, points: estimatedPoints(figures, k, w.window, metric) }));
  if (lines.every((l) => l.points.length === 0)) return null;
  return { label: `${k.label}, estimated`, color: k.color, attrs: { role: k.role, version: k.version, estimate: metric }, lines, estimate: { faded: UNTRUSTED } };
}

/**
 * The windows of the finest drawn size with predictions still pending (labels
 * to come), summed over the champions of the window (a promotion splits one).
 */
export function immatureSpans(figures: Figures, champions: SeriesKey[], windows: Windows): Shade[] {
  const window = windows[0]?.window;
  if (window === undefined) return [];
  const byStart = new Map<number, { end: number; pending: number; predictions: number }>();
  for (const k of champions) {
    const predictions = new Map(figures.series(k.role, k.version, window, 'predictions').map((p) => [p.start, p.value ?? 0]));
    for (const p of figures.series(k.role, k.version, window, 'pending')) {
      const at = byStart.get(p.start) ?? { end: p.end, pending: 0, predictions: 0 };
      at.pending += p.value ?? 0;
      at.predictions += predictions.get(p.start) ?? 0;
      byStart.set(p.start, at);
    }
  }
  return [...byStart.entries()]
    .filter(([, w]) => w.pending > 0)
    .sort((a, b) => a[0] - b[0])
    .map(([start, w]) => ({
      start,
      end: w.end,
      title: `${IMMATURE_NOTE}: ${int(w.pending)} of ${int(w.predictions)} predictions of the ${window} window from ${isoMinute(start)} UTC have no label or expiry yet; its figures may still change`,
    }));
}
