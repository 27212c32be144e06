/**
 * `feedbackloop status`: the report as text for a terminal (tables padded
 * to their widest cell). Pure.
 */
import { duration, int, isoMinute, num, pct } from '../../report/format.js';
import type { ChampionStatus } from './champions.js';
import type { GroupStatus } from './consumer-lag.js';
import { figureNamesOf, type FigureLine, type ModelFigures } from './figures.js';
import type { PendingJoins } from './pending-joins.js';
import type { StatusReport } from './report.js';

/** Columns padded to their widest cell, two spaces apart; `align` has an 'r' for each right-aligned column (numbers), else 'l'. */
export function renderTable(rows: string[][], align: string, indent = '  '): string[] {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, c) => (widths[c] = Math.max(widths[c] ?? 0, cell.length)));
  return rows.map((row) => indent + row.map((cell, c) => (align[c] === 'r' ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!))).join('  ').trimEnd());
}

const utc = (ms: number) => `${isoMinute(ms)} UTC`;

function windowLabel(line: FigureLine): string {
  if (line.window === 'total') return 'total';
  return `${line.window} ${isoMinute(line.window_start_ms)}${line.open ? ' (open)' : ''}`;
}

function figureCell(name: string, value: number | null | undefined): string {
  if (name === 'count') return int(value);
  if (name === 'label_coverage') return pct(value);
  if (name === 'label_delay_p50') return duration(value);
  return num(value);
}

const HEADINGS: Record<string, string> = { count: 'n', label_coverage: 'coverage', label_delay_p50: 'delay p50' };

function championLines(champions: ChampionStatus[]): string[] {
  if (champions.length === 0) return ['  none known: no promotion decision and no figures yet'];
  const rows = [['model', 'champion', 'since', 'from']];
  const notes: string[] = [];
  for (const c of champions) {
    const d = c.decision;
    const how = d ? `${c.sources.join(' + ')}: ${d.decision} ${d.decision_id} by ${d.actor}` : c.sources.join(' + ');
    rows.push([c.model, c.version ?? '–', d ? utc(d.at) : '–', how]);
    if (d?.reason) notes.push(`    ${c.model}: ${d.reason}`);
    if (c.pinned) notes.push(`    ${c.model}: PINNED by ${c.pinned.actor} at ${utc(c.pinned.decided_at)} (${c.pinned.reason}): no automatic decision until \`feedbackloop unpin\``);
    if (c.note) notes.push(`    ${c.model}: ${c.note}`);
  }
  return [...renderTable(rows, 'llll'), ...notes];
}

/** The figures shown of a model: a sharded one's binary figures have the binned AUC. */
function figureNames(m: ModelFigures): readonly string[] {
  return figureNamesOf(m.task, m.shards !== null);
}

/** The model's heading: its task, and for a sharded model where its figures come from. */
function modelHeading(m: ModelFigures): string {
  if (m.shards === null) return `  ${m.model} (${m.task})`;
  return `  ${m.model} (${m.task}; merged over ${int(m.shards)} shard${m.shards === 1 ? '' : 's'}: metric_partials summed as metric_points_merged)`;
}

function figureLines(figures: StatusReport['figures'], configured: boolean): string[] {
  if (!figures) return [configured ? '  unavailable (see Problems below)' : '  none: no clickhouse.url configured (figures are written to ClickHouse)'];
  if (figures.models.length === 0) return [`  none in metric_points yet (is the evaluator running?)`];
  const out: string[] = [];
  for (const m of figures.models) {
    const names = figureNames(m);
    out.push(modelHeading(m));
    // A sharded model's lines say how many shards each window sums (a shard without examples in it has no row).
    const shards = (line: FigureLine) => (m.shards === null ? [] : [int(line.shards)]);
    const rows = [['window', 'role', 'version', ...names.map((n) => HEADINGS[n] ?? n), ...(m.shards === null ? [] : ['shards'])]];
    for (const line of m.lines) rows.push([windowLabel(line), line.role, line.version, ...names.map((n) => figureCell(n, line.figures[n])), ...shards(line)]);
    for (const line of renderTable(rows, `lll${'r'.repeat(rows[0]!.length - 3)}`, '    ')) out.push(line);
  }
  return out;
}

function pendingLines(pending: PendingJoins): string[] {
  const unreachable = pending.sources.filter((s) => s.answer === 'unreachable');
  if (pending.total === null) {
    if (pending.sources.length === 0) return ['  unknown (no /metrics endpoint to ask: http.port is 0; pass --metrics URL)'];
    const why = pending.sources.map((s) => (s.answer === 'unreachable' ? `no /metrics at ${s.url}: ${s.error}` : `no joiner at ${s.url}`));
    return [`  unknown (${why.join('; ')})`];
  }
  const parts = Object.entries(pending.partitions)
    .sort(([a], [b]) => Number(a) - Number(b))
    .map(([p, n]) => `${p}: ${int(n)}`);
  const from = pending.sources.filter((s) => s.answer === 'joiner').map((s) => s.url);
  const out = [`  ${int(pending.total)}${parts.length > 0 ? ` (partition ${parts.join(', ')})` : ''} from ${from.join(', ')}`];
  for (const s of unreachable) out.push(`  no /metrics at ${s.url}: ${s.error}`);
  return out;
}

function lagLines(groups: GroupStatus[]): string[] {
  const rows = [['processor', 'group', 'lag', 'per topic']];
  for (const g of groups) {
    const perTopic = g.topics.map((t) => `${t.topic} ${t.lag === null ? `(${t.error})` : int(t.lag)}`).join(', ');
    const lag = g.lag === null ? '–' : g.started ? int(g.lag) : `not started (${int(g.lag)} waiting)`;
    rows.push([g.processor, g.group, lag, perTopic]);
  }
  return renderTable(rows, 'llrl');
}

/** The report as text for a terminal. */
export function formatStatus(report: StatusReport): string {
  const ch = report.clickhouse ? `clickhouse ${report.clickhouse.url} database ${report.clickhouse.database}` : 'no clickhouse configured';
  const merged = report.figures?.models.some((m) => m.shards !== null) ? '; sharded models: their shards\' partials merged' : '';
  const figuresTitle = report.figures ? `Figures (metric_points, segment *: the latest ${report.figures.window} window and total${merged})` : 'Figures';
  const lines = [
    `feedbackloop status at ${utc(report.at)}: kafka ${report.kafka.brokers.join(',')} (client id ${report.kafka.client_id}), ${ch}`,
    '',
    'Champions',
    ...championLines(report.champions),
    '',
    figuresTitle,
    ...figureLines(report.figures, report.clickhouse !== null),
    '',
    "Pending joins (entries in the joiners' state)",
    ...pendingLines(report.pending),
    '',
    'Consumer lag (records not yet committed)',
    ...lagLines(report.lag),
  ];
  if (report.notes.length > 0) {
    lines.push('', 'Notes');
    for (const n of report.notes) lines.push(`  ${n}`);
  }
  if (report.problems.length > 0) {
    lines.push('', 'Problems');
    for (const p of report.problems) lines.push(`  ${p.server}: ${p.message}`);
  }
  return `${lines.join('\n')}\n`;
}
