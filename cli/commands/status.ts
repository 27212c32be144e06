/**
 * `feedbackloop status`: what a running deployment is doing, read from its
 * servers without changing anything (no topic, table or group is created;
 * reading the promotions topic uses a throw-away consumer group that is
 * deleted afterwards).
 *
 * - champions: the model-promotions topic (read to its end) and, with
 *   clickhouse.url, champion_history; models without a decision: the
 *   version upstream serves, from metric_points;
 * - figures: metric_points (FINAL), segment `*`, the latest ended window of
 *   one size (--window) and `total`;
 * - pending joins: the joiners' feedbackloop_joiner_pending_predictions
 *   gauge, scraped from /metrics (--metrics);
 * - consumer lag: each processor's group, committed vs end offsets.
 *
 * A server that fails leaves its sections empty and is named with what to
 * do; the report is still printed, then the command fails (exit 1).
 */
import type { Command } from 'commander';
import { loadConfig, type Config } from '../../adapters/config/index.js';
import { ClickHouseStore, sqlString } from '../../adapters/clickhouse/index.js';
import { parsePrometheusText } from '../../adapters/http/index.js';
import { topicLag } from '../../adapters/prometheus/index.js';
import { tcpReachable } from '../../adapters/kafka/reachable.js';
import type { LogTransport } from '../../adapters/transport/transport.js';
import { createLogger } from '../../adapters/logging/index.js';
import { ALL_SEGMENTS } from '../../core/contracts/index.js';
import { parseDuration } from '../../core/duration.js';
import { ConfigError, errorMessage, FeedbackloopError, isRetriable } from '../../core/errors.js';
import { CHAMPION_HISTORY_TABLE, registryQueries } from '../../processors/registry.js';
import {
  championMoves,
  chooseChampions,
  currentPins,
  figuresByModel,
  formatStatus,
  groupStatus,
  latestMoves,
  pendingJoins,
  STATUS_METRICS,
  topicLagStatus,
  upstreamVersions,
  type ChampionMove,
  type PinStatus,
  type GroupStatus,
  type MetricPointRow,
  type MetricsScrape,
  type StatusReport,
  type TopicLagStatus,
} from '../status.js';
import { clickhouseOptions, openRuntime, readPromotionDecisions, type Runtime } from '../../runtime/connect.js';
import { consumerGroups } from '../../runtime/pipeline.js';
import { PROCESSORS } from './run.js';

export interface StatusOptions {
  config?: string;
  json?: boolean;
  /** /metrics URLs of the running processes. */
  metrics?: string[];
  /** Tumbling window whose latest figures are shown (besides total). */
  window?: string;
}

/** The /metrics URL of a process on this machine with this config, or none when http.port is 0 (a free port). */
export function defaultMetricsUrls(config: Config): string[] {
  return config.http.port === 0 ? [] : [`http://127.0.0.1:${config.http.port}/metrics`];
}

/** The longest configured tumbling window (1d by default). */
export function defaultWindow(config: Config): string {
  const windows = config.evaluator.windows.map((name) => ({ name, ms: parseDuration(name) ?? 0 }));
  return windows.sort((a, b) => b.ms - a.ms)[0]?.name ?? 'total';
}

/** Declares `feedbackloop status` on the program. */
export function registerStatus(cli: Command): void {
  cli
    .command('status')
    .description('Show what a running deployment is doing: the champion of every model, the latest figures, pending joins and consumer lag.')
    .option('-c, --config <file>', 'YAML config file of the deployment (needs kafka.brokers; clickhouse.url for figures)')
    .option('--json', 'print one JSON object instead of tables')
    .option('--metrics <urls...>', '/metrics URLs of the running processes to ask for pending joins (default: http://127.0.0.1:<http.port>/metrics)')
    .option('--window <w>', 'tumbling window whose latest ended figures are shown besides total (default: the longest of evaluator.windows)')
    .addHelpText(
      'after',
      '\nReads, and changes nothing:\n' +
        '  champions      the model-promotions topic (read to its end) and, with clickhouse.url, the\n' +
        '                 champion_history table: the latest PROMOTE or ROLLBACK per model, whichever source\n' +
        '                 has the later one (each answer says where it came from); a model without any\n' +
        '                 decision: the version upstream serves, from metric_points (role champion); and\n' +
        '                 whether the model is pinned (feedbackloop pin), by whom and why\n' +
        '  figures        metric_points FINAL, segment *: the latest ended --window window and total, per\n' +
        '                 role and version: n, ROC AUC, log loss, precision, recall (binary) or RMSE, MAE\n' +
        '                 (regression), label coverage and median label delay (champion)\n' +
        '  pending joins  feedbackloop_joiner_pending_predictions from the joiners\' /metrics (--metrics)\n' +
        '  consumer lag   each processor\'s group <kafka.client_id>-<processor>: end offset minus committed\n' +
        '                 offset of its input topics; "not started" when the group committed nothing\n\n' +
        'Exit codes: 0 every server answered; 1 a server failed (the report is still printed, the message\n' +
        'says which and what to check); 2 bad usage or configuration (no kafka.brokers: status needs a\n' +
        'deployment; replay and demo write their figures to files).\n\n' +
        'Example:\n  feedbackloop status --config prod.yaml --metrics http://joiner-1:9464/metrics http://joiner-2:9464/metrics',
    )
    .action(async (options: StatusOptions) => commandStatus(options));
}

