import type { Command } from 'commander';
import { CONFIG_SPEC, MODEL_FIELDS, envName, loadConfig, redactConfig, type FieldSpec } from '../../adapters/config/index.js';

function describeField(key: string, field: FieldSpec, env: string | undefined): string {
  const type = field.kind === 'enum' ? `one of ${field.values!.join(' | ')}` : field.kind;
  const fallback = field.default === undefined || field.default === null ? 'unset' : JSON.stringify(field.default);
  return `  ${key}  (${type}, default ${fallback}${env ? `, env ${env}` : ''})\n      ${field.doc}`;
}

/** The documentation of every key, from the one table that defines them. */
export function configKeysText(): string {
  const lines: string[] = [];
  for (const [section, spec] of Object.entries(CONFIG_SPEC)) {
    lines.push(`${section}: ${spec.doc}`);
    for (const [key, field] of Object.entries(spec.fields)) lines.push(describeField(`${section}.${key}`, field, envName(section, key)));
    lines.push('');
  }
  lines.push('models.<name>: per-model settings (any model name).');
  for (const [key, field] of Object.entries(MODEL_FIELDS)) lines.push(describeField(`models.<name>.${key}`, field, undefined));
  return `${lines.join('\n')}\n`;
}

/** Declares `feedbackloop config` on the program. */
export function registerConfig(cli: Command): void {
  cli
    .command('config')
    .description('Validate the config and print the effective settings (secrets redacted), or the documentation of every key.')
    .option('-c, --config <file>', 'YAML config file')
    .option('--keys', 'print every config key with its type, default and meaning')
    .action(async (options: { config?: string; keys?: boolean }) => commandConfig(options));
}

export async function commandConfig(options: { config?: string; keys?: boolean }): Promise<void> {
  if (options.keys) {
    process.stdout.write(configKeysText());
    return;
  }
  const config = loadConfig(options.config);
  process.stdout.write(`${JSON.stringify(redactConfig(config), null, 2)}\n`);
}
