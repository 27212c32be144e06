/**
 * `feedbackloop produce`: loads JSON Lines files of predictions and feedback
 * into the input topics of a deployment (runtime/produce.ts), with progress
 * on stderr and a summary on stdout.
 */
import type { Command } from 'commander';
import { loadConfig } from '../../adapters/config/index.js';
import { requireReachableBrokers } from '../../adapters/kafka/reachable.js';
import { createLogger } from '../../adapters/logging/index.js';
import { ConfigError } from '../../core/errors.js';
import { openRuntime } from '../../runtime/connect.js';
import { produceFiles, type ProduceProgress, type ProduceSummary } from '../../runtime/produce.js';

export interface ProduceOptions {
  predictions?: string;
  feedback?: string;
  deadLetters: string;
  config?: string;
  quiet?: boolean;
}

/** Progress lines at most this often. */
const PROGRESS_EVERY_MS = 2_000;

export function registerProduce(cli: Command): void {
  cli
    .command('produce')
    .description('Load prediction and feedback JSON Lines files into the Kafka topics of a deployment.')
    .option('--predictions <file>', 'predictions, one JSON object per line (the fields of README "Connect your app")')
    .option('--feedback <file>', 'feedback, one JSON object per line')
    .option('--dead-letters <file>', 'where refused lines go, with file, line and reason (written only if any)', 'dead_letters.jsonl')
    .option('-q, --quiet', 'no progress lines')
    .option('-c, --config <file>', 'YAML config file (needs kafka.brokers and kafka.schema_registry_url)')
    .addHelpText(
      'after',
      '\nEach line is checked as `replay` checks it (the event contract, limits.*, joiner.min_timestamp and\n' +
        'joiner.max_future against the file\'s own time); a line that fails goes to --dead-letters, the others are\n' +
        'sent keyed by prediction_id, Avro through the schema registry, the two files merged by timestamp, each\n' +
        'record stamped with its send time (an old event time would be past the topics\' retention on arrival).\n' +
        'Exit 0 when every accepted line was acknowledged by Kafka (refused lines are reported, not fatal).\n\n' +
        'Example:\n  feedbackloop produce --predictions examples/predictions.jsonl --feedback examples/feedback.jsonl -c config.yaml',
    )
    .action(async (options: ProduceOptions) => {
      await commandProduce(options);
    });
}

export async function commandProduce(options: ProduceOptions): Promise<ProduceSummary> {
  if (options.predictions === undefined && options.feedback === undefined) {
    throw new ConfigError('produce', 'nothing to send: give --predictions <file>, --feedback <file>, or both');
  }
  const config = loadConfig(options.config);
  if (config.kafka.brokers.length === 0) {
    throw new ConfigError('kafka.brokers', '`produce` sends to the topics of a deployment: set kafka.brokers (and kafka.schema_registry_url) in the config or as FEEDBACKLOOP_KAFKA_BROKERS');
  }
  const logger = createLogger(config.log.level === 'info' ? 'fatal' : config.log.level);
  await requireReachableBrokers(config.kafka.brokers);
  const runtime = await openRuntime(config, logger, { defaultMetrics: false, clickhouse: false });
  let last = Date.now();
  const onProgress = (p: ProduceProgress) => {
    if (options.quiet || Date.now() - last < PROGRESS_EVERY_MS) return;
    last = Date.now();
    process.stderr.write(`produce: ${p.predictions} predictions, ${p.feedback} feedback sent, ${p.refused} refused (${(p.bytesRead / 1_048_576).toFixed(1)} MiB read)\n`);
  };
  try {
    const summary = await produceFiles({ config, deadLetters: options.deadLetters, onProgress, ...pick(options) }, runtime.transport, runtime.codecs, Date.now());
    const t = config.topics;
    process.stdout.write(
      `sent ${summary.predictions} predictions to ${t.predictions} and ${summary.feedback} feedback to ${t.feedback}` +
        (summary.dead_letters_file ? `; ${summary.refused} lines refused: see ${summary.dead_letters_file}\n` : '; no line refused\n'),
    );
    return summary;
  } finally {
    await runtime.close();
  }
}

function pick(options: ProduceOptions): { predictions?: string; feedback?: string } {
  return { ...(options.predictions !== undefined ? { predictions: options.predictions } : {}), ...(options.feedback !== undefined ? { feedback: options.feedback } : {}) };
}
