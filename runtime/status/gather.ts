/**
 * `feedbackloop status`, the gathering: what a running deployment is doing,
 * read from its servers without changing anything (no topic, table or group
 * is created; reading the promotions topic uses a throw-away consumer group
 * that is deleted afterwards).
 *
 * - champions (gather-champions.ts): the model-promotions topic (read to
 *   its end) and, with clickhouse.url, champion_history; models without a
 *   decision: the version upstream serves, from metric_points;
 * - figures: metric_points (FINAL), segment `*`, the latest ended window of
 *   one size and `total`; a sharded model's from its shards' partials
 *   (metric_partials, merged as metric_points_merged: merged-figures.ts);
 * - pending joins: the joiners' feedbackloop_joiner_pending_predictions
 *   gauge, scraped from /metrics;
 * - consumer lag: each processor's group, committed vs end offsets.
 *
 * A server that fails leaves its sections empty and becomes a problem of the
 * report, named with what to do.
 */
import type { Config } from '../../adapters/config/index.js';
import { ClickHouseStore } from '../../adapters/clickhouse/index.js';
import { authorizationHeader, httpCredentials } from '../../adapters/http/index.js';
import { kafkaUnreachableText, unreachableBrokers } from '../../adapters/kafka/reachable.js';
import { createLogger } from '../../adapters/logging/index.js';
import { redactUrl, redactUrlsIn } from '../../core/redact.js';
import { clickhouseOptions, openRuntime } from '../connect.js';
import { figuresByModel } from './figures.js';
import { gatherChampions } from './gather-champions.js';
import { latestFigures } from './gather-clickhouse.js';
import { consumerLag } from './gather-kafka.js';
import { scrapeMetrics } from './gather-metrics.js';
import { pendingJoins, type MetricsScrape } from './pending-joins.js';
import type { Fail, StatusReport } from './report.js';

/** A scrape as the report shows it: its URL (a --metrics URL may carry credentials) and error redacted. */
function redactScrape(scrape: MetricsScrape): MetricsScrape {
  return 'error' in scrape ? { url: redactUrl(scrape.url), error: redactUrlsIn(scrape.error) } : { ...scrape, url: redactUrl(scrape.url) };
}

/** Reads every section; a server that fails becomes a problem of the report instead of an exception. */
export async function gatherStatus(
  config: Config,
  options: { window: string; metricsUrls: string[]; now?: () => number; /** evaluator.shard_by is prediction: every model with partials is read merged. */ shardedByPrediction?: boolean },
): Promise<StatusReport> {
  const now = options.now ?? Date.now;
  const ch = clickhouseOptions(config);
  const report: StatusReport = {
    at: now(),
    kafka: { brokers: config.kafka.brokers, client_id: config.kafka.client_id },
    clickhouse: ch ? { url: redactUrl(ch.url), database: ch.database } : null,
    champions: [],
    figures: null,
    pending: pendingJoins([]),
    lag: [],
    notes: [],
    problems: [],
  };
  // Problems and notes quote URLs and the servers' errors: never with credentials.
  const fail: Fail = (server, text, retriable = true) => {
    const message = redactUrlsIn(text);
    if (!report.problems.some((p) => p.message === message)) report.problems.push({ server, message, retriable });
  };
  const note = (text: string) => {
    report.notes.push(redactUrlsIn(text));
  };
  if (!ch) note('no clickhouse.url: no figures, and models without a promotion decision are not listed');

  // The kafkajs client retries a broker that is not there for many seconds: ask the socket first.
  const kafkaUp = (await unreachableBrokers(config.kafka.brokers)).length < config.kafka.brokers.length;
  // Status reads quietly: its findings are the report (log.level debug shows the clients' logs).
  const logger = createLogger(config.log.level === 'info' ? 'silent' : config.log.level);
  const runtime = kafkaUp ? await openRuntime(config, logger, { defaultMetrics: false, clickhouse: false }) : undefined;
  if (!kafkaUp) fail('kafka', kafkaUnreachableText(config.kafka.brokers));
  let store = ch ? ClickHouseStore.connect({ ...ch, quiet: true }) : undefined;
  if (store && !(await store.ping().catch(() => false))) {
    fail('clickhouse', `ClickHouse at ${redactUrl(ch!.url)} unreachable: is it running? check clickhouse.url (FEEDBACKLOOP_CLICKHOUSE_URL)`);
    await store.close().catch(() => {});
    store = undefined;
  }
  try {
    const figuresRead = store ? latestFigures(store, ch!.url, ch!.database, options.window, now(), fail, options.shardedByPrediction) : undefined;
    const rowsRead = figuresRead?.then((f) => f?.rows);
    const [champions, figures, scrapes, lag] = await Promise.all([
      gatherChampions({ ...(runtime ? { runtime } : {}), ...(store ? { clickhouse: { store, url: ch!.url, database: ch!.database } } : {}), ...(rowsRead ? { figures: rowsRead } : {}) }, fail, note),
      figuresRead,
      Promise.all(options.metricsUrls.map(async (url) => redactScrape(await scrapeMetrics(url, authorizationHeader(httpCredentials(config.http)))))),
      runtime ? consumerLag(runtime.transport, config, fail, note) : [],
    ]);
    report.figures = figures ? { window: options.window, models: figuresByModel(figures.rows, now(), figures.merged) } : null;
    report.champions = champions;
    report.pending = pendingJoins(scrapes);
    report.lag = lag;
  } finally {
    await runtime?.close().catch(() => {});
    await store?.close().catch(() => {});
  }
  return report;
}
