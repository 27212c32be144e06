/**
 * The report: one self-contained HTML page (inline CSS and SVG; no scripts,
 * fonts, images or links to fetch) from the evaluator's rows, the promoter's
 * decisions and the joiner's counts. A pure function: data in, HTML out.
 *
 * Per model: precision, recall, F1, log loss and ROC AUC (MAE, RMSE and R²
 * for a regression model) over prediction time for the champion, the
 * previous champion and each challenger, with promotion/rollback lines and
 * the drift alarms of the inputs and the champion as ticks; a totals table;
 * the decisions; the drift alarms on a timeline (challengers' in grey: a
 * learning model's scores and errors move by design); label delay and
 * coverage; feedback statistics; and fairness by segment with the gaps.
 *
 * The time charts use the finest tumbling window with at most
 * MAX_FINE_POINTS windows as a thin line and the coarsest as bold level
 * segments. Every text from the data is escaped.
 */
import { ALL_SEGMENTS, parseSegmentKey } from '../core/contracts/index.js';
import { parseDuration } from '../core/duration.js';
import type { DriftRecord, FeedbackStat, MetricPoint } from '../core/evaluate/rows.js';
import type { ModelKind } from '../core/events.js';
import type { ModelCounters } from '../core/join/index.js';
import { DAY, duration, esc, HOUR, int, isoDay, isoMinute, MINUTE, num, pct } from './format.js';
import { extent, lineChart, markerColor, timeDomain, timeline, type Marker, type MarkerKind, type Point, type Series, type SeriesLine, type TimelineRow } from './svg.js';

/** The counts in the report's header: a replay's summary (cli/replay.ts's ReplaySummary extends this). */
export interface ReportSummary {
  predictions_read: number;
  feedback_read: number;
  /** First labels (one per labelled prediction); corrections replaced one. */
  labelled: number;
  corrections: number;
  duplicates_ignored: number;
  uncertain: number;
  /** Feedback whose prediction never came. */
  unmatched: number;
  expired_unlabelled: number;
  pending_at_end: number;
  dead_letters: number;
  by_model: Record<string, ModelCounters>;
}

/** A promoter decision as promotions.jsonl has it. */
export interface ReportDecision {
  model: string;
  /** promote, hold, rollback, pin, unpin (any case). */
  decision: string;
  from_version: string;
  to_version: string;
  at: number;
  n: number;
  reason: string;
}

export interface ReportInput {
  title?: string;
  summary: ReportSummary;
  points: MetricPoint[];
  drift: DriftRecord[];
  feedback: FeedbackStat[];
  decisions: ReportDecision[];
  /** Kind per model; a model not named here is a regression model if it has regression figures. */
  kinds?: ReadonlyMap<string, ModelKind>;
}

/** Windows per series above which a window size is too fine to draw. */
export const MAX_FINE_POINTS = 400;

export const BINARY_CHARTS = ['precision', 'recall', 'f1', 'log_loss', 'roc_auc'] as const;
export const REGRESSION_CHARTS = ['mae', 'rmse', 'r2'] as const;

interface MetricInfo {
  title: string;
  axis: string;
  digits: number;
  lo?: number;
  hi?: number;
  bounds?: [number, number];
}

const SHARE: Pick<MetricInfo, 'digits' | 'bounds'> = { digits: 2, bounds: [0, 1] };
const METRICS: Record<string, MetricInfo> = {
  precision: { title: 'Precision', axis: 'precision (TP / predicted positive)', ...SHARE },
  recall: { title: 'Recall', axis: 'recall (TP / positive)', ...SHARE },
  f1: { title: 'F1', axis: 'F1', ...SHARE },
  log_loss: { title: 'Log loss (lower is better)', axis: 'log loss (nats per example)', digits: 3, lo: 0 },
  roc_auc: { title: 'ROC AUC', axis: 'ROC AUC', ...SHARE },
  mae: { title: 'MAE (lower is better)', axis: 'mean absolute error (label units)', digits: 3, lo: 0 },
  rmse: { title: 'RMSE (lower is better)', axis: 'root mean squared error (label units)', digits: 3, lo: 0 },
  r2: { title: 'R²', axis: 'R² (1 is perfect)', digits: 3, bounds: [Number.NEGATIVE_INFINITY, 1] },
};

