/**
 * `feedbackloop promote | rollback | pin | unpin`: manual decisions.
 *
 * Each publishes one PromotionDecision to `model-promotions` (key: the
 * model), with a decision id `manual:<uuid>`, the actor `user:<name>`, the
 * required reason, and `at` = now. Everything downstream reads that topic:
 * the scorer library switches on a PROMOTE / ROLLBACK at once, the registry
 * records it in `champion_history`, and the promoter applies it to its
 * policy from the first example at or after `at` (a PIN freezes automatic
 * decisions until an UNPIN).
 *
 * The current champion (from_version) and, for a rollback without --to, the
 * version to return to are read from the decisions already on the topic.
 */
import { randomUUID } from 'node:crypto';
import { userInfo } from 'node:os';
import type { Command } from 'commander';
import { loadConfig } from '../../adapters/config/index.js';
import { createLogger } from '../../adapters/logging/index.js';
import { parseSnapshotVersion } from '../../core/contracts/index.js';
import { ConfigError } from '../../core/errors.js';
import type { Decision, PromotionDecision } from '../../core/events.js';
import { MANUAL_DECISION_PREFIX } from '../../processors/promoter.js';
import { openRuntime, readPromotionDecisions } from '../../runtime/connect.js';
import { topicSpecs } from '../../runtime/pipeline.js';

export type ManualDecision = Extract<Decision, 'PROMOTE' | 'ROLLBACK' | 'PIN' | 'UNPIN'>;

export interface ManualOptions {
  model: string;
  reason: string;
  /** PROMOTE: required; ROLLBACK: default the champion before the latest promotion. */
  to?: string;
  /** Default: the login name. */
  actor?: string;
  config?: string;
}

/** What the decisions on the topic say about a model: its champion and the one before it. */
export interface ChampionHistory {
  /** Latest PROMOTE / ROLLBACK to_version, or null when none. */
  champion: string | null;
  /** from_version of the latest PROMOTE still in force (null after a ROLLBACK or before any). */
  previous: string | null;
  /** Pinned by the latest PIN / UNPIN. */
  pinned: boolean;
}

/** Folds a model's decisions (in topic order) into its current champion, previous champion and pin. */
export function championHistory(decisions: PromotionDecision[]): ChampionHistory {
  const out: ChampionHistory = { champion: null, previous: null, pinned: false };
  for (const d of decisions) {
    if (d.decision === 'PROMOTE') {
      out.previous = d.from_version;
      out.champion = d.to_version;
    } else if (d.decision === 'ROLLBACK') {
      out.previous = null;
      out.champion = d.to_version;
    } else if (d.decision === 'PIN') {
      out.pinned = true;
    } else if (d.decision === 'UNPIN') {
      out.pinned = false;
    }
  }
  return out;
}

/**
 * The decision a manual command publishes, or a ConfigError saying what is wrong with the request.
 * `history` is the model's state on the topic; `now` the wall clock (ms).
 */
export function manualDecision(kind: ManualDecision, options: ManualOptions, history: ChampionHistory, now: number): PromotionDecision {
  const model = options.model.trim();
  if (model.length === 0) throw new ConfigError('--model', 'must name a model');
  const reason = options.reason.trim();
  if (reason.length === 0) throw new ConfigError('--reason', 'must say why (it is recorded in the champion history)');
  const actorName = (options.actor ?? '').trim() || safeLogin();
  const current = history.champion ?? 'upstream';
  let to = current;
  if (kind === 'PROMOTE') {
    to = (options.to ?? '').trim();
    if (to.length === 0) throw new ConfigError('--to', 'name the version to promote (a snapshot such as <model>/<challenger>@<n>, or a version upstream serves)');
    if (to === history.champion) throw new ConfigError('--to', `${to} is already the champion of ${model}`);
  } else if (kind === 'ROLLBACK') {
    const target = (options.to ?? '').trim() || history.previous;
    if (target === null || target.length === 0) {
      throw new ConfigError('--to', `no promotion of ${model} to roll back on the promotions topic; name the version to return to with --to`);
    }
    if (target === history.champion) throw new ConfigError('--to', `${target} is already the champion of ${model}`);
    to = target;
  }
  const snapshotOf = parseSnapshotVersion(to)?.model;
  if ((kind === 'PROMOTE' || kind === 'ROLLBACK') && snapshotOf !== undefined && snapshotOf !== model) {
    throw new ConfigError('--to', `${to} is a snapshot of another model (snapshots of ${model} are named ${model}/<challenger>@<n>)`);
  }
  if (kind === 'PIN' && history.pinned) throw new ConfigError('pin', `${model} is already pinned (unpin it first to change the reason)`);
  if (kind === 'UNPIN' && !history.pinned) throw new ConfigError('unpin', `${model} is not pinned`);
  return {
    decision_id: `${MANUAL_DECISION_PREFIX}${randomUUID()}`,
    model,
    from_version: current,
    to_version: to,
    decision: kind,
    policy: 'manual',
    statistic: null,
    p_value: null,
    bound: null,
    alpha: null,
    sample_size: 0,
    metric_deltas: {},
    guardrails: {},
    reason,
    actor: `user:${actorName}`,
    at: now,
    decided_at: now,
  };
}

function safeLogin(): string {
  try {
    return process.env.USER || process.env.LOGNAME || userInfo().username || 'unknown';
  } catch {
    return 'unknown';
  }
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
  const runtime = await openRuntime(config, logger, { defaultMetrics: false, clickhouse: false });
  try {
    await runtime.transport.ensureTopics(topicSpecs(config).filter((t) => t.name === config.topics.model_promotions));
    const model = options.model.trim();
    const history = championHistory((await readPromotionDecisions(runtime)).decisions.filter((d) => d.model === model));
    const decision = manualDecision(kind, options, history, Date.now());
    const producer = await runtime.transport.producer();
    await producer.send([{
      topic: config.topics.model_promotions,
      key: Buffer.from(decision.model),
      value: await runtime.codecs.promotion.encode(decision),
      timestamp: decision.decided_at,
    }]);
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
