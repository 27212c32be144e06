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
import { commandDemo } from './demo.js';
import { commandReplay } from './commands/replay.js';
import { commandRun, PROCESSORS } from './commands/run.js';

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

  cli
    .command('run')
    .description('Run the pipeline processors against Kafka, until SIGINT or SIGTERM.')
    .option('-c, --config <file>', 'YAML config file (environment variables FEEDBACKLOOP_<SECTION>_<KEY> override it)')
    .option('--only <processors...>', `run only these processors (${PROCESSORS.join(', ')})`)
    .addHelpText('after', '\nExample:\n  FEEDBACKLOOP_KAFKA_BROKERS=127.0.0.1:9092 FEEDBACKLOOP_KAFKA_SCHEMA_REGISTRY_URL=http://127.0.0.1:8081 \\\n    feedbackloop run --only archive')
    .action(async (options: { config?: string; only?: string[] }) => commandRun(options));

  cli
    .command('replay')
    .description('Replay files of predictions and feedback through the pipeline in-process, with no servers.')
    .requiredOption('--predictions <file>', 'JSON Lines file of Prediction events (field names as in schemas/Prediction.avsc)')
    .requiredOption('--feedback <file>', 'JSON Lines file of Feedback events (field names as in schemas/Feedback.avsc)')
    .requiredOption('--out <dir>', 'output folder (created if missing)')
    .option('-c, --config <file>', 'YAML config file (join window, model tasks, ...)')
    .addHelpText(
      'after',
      '\nWrites to --out: labelled.jsonl (one line per labelled example or correction; the last line\n' +
        'for a prediction_id carries its final label), unlabelled.jsonl, unmatched.jsonl,\n' +
        'dead_letters.jsonl (malformed lines with file, line and reason) and summary.json.\n\n' +
        'Example:\n  feedbackloop replay --predictions examples/predictions.jsonl --feedback examples/feedback.jsonl --out out/',
    )
    .action(async (options: { predictions: string; feedback: string; out: string; config?: string }) => commandReplay(options));

  cli
    .command('demo')
    .description('Generate a seeded synthetic world (no servers) and replay it: drift, a degrading champion, a promoted challenger.')
    .option('--out <dir>', 'output folder (created if missing)', './demo-out')
    .option('--seed <n>', 'seed of the generator (the same seed writes the same files)', '7')
    .addHelpText(
      'after',
      '\nGenerates DIR/input/predictions.jsonl and DIR/input/feedback.jsonl over 4 days of event time:\n' +
        '  fraud-detector   20,000 predictions; at the midpoint the concept changes (account_age_days flips,\n' +
        '                   amounts grow), so drift is detected and the champion degrades; challengers\n' +
        '                   logreg and ftrl learn online and one is promoted\n' +
        '  churn-predictor  5,000 predictions, stationary\n' +
        'with delayed feedback of all four types, wrong user verdicts corrected by experts, duplicates,\n' +
        'uncertain reviews and predictions never labelled. Then replays them into DIR (the files of\n' +
        '`feedbackloop replay`) and prints the champion\'s daily figures, the best challenger, the drift\n' +
        'alarms and the promotions. Progress goes to stderr, the summary to stdout.\n\n' +
        'Example:\n  feedbackloop demo --out demo-out/ --seed 7',
    )
    .action(async (options: { out: string; seed: string }) => commandDemo(options));

  cli
    .command('check')
    .description('Validate the config, connect to every configured server, create missing topics and tables, and report.')
    .option('-c, --config <file>', 'YAML config file')
    .action(async (options: { config?: string }) => commandCheck(options));

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
