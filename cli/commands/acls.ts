import type { Command } from 'commander';
import { loadConfig } from '../../adapters/config/index.js';
import { ConfigError } from '../../core/errors.js';
import { aclTable, kafkaAcls, kafkaAclsCommands } from '../../runtime/acls.js';
import { defaultProcessors, isProcessorName, PROCESSOR_NAMES, type ProcessorName } from '../../runtime/pipeline.js';

interface AclsOptions {
  config?: string;
  only?: string[];
  principal: string;
  format: string;
  createTopics?: boolean;
  commandConfig: string;
}

const FORMATS = ['kafka-acls', 'table', 'json'];

/** Declares `feedbackloop acls` on the program. */
export function registerAcls(cli: Command): void {
  cli
    .command('acls')
    .description('Print the Kafka ACLs `run` needs (least privilege): its topics, consumer groups and transactional ids, per processor.')
    .option('-c, --config <file>', 'YAML config file (the topic names and kafka.client_id decide the resources)')
    .option('--only <processors...>', `the processors that will run (${PROCESSOR_NAMES.join(', ')}); default as for run`)
    .option('--principal <principal>', 'who gets them', 'User:feedbackloop')
    .option('--format <format>', `${FORMATS.join(' | ')}: kafka-acls.sh commands (one per resource), a Markdown table per processor, or JSON`, 'kafka-acls')
    .option('--create-topics', 'also allow creating the topics (by default an administrator creates them)')
    .option('--command-config <file>', "the administrator's client settings file, in the kafka-acls.sh commands", 'admin.properties')
    .addHelpText('after', '\nExample:\n  feedbackloop acls --config prod.yaml --principal User:feedbackloop | sh')
    .action(async (options: AclsOptions) => commandAcls(options));
}

export async function commandAcls(options: AclsOptions): Promise<void> {
  if (!FORMATS.includes(options.format)) throw new ConfigError('--format', `unknown format ${JSON.stringify(options.format)}; available: ${FORMATS.join(', ')}`);
  const config = loadConfig(options.config);
  const selected: ProcessorName[] = [];
  for (const name of options.only ?? defaultProcessors(config)) {
    if (!isProcessorName(name)) throw new ConfigError('--only', `unknown processor ${JSON.stringify(name)}; available: ${PROCESSOR_NAMES.join(', ')}`);
    selected.push(name);
  }
  const acls = kafkaAcls(config, selected, { createTopics: options.createTopics === true });
  const bootstrap = config.kafka.brokers.join(',') || '<broker:port>';
  const out =
    options.format === 'json' ? JSON.stringify(acls, null, 2)
    : options.format === 'table' ? aclTable(acls)
    : kafkaAclsCommands(acls, options.principal, bootstrap, options.commandConfig).join('\n');
  process.stdout.write(`${out}\n`);
}
