#!/usr/bin/env node
/**
 * feedbackloop — one CLI for every way to run the pipeline.
 * Exit codes: 0 done, 1 failed while running (see the message; a retry may
 * help when it says so), 2 bad usage or configuration (fix and run again).
 */
import { Command, CommanderError } from 'commander';
import { ConfigError, errorMessage, FeedbackloopError } from '../core/errors.js';
import { registerCheck } from './commands/check.js';
import { commandConfig } from './commands/config.js';
import { registerDemo } from './commands/demo.js';
import { registerManual } from './commands/manual.js';
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
  registerManual(cli);
  registerCheck(cli);

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
