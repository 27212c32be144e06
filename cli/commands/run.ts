import type { Command } from 'commander';
import { loadConfig } from '../../adapters/config/index.js';
import { createLogger } from '../../adapters/logging/index.js';
import { ConfigError } from '../../core/errors.js';
import { defaultProcessors, isProcessorName, PROCESSOR_NAMES, type ProcessorName } from '../../runtime/pipeline.js';
import { runPipeline } from '../../runtime/run.js';

/** Declares `feedbackloop run` on the program. */
export function registerRun(cli: Command): void {
  cli
    .command('run')
    .description('Run the pipeline processors against Kafka, until SIGINT or SIGTERM.')
    .option('-c, --config <file>', 'YAML config file (environment variables FEEDBACKLOOP_<SECTION>_<KEY> override it)')
    .option('--only <processors...>', `run only these processors (${PROCESSOR_NAMES.join(', ')})`)
    .addHelpText('after', '\nExample:\n  FEEDBACKLOOP_KAFKA_BROKERS=127.0.0.1:9092 FEEDBACKLOOP_KAFKA_SCHEMA_REGISTRY_URL=http://127.0.0.1:8081 \\\n    feedbackloop run --only archive')
    .action(async (options: { config?: string; only?: string[] }) => commandRun(options));
}

/** `feedbackloop run [--config F] [--only P...]`: the pipeline against Kafka until SIGINT/SIGTERM. */
export async function commandRun(options: { config?: string; only?: string[] }): Promise<void> {
  const config = loadConfig(options.config);
  // By default every processor whose servers are configured (the evaluator, the archive and the registry need ClickHouse).
  const selected: ProcessorName[] = [];
  for (const name of options.only ?? defaultProcessors(config)) {
    if (!isProcessorName(name)) throw new ConfigError('--only', `unknown processor ${JSON.stringify(name)}; available: ${PROCESSOR_NAMES.join(', ')}`);
    selected.push(name);
  }
  await runPipeline(config, createLogger(config.log.level), selected);
}
