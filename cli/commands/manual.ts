/**
 * `feedbackloop promote | rollback | pin | unpin`: manual decisions. Each
 * publishes one PromotionDecision to the model-promotions topic
 * (runtime/manual-decisions.ts says what it holds and how it is checked)
 * and prints what it recorded.
 */
import type { Command } from 'commander';
import { loadConfig } from '../../adapters/config/index.js';
import { requireReachableBrokers } from '../../adapters/kafka/reachable.js';
import { createLogger } from '../../adapters/logging/index.js';
import { ConfigError } from '../../core/errors.js';
import type { PromotionDecision } from '../../core/events.js';
import { openRuntime } from '../../runtime/connect.js';
import { publishManualDecision, type ManualDecision, type ManualRequest } from '../../runtime/manual-decisions.js';

export interface ManualOptions extends ManualRequest {
  config?: string;
}

/** The four manual decision commands: name, summary, what --to means (none: no --to) and their example. */
const MANUAL_COMMANDS: Array<{ kind: ManualDecision; name: string; summary: string; to?: string; after: string }> = [
  {
    kind: 'PROMOTE', name: 'promote', summary: 'Make a version the champion of a model now (a manual PROMOTE decision).',
    to: 'the version to promote: a challenger snapshot (<model>/<challenger>@<n>, see snapshots.jsonl or the model_versions table) or a version upstream serves',
    after: 'Example:\n  feedbackloop promote --model fraud-detector --to fraud-detector/logreg@47 --reason "validated offline on the Q3 holdout"',
  },
  {
    kind: 'ROLLBACK', name: 'rollback', summary: 'Return a model to its previous champion (a manual ROLLBACK decision).',
    to: 'the version to return to (default: the champion before the latest promotion)',
    after: 'Example:\n  feedbackloop rollback --model fraud-detector --reason "complaints about false declines since 14:00"',
  },
  {
    kind: 'PIN', name: 'pin', summary: 'Freeze the champion of a model: no automatic promotion or rollback until `unpin`.',
    after: 'Manual promote and rollback still work while pinned.\n\nExample:\n  feedbackloop pin --model fraud-detector --reason "holiday traffic, no changes until Jan 5"',
  },
  {
    kind: 'UNPIN', name: 'unpin', summary: 'Let the promoter decide for a model again after `pin`.',
    after: 'Example:\n  feedbackloop unpin --model fraud-detector --reason "freeze over"',
  },
];

/** Declares `feedbackloop promote | rollback | pin | unpin` on the program. */
export function registerManual(cli: Command): void {
  for (const m of MANUAL_COMMANDS) {
    const command = cli
      .command(m.name)
      .description(m.summary)
      .requiredOption('--model <name>', 'the model')
      .requiredOption('--reason <text>', 'why (required; recorded in the champion history with your name)');
    if (m.to !== undefined) command.option('--to <version>', m.to);
    command
      .option('--actor <name>', 'who decides (recorded as user:<name>; default: your login name)')
      .option('-c, --config <file>', 'YAML config file (needs kafka.brokers: the decision goes to the model-promotions topic)')
      .addHelpText(
        'after',
        '\nPublishes one decision (decision id manual:<uuid>) to the model-promotions topic: scorers using\n' +
          'feedbackloop/scorer act on PROMOTE and ROLLBACK at once, `run --only registry` records it in\n' +
          'champion_history, and the promoter applies it from the first labelled example at or after it.\n\n' +
          m.after,
      )
      .action(async (options: ManualOptions) => {
        await commandManual(m.kind, options);
      });
  }
}

export async function commandManual(kind: ManualDecision, options: ManualOptions): Promise<PromotionDecision> {
  const config = loadConfig(options.config);
  if (config.kafka.brokers.length === 0) {
    throw new ConfigError(
      'kafka.brokers',
      `\`${kind.toLowerCase()}\` records a decision on the ${config.topics.model_promotions} topic of a running deployment; ` +
        'set kafka.brokers (and kafka.schema_registry_url) in the config or as FEEDBACKLOOP_KAFKA_BROKERS',
    );
  }
  // A one-shot command: kafkajs's logs of retried requests (a coordinator still loading) are noise
  // here; failures are thrown and printed. Set log.level to see them.
  const logger = createLogger(config.log.level === 'info' ? 'fatal' : config.log.level);
  await requireReachableBrokers(config.kafka.brokers);
  const runtime = await openRuntime(config, logger, { defaultMetrics: false, clickhouse: false });
  try {
    const decision = await publishManualDecision(runtime, kind, options);
    const move = kind === 'PIN' || kind === 'UNPIN' ? `champion ${decision.from_version}` : `${decision.from_version} → ${decision.to_version}`;
    process.stdout.write(
      `recorded ${kind} of ${decision.model}: ${move}, by ${decision.actor} (${decision.decision_id})\n` +
        `  reason: ${decision.reason}\n` +
        `  on ${config.topics.model_promotions} at ${new Date(decision.at).toISOString()}; ` +
        (kind === 'PIN'
          ? 'the promoter takes no automatic decision for this model until `feedbackloop unpin`.\n'
          : kind === 'UNPIN'
            ? 'automatic decisions resume.\n'
            : 'scorers switch now; the promoter judges challengers against it from now on.\n'),
    );
    return decision;
  } finally {
    await runtime.close();
  }
}
