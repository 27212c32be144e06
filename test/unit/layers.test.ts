/**
 * The layering of the shipped code: a file imports its own folder or a lower
 * layer only (folders of one rank do not import each other), nothing shipped
 * imports a folder outside the shipped ones (bench/, test/: they are not in
 * the image), and core/ imports no package but the ones listed below. A
 * shipped folder that does not exist (yet) counts as empty.
 */
import { readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { ROOT, sourceFiles } from './shipped-files.js';

/** The layer of each shipped folder, lowest first. */
const LAYERS: Readonly<Record<string, number>> = {
  core: 0, adapters: 1, report: 1, sinks: 2, processors: 3, scorer: 3, runtime: 4, demo: 5, cli: 6,
};

/** The packages core/ may import: the ones it imported when this test was written (none). */
const CORE_PACKAGES: ReadonlySet<string> = new Set<string>();

interface Violation {
  file: string;
  line: number;
  specifier: string;
  rule: string;
}

/** The top folder of a repository path ('' for a file at the root or outside the repository). */
function topFolder(path: string): string {
  const parts = path.split(/[\\/]/);
  return parts.length > 1 && parts[0] !== '..' ? parts[0]! : '';
}

/** Why a relative import breaks the layering, or null if it does not. */
function relativeRule(file: string, specifier: string): string | null {
  const from = topFolder(file);
  const to = topFolder(relative(ROOT, resolve(ROOT, dirname(file), specifier)));
  if (to === from) return null;
  const rank = LAYERS[to];
  if (rank === undefined) return `shipped code imports only shipped folders (${to || 'the root'}/ is not one: bench/ and test/ are not in the image)`;
  const own = LAYERS[from]!;
  if (rank < own) return null;
  return rank === own
    ? `${from}/ and ${to}/ are both layer ${own}: folders of one layer do not import each other`
    : `${from}/ (layer ${own}) imports only its own folder or a lower layer, not ${to}/ (layer ${rank})`;
}

/** Why a package import breaks the layering, or null if it does not. */
function packageRule(file: string, specifier: string): string | null {
  if (topFolder(file) !== 'core' || CORE_PACKAGES.has(specifier)) return null;
  const allowed = [...CORE_PACKAGES].join(', ');
  return `core/ is pure TypeScript: it imports no package${allowed ? ` but ${allowed}` : ''}`;
}

/** The violations of one file, its imports found by the TypeScript scanner (comments and strings skipped). */
function violationsOf(file: string): Violation[] {
  const text = readFileSync(join(ROOT, file), 'utf8');
  const found: Violation[] = [];
  for (const { fileName: specifier, pos } of ts.preProcessFile(text, true, true).importedFiles) {
    const rule = specifier.startsWith('.') ? relativeRule(file, specifier) : packageRule(file, specifier);
    if (rule !== null) found.push({ file, line: text.slice(0, pos).split('\n').length, specifier, rule });
  }
  return found;
}

const describeViolation = (v: Violation) => `${v.file}:${v.line} imports '${v.specifier}': ${v.rule}`;

describe('layers', () => {
  const files = Object.keys(LAYERS).flatMap(sourceFiles);

  it('reads the shipped code', () => {
    expect(files.filter((f) => topFolder(f) === 'cli').length).toBeGreaterThan(0);
  });

  it('every shipped import goes to its own folder or a lower layer, never to bench/ or test/; core/ imports no package', () => {
    const violations = files.flatMap(violationsOf).map(describeViolation);
    expect(violations, `${violations.length} layering violations:\n${violations.join('\n')}`).toEqual([]);
  });
});
