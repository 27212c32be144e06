/**
 * `feedbackloop status`: what a running deployment is doing (each model's
 * champion, the latest figures, pending joins, consumer lag), read without
 * changing anything. The options and their defaults, then runtime/status
 * gathers the report; printed as text or JSON, then exit 1 when a server
 * failed (the report is still printed).
 */
import type { Command } from 'commander';
import { loadConfig, type Config } from '../../adapters/config/index.js';
import { parseDuration } from '../../core/duration.js';
import { ConfigError, FeedbackloopError } from '../../core/errors.js';
import { redactUrl } from '../../core/redact.js';
import { formatStatus, gatherStatus, shardedByPrediction } from '../../runtime/status/index.js';

export interface StatusOptions {
  config?: string;
  json?: boolean;
  /** /metrics URLs of the running processes. */
  metrics?: string[];
  /** Tumbling window whose latest figures are shown (besides total). */
  window?: string;
}

/** The /metrics URL of a process on this machine with this config (https with a certificate), or none when http.port is 0 (a free port). */
export function defaultMetricsUrls(config: Config): string[] {
  const scheme = config.http.tls_cert_file === null ? 'http' : 'https';
  return config.http.port === 0 ? [] : [`${scheme}://127.0.0.1:${config.http.port}/metrics`];
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
        '                 (regression), label coverage and median label delay (champion); a sharded model (rows\n' +
        '                 of more than one shard in metric_partials, or evaluator.shard_by prediction): its\n' +
        '                 shards\' partials summed as metric_points_merged, the binned AUC (auc_binned) for ROC AUC\n' +
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
    if (!URL.canParse(url)) throw new ConfigError('--metrics', `not a URL: ${JSON.stringify(redactUrl(url))} (e.g. http://127.0.0.1:9464/metrics)`);
  }

  const report = await gatherStatus(config, { window, metricsUrls: urls, shardedByPrediction: shardedByPrediction(config) });
  process.stdout.write(options.json ? `${JSON.stringify(report, null, 2)}\n` : formatStatus(report));
  if (report.problems.length > 0) {
    const retriable = report.problems.every((p) => p.retriable);
    throw new FeedbackloopError(`status incomplete: ${report.problems.map((p) => p.message).join('; ')}`, { retriable });
  }
}
