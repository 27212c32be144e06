/**
 * The links inside the user docs resolve: every `](#anchor)` of the README and
 * docs/*.md names a heading of its file (as GitHub spells the anchor), and every
 * relative file link names a file of the repository. A section renamed or
 * moved without its links fails here.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');

/** GitHub's anchor of a heading: lower case, punctuation but `-` and `_` dropped, spaces to `-`. */
function anchorOf(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

/** The anchors of a Markdown text's headings (outside code fences), duplicates numbered as GitHub does. */
function anchorsOf(text: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  let fenced = false;
  for (const line of text.split('\n')) {
    if (line.startsWith('```')) fenced = !fenced;
    const m = fenced ? null : /^#{1,6} (.+)$/.exec(line);
    if (!m) continue;
    const base = anchorOf(m[1]!);
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    anchors.add(n === 0 ? base : `${base}-${n}`);
  }
  return anchors;
}

/** The link targets of a Markdown text, outside code fences and inline code. */
function linksOf(text: string): string[] {
  const links: string[] = [];
  let fenced = false;
  for (const line of text.split('\n')) {
    if (line.startsWith('```')) fenced = !fenced;
    if (fenced) continue;
    for (const m of line.replace(/`[^`]*`/g, '').matchAll(/\]\(([^)\s]+)\)/g)) links.push(m[1]!);
  }
  return links;
}

const DOCS = ['README.md', ...readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`), 'dashboards/README.md'];

describe('links in the docs', () => {
  it('spells anchors as GitHub does', () => {
    expect(anchorOf('One hot model over several instances (`evaluator.shard_by`)')).toBe('one-hot-model-over-several-instances-evaluatorshard_by');
    expect(anchorOf('Limits, bad input and faults')).toBe('limits-bad-input-and-faults');
    expect(anchorOf('Kafka ACLs (least privilege)')).toBe('kafka-acls-least-privilege');
  });

  for (const doc of DOCS) {
    it(`${doc}: every link to a section or a file resolves`, () => {
      const text = readFileSync(join(ROOT, doc), 'utf8');
      const own = anchorsOf(text);
      const broken: string[] = [];
      for (const link of linksOf(text)) {
        if (/^[a-z]+:/i.test(link)) continue; // http(s), mailto: not checked here
        const [path, anchor] = link.split('#', 2) as [string, string | undefined];
        const file = path === '' ? join(ROOT, doc) : join(ROOT, dirname(doc), path);
        if (path !== '' && !existsSync(file)) broken.push(`${link} (no such file)`);
        else if (anchor !== undefined && file.endsWith('.md')) {
          const anchors = path === '' ? own : anchorsOf(readFileSync(file, 'utf8'));
          if (!anchors.has(anchor)) broken.push(`${link} (no such heading)`);
        }
      }
      expect(broken).toEqual([]);
    });
  }
});
