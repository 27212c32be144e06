/**
 * sinks/jsonl-writer.ts gathers lines and hands them to the stream 64 Ki
 * characters at a time: the file is every line in order, whatever their
 * sizes (below, at and past the gathering bound, multi-byte characters), with
 * another file appended where append() was called, and all of it once closed.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { JsonlWriter } from '../../sinks/jsonl-writer.js';

describe('JsonlWriter', () => {
  it('writes every line in order, an appended file where it was appended, the rest on close', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'jsonl-writer-'));
    const other = join(dir, 'other');
    writeFileSync(other, 'x\ny\n');
    const lines: string[] = [];
    for (let i = 0; i < 3000; i++) lines.push(i % 700 === 0 ? 'é'.repeat(70_000 + i) : JSON.stringify({ i, s: '日本'.repeat(i % 13) }));
    const w = new JsonlWriter(join(dir, 'out.jsonl'));
    for (const l of lines.slice(0, 1500)) await w.line(l);
    await w.append(other);
    for (const l of lines.slice(1500)) await w.row(JSON.parse(l.startsWith('{') ? l : JSON.stringify(l)));
    await w.close();
    const expected = [...lines.slice(0, 1500), 'x', 'y', ...lines.slice(1500).map((l) => (l.startsWith('{') ? l : JSON.stringify(l)))].join('\n') + '\n';
    expect(readFileSync(join(dir, 'out.jsonl'), 'utf8')).toBe(expected);
    expect(w.lines).toBe(3000);
  });
});
