#!/usr/bin/env node
/**
 * feedbackloop — one CLI for every way to run the pipeline.
 * Exit codes: 0 done, 1 failed while running (see the message; a retry may
 * help when it says so), 2 bad usage or configuration (fix and run again).
 */
import { Command, CommanderError } from 'commander';
import { ConfigError, errorMessage, FeedbackloopError } from '../core/errors.js';
import { commandCheck } from './commands/check.js';
import { commandConfig } from './commands/config.js';
import { registerDemo } from './commands/demo.js';
import { commandManual, type ManualDecision, type ManualOptions } from './commands/manual.js';
import { registerReplay } from './commands/replay.js';
import { registerRun } from './commands/run.js';
import { commandStatus, type StatusOptions } from './commands/status.js';

export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

function program(): Command {
  const cli = new Command('feedbackloop')
    .description(
      'Closes the feedback loop of deployed ML models: joins predictions with their delayed feedback, ' +
        'measures every model continuously and keeps the best one in charge.\n\n' +
        'With no servers configured it runs on the in-process log; set kafka.brokers (and clickhouse.url) ' +
        'in the config file or the environment to run against real servers.',
    )
    .version(process.env.npm_package_version ?? '0.1.0')
    .showHelpAfterError('(add --help for usage)')
    .exitOverride();

  // The order of the calls is the order of the commands in `--help`.
  registerRun(cli);
  registerReplay(cli);
  registerDemo(cli);

  const manual: Array<{ kind: ManualDecision; name: string; summary: string; to?: string; after: string }> = [
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
  for (const m of manual) {
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

  cli
    .command('check')
    .description('Validate the config, connect to every configured server, create missing topics and tables, and report.')
    .option('-c, --config <file>', 'YAML config file')
    .action(async (options: { config?: string }) => commandCheck(options));

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
        '                 (regression), label coverage and median label delay (champion)\n' +
        '  pending joins  feedbackloop_joiner_pending_predictions from the joiners\' /metrics (--metrics)\n' +
        '  consumer lag   each processor\'s group <kafka.client_id>-<processor>: end offset minus committed\n' +
        '                 offset of its input topics; "not started" when the group committed nothing\n\n' +
        'Exit codes: 0 every server answered; 1 a server failed (the report is still printed, the message\n' +
        'says which and what to check); 2 bad usage or configuration (no kafka.brokers: status needs a\n' +
        'deployment; replay and demo write their figures to files).\n\n' +
        'Example:\n  feedbackloop status --config prod.yaml --metrics http://joiner-1:9464/metrics http://joiner-2:9464/metrics',
    )
    .action(async (options: StatusOptions) => commandStatus(options));

  cli
    .command('config')
    .description('Validate the config and print the effective settings (secrets redacted), or the documentation of every key.')
    .option('-c, --config <file>', 'YAML config file')
    .option('--keys', 'print every config key with its type, default and meaning')
    .action(async (options: { config?: string; keys?: boolean }) => commandConfig(options));

  return cli;
}

export async function main(argv: string[]): Promise<number> {
  try {
    await program().parseAsync(argv, { from: 'user' });
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      return error.exitCode === 0 ? 0 : EXIT_USAGE;
    }
    if (error instanceof ConfigError) {
      process.stderr.write(`error: ${error.message}\n`);
      return EXIT_USAGE;
    }
    const retriable = error instanceof FeedbackloopError && error.retriable;
    process.stderr.write(`error: ${errorMessage(error)}${retriable ? '\n(this may pass on a retry: a server was unreachable or busy)' : ''}\n`);
    return EXIT_FAILED;
  }
}

main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
