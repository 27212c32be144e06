/**
 * The Docker image builds from what its Dockerfile copies, proven without a
 * Docker engine: every stage is rebuilt in a temporary folder from exactly
 * the paths its COPY lines name (through .dockerignore), the build stage's
 * RUN runs there (`npm ci` from the local npm cache: --prefer-offline), and
 * the last stage's ENTRYPOINT runs `--help` and `demo` on what the last stage
 * copied. So a shipped import of a folder the Dockerfile does not copy (or
 * of a dev dependency, after `npm prune --omit=dev`) fails here. Not a
 * server test: it is in the integration suite because `npm ci` takes half a
 * minute or more.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildStages, inFolder } from '../support/dockerfile.js';

const ROOT = resolve(import.meta.dirname, '..', '..');
const TAIL = 40;

/** Runs a shell command; a failure throws with the command and the end of its output. */
function sh(command: string, cwd: string): string {
  const started = Date.now();
  const result = spawnSync('sh', ['-c', command], { cwd, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  console.log(`${command}: ${((Date.now() - started) / 1000).toFixed(1)} s`);
  if (result.status === 0) return result.stdout;
  const output = `${result.stdout}${result.stderr}`.trimEnd().split('\n').slice(-TAIL).join('\n');
  throw new Error(`\`${command}\` in ${cwd} exited ${result.status ?? result.signal}:\n${output}`);
}

/** A RUN of the Dockerfile, step by step; `npm ci` installs from the local cache (the test has no registry to spare). */
function runStep(command: string, cwd: string): void {
  for (const step of command.split('&&').map((s) => s.trim())) {
    sh(/^npm ci(\s|$)/.test(step) ? `${step} --prefer-offline` : step, cwd);
  }
}

const quote = (word: string) => `'${word.replace(/'/g, `'\\''`)}'`;

describe('the Docker build context', () => {
  const root = mkdtempSync(join(tmpdir(), 'docker-context-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('builds from exactly the paths the Dockerfile copies, and the image runs --help and the demo', () => {
    const image = buildStages(join(ROOT, 'Dockerfile'), ROOT, root, runStep);
    const last = [...image.stages.values()].at(-1)!;
    const app = inFolder(last, '.');
    expect(existsSync(join(app, 'dist', 'cli', 'main.js'))).toBe(true);

    // A container's loopback is its own: the image listens on every address (README, "The HTTP endpoint").
    expect(image.env).toContain('FEEDBACKLOOP_HTTP_HOST=0.0.0.0');
    const entrypoint = ['env', ...image.env, ...image.entrypoint].map(quote).join(' ');
    expect(entrypoint).not.toBe('');
    expect(sh(`${entrypoint} --help`, app)).toContain('demo');
    const out = join(root, 'demo-out');
    expect(sh(`${entrypoint} demo --out ${quote(out)}`, app)).toContain('fraud-detector');
    expect(existsSync(join(out, 'report.html'))).toBe(true);
  }, 240_000);
});
