/**
 * Label delay and coverage of the champion over time. Coverage is labelled /
 * predictions where the window counts its predictions (arrival records), so
 * recent windows show the labels still to come; else labelled / (labelled +
 * expired), the share of the closed predictions.
 */
import { DAY, duration, esc, HOUR, int, MINUTE, pct } from '../format.js';
import { figure, swatch } from '../html.js';
import type { ModelData } from '../input.js';
import type { chooseWindows, Figures, SeriesKey } from '../series.js';
import { lineChart, type LineChart, type Marker, type Point, type Series } from '../svg.js';

/** Where the label delay axis has ticks. */
const DELAY_TICKS = [1_000, 10_000, MINUTE, 5 * MINUTE, 15 * MINUTE, 30 * MINUTE, HOUR, 2 * HOUR, 4 * HOUR, 8 * HOUR, 16 * HOUR, DAY, 2 * DAY, 4 * DAY, 7 * DAY, 14 * DAY, 28 * DAY];

/** The p50 and p95 label delay of each champion. */
function delaySeries(champions: SeriesKey[], figures: Figures, windows: ReturnType<typeof chooseWindows>): Series[] {
  const several = champions.length > 1;
  const quantiles = [
    { metric: 'label_delay_p50', name: 'p50', colors: ['#1a3a8f', '#4a63c8'] },
    { metric: 'label_delay_p95', name: 'p95', colors: ['#e65100', '#f9a825'] },
  ];
  return champions.flatMap((k, i) =>
    quantiles.map((q) => ({
      label: several ? `${q.name} (${k.version})` : `${q.name} label delay`,
      color: q.colors[i % q.colors.length]!,
      attrs: { role: k.role, version: k.version, quantile: q.name },
      lines: windows.map((w) => ({
        window: w.window,
        style: w.style,
        points: figures.series(k.role, k.version, w.window, q.metric),
      })),
    })),
  );
}

/** A champion's coverage per window: labelled / predictions where the window has `predictions`, else label_coverage. */
export function coveragePoints(figures: Figures, k: SeriesKey, window: string): Point[] {
  const predictions = figures.series(k.role, k.version, window, 'predictions');
  if (predictions.length === 0) return figures.series(k.role, k.version, window, 'label_coverage');
  const labelled = new Map(figures.series(k.role, k.version, window, 'labelled').map((p) => [p.start, p.value ?? 0]));
  const counted = new Set(predictions.map((p) => p.start));
  const older = figures.series(k.role, k.version, window, 'label_coverage').filter((p) => !counted.has(p.start));
  const byPredictions = predictions.map((p) => {
    const n = p.value ?? 0;
    return { start: p.start, end: p.end, value: n > 0 ? Math.min(1, (labelled.get(p.start) ?? 0) / n) : null, count: n };
  });
  return [...older, ...byPredictions].sort((a, b) => a.start - b.start);
}

/** Whether any champion window counts its predictions (coverage is then labelled / predictions). */
function countsPredictions(champions: SeriesKey[], figures: Figures, windows: ReturnType<typeof chooseWindows>): boolean {
  return champions.some((k) => windows.some((w) => figures.series(k.role, k.version, w.window, 'predictions').length > 0));
}

/** The label coverage of each champion. */
function coverageSeries(champions: SeriesKey[], figures: Figures, windows: ReturnType<typeof chooseWindows>): Series[] {
  return champions.map((k) => ({
    label: `label coverage ${k.version}`,
    color: k.color,
    attrs: { role: k.role, version: k.version },
    lines: windows.map((w) => ({ window: w.window, style: w.style, points: coveragePoints(figures, k, w.window) })),
  }));
}

/** A line per champion: coverage and delay over the whole history. */
function championTotals(champions: SeriesKey[], figures: Figures): string {
  return champions
    .map((k) => {
      const v = (metric: string) => figures.total(k.role, k.version, metric)?.value;
      const predictions = v('predictions');
      const coverage = predictions === undefined || predictions === null
        ? `coverage ${pct(v('label_coverage'))} (${int(v('labelled'))} labelled, ${int(v('expired'))} expired unlabelled)`
        : `coverage ${pct(predictions > 0 ? (v('labelled') ?? 0) / predictions : null)} (${int(v('labelled'))} labelled of ${int(predictions)} predictions, ${int(v('expired'))} expired unlabelled, ${int(v('pending'))} pending)`;
      return `champion ${esc(k.version)}: ${coverage}, delay p50 ${duration(v('label_delay_p50'))}, p95 ${duration(v('label_delay_p95'))}`;
    })
    .join('<br>');
}

export function labelsSection(
  m: ModelData, figures: Figures, keys: SeriesKey[], windows: ReturnType<typeof chooseWindows>, domain: [number, number], markers: Marker[], shade: LineChart['shade'],
): string {
  const champions = keys.filter((k) => k.role === 'champion');
  const ofPredictions = countsPredictions(champions, figures, windows);
  const shaded = shade ? { shade } : {};
  const delays = delaySeries(champions, figures, windows);
  const delay = lineChart({
    attrs: { model: m.model, metric: 'label_delay' },
    title: `${m.model}: label delay`,
    domain,
    y: { label: 'label delay (log scale)', format: duration, log: { ticks: DELAY_TICKS } },
    series: delays,
    markers,
    empty: 'no labels',
    ...shaded,
  });
  const coverage = lineChart({
    attrs: { model: m.model, metric: 'label_coverage' },
    title: `${m.model}: label coverage`,
    domain,
    y: { label: ofPredictions ? 'labelled / predictions' : 'labelled / (labelled + expired)', format: (v) => pct(v), tick: (v) => pct(v, 0), bounds: [0, 1], hi: 1 },
    series: coverageSeries(champions, figures, windows),
    markers,
    empty: ofPredictions ? 'no prediction' : 'no labelled or expired prediction',
    ...shaded,
  });
  const legendItems = delays.map((s) => `<span class="item">${swatch(s.color)}${esc(s.label)}</span>`).join('');
  const totals = championTotals(champions, figures);
  return `<p>${totals || 'No champion figures.'}</p><div class="legend">${legendItems}</div><div class="charts">${figure(delay, 'Label delay, p50 and p95 (time from prediction to its first label)')}${figure(coverage, ofPredictions ? 'Label coverage (share of the predictions that got a label; low in recent windows while labels still arrive)' : 'Label coverage (share of closed predictions that got a label)')}</div>`;
}
