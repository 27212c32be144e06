/**
 * The text `feedbackloop demo` prints: per model, the champion's daily and
 * total figures (a binary model's with the F1 estimated from the scores
 * before labels, and whether that estimate was trusted; the multi-class
 * anomaly-type's accuracy, F1 averages, log loss, Brier, kappa and its
 * severity head's MAE), the best challenger's, the drift alarms and the promotions;
 * then the joiner's counts and the files written.
 */
import { ALL_SEGMENTS } from '../core/contracts/index.js';
import type { DriftRecord, MetricPoint } from '../core/evaluate/index.js';
import type { ReportDecision } from '../report/index.js';
import type { ReplaySummary } from '../runtime/replay.js';
import { ANOMALY_MODEL } from './anomalies.js';
import { DEMO_CHANGE, DEMO_COUNTS } from './scenario.js';

/** What the replay wrote that the report reads. */
export interface DemoOutputs {
  metrics: MetricPoint[];
  drift: DriftRecord[];
  promotions: ReportDecision[];
}

/** The columns of a binary model's rows, and of a multi-class one's (its severity head's MAE last): metric and heading. */
const BINARY_COLUMNS: ReadonlyArray<readonly [string, string]> = [['precision', 'precis'], ['recall', 'recall'], ['f1', 'f1'], ['log_loss', 'loglos'], ['roc_auc', 'rocauc'], ['estimated_f1', 'est.f1']];
const MULTICLASS_COLUMNS: ReadonlyArray<readonly [string, string]> = [['accuracy', 'acc'], ['macro_f1', 'mac.f1'], ['weighted_f1', 'wgt.f1'], ['log_loss', 'loglos'], ['brier', 'brier'], ['cohen_kappa', 'kappa'], ['severity_mae', 'sev.ma']];
const columnsOf = (model: string) => (model === ANOMALY_MODEL ? MULTICLASS_COLUMNS : BINARY_COLUMNS);
const iso = (t: number) => new Date(t).toISOString().replace(/:\d\d\.\d{3}Z$/, 'Z');
const fmt = (v: number | null | undefined) => (v === null || v === undefined ? '   -  ' : v.toFixed(3).padStart(6));
const header = (model: string) =>
  `    ${''.padEnd(30)} ${'n'.padStart(6)}  ${columnsOf(model).map(([, h]) => h.padStart(6)).join('  ')}${model === ANOMALY_MODEL ? '' : '  trusted'}`;

function figureRow(model: string, label: string, points: MetricPoint[]): string {
  const by = new Map(points.map((p) => [p.metric, p]));
  const n = by.get('roc_auc')?.count ?? by.get('log_loss')?.count ?? 0;
  const trusted = by.get('estimate_trusted')?.value;
  const trust = trusted === undefined || trusted === null ? '' : trusted === 1 ? '  yes' : '  no';
  return `    ${label.padEnd(30)} ${String(n).padStart(6)}  ${columnsOf(model).map(([f]) => fmt(by.get(f)?.value)).join('  ')}${trust}`;
}

/** The champion's row per day (fraud-detector's tagged before or after the change), then its total. */
function championRows(model: string, mine: MetricPoint[]): string[] {
  const daily = mine.filter((p) => p.role === 'champion' && p.window === '1d');
  const days = [...new Set(daily.map((p) => p.window_start))].sort((a, b) => a - b);
  const rows = days.map((day) => {
    const tag = model !== 'churn-predictor' ? (day < DEMO_CHANGE ? ' before' : ' after') : '';
    return figureRow(model, `champion ${iso(day).slice(0, 10)}${tag}`, daily.filter((p) => p.window_start === day));
  });
  rows.push(figureRow(model, 'champion, total', mine.filter((p) => p.role === 'champion' && p.window === 'total')));
  return rows;
}

/** The total row of the challenger with the lowest total log loss, if any. */
function bestChallengerRows(model: string, mine: MetricPoint[]): string[] {
  const totals = mine.filter((p) => p.role === 'challenger' && p.window === 'total');
  const best = totals.filter((p) => p.metric === 'log_loss' && p.value !== null).sort((a, b) => a.value! - b.value!)[0];
  if (!best) return [];
  return [figureRow(model, `best challenger ${best.model_version.replace(`${model}/`, '')}, total`, totals.filter((p) => p.model_version === best.model_version))];
}

/** The features' and the champion's alarms (a learning challenger's scores and errors move by design). */
function driftLine(model: string, drift: DriftRecord[]): string {
  const alarms = drift.filter((d) => d.model === model && d.detected && d.role !== 'challenger');
  if (alarms.length === 0) return '  drift: no alarms';
  const counts = new Map<string, number>();
  for (const a of alarms) counts.set(`${a.statistic} ${a.feature}`, (counts.get(`${a.statistic} ${a.feature}`) ?? 0) + 1);
  const first = alarms.reduce((min, a) => Math.min(min, a.window_end), Infinity);
  return `  drift: ${alarms.length} alarms, first at ${iso(first)}: ${[...counts].map(([k, c]) => `${k} ×${c}`).join(', ')}`;
}

function promotionLines(model: string, promotions: ReportDecision[]): string[] {
  const decisions = promotions.filter((p) => p.model === model);
  if (decisions.length === 0) return ['  promotions: none'];
  return decisions.map((d) => `  ${d.decision}: ${d.from_version} → ${d.to_version} at ${iso(d.at)} (n ${d.n})`);
}

function modelSection(model: string, summary: ReplaySummary, outputs: DemoOutputs): string[] {
  const mine = outputs.metrics.filter((p) => p.model === model && p.segment === ALL_SEGMENTS);
  const champion = mine.find((p) => p.role === 'champion')?.model_version ?? '?';
  return [
    `${model} (champion ${champion}; ${summary.by_model[model]?.labelled ?? 0} labelled)`, header(model),
    ...championRows(model, mine),
    ...bestChallengerRows(model, mine),
    driftLine(model, outputs.drift),
    ...promotionLines(model, outputs.promotions),
    '',
  ];
}

/** The report: a section per model, the joiner's counts, and `files` (relative to `out`). */
export function formatDemo(summary: ReplaySummary, outputs: DemoOutputs, files: string[], out: string): string {
  const lines = Object.keys(DEMO_COUNTS).flatMap((model) => modelSection(model, summary, outputs));
  lines.push(`concept change of fraud-detector and anomaly-type at ${iso(DEMO_CHANGE)}`);
  lines.push(`joiner: ${summary.labelled} labelled, ${summary.corrections} corrections, ${summary.duplicates_ignored} duplicates, ${summary.uncertain} uncertain, ${summary.expired_unlabelled} expired unlabelled`);
  lines.push(`written to ${out}:`, `  ${files.join(' ')}`);
  lines.push(`report: ${summary.files.report}`);
  return lines.join('\n');
}