export async function commandStatus(options: StatusOptions): Promise<void> {
  const config = loadConfig(options.config);
  if (config.kafka.brokers.length === 0) {
    throw new ConfigError(
      'kafka.brokers',
      'status reads a running deployment: set kafka.brokers (and kafka.schema_registry_url, and clickhouse.url for figures) in the config or as FEEDBACKLOOP_KAFKA_BROKERS. ' +
        'replay and demo run on the in-process log and write what status would show to files (summary.json, metrics.jsonl, promotions.jsonl)',
    );
  }
  const window = options.window ?? defaultWindow(config);
  if (window !== 'total' && parseDuration(window) === undefined) throw new ConfigError('--window', `expected a window such as 1h or 1d (one of evaluator.windows), got ${JSON.stringify(window)}`);
  const urls = options.metrics ?? defaultMetricsUrls(config);
  for (const url of urls) {
    if (!URL.canParse(url)) throw new ConfigError('--metrics', `not a URL: ${JSON.stringify(url)} (e.g. http://127.0.0.1:9464/metrics)`);
  }

  const report = await gatherStatus(config, { window, metricsUrls: urls });
  process.stdout.write(options.json ? `${JSON.stringify(report, null, 2)}\n` : formatStatus(report));
  if (report.problems.length > 0) {
    const retriable = report.problems.every((p) => p.retriable);
    throw new FeedbackloopError(`status incomplete: ${report.problems.map((p) => p.message).join('; ')}`, { retriable });
  }
}

/** Reads every section; a server that fails becomes a problem of the report instead of an exception. */
export async function gatherStatus(config: Config, options: { window: string; metricsUrls: string[]; now?: () => number }): Promise<StatusReport> {
  const now = options.now ?? Date.now;
  const ch = clickhouseOptions(config);
  const report: StatusReport = {
    at: now(),
    kafka: { brokers: config.kafka.brokers, client_id: config.kafka.client_id },
    clickhouse: ch ? { url: ch.url, database: ch.database } : null,
    champions: [],
    figures: null,
    pending: pendingJoins([]),
    lag: [],
    notes: [],
    problems: [],
  };
  const fail: Fail = (server, message, retriable = true) => {
    if (!report.problems.some((p) => p.message === message)) report.problems.push({ server, message, retriable });
  };
  if (!ch) report.notes.push('no clickhouse.url: no figures, and models without a promotion decision are not listed');

  // The kafkajs client retries a broker that is not there for many seconds: ask the socket first.
  const kafkaUp = (await Promise.all(config.kafka.brokers.map((b) => tcpReachable(b, 3000)))).some(Boolean);
  // Status reads quietly: its findings are the report (log.level debug shows the clients' logs).
  const logger = createLogger(config.log.level === 'info' ? 'silent' : config.log.level);
  const runtime = kafkaUp ? await openRuntime(config, logger, { defaultMetrics: false, clickhouse: false }) : undefined;
  if (!kafkaUp) fail('kafka', `Kafka at ${config.kafka.brokers.join(',')} unreachable: is it running? check kafka.brokers (FEEDBACKLOOP_KAFKA_BROKERS)`);
  let store = ch ? ClickHouseStore.connect({ ...ch, quiet: true }) : undefined;
  if (store && !(await store.ping().catch(() => false))) {
    fail('clickhouse', `ClickHouse at ${ch!.url} unreachable: is it running? check clickhouse.url (FEEDBACKLOOP_CLICKHOUSE_URL)`);
    await store.close().catch(() => {});
    store = undefined;
  }
  try {
    const [topicMoves, history, figures, scrapes, lag] = await Promise.all([
      runtime ? topicChampions(runtime, report, fail) : undefined,
      store ? historyChampions(store, ch!.url, ch!.database, fail) : undefined,
      store ? latestFigures(store, ch!.url, ch!.database, options.window, now(), fail) : undefined,
      Promise.all(options.metricsUrls.map(scrapeMetrics)),
      runtime ? consumerLag(runtime.transport, config, fail, (note) => report.notes.push(note)) : [],
    ]);
    report.figures = figures ? { window: options.window, models: figuresByModel(figures, now()) } : null;
    report.champions = chooseChampions({
      ...(topicMoves ? { topic: topicMoves.moves, pins: topicMoves.pins } : {}),
      ...(history ? { history } : {}),
      ...(figures ? { upstream: upstreamVersions(figures) } : {}),
    });
    report.pending = pendingJoins(scrapes);
    report.lag = lag;
  } finally {
    await runtime?.close().catch(() => {});
    await store?.close().catch(() => {});
  }
  return report;
}

