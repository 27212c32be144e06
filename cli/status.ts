/**
 * `feedbackloop status`, the pure part: each model's current champion and
 * where that answer comes from, the latest figures per model, the joins
 * pending in the joiners (from their /metrics), consumer lag per processor,
 * and the report as a table or as JSON. No I/O: cli/commands/status.ts
 * reads the servers and hands the answers in.
 */
import type { PrometheusText } from '../adapters/http/index.js';
import type { PartitionLag } from '../adapters/prometheus/index.js';
import type { ModelKind, PromotionDecision } from '../core/events.js';
import { duration, int, isoMinute, num, pct } from '../report/format.js';

// ---------------------------------------------------------------- champions

/** Where an answer about the champion comes from. */
export type ChampionSource = 'model-promotions' | 'champion_history' | 'metric_points';

/** A decision that moved a model's champion alias (PROMOTE or ROLLBACK; PIN, UNPIN and HOLD do not). */
export interface ChampionMove {
  model: string;
  decision: 'PROMOTE' | 'ROLLBACK';
  decision_id: string;
  from_version: string;
  to_version: string;
  actor: string;
  reason: string;
  /** Event time of the evidence (ms). */
  at: number;
  /** When it was published (ms). */
  decided_at: number;
}

export function championMoves(decisions: Iterable<PromotionDecision>): ChampionMove[] {
  const out: ChampionMove[] = [];
  for (const d of decisions) {
    if (d.decision !== 'PROMOTE' && d.decision !== 'ROLLBACK') continue;
    const { model, decision, decision_id, from_version, to_version, actor, reason, at, decided_at } = d;
    out.push({ model, decision, decision_id, from_version, to_version, actor, reason, at, decided_at });
  }
  return out;
}

/** a is later than b in the order of docs/registry.md: (decided_at, at). */
const later = (a: ChampionMove, b: ChampionMove) => a.decided_at > b.decided_at || (a.decided_at === b.decided_at && a.at > b.at);

/**
 * The latest move per model, "latest" as champion_history's queries order
 * them, (decided_at, at), so both sources name the same decision; among
 * equals the later in `moves` (log order) wins.
 */
export function latestMoves(moves: Iterable<ChampionMove>): Map<string, ChampionMove> {
  const out = new Map<string, ChampionMove>();
  for (const move of moves) {
    const current = out.get(move.model);
    if (!current || !later(current, move)) out.set(move.model, move);
  }
  return out;
}

/** A model pinned by `feedbackloop pin` (its latest PIN not followed by an UNPIN). */
export interface PinStatus {
  decision_id: string;
  actor: string;
  reason: string;
  /** When it was published (ms). */
  decided_at: number;
}

/** The models pinned now, from their decisions in topic order. */
export function currentPins(decisions: Iterable<PromotionDecision>): Map<string, PinStatus> {
  const out = new Map<string, PinStatus>();
  for (const d of decisions) {
    if (d.decision === 'PIN') out.set(d.model, { decision_id: d.decision_id, actor: d.actor, reason: d.reason, decided_at: d.decided_at });
    else if (d.decision === 'UNPIN') out.delete(d.model);
  }
  return out;
}

export interface ChampionStatus {
  model: string;
  /** Null when nothing names one. */
  version: string | null;
  /** Where the answer comes from (every source that gives the same answer). */
  sources: ChampionSource[];
  /** The decision that made it champion; null for the version upstream serves before any decision. */
  decision: ChampionMove | null;
  /** When the sources disagree or one is missing, what that means. */
  note: string | null;
  /** Pinned (no automatic decision until `feedbackloop unpin`), per the topic; null when not. */
  pinned: PinStatus | null;
}

/**
 * Each model's champion: the to_version of its latest PROMOTE or ROLLBACK
 * on the model-promotions topic or in champion_history, whichever is later
 * (the registry processor copies the topic into the table, so the table can
 * be behind; the topic has a retention, so it can have lost old decisions);
 * for a model without any decision, the version upstream serves (the
 * champion role of the latest figures). A source that was not read is
 * undefined.
 */
export function chooseChampions(input: {
  topic?: Map<string, ChampionMove>;
  history?: Map<string, ChampionMove>;
  upstream?: Map<string, string>;
  pins?: Map<string, PinStatus>;
}): ChampionStatus[] {
  const models = new Set([...(input.topic?.keys() ?? []), ...(input.history?.keys() ?? []), ...(input.upstream?.keys() ?? []), ...(input.pins?.keys() ?? [])]);
  return [...models].sort().map((model): ChampionStatus => ({ ...championOf(model, input), pinned: input.pins?.get(model) ?? null }));
}

