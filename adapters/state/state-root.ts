/**
 * The on-disk join state of one process lives in `<dir>/run-<pid>`. The
 * changelog is the source of truth, so what a dead process left behind is
 * garbage: it is removed when the next process starts.
 */
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Creates this process's state folder and removes those of processes that are gone; returns the folder and what was removed. */
export function prepareStateRoot(dir: string, pid: number = process.pid): { root: string; removed: string[] } {
  mkdirSync(dir, { recursive: true });
  const removed: string[] = [];
  for (const name of readdirSync(dir)) {
    const match = /^run-(\d+)$/.exec(name);
    if (!match || Number(match[1]) === pid || alive(Number(match[1]))) continue;
    rmSync(join(dir, name), { recursive: true, force: true });
    removed.push(name);
  }
  const root = join(dir, `run-${pid}`);
  mkdirSync(root, { recursive: true });
  return { root, removed };
}
