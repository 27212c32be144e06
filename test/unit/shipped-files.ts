/**
 * The shipped source files, for the tests that read the code itself
 * (layers.test.ts, stack-safety.test.ts). Not a test file: vitest runs
 * only *.test.ts.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** The repository root. */
export const ROOT = resolve(import.meta.dirname, '..', '..');

/** Every .ts file below a folder of the repository, as paths relative to the root; none if it is missing. */
export function sourceFiles(folder: string): string[] {
  const dir = join(ROOT, folder);
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((name) => name.endsWith('.ts'))
    .map((name) => join(folder, name))
    .sort();
}