/** Where the label delay axis has ticks. */
const DELAY_TICKS = [1_000, 10_000, MINUTE, 5 * MINUTE, 15 * MINUTE, 30 * MINUTE, HOUR, 2 * HOUR, 4 * HOUR, 8 * HOUR, 16 * HOUR, DAY, 2 * DAY, 4 * DAY, 7 * DAY, 14 * DAY, 28 * DAY];

const CHAMPION_COLORS = ['#1a3a8f', '#4a63c8', '#0d1b4a'];
const PREVIOUS_COLOR = '#6d6d6d';
const CHALLENGER_COLORS = ['#00897b', '#d81b60', '#9e9d24', '#039be5', '#8d5524', '#5e35b1'];

interface SeriesKey {
  role: string;
  version: string;
  label: string;
  color: string;
}

const ROLE_ORDER: Record<string, number> = { champion: 0, previous: 1, challenger: 2 };

/** A challenger's version names its model (`fraud-detector/logreg`): show the part after it. */
const short = (model: string, version: string) => (version.startsWith(`${model}/`) ? version.slice(model.length + 1) : version);

function seriesKeys(model: string, points: MetricPoint[]): SeriesKey[] {
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
class Figures {
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

const lower = (s: string) => s.toLowerCase();

function decisionMarkers(model: string, decisions: ReportDecision[]): Marker[] {
  return decisions
    .filter((d) => lower(d.decision) !== 'hold')
    .map((d) => {
      const kind = (['promote', 'rollback', 'pin', 'unpin'].includes(lower(d.decision)) ? lower(d.decision) : 'pin') as MarkerKind;
      return {
        at: d.at,
        kind,
        label: `${lower(d.decision)} ${short(model, d.from_version)} → ${short(model, d.to_version)}`,
        title: `${lower(d.decision)} ${d.from_version} → ${d.to_version} at ${isoMinute(d.at)} UTC after ${d.n} examples: ${d.reason}`,
      };
    });
}

const isChallengerAlarm = (d: DriftRecord) => d.role === 'challenger';

function driftTitle(d: DriftRecord): string {
  const who = d.role === '*' ? 'input' : `${d.role} ${d.model_version}`;
  return `${d.statistic} on ${d.feature} (${who}) = ${num(d.value)} against threshold ${num(d.threshold)}, at ${isoMinute(d.at)} UTC, window ${d.window}, after ${d.n} examples`;
}

function driftMarkers(drift: DriftRecord[]): Marker[] {
  return drift.filter((d) => d.detected && !isChallengerAlarm(d)).map((d) => ({ at: d.at, kind: 'drift' as const, label: '', title: driftTitle(d) }));
}

// ---- HTML pieces ----

/** A table whose first column heads the rows; the columns in `text` are left-aligned, the others are figures. */
function table(headers: string[], rows: string[][], classes = '', text: number[] = []): string {
  if (rows.length === 0) return '';
  const align = (i: number) => (i === 0 || text.includes(i) ? '' : ' class="n"');
  const head = headers.map((h, i) => `<th${align(i)}>${h}</th>`).join('');
  const body = rows.map((r) => `<tr>${r.map((c, i) => (i === 0 ? `<th scope="row">${c}</th>` : `<td${align(i)}>${c}</td>`)).join('')}</tr>`).join('\n');
  return `<table class="${classes}"><thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table>`;
}

const swatch = (color: string) => `<span class="swatch" style="background:${esc(color)}"></span>`;

function figure(chart: string, caption: string): string {
  return `<figure><figcaption>${esc(caption)}</figcaption>${chart}</figure>`;
}

function legend(keys: SeriesKey[], windows: Array<{ window: string; style: string }>, markers: Marker[]): string {
  const items = keys.map((k) => `<span class="item">${swatch(k.color)}${esc(k.label)}</span>`);
  const fine = windows.find((w) => w.style === 'line');
  const coarse = windows.find((w) => w.style === 'steps');
  if (fine) items.push(`<span class="item"><span class="line thin"></span>per ${esc(fine.window)} window${coarse ? '' : ' (at its middle)'}</span>`);
  if (coarse) items.push(`<span class="item"><span class="line bold"></span>per ${esc(coarse.window)} window (dot: hover for n)</span>`);
  const kinds = new Set(markers.map((m) => m.kind));
  for (const [kind, name] of [['promote', 'promotion'], ['rollback', 'rollback'], ['pin', 'pin or unpin']] as const) {
    if (kinds.has(kind) || (kind === 'pin' && kinds.has('unpin'))) items.push(`<span class="item"><span class="vline" style="border-color:${markerColor(kind)}"></span>${name}</span>`);
  }
  if (kinds.has('drift')) items.push(`<span class="item"><span class="tick" style="background:${markerColor('drift')}"></span>drift alarm (inputs or champion)</span>`);
  return `<div class="legend">${items.join('')}</div>`;
}

// ---- sections ----

interface ModelData {
  model: string;
  index: number;
  kind: ModelKind;
  counters: ModelCounters | undefined;
  points: MetricPoint[];
  drift: DriftRecord[];
  feedback: FeedbackStat[];
  decisions: ReportDecision[];
}

function metricCharts(m: ModelData, figures: Figures, keys: SeriesKey[], windows: ReturnType<typeof chooseWindows>, domain: [number, number], markers: Marker[]): string {
  const metrics = m.kind === 'regression' ? REGRESSION_CHARTS : BINARY_CHARTS;
  return metrics
    .map((metric) => {
      const info = METRICS[metric]!;
      const series: Series[] = keys.map((k) => ({
        label: k.label,
        color: k.color,
        attrs: { role: k.role, version: k.version },
        lines: windows.map((w) => ({ window: w.window, style: w.style, points: figures.series(k.role, k.version, w.window, metric) })),
      }));
      const chart = lineChart({
        attrs: { model: m.model, metric },
        title: `${m.model}: ${info.title}`,
        domain,
        y: { label: info.axis, format: (v) => v.toFixed(info.digits), ...(info.lo === undefined ? {} : { lo: info.lo }), ...(info.hi === undefined ? {} : { hi: info.hi }), ...(info.bounds ? { bounds: info.bounds } : {}) },
        series,
        markers,
        empty: 'no labelled examples',
      });
      return figure(chart, info.title);
    })
    .join('\n');
}

function totalsTable(m: ModelData, figures: Figures, keys: SeriesKey[]): string {
  const binary = m.kind === 'binary';
  const headers = binary
    ? ['model', 'n', 'positives', 'precision', 'recall', 'F1', 'log loss', 'ROC AUC', 'PR AUC', 'ECE', 'Brier']
    : ['model', 'n', 'MAE', 'RMSE', 'R²', 'MAPE'];
  const rows = keys.map((k) => {
    const v = (metric: string) => figures.total(k.role, k.version, metric)?.value;
    const n = v('count') ?? null;
    const share = (x: number | null | undefined) => (x === null || x === undefined || !n ? null : x / n);
    const cells = binary
      ? [pct(share(v('positives'))), num(v('precision')), num(v('recall')), num(v('f1')), num(v('log_loss')), num(v('roc_auc')), num(v('pr_auc')), num(v('ece')), num(v('brier'))]
      : [num(v('mae')), num(v('rmse')), num(v('r2')), pct(v('mape'))];
    return [`${swatch(k.color)}${esc(k.label)}`, int(n), ...cells];
  });
  if (rows.length === 0) return '<p class="none">No figures yet: no labelled example of this model.</p>';
  return table(headers, rows, 'totals');
}

function decisionsTable(m: ModelData): string {
  if (m.decisions.length === 0) return '<p class="none">No promotion, rollback or pin.</p>';
  const rows = [...m.decisions]
    .sort((a, b) => a.at - b.at)
    .map((d) => [esc(isoMinute(d.at)), `<span class="decision ${esc(lower(d.decision))}">${esc(lower(d.decision))}</span>`, `${esc(d.from_version)} → ${esc(d.to_version)}`, int(d.n), `<span class="reason">${esc(d.reason)}</span>`]);
  return table(['at (UTC)', 'decision', 'from → to', 'examples', 'why'], rows, 'decisions', [1, 2, 4]);
}

function driftSection(m: ModelData, domain: [number, number], decisions: Marker[]): string {
  const alarms = m.drift.filter((d) => d.detected);
  const tests = m.drift.length;
  if (alarms.length === 0) return `<p class="none">No drift alarm (${int(tests)} tests and detector checks recorded).</p>`;
  const rows = new Map<string, TimelineRow & { order: string }>();
  for (const d of alarms) {
    const rank = d.role === '*' ? 0 : (ROLE_ORDER[d.role] ?? 3) + 1;
    const who = d.role === '*' ? 'input' : d.role === 'challenger' ? short(m.model, d.model_version) : `${d.role} ${d.model_version}`;
    const key = `${rank}\u0000${d.model_version}\u0000${d.feature}\u0000${d.statistic}`;
    if (!rows.has(key)) {
      rows.set(key, {
        order: key,
        label: `${who} · ${d.feature} · ${d.statistic}`,
        kind: isChallengerAlarm(d) ? 'drift-challenger' : 'drift',
        attrs: { role: d.role, version: d.model_version, feature: d.feature, statistic: d.statistic },
        events: [],
      });
    }
    rows.get(key)!.events.push({ at: d.at, title: driftTitle(d) });
  }
  const ordered = [...rows.values()].sort((a, b) => (a.order < b.order ? -1 : a.order > b.order ? 1 : 0));
  const main = alarms.filter((d) => !isChallengerAlarm(d));
  const challengers = alarms.length - main.length;
  const first = extent(main.map((d) => d.at))?.[0] ?? null;
  const text =
    `<p>${int(main.length)} alarm${main.length === 1 ? '' : 's'} on the inputs and the champion${first === null ? '' : `, the first at ${esc(isoMinute(first))} UTC`}` +
    `${challengers ? `; ${int(challengers)} on challengers (grey: a learning model's scores and errors move by design)` : ''}. ${int(tests)} tests and detector checks recorded. Hover a dot for the statistic and its threshold.</p>`;
  return text + timeline({ model: m.model }, `${m.model}: drift alarms`, domain, ordered, decisions);
}

function labelsSection(m: ModelData, figures: Figures, keys: SeriesKey[], windows: ReturnType<typeof chooseWindows>, domain: [number, number], markers: Marker[]): string {
  const champions = keys.filter((k) => k.role === 'champion');
  const several = champions.length > 1;
  const quantiles = [
    { metric: 'label_delay_p50', name: 'p50', colors: ['#1a3a8f', '#4a63c8'] },
    { metric: 'label_delay_p95', name: 'p95', colors: ['#e65100', '#f9a825'] },
  ];
  const delaySeries: Series[] = champions.flatMap((k, i) =>
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
  const coverageSeries: Series[] = champions.map((k) => ({
    label: `label coverage ${k.version}`,
    color: k.color,
    attrs: { role: k.role, version: k.version },
    lines: windows.map((w) => ({ window: w.window, style: w.style, points: figures.series(k.role, k.version, w.window, 'label_coverage') })),
  }));
  const delay = lineChart({
    attrs: { model: m.model, metric: 'label_delay' },
    title: `${m.model}: label delay`,
    domain,
    y: { label: 'label delay (log scale)', format: duration, log: { ticks: DELAY_TICKS } },
    series: delaySeries,
    markers,
    empty: 'no labels',
  });
  const coverage = lineChart({
    attrs: { model: m.model, metric: 'label_coverage' },
    title: `${m.model}: label coverage`,
    domain,
    y: { label: 'labelled / (labelled + expired)', format: (v) => pct(v), tick: (v) => pct(v, 0), bounds: [0, 1], hi: 1 },
    series: coverageSeries,
    markers,
    empty: 'no labelled or expired prediction',
  });
  const legendItems = delaySeries.map((s) => `<span class="item">${swatch(s.color)}${esc(s.label)}</span>`).join('');
  const totals = champions
    .map((k) => {
      const v = (metric: string) => figures.total(k.role, k.version, metric)?.value;
      return `champion ${esc(k.version)}: coverage ${pct(v('label_coverage'))} (${int(v('labelled'))} labelled, ${int(v('expired'))} expired unlabelled), delay p50 ${duration(v('label_delay_p50'))}, p95 ${duration(v('label_delay_p95'))}`;
    })
    .join('<br>');
  return `<p>${totals || 'No champion figures.'}</p><div class="legend">${legendItems}</div><div class="charts">${figure(delay, 'Label delay, p50 and p95 (time from prediction to its first label)')}${figure(coverage, 'Label coverage (share of closed predictions that got a label)')}</div>`;
}

function feedbackSection(m: ModelData): string {
  if (m.feedback.length === 0) return '<p class="none">No feedback statistics.</p>';
  const typeName = (t: string) => (t === '' ? '(none)' : t);
  const types = [...new Set(m.feedback.map((f) => f.feedback_type))].sort();
  const days = new Map<number, FeedbackStat[]>();
  for (const f of m.feedback) {
    if (!days.has(f.day)) days.set(f.day, []);
    days.get(f.day)!.push(f);
  }
  const sum = (rows: FeedbackStat[], field: 'labels' | 'corrections' | 'overturned' | 'overturned_by_expert', type?: string) =>
    rows.filter((r) => type === undefined || r.feedback_type === type).reduce((s, r) => s + r[field], 0);
  const line = (label: string, rows: FeedbackStat[]) => [
    label,
    ...types.map((t) => int(sum(rows, 'labels', t))),
    int(sum(rows, 'labels')),
    int(sum(rows, 'corrections')),
    int(sum(rows, 'overturned')),
    int(sum(rows, 'overturned_by_expert')),
  ];
  const rows = [...days.keys()].sort((a, b) => a - b).map((day) => line(esc(isoDay(day)), days.get(day)!));
  rows.push(line('all days', m.feedback));
  const headers = ['day of the label (UTC)', ...types.map((t) => `${esc(typeName(t))}`), 'labels', 'corrections made', 'overturned', 'overturned by an expert'];
  const sources = new Map<string, { labels: number; overturned: number; expert: number }>();
  for (const f of m.feedback) {
    const s = sources.get(f.source) ?? { labels: 0, overturned: 0, expert: 0 };
    s.labels += f.labels;
    s.overturned += f.overturned;
    s.expert += f.overturned_by_expert;
    sources.set(f.source, s);
  }
  const worst = [...sources.entries()]
    .filter(([, s]) => s.overturned > 0)
    .sort((a, b) => b[1].expert - a[1].expert || b[1].overturned - a[1].overturned || (a[0] < b[0] ? -1 : 1))
    .slice(0, 5)
    .map(([source, s]) => [esc(source === '' ? '(none)' : source), int(s.labels), int(s.overturned), int(s.expert), pct(s.labels ? s.overturned / s.labels : null)]);
  const worstTable = worst.length
    ? `<h4>Sources most often overturned</h4>${table(['source', 'labels', 'overturned', 'by an expert', 'overturned / labels'], worst, 'sources')}`
    : '<p class="none">No source was overturned.</p>';
  return `<p>Labels counted per UTC day of the feedback that gave them, by feedback type; a correction replaces an earlier label (overturned) of another source.</p>${table(headers, rows, 'feedback')}${worstTable}`;
}

/** The fairness-gap keys among the points' segments, each with its attribute. */
function gapAttributes(points: MetricPoint[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const p of points) {
    const segment = parseSegmentKey(p.segment);
    if (segment?.kind === 'gap') out.set(p.segment, segment.attribute);
  }
  return out;
}

function fairnessSection(m: ModelData, keys: SeriesKey[]): string {
  const total = m.points.filter((p) => p.window === 'total' && p.segment !== ALL_SEGMENTS);
  if (total.length === 0) return '<p class="none">No segments (predictions carry no <code>segments</code>).</p>';
  const gapOf = gapAttributes(total);
  const binary = m.kind === 'binary';
  const parts: string[] = [];
  for (const k of keys.filter((key) => key.role === 'champion')) {
    const mine = total.filter((p) => p.role === k.role && p.model_version === k.version);
    const bySegment = new Map<string, Map<string, number | null>>();
    for (const p of mine) {
      if (gapOf.has(p.segment)) continue;
      if (!bySegment.has(p.segment)) bySegment.set(p.segment, new Map());
      bySegment.get(p.segment)!.set(p.metric, p.value);
    }
    const segments = [...bySegment.keys()].sort();
    const rows = segments.map((segment) => {
      const v = bySegment.get(segment)!;
      const n = v.get('count') ?? null;
      const share = (x: number | null | undefined) => (x === null || x === undefined || !n ? null : x / n);
      const cells = binary
        ? [pct(share(v.get('positives'))), pct(share((v.get('tp') ?? 0) + (v.get('fp') ?? 0))), num(v.get('precision')), num(v.get('recall')), num(v.get('fpr')), num(v.get('f1')), num(v.get('roc_auc')), num(v.get('log_loss'))]
        : [num(v.get('mae')), num(v.get('rmse')), num(v.get('r2'))];
      return [esc(segment), int(n), ...cells];
    });
    const headers = binary
      ? ['segment', 'n', 'positives', 'predicted positive', 'precision', 'recall (TPR)', 'FPR', 'F1', 'ROC AUC', 'log loss']
      : ['segment', 'n', 'MAE', 'RMSE', 'R²'];
    parts.push(`<h4>${swatch(k.color)}${esc(k.label)}, whole history</h4>${table(headers, rows, 'fairness')}`);
  }
  const gaps = total.filter((p) => gapOf.has(p.segment));
  const gapKeys = [...gapOf.keys()].sort();
  if (gapKeys.length === 0) {
    parts.push('<p class="none">No fairness attribute configured (<code>evaluator.fairness_attributes</code>): no gaps computed.</p>');
  }
  for (const gapKey of gapKeys) {
    const rows = keys
      .map((k) => {
        const v = (metric: string) => gaps.find((p) => p.segment === gapKey && p.role === k.role && p.model_version === k.version && p.metric === metric)?.value;
        if (v('groups') === undefined) return null;
        return [`${swatch(k.color)}${esc(k.label)}`, num(v('demographic_parity_difference')), num(v('equal_opportunity_difference')), int(v('smallest_group_count')), int(v('groups'))];
      })
      .filter((r): r is string[] => r !== null);
    parts.push(
      `<h4>Gaps across ${esc(gapOf.get(gapKey)!)}</h4>` +
        table(['model', 'demographic parity difference (max − min predicted positive share)', 'equal opportunity difference (max − min recall)', 'smallest group (n)', 'groups'], rows, 'gaps'),
    );
  }
  return parts.join('\n');
}

function modelSection(m: ModelData): string {
  const figures = new Figures(m.points);
  const keys = seriesKeys(m.model, m.points);
  const windows = chooseWindows(m.points);
  const decisions = decisionMarkers(m.model, m.decisions);
  const markers = [...driftMarkers(m.drift), ...decisions];
  const drawn = new Set(windows.map((w) => w.window));
  const times = m.points.filter((p) => p.segment === ALL_SEGMENTS && drawn.has(p.window)).flatMap((p) => [p.window_start, p.window_end]);
  const domain = timeDomain([...times, ...m.drift.filter((d) => d.detected).map((d) => d.at), ...m.decisions.map((d) => d.at)]);
  const c = m.counters;
  const champion = keys.filter((k) => k.role === 'champion').map((k) => k.version).join(', ') || '–';
  const counts = c
    ? `${int(c.predictions)} predictions · ${int(c.labelled)} labelled · ${int(c.corrections)} corrections · ${int(c.expired_labelled)} closed with a label · ${int(c.expired_unlabelled)} expired unlabelled`
    : '';
  const head = `<h2>${esc(m.model)} <span class="tag">${m.kind}</span></h2><p class="meta">champion ${esc(champion)}${counts ? ` · ${counts}` : ''}</p>`;
  if (domain === null) {
    return `<section class="model" id="model-${m.index}" data-model="${esc(m.model)}">${head}<p class="none">No figures over time yet.</p>` +
      `<h3>Totals</h3>${totalsTable(m, figures, keys)}<h3>Promotions and rollbacks</h3>${decisionsTable(m)}<h3>Feedback</h3>${feedbackSection(m)}</section>`;
  }
  return [
    `<section class="model" id="model-${m.index}" data-model="${esc(m.model)}">`,
    head,
    `<h3>Champion vs challengers</h3>`,
    legend(keys, windows, markers),
    `<div class="charts">${metricCharts(m, figures, keys, windows, domain, markers)}</div>`,
    `<h3>Totals over the whole history</h3>`,
    totalsTable(m, figures, keys),
    `<h3>Promotions and rollbacks</h3>`,
    decisionsTable(m),
    `<h3>Drift alarms</h3>`,
    driftSection(m, domain, decisions),
    `<h3>Labels: delay and coverage</h3>`,
    labelsSection(m, figures, keys, windows, domain, markers),
    `<h3>Feedback</h3>`,
    feedbackSection(m),
    `<h3>Fairness by segment</h3>`,
    fairnessSection(m, keys),
    '</section>',
  ].join('\n');
}

function header(input: ReportInput, models: string[]): string {
  const s = input.summary;
  const tiles: Array<[string, number, boolean?]> = [
    ['predictions', s.predictions_read],
    ['feedback events', s.feedback_read],
    ['labelled predictions', s.labelled],
    ['corrections', s.corrections],
    ['duplicates ignored', s.duplicates_ignored],
    ['uncertain', s.uncertain],
    ['unmatched feedback', s.unmatched, s.unmatched > 0],
    ['expired unlabelled', s.expired_unlabelled],
    ['pending at the end', s.pending_at_end],
    ['dead letters', s.dead_letters, s.dead_letters > 0],
    ['drift alarms', input.drift.filter((d) => d.detected).length],
    ['decisions', input.decisions.length],
  ];
  const times = input.points.filter((p) => p.window !== 'total' && parseDuration(p.window) !== undefined).flatMap((p) => [p.window_start, p.window_end]);
  const span = extent(times);
  const range = span ? `prediction windows from ${isoMinute(span[0])} to ${isoMinute(span[1])} UTC` : 'no figures over time';
  const nav = models.map((model, i) => `<a href="#model-${i}">${esc(model)}</a>`).join('');
  return (
    `<header><h1>${esc(input.title ?? 'feedbackloop report')}</h1><p class="meta">${models.length} model${models.length === 1 ? '' : 's'} · ${range}</p>` +
    `<div class="tiles">${tiles.map(([label, value, warn]) => `<div class="tile${warn ? ' warn' : ''}"><b>${int(value)}</b><span>${esc(label)}</span></div>`).join('')}</div>` +
    `<nav>${nav}</nav></header>`
  );
}

const CSS = `
:root { color-scheme: light; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Liberation Sans", "DejaVu Sans", sans-serif; color: #1d1d1f; background: #f4f5f7; margin: 0; }
header, section.model, footer { max-width: 1480px; margin: 0 auto; padding: 12px 24px; }
header { padding-top: 20px; }
h1 { font-size: 24px; margin: 0 0 2px; }
h2 { font-size: 20px; margin: 8px 0 0; }
h3 { font-size: 16px; margin: 22px 0 8px; border-bottom: 1px solid #d8dbe0; padding-bottom: 4px; }
h4 { font-size: 14px; margin: 14px 0 6px; }
.meta { color: #555; margin: 2px 0 10px; }
.tag { font-size: 12px; font-weight: normal; color: #fff; background: #607d8b; border-radius: 3px; padding: 1px 6px; vertical-align: middle; }
.tiles { display: flex; flex-wrap: wrap; gap: 8px; }
.tile { background: #fff; border: 1px solid #d8dbe0; border-radius: 6px; padding: 6px 12px; min-width: 92px; }
.tile b { display: block; font-size: 18px; }
.tile span { color: #555; font-size: 12px; }
.tile.warn { border-color: #c62828; }
.tile.warn b { color: #c62828; }
nav { margin: 12px 0 0; }
nav a { margin-right: 16px; color: #1a3a8f; }
section.model { background: #fff; border: 1px solid #d8dbe0; border-radius: 8px; margin-top: 18px; margin-bottom: 18px; }
.charts { display: grid; grid-template-columns: repeat(auto-fill, minmax(440px, 1fr)); gap: 10px 18px; }
figure { margin: 0; }
figcaption { font-weight: 600; font-size: 13px; margin: 4px 0 0 8px; }
svg.chart, svg.timeline { width: 100%; height: auto; display: block; font-size: 11px; }
svg .plot { fill: #fff; stroke: #c9cdd3; }
svg .grid { stroke: #eceef1; }
svg .grid.major { stroke: #d5d9de; }
svg .tick { fill: #555; }
svg .tick.major { fill: #222; font-weight: 600; }
svg .axis { fill: #444; }
svg .empty { fill: #888; font-size: 14px; }
svg .row-label { fill: #333; }
svg path.series { fill: none; stroke-width: 1.3; stroke-linejoin: round; stroke-linecap: round; opacity: 0.6; }
svg path.series.steps { stroke-width: 3.5; opacity: 1; stroke-linecap: butt; }
svg g.marker line { stroke-width: 1.6; stroke-dasharray: 5 3; }
svg g.marker text { font-size: 11px; font-weight: 600; }
svg line.marker { stroke-width: 1.6; }
.legend { display: flex; flex-wrap: wrap; gap: 4px 18px; margin: 4px 0 8px; font-size: 13px; }
.legend .item { display: inline-flex; align-items: center; gap: 6px; }
.swatch { display: inline-block; width: 12px; height: 12px; border-radius: 2px; margin-right: 6px; vertical-align: -1px; }
.legend .swatch { margin-right: 0; }
.legend .line { display: inline-block; width: 22px; border-top: 1.5px solid #555; opacity: 0.7; }
.legend .line.bold { border-top: 4px solid #555; opacity: 1; }
.legend .vline { display: inline-block; height: 14px; border-left: 2px dashed; }
.legend .tick { display: inline-block; width: 2px; height: 10px; }
table { border-collapse: collapse; margin: 4px 0 8px; font-size: 13px; }
th, td { padding: 3px 10px; border-bottom: 1px solid #e6e8eb; text-align: left; }
thead th { background: #f0f2f5; font-weight: 600; vertical-align: bottom; }
tbody th { font-weight: normal; white-space: nowrap; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; }
table.gaps th.n { max-width: 190px; }
.reason { display: inline-block; max-width: 720px; text-align: left; white-space: normal; }
.decision { font-weight: 600; }
.decision.promote { color: #7b1fa2; }
.decision.rollback { color: #c62828; }
.none { color: #666; font-style: italic; }
footer { color: #666; font-size: 12px; padding-bottom: 28px; }
`;

const byString = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** The report as one HTML page. */
export function renderReport(input: ReportInput): string {
  const named = Object.keys(input.summary.by_model);
  const others = new Set<string>();
  for (const rows of [input.points, input.drift, input.feedback, input.decisions]) for (const r of rows) if (!named.includes(r.model)) others.add(r.model);
  const models = [...named, ...[...others].sort(byString)];
  const group = <T extends { model: string }>(rows: T[]) => {
    const map = new Map<string, T[]>(models.map((m) => [m, []]));
    for (const r of rows) map.get(r.model)!.push(r);
    return map;
  };
  const points = group(input.points);
  const drift = group(input.drift);
  const feedback = group(input.feedback);
  const decisions = group(input.decisions);
  const sections = models.map((model, index) => {
    const mine = points.get(model)!;
    const regression = mine.some((p) => p.metric === 'rmse') && !mine.some((p) => p.metric === 'roc_auc');
    return modelSection({
      model,
      index,
      kind: input.kinds?.get(model) ?? (regression ? 'regression' : 'binary'),
      counters: input.summary.by_model[model],
      points: mine,
      drift: drift.get(model)!,
      feedback: feedback.get(model)!,
      decisions: decisions.get(model)!,
    });
  });
  return [
    '<!DOCTYPE html>',
    '<html lang="en"><head><meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${esc(input.title ?? 'feedbackloop report')}</title>`,
    `<style>${CSS}</style></head><body>`,
    header(input, models),
    ...sections,
    '<footer>Times are UTC. Metric charts place each window at the time of its predictions; drift and decision markers at the event time they happened (the label that triggered them). ' +
      'Hover a line, dot or marker for details. A dash is a figure with a zero denominator. Written by feedbackloop; this file is self-contained.</footer>',
    '</body></html>',
    '',
  ].join('\n');
}
