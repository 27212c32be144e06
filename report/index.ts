/**
 * The report: one self-contained HTML page (inline CSS and SVG; no scripts,
 * fonts, images or links to fetch) from the evaluator's rows, the promoter's
 * decisions and the joiner's counts. A pure function: data in, HTML out.
 *
 * Per model: precision, recall, F1, accuracy, log loss and ROC AUC (MAE,
 * RMSE and R² for a regression model) over prediction time for the
 * champion, the previous champion and each challenger, each with its
 * estimated line (from the scores of every prediction, before the labels)
 * dashed beside the measured one, faded where the estimate is not trusted;
 * windows whose labels are still arriving shaded; promotion/rollback lines
 * and the drift alarms of the inputs and the champion as ticks; a totals table;
 * for a binary model the total window's ROC and precision–recall curves,
 * reliability diagram and confusion matrices (sections/evaluation.ts); for
 * a multi-class one accuracy, macro and weighted F1, log loss, Brier and
 * kappa over time and the total window's per-class figures and confusion
 * matrices (sections/classes.ts);
 * the decisions; the drift alarms on a timeline (challengers' in grey: a
 * learning model's scores and errors move by design); the per-feature drift
 * and data-quality table with reference vs current histograms
 * (sections/features.ts); the challengers' standardised coefficients over
 * time (sections/importance.ts); label delay and coverage; feedback
 * statistics; and fairness by segment with the gaps.
 *
 * The time charts use the finest tumbling window with at most
 * MAX_FINE_POINTS windows as a thin line and the coarsest as bold level
 * segments. Every text from the data is escaped.
 */
import { ALL_SEGMENTS } from '../core/contracts/index.js';
import { parseDuration } from '../core/duration.js';
import { esc, int, isoMinute } from './format.js';
import { legend } from './html.js';
import { modelData, modelsOf, type ModelData, type ReportInput } from './input.js';
import { IMMATURE_NOTE, immatureSpans } from './estimates.js';
import { decisionMarkers, driftMarkers } from './markers.js';
import { metricCharts } from './sections/charts.js';
import { decisionsTable } from './sections/decisions.js';
import { driftSection } from './sections/drift.js';
import { classesSection } from './sections/classes.js';
import { evaluationSection } from './sections/evaluation.js';
import { featuresSection } from './sections/features.js';
import { importanceSection } from './sections/importance.js';
import { fairnessSection } from './sections/fairness.js';
import { feedbackSection } from './sections/feedback.js';
import { labelsSection } from './sections/labels.js';
import { totalsTable } from './sections/totals.js';
import { chooseWindows, Figures, seriesKeys } from './series.js';
import { CSS } from './style.js';
import { extent, timeDomain } from './svg.js';

export type { ReportDecision, ReportInput, ReportSnapshot, ReportSummary } from './input.js';
export { BINARY_CHARTS, MULTICLASS_CHARTS, REGRESSION_CHARTS } from './sections/charts.js';
export { chooseWindows, MAX_FINE_POINTS } from './series.js';

function modelSection(m: ModelData): string {
  const figures = new Figures(m.points);
  const keys = seriesKeys(m.model, m.points);
  const windows = chooseWindows(m.points);
  const decisions = decisionMarkers(m.model, m.decisions);
  const markers = [...driftMarkers(m.drift), ...decisions];
  const drawn = new Set(windows.map((w) => w.window));
  const times = m.points.filter((p) => p.segment === ALL_SEGMENTS && drawn.has(p.window)).flatMap((p) => [p.window_start, p.window_end]);
  const domain = timeDomain([...times, ...m.drift.filter((d) => d.detected).map((d) => d.at), ...m.decisions.map((d) => d.at)]);
  const spans = immatureSpans(figures, keys.filter((k) => k.role === 'champion'), windows);
  const shade = spans.length > 0 ? { spans, note: IMMATURE_NOTE } : undefined;
  const estimated = m.points.some((p) => p.segment === ALL_SEGMENTS && p.metric.startsWith('estimated_') && drawn.has(p.window));
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
    legend(keys, windows, markers, { estimated, immature: shade !== undefined }),
    `<div class="charts">${metricCharts(m, figures, keys, windows, domain, markers, shade)}</div>`,
    `<h3>Totals over the whole history</h3>`,
    totalsTable(m, figures, keys),
    ...(m.kind === 'binary' ? [`<h3 id="model-${m.index}-curves">Total window: ROC and precision–recall curves, reliability, confusion matrices</h3>`, evaluationSection(m, figures, keys)] : []),
    ...(m.kind === 'multiclass' ? [`<h3 id="model-${m.index}-classes">Total window: per-class figures and confusion matrices</h3>`, classesSection(m, figures, keys)] : []),
    `<h3>Promotions and rollbacks</h3>`,
    decisionsTable(m),
    `<h3>Drift alarms</h3>`,
    driftSection(m, domain, decisions),
    `<h3 id="model-${m.index}-features">Input features: drift and data quality</h3>`,
    featuresSection(m),
    `<h3 id="model-${m.index}-importance">Feature importance of the challengers</h3>`,
    importanceSection(m),
    `<h3>Labels: delay and coverage</h3>`,
    labelsSection(m, figures, keys, windows, domain, markers, shade),
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

/** The report as one HTML page. */
export function renderReport(input: ReportInput): string {
  const models = modelsOf(input);
  const sections = modelData(input, models).map((m) => modelSection(m));
  return [
    '<!DOCTYPE html>',
    '<html lang="en"><head><meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${esc(input.title ?? 'feedbackloop report')}</title>`,
    `<style>${CSS}</style></head><body>`,
    header(input, models),
    ...sections,
    '<footer>Times are UTC. Metric charts place each window at the time of its predictions; drift and decision markers at the event time they happened (the label that triggered them). ' +
      'Hover a line, dot or marker for details. A dash is a figure with a zero denominator. ' +
      'Dashed lines are estimates from the scores of every prediction (labelled or not), faded where the scores were not calibrated on the matured labels; shaded windows still wait for labels. Written by feedbackloop; this file is self-contained.</footer>',
    '</body></html>',
    '',
  ].join('\n');
}
