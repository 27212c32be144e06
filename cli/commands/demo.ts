/** `feedbackloop demo`: checks the seed, runs the demo (demo/run-demo.ts) and prints its report. */
import { ConfigError } from '../../core/errors.js';
import { demo } from '../../demo/run-demo.js';

export async function commandDemo(options: { out?: string; seed?: string }): Promise<void> {
  const seed = options.seed === undefined ? undefined : Number(options.seed);
  if (seed !== undefined && !Number.isInteger(seed)) throw new ConfigError('--seed', `expected an integer, got ${options.seed}`);
  const result = await demo({ ...(options.out ? { out: options.out } : {}), ...(seed !== undefined ? { seed } : {}) });
  process.stdout.write(`${result.report}\n`);
}