const NO_TOPIC = 'no such topic';

type Fail = (server: string, message: string, retriable?: boolean) => void;

/** Latest PROMOTE / ROLLBACK per model on the promotions topic; undefined when it could not be read. */
async function topicChampions(runtime: Runtime, report: StatusReport, fail: Fail): Promise<{ moves: Map<string, ChampionMove>; pins: Map<string, PinStatus> } | undefined> {
  const topic = runtime.config.topics.model_promotions;
  try {
    await runtime.transport.partitionCount(topic);
  } catch (error) {
    if (error instanceof FeedbackloopError && !error.retriable) {
      report.notes.push(`topic ${topic} does not exist: no decision was ever published (\`feedbackloop check\` or \`run\` creates it)`);
      return { moves: new Map(), pins: new Map() };
    }
    fail('kafka', `Kafka at ${runtime.config.kafka.brokers.join(',')}: cannot read topic ${topic}: ${errorMessage(error)}`);
    return undefined;
  }
  try {
    const { decisions, undecodable } = await readPromotionDecisions(runtime);
    if (undecodable > 0) report.notes.push(`${undecodable} record(s) on ${topic} are not promotion decisions and were skipped`);
    return { moves: latestMoves(championMoves(decisions)), pins: currentPins(decisions) };
  } catch (error) {
    const registry = runtime.config.kafka.schema_registry_url;
    if (errorMessage(error).startsWith('schema registry')) fail('schema registry', `Schema registry at ${registry} unreachable: is it running? check kafka.schema_registry_url (${errorMessage(error)})`);
    else fail('kafka', `Kafka at ${runtime.config.kafka.brokers.join(',')}: cannot read topic ${topic}: ${errorMessage(error)}`);
    return undefined;
  }
}

/** What to tell a user whose ClickHouse query failed, and whether asking again may help. */
function clickhouseProblem(url: string, database: string, table: string, error: unknown): [string, boolean] {
  const message = errorMessage(error);
  if (/Code: 81\b|UNKNOWN_DATABASE|Database \S+ doesn't exist/i.test(message)) {
    return [`ClickHouse at ${url} has no database ${database}: check clickhouse.database (\`feedbackloop check\` or \`run\` creates it)`, false];
  }
  if (/Code: 60\b|UNKNOWN_TABLE|Table \S+ doesn't exist/i.test(message)) {
    return [`ClickHouse at ${url} has no table ${database}.${table}: check clickhouse.database (\`feedbackloop check\` or \`run\` creates the tables)`, false];
  }
  return [`ClickHouse at ${url}: ${message}`, isRetriable(error)];
}

async function historyChampions(store: ClickHouseStore, url: string, database: string, fail: Fail): Promise<Map<string, ChampionMove> | undefined> {
  type Row = { model: string; champion: string; deployed_at_ms: string; by_decision: string; by_decision_kind: string; replaced: string; published_at_ms: string; deployed_by: string; why: string };
  try {
    // The registry's champion query (docs/registry.md); UInt64 columns come back as strings.
    const rows = await store.select<Row>(registryQueries.champions());
    return latestMoves(
      rows.map((r) => ({
        model: r.model,
        decision: r.by_decision_kind === 'ROLLBACK' ? 'ROLLBACK' : 'PROMOTE',
        decision_id: r.by_decision,
        from_version: r.replaced,
        to_version: r.champion,
        actor: r.deployed_by,
        reason: r.why,
        at: Number(r.deployed_at_ms),
        decided_at: Number(r.published_at_ms),
      })),
    );
  } catch (error) {
    fail('clickhouse', ...clickhouseProblem(url, database, CHAMPION_HISTORY_TABLE, error));
    return undefined;
  }
}