function championOf(
  model: string,
  input: { topic?: Map<string, ChampionMove>; history?: Map<string, ChampionMove>; upstream?: Map<string, string> },
): Omit<ChampionStatus, 'pinned'> {
  const topic = input.topic?.get(model);
  const history = input.history?.get(model);
  const decision = topic && history ? (later(history, topic) ? history : topic) : (topic ?? history);
  if (!decision) {
    const version = input.upstream?.get(model) ?? null;
    return { model, version, sources: ['metric_points'], decision: null, note: 'no promotion decision: the version upstream serves (latest figures, role champion)' };
  }
  const sources: ChampionSource[] = [];
  if (topic?.decision_id === decision.decision_id) sources.push('model-promotions');
  if (history?.decision_id === decision.decision_id) sources.push('champion_history');
  let note: string | null = null;
  if (input.history && !sources.includes('champion_history')) {
    note = `champion_history ${history ? `still names ${history.to_version} (${history.decision_id})` : 'has no decision for it yet'}: is the registry processor running?`;
  } else if (input.topic && !sources.includes('model-promotions')) {
    note = `${decision.decision_id} is no longer on the model-promotions topic (retention)`;
  }
  return { model, version: decision.to_version, sources, decision, note };
}

// ---------------------------------------------------------------- figures

/** A row of metric_points as status reads it (segment `*`). */
export interface MetricPointRow {
  model: string;
  role: string;
  model_version: string;
  window: string;
  window_start_ms: number;
  window_end_ms: number;
  metric: string;
  value: number | null;
  count: number;
}

/** The figures status shows, binary and regression; `count` is shown as n. */
export const BINARY_FIGURES = ['count', 'roc_auc', 'log_loss', 'precision', 'recall', 'label_coverage', 'label_delay_p50'] as const;
export const REGRESSION_FIGURES = ['count', 'rmse', 'mae', 'label_coverage', 'label_delay_p50'] as const;
export const STATUS_METRICS: readonly string[] = [...new Set<string>([...BINARY_FIGURES, ...REGRESSION_FIGURES])];

export interface FigureLine {
  role: string;
  version: string;
  window: string;
  window_start_ms: number;
  window_end_ms: number;
  /** A tumbling window whose end is still ahead (its figures will change). */
  open: boolean;
  figures: Record<string, number | null>;
}

export interface ModelFigures {
  model: string;
  task: ModelKind;
  lines: FigureLine[];
}

const ROLE_ORDER = ['champion', 'previous', 'challenger'];
const roleRank = (role: string) => (ROLE_ORDER.includes(role) ? ROLE_ORDER.indexOf(role) : ROLE_ORDER.length);

/** Groups figure rows by model, window (tumbling first, then total), role (champion, previous, challengers) and version. */
export function figuresByModel(rows: MetricPointRow[], now: number): ModelFigures[] {
  const models = new Map<string, Map<string, FigureLine>>();
  for (const row of rows) {
    let lines = models.get(row.model);
    if (!lines) models.set(row.model, (lines = new Map()));
    const key = JSON.stringify([row.window, row.window_start_ms, row.role, row.model_version]);
    let line = lines.get(key);
    if (!line) {
      line = {
        role: row.role, version: row.model_version, window: row.window, window_start_ms: row.window_start_ms, window_end_ms: row.window_end_ms,
        open: row.window !== 'total' && row.window_end_ms > now, figures: {},
      };
      lines.set(key, line);
    }
    line.figures[row.metric] = row.value;
  }
  return [...models].sort(([a], [b]) => a.localeCompare(b)).map(([model, lines]) => {
    const all = [...lines.values()].sort(
      (a, b) =>
        Number(a.window === 'total') - Number(b.window === 'total') ||
        a.window.localeCompare(b.window) ||
        roleRank(a.role) - roleRank(b.role) ||
        a.version.localeCompare(b.version),
    );
    const regression = all.some((l) => 'rmse' in l.figures || 'mae' in l.figures) && !all.some((l) => 'roc_auc' in l.figures || 'precision' in l.figures);
    return { model, task: regression ? 'regression' : 'binary', lines: all };
  });
}

/** Per model, the version upstream serves: the champion-role version of the `total` window with the latest end. */
export function upstreamVersions(rows: MetricPointRow[]): Map<string, string> {
  const best = new Map<string, MetricPointRow>();
  for (const row of rows) {
    if (row.role !== 'champion' || row.window !== 'total') continue;
    const current = best.get(row.model);
    if (!current || row.window_end_ms > current.window_end_ms) best.set(row.model, row);
  }
  return new Map([...best].map(([model, row]) => [model, row.model_version]));
}

// ---------------------------------------------------------------- pending joins

export const PENDING_GAUGE = 'feedbackloop_joiner_pending_predictions';

