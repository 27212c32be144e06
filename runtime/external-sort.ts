/**
 * Lines sorted by a numeric key in bounded memory (the replay's outputs in
 * processing order, its dead letters in line order): at most `maxBuffered`
 * lines are held; each time the buffer fills it is sorted and spilled to a
 * run file in `dir`, and `writeTo` merges the runs (k-way, by key; equal
 * keys in the order they were added). A spill whose first key is not below
 * the last run's last key is appended to that run, so input that comes in
 * order (the usual case) makes one run, read once at the end.
 */
import { createReadStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { mergeSorted } from '../core/merge-sorted.js';
import { JsonlWriter } from '../sinks/jsonl-writer.js';

/** A sort key: compared element by element. */
export type SortKey = readonly [number, number];

interface Entry {
  key: SortKey;
  line: string;
}

const compareKeys = (a: SortKey, b: SortKey) => a[0] - b[0] || a[1] - b[1];

/** Lines held before a spill: a few tens of MB of JSON. */
export const SORT_BUFFER_LINES = 20_000;

export class ExternalSorter {
  private buffer: Entry[] = [];
  private readonly runs: string[] = [];
  private last: { writer: JsonlWriter; key: SortKey } | undefined;

  constructor(
    private readonly dir: string,
    private readonly name: string,
    private readonly maxBuffered = SORT_BUFFER_LINES,
  ) {}

  /** Run files spilled so far. */
  get runCount(): number {
    return this.runs.length;
  }

  async add(key: SortKey, line: string): Promise<void> {
    this.buffer.push({ key, line });
    if (this.buffer.length >= this.maxBuffered) await this.spill();
  }

  /** Writes every line added, in key order, then removes the runs. */
  async writeTo(out: JsonlWriter): Promise<void> {
    if (this.runs.length === 0) {
      for (const e of this.sorted()) await out.line(e.line);
      return;
    }
    await this.spill();
    await this.last?.writer.close();
    this.last = undefined;
    await mergeRuns(this.runs, out);
    for (const run of this.runs) await rm(run, { force: true });
  }

  private sorted(): Entry[] {
    // Array.prototype.sort is stable: equal keys keep the order they were added in.
    const entries = this.buffer.sort((a, b) => compareKeys(a.key, b.key));
    this.buffer = [];
    return entries;
  }

  private async spill(): Promise<void> {
    const entries = this.sorted();
    if (entries.length === 0) return;
    if (!this.last || compareKeys(entries[0]!.key, this.last.key) < 0) await this.newRun();
    const run = this.last!;
    for (const e of entries) await run.writer.line(`${e.key[0]}\t${e.key[1]}\t${e.line}`);
    run.key = entries[entries.length - 1]!.key;
  }

  private async newRun(): Promise<void> {
    await this.last?.writer.close();
    const path = join(this.dir, `${this.name}.run-${this.runs.length}`);
    this.runs.push(path);
    this.last = { writer: new JsonlWriter(path), key: [Number.NEGATIVE_INFINITY, 0] };
  }
}

/** The entries of a run file, in order. */
async function* readRun(path: string): AsyncGenerator<Entry> {
  for await (const text of createInterface({ input: createReadStream(path, 'utf8'), crlfDelay: Infinity })) {
    const a = text.indexOf('\t');
    const b = text.indexOf('\t', a + 1);
    yield { key: [Number(text.slice(0, a)), Number(text.slice(a + 1, b))], line: text.slice(b + 1) };
  }
}

/** Merges sorted runs into `out`, the earlier run first on ties. */
async function mergeRuns(paths: string[], out: JsonlWriter): Promise<void> {
  for await (const entry of mergeSorted(paths.map((path) => readRun(path)), (a, b) => compareKeys(a.key, b.key))) await out.line(entry.line);
}
