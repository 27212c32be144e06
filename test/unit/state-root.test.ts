import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { prepareStateRoot } from '../../adapters/state/state-root.js';

describe('state folder', () => {
  it('removes the folders of dead processes, keeps live ones and other files', () => {
    const dir = mkdtempSync(join(tmpdir(), 'state-root-'));
    const dead = 2 ** 22 + 12345; // above Linux's pid_max default: never alive
    mkdirSync(join(dir, `run-${dead}`, 'joiner-p0-abc'), { recursive: true });
    mkdirSync(join(dir, `run-${process.ppid}`));
    writeFileSync(join(dir, 'notes.txt'), 'keep');
    const { root, removed } = prepareStateRoot(dir);
    expect(root).toBe(join(dir, `run-${process.pid}`));
    expect(existsSync(root)).toBe(true);
    expect(removed).toEqual([`run-${dead}`]);
    expect(existsSync(join(dir, `run-${dead}`))).toBe(false);
    expect(existsSync(join(dir, `run-${process.ppid}`))).toBe(true);
    expect(existsSync(join(dir, 'notes.txt'))).toBe(true);
  });
});
