import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ExternalSorter } from '../../runtime/external-sort.js';
import { JsonlWriter } from '../../sinks/jsonl-writer.js';

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

async function sortLines(keys: Array<[number, number]>, maxBuffered: number): Promise<{ lines: string[]; left: string[] }> {
  const dir = mkdtempSync(join(tmpdir(), 'external-sort-'));
  dirs.push(dir);
  const sorter = new ExternalSorter(dir, 's', maxBuffered);
  for (const [i, key] of keys.entries()) await sorter.add(key, `${key[0]}.${key[1]}#${i}`);
  const out = new JsonlWriter(join(dir, 'out'));
  await sorter.writeTo(out);
  await out.close();
  return { lines: readFileSync(join(dir, 'out'), 'utf8').split('\n').filter(Boolean), left: readdirSync(dir).filter((f) => f !== 'out') };
}

describe('ExternalSorter', () => {
  it('sorts by key across spilled runs, equal keys in the order added, and removes its runs', async () => {
    const keys: Array<[number, number]> = [];
    for (let i = 0; i < 50; i++) keys.push([(i * 37) % 11, i % 2]);
    const { lines, left } = await sortLines(keys, 7);
    const expected = keys.map((k, i) => ({ k, i })).sort((a, b) => a.k[0] - b.k[0] || a.k[1] - b.k[1] || a.i - b.i).map(({ k, i }) => `${k[0]}.${k[1]}#${i}`);
    expect(lines).toEqual(expected);
    expect(left).toEqual([]);
  });

  it('keeps input in order in one run', async () => {
    const keys: Array<[number, number]> = [];
    for (let i = 0; i < 30; i++) keys.push([i, 0]);
    const dir = mkdtempSync(join(tmpdir(), 'external-sort-'));
    dirs.push(dir);
    const sorter = new ExternalSorter(dir, 's', 4);
    for (const key of keys) await sorter.add(key, String(key[0]));
    expect(sorter.runCount).toBe(1);
    expect((await sortLines(keys, 4)).lines).toEqual(keys.map((k) => `${k[0]}.0#${k[0]}`));
  });
});
