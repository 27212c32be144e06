/** `feedbackloop demo`: checks the seed, runs the demo (demo/run-demo.ts) and prints its report. */
import type { Command } from 'commander';
import { ConfigError } from '../../core/errors.js';
import { demo } from '../../demo/run-demo.js';

/** Declares `feedbackloop demo` on the program. */
export function registerDemo(cli: Command): void {
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
}

export async function commandDemo(options: { out?: string; seed?: string }): Promise<void> {
  const seed = options.seed === undefined ? undefined : Number(options.seed);
  if (seed !== undefined && !Number.isInteger(seed)) throw new ConfigError('--seed', `expected an integer, got ${options.seed}`);
  const result = await demo({ ...(options.out ? { out: options.out } : {}), ...(seed !== undefined ? { seed } : {}) });
  process.stdout.write(`${result.report}\n`);
}
