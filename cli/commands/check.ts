import type { Command } from 'commander';
import { loadConfig, type Config } from '../../adapters/config/index.js';
import { createLogger } from '../../adapters/logging/index.js';
import { BROKER_PROBE_MS, kafkaUnreachableText, unreachableBrokers } from '../../adapters/kafka/reachable.js';
import { errorMessage, FeedbackloopError } from '../../core/errors.js';
import { redactUrl, redactUrlsIn } from '../../core/redact.js';
import { openRuntime, type Runtime } from '../../runtime/connect.js';
import { topicSpecs } from '../../runtime/pipeline.js';
import { findingText, judgeTopicSettings, type TopicSettingFinding } from '../../runtime/topic-settings.js';

/** Declares `feedbackloop check` on the program. */
export function registerCheck(cli: Command): void {
  cli
    .command('check')
    .description('Validate the config, connect to every configured server, create missing topics and tables, and report.')
    .option('-c, --config <file>', 'YAML config file')
    .action(async (options: { config?: string }) => commandCheck(options));
}

/** How the brokers are reached, for the check's line: TLS (with which files), SASL. */
function kafkaSecurityText(config: Config): string {
  const k = config.kafka;
  const tls = !k.ssl ? 'plain TCP' : `TLS${k.ssl_ca_file ? ', own CA' : ''}${k.ssl_cert_file ? ', client certificate' : ''}`;
  return k.sasl_mechanism === 'none' ? tls : `${tls}, SASL ${k.sasl_mechanism} as ${k.sasl_username}`;
}

/** One line of the report: ok, FAIL (the check fails) or WARN (it does not). */
export type Say = (ok: boolean | 'warn', what: string, detail: string) => void;

/**
 * The settings of every topic of the pipeline that exists (ensureTopics never alters one), judged
 * against what feedbackloop reads from it (runtime/topic-settings.ts): each that deletes it is a
 * FAIL line naming the setting and the kafka-configs.sh command that fixes it. Settings the
 * principal may not read (no DESCRIBE_CONFIGS) are a warning, not a failure.
 */
export async function checkTopicSettings(runtime: Pick<Runtime, 'config' | 'transport'>, say: Say, failures: string[]): Promise<void> {
  const specs = topicSpecs(runtime.config);
  const findings: TopicSettingFinding[] = [];
  const unread: string[] = [];
  let reason = '';
  for (const spec of specs) {
    try {
      for (const finding of judgeTopicSettings(spec, await runtime.transport.topicSettings(spec.name))) findings.push(finding);
    } catch (error) {
      unread.push(spec.name);
      reason ||= errorMessage(error);
    }
  }
  if (unread.length > 0) say('warn', 'topic settings', `not read for ${unread.join(', ')} (${reason}): their compaction and retention are not checked`);
  for (const finding of findings) say(false, 'topic settings', findingText(runtime.config.kafka.brokers, finding));
  if (findings.length > 0) failures.push('topic settings');
  else if (unread.length < specs.length) say(true, 'topic settings', `compaction, retention and timestamps of ${specs.length - unread.length} topics keep what feedbackloop reads`);
}

/**
 * Probes the brokers' TCP ports first (BROKER_PROBE_MS each, at once): with
 * none answering, the clients would retry for 5-10 s before failing, so the
 * check fails at once naming the addresses. Then topics and partitions
 * through the configured client.
 */
async function checkKafka(runtime: Runtime, say: Say, failures: string[]): Promise<void> {
  const { config } = runtime;
  const unreachable = await unreachableBrokers(config.kafka.brokers, BROKER_PROBE_MS);
  if (unreachable.length === config.kafka.brokers.length) {
    failures.push('kafka');
    say(false, 'kafka', kafkaUnreachableText(config.kafka.brokers));
    return;
  }
  const partly = unreachable.length > 0 ? `; unreachable: ${unreachable.join(',')}` : '';
  try {
    await runtime.transport.ensureTopics(topicSpecs(config));
    const predictions = await runtime.transport.partitionCount(config.topics.predictions);
    const feedback = await runtime.transport.partitionCount(config.topics.feedback);
    say(true, 'kafka', `${config.kafka.brokers.join(',')} (${kafkaSecurityText(config)}): topics present (${config.topics.predictions}: ${predictions} partitions, ${config.topics.feedback}: ${feedback})${partly}`);
    if (predictions !== feedback) {
      failures.push('co-partitioning');
      say(false, 'co-partitioning', `${config.topics.predictions} has ${predictions} partitions but ${config.topics.feedback} has ${feedback}; they must be equal`);
    }
    await checkTopicSettings(runtime, say, failures);
  } catch (error) {
    failures.push('kafka');
    say(false, 'kafka', `${errorMessage(error)}${partly}`);
  }
}

/** Connects to every configured server and prints one line per check; fails if any failed. */
export async function commandCheck(options: { config?: string }): Promise<void> {
  const config = loadConfig(options.config);
  const logger = createLogger(config.log.level === 'info' ? 'warn' : config.log.level);
  // Details quote URLs and the servers' errors: never with credentials.
  const say: Say = (ok, what, detail) => process.stdout.write(`${ok === 'warn' ? 'WARN' : ok ? 'ok  ' : 'FAIL'} ${what}: ${redactUrlsIn(detail)}\n`);
  const failures: string[] = [];
  say(true, 'config', options.config ? `${options.config} is valid` : 'defaults and environment are valid');

  let runtime;
  try {
    runtime = await openRuntime(config, logger, { defaultMetrics: false });
  } catch (error) {
    say(false, 'clickhouse', errorMessage(error));
    throw new FeedbackloopError('check failed: clickhouse', { retriable: error instanceof FeedbackloopError && error.retriable, cause: error });
  }
  try {
    if (runtime.clickhouse) say(true, 'clickhouse', `${redactUrl(config.clickhouse.url!)} database ${config.clickhouse.database}, migrations applied`);
    else say(true, 'clickhouse', 'not configured: metrics go to files');

    if (config.kafka.brokers.length === 0) {
      say(true, 'transport', 'in-process log (no kafka.brokers configured)');
    } else {
      await checkKafka(runtime, say, failures);
      try {
        const id = await (runtime.codecs.prediction as { register?: () => Promise<number> }).register?.();
        say(true, 'schema registry', `${redactUrl(config.kafka.schema_registry_url!)}${config.kafka.schema_registry_username ? ' (basic auth)' : ''}: Prediction schema registered as id ${id}`);
      } catch (error) {
        failures.push('schema registry');
        say(false, 'schema registry', errorMessage(error));
      }
    }
  } finally {
    await runtime.close();
  }
  if (failures.length > 0) throw new FeedbackloopError(`check failed: ${failures.join(', ')}`, { retriable: true });
}