/** One /metrics endpoint: its text, or why it did not answer. */
export type MetricsScrape = { url: string; text: PrometheusText } | { url: string; error: string };

export interface PendingJoins {
  /** Entries in the joiners' state over the partitions reported; null when no joiner answered. */
  total: number | null;
  /** Partition -> entries (a partition two instances report, during a rebalance, counts once: the larger). */
  partitions: Record<string, number>;
  sources: Array<{ url: string; answer: 'joiner' | 'no joiner' | 'unreachable'; error?: string }>;
}

export function pendingJoins(scrapes: MetricsScrape[]): PendingJoins {
  const partitions: Record<string, number> = {};
  const sources: PendingJoins['sources'] = [];
  let joiners = 0;
  for (const scrape of scrapes) {
    if ('error' in scrape) {
      sources.push({ url: scrape.url, answer: 'unreachable', error: scrape.error });
      continue;
    }
    // The family is declared as soon as the joiner runs, before it holds any partition.
    if (!scrape.text.types.has(PENDING_GAUGE)) {
      sources.push({ url: scrape.url, answer: 'no joiner' });
      continue;
    }
    joiners++;
    sources.push({ url: scrape.url, answer: 'joiner' });
    for (const sample of scrape.text.samples) {
      const partition = sample.labels.partition;
      if (sample.name !== PENDING_GAUGE || partition === undefined) continue;
      partitions[partition] = Math.max(partitions[partition] ?? 0, sample.value);
    }
  }
  const total = joiners === 0 ? null : Object.values(partitions).reduce((sum, n) => sum + n, 0);
  return { total, partitions, sources };
}

// ---------------------------------------------------------------- consumer lag

export interface TopicLagStatus {
  topic: string;
  /** Sum over partitions; null when the topic could not be read. */
  lag: number | null;
  partitions: PartitionLag[];
  error?: string;
}

export interface GroupStatus {
  processor: string;
  group: string;
  /** The group committed an offset on at least one partition of its inputs. */
  started: boolean;
  /** Records not yet committed, over its inputs (a group that committed nothing: everything); null when an input could not be read. */
  lag: number | null;
  topics: TopicLagStatus[];
}

export function groupStatus(processor: string, group: string, topics: TopicLagStatus[]): GroupStatus {
  const started = topics.some((t) => t.partitions.some((p) => p.committed !== null));
  const lag = topics.some((t) => t.lag === null) ? null : topics.reduce((sum, t) => sum + t.lag!, 0);
  return { processor, group, started, lag, topics };
}

export function topicLagStatus(topic: string, partitions: PartitionLag[]): TopicLagStatus {
  return { topic, lag: partitions.reduce((sum, p) => sum + p.lag, 0), partitions };
}

// ---------------------------------------------------------------- the report

export interface StatusProblem {
  /** The server that failed: kafka, schema registry, clickhouse. */
  server: string;
  /** What failed and what to check. */
  message: string;
  /** Could asking again help (a server down or busy), or must something be set up or fixed first? */
  retriable: boolean;
}

export interface StatusReport {
  at: number;
  kafka: { brokers: string[]; client_id: string };
  clickhouse: { url: string; database: string } | null;
  champions: ChampionStatus[];
  figures: { window: string; models: ModelFigures[] } | null;
  pending: PendingJoins;
  lag: GroupStatus[];
  /** Facts worth knowing that are not failures (a topic not created yet, no ClickHouse configured). */
  notes: string[];
  problems: StatusProblem[];
}

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

function figureLines(figures: StatusReport['figures'], configured: boolean): string[] {
  if (!figures) return [configured ? '  unavailable (see Problems below)' : '  none: no clickhouse.url configured (figures are written to ClickHouse)'];
  if (figures.models.length === 0) return [`  none in metric_points yet (is the evaluator running?)`];
  const out: string[] = [];
  for (const m of figures.models) {
    const names = m.task === 'binary' ? BINARY_FIGURES : REGRESSION_FIGURES;
    out.push(`  ${m.model} (${m.task})`);
    const rows = [['window', 'role', 'version', ...names.map((n) => HEADINGS[n] ?? n)]];
    for (const line of m.lines) rows.push([windowLabel(line), line.role, line.version, ...names.map((n) => figureCell(n, line.figures[n]))]);
    out.push(...renderTable(rows, `lll${'r'.repeat(names.length)}`, '    '));
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
  const figuresTitle = report.figures ? `Figures (metric_points, segment *: the latest ${report.figures.window} window and total)` : 'Figures';
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
  if (report.notes.length > 0) lines.push('', 'Notes', ...report.notes.map((n) => `  ${n}`));
  if (report.problems.length > 0) lines.push('', 'Problems', ...report.problems.map((p) => `  ${p.server}: ${p.message}`));
  return `${lines.join('\n')}\n`;
}
