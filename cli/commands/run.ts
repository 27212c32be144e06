import { loadConfig } from '../../adapters/config/index.js';
import { createLogger } from '../../adapters/logging/index.js';
import { ConfigError } from '../../core/errors.js';
import { defaultProcessors, isProcessorName, PROCESSOR_NAMES, type ProcessorName } from '../../runtime/pipeline.js';
import { runPipeline } from '../../runtime/run.js';

export const PROCESSORS = PROCESSOR_NAMES;

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
