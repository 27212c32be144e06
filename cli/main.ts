#!/usr/bin/env node
/**
 * feedbackloop — one CLI for every way to run the pipeline.
 * Exit codes: 0 done, 1 failed while running (see the message; a retry may
 * help when it says so), 2 bad usage or configuration (fix and run again).
 */
import { Command, CommanderError } from 'commander';
import { ConfigError, errorMessage, FeedbackloopError } from '../core/errors.js';
import { registerAcls } from './commands/acls.js';
import { redactUrlsIn } from '../core/redact.js';
import { registerCheck } from './commands/check.js';
import { registerConfig } from './commands/config.js';
import { registerDemo } from './commands/demo.js';
import { registerManual } from './commands/manual.js';
import { registerProduce } from './commands/produce.js';
import { registerReplay } from './commands/replay.js';
import { registerRun } from './commands/run.js';
import { registerStatus } from './commands/status.js';

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
  registerProduce(cli);
  registerManual(cli);
  registerCheck(cli);
  registerStatus(cli);
  registerConfig(cli);
  registerAcls(cli);

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
    // The last guard: an error quoting a URL (ours or a client's) never shows its credentials.
    if (error instanceof ConfigError) {
      process.stderr.write(`error: ${redactUrlsIn(error.message)}\n`);
      return EXIT_USAGE;
    }
    const retriable = error instanceof FeedbackloopError && error.retriable;
    process.stderr.write(`error: ${redactUrlsIn(errorMessage(error))}${retriable ? '\n(this may pass on a retry: a server was unreachable or busy)' : ''}\n`);
    return EXIT_FAILED;
  }
}

main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