/**
 * metric_points, segment ALL_SEGMENTS, the figures status shows: `total`, and per
 * model the latest `window` whose end has passed (the latest one, open,
 * when none has ended yet).
 */
export function latestFiguresQuery(window: string, now: number): string {
  const w = sqlString(window);
  const metrics = STATUS_METRICS.map(sqlString).join(', ');
  const all = sqlString(ALL_SEGMENTS);
  return `SELECT model, role, model_version, window, window_start_ms, window_end_ms, metric, value, count
FROM metric_points FINAL
WHERE segment = ${all} AND metric IN (${metrics})
  AND (window = 'total' OR (window = ${w} AND (model, window_start_ms) IN (
    SELECT model, if(countIf(window_end_ms <= ${now}) > 0, maxIf(window_start_ms, window_end_ms <= ${now}), max(window_start_ms))
    FROM metric_points
    WHERE segment = ${all} AND window = ${w}
    GROUP BY model)))
ORDER BY model, window, role, model_version, metric`;
}

async function latestFigures(store: ClickHouseStore, url: string, database: string, window: string, now: number, fail: Fail): Promise<MetricPointRow[] | undefined> {
  type Row = Omit<MetricPointRow, 'window_start_ms' | 'window_end_ms' | 'count' | 'value'> & { window_start_ms: string | number; window_end_ms: string | number; count: string | number; value: number | string | null };
  try {
    // UInt64 columns come back as strings in JSON.
    const rows = await store.select<Row>(latestFiguresQuery(window, now));
    return rows.map((r) => ({
      ...r,
      window_start_ms: Number(r.window_start_ms),
      window_end_ms: Number(r.window_end_ms),
      count: Number(r.count),
      value: r.value === null ? null : Number(r.value),
    }));
  } catch (error) {
    fail('clickhouse', ...clickhouseProblem(url, database, 'metric_points', error));
    return undefined;
  }
}

async function scrapeMetrics(url: string): Promise<MetricsScrape> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(3000) });
    if (!response.ok) return { url, error: `HTTP ${response.status}` };
    return { url, text: parsePrometheusText(await response.text()) };
  } catch (error) {
    // fetch says "fetch failed"; the cause says why (ECONNREFUSED, a bad port, ...).
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    return { url, error: cause?.code ?? cause?.message ?? errorMessage(error) };
  }
}

/** Each processor's group against its inputs (the groups and topics `run` uses for its lag gauge). */
async function consumerLag(transport: LogTransport, config: Config, fail: Fail, note: (text: string) => void): Promise<GroupStatus[]> {
  const topicCount = new Map<string, Promise<number>>();
  const out: GroupStatus[] = [];
  let failed = false;
  for (const group of consumerGroups(config, PROCESSORS)) {
    const topics: TopicLagStatus[] = [];
    for (const topic of group.topics) {
      try {
        if (!topicCount.has(topic)) topicCount.set(topic, transport.partitionCount(topic));
        await topicCount.get(topic);
        topics.push(topicLagStatus(topic, await topicLag(transport, group.groupId, topic)));
      } catch (error) {
        const missing = error instanceof FeedbackloopError && !error.retriable;
        topics.push({ topic, lag: null, partitions: [], error: missing ? NO_TOPIC : errorMessage(error) });
        if (!missing && !failed) {
          failed = true;
          fail('kafka', `Kafka at ${config.kafka.brokers.join(',')}: cannot read offsets: ${errorMessage(error)}`);
        }
      }
    }
    out.push(groupStatus(group.processor, group.groupId, topics));
  }
  const missing = [...new Set(out.flatMap((g) => g.topics.filter((t) => t.error === NO_TOPIC).map((t) => t.topic)))];
  if (missing.length > 0) note(`topic(s) ${missing.join(', ')} do not exist yet (\`feedbackloop check\` or \`run\` creates them)`);
  return out;
}
