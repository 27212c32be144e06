/**
 * The replay's expiry index (issue 13): when each pending prediction
 * expires, without a heap item (its id and time, ~50 bytes) per prediction
 * held on the JS heap. The latest `maxInMemory` items added (MIN_RUN_ITEMS
 * at least) wait in an
 * ExpiryHeap; when it is full they are taken out in (at, id) order and
 * appended to a file as one sorted run (at as float64, the id's UTF-8
 * length as uint32, the id). takeUpTo() takes the items due from the heap
 * and from the head of each run (read in 16 KiB chunks), and orders them
 * by (at, id), as one heap of every item would: items equal in both are
 * the same item added twice, so their order does not matter.
 *
 * What stays on the heap per run: its position and the time of its head
 * (a run of 100,000 items is ~3 MB on disk); a run being read holds one
 * chunk. The file is in a fresh directory under `dir`, created at the
 * first run; close() deletes it.
 */
import { closeSync, mkdirSync, mkdtempSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { ExpiryHeap, type ExpiryIndex } from '../../core/join/index.js';

const CHUNK_BYTES = 16 * 1024;
/** Items per run at least (a bound of 0 would write a run per item). */
export const MIN_RUN_ITEMS = 1024;
/** at (float64) and the id's byte length (uint32). */
const ITEM_HEADER_BYTES = 12;

/** One sorted run in the file: [next, end) is what is left of it. */
interface Run {
  next: number;
  end: number;
  /** at of the item at `next`. */
  headAt: number;
  /** Bytes of the file from `chunkStart`, once read. */
  chunk: Buffer | undefined;
  chunkStart: number;
}

export class ExpirySpill implements ExpiryIndex {
  private readonly heap = new ExpiryHeap();
  private readonly runs: Run[] = [];
  private file: { dir: string; fd: number; size: number } | undefined;
  private closed = false;

  constructor(
    private readonly dir: string,
    private readonly maxInMemory: number,
    private readonly minRunItems = MIN_RUN_ITEMS,
  ) {}

  /** Runs written and not yet read to their end (for tests and figures). */
  get runCount(): number {
    return this.runs.length;
  }

  /** The directory holding the runs, once one was written. */
  get path(): string | undefined {
    return this.file?.dir;
  }

  add(at: number, id: string): void {
    this.heap.add(at, id);
    if (this.heap.size >= Math.max(this.minRunItems, this.maxInMemory, 1)) this.writeRun(this.heap.takeUpTo(Infinity));
  }

  takeUpTo(watermark: number): Array<{ at: number; id: string }> {
    const out = this.heap.takeUpTo(watermark);
    const sources = (out.length > 0 ? 1 : 0) + this.runs.filter((r) => r.headAt <= watermark).length;
    if (sources === 0) return out;
    for (const run of this.runs) while (run.next < run.end && run.headAt <= watermark) out.push(this.take(run));
    for (let i = this.runs.length - 1; i >= 0; i--) if (this.runs[i]!.next >= this.runs[i]!.end) this.runs.splice(i, 1);
    if (sources > 1) out.sort((a, b) => a.at - b.at || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    return out;
  }

  /** Closes the file and deletes its directory. Idempotent. */
  close(): void {
    if (this.closed || !this.file) return;
    this.closed = true;
    closeSync(this.file.fd);
    rmSync(this.file.dir, { recursive: true, force: true });
  }

  private writeRun(items: Array<{ at: number; id: string }>): void {
    if (items.length === 0) return;
    if (!this.file) {
      mkdirSync(this.dir, { recursive: true });
      const dir = mkdtempSync(join(this.dir, 'expiry-spill-'));
      this.file = { dir, fd: openSync(join(dir, 'runs'), 'w+'), size: 0 };
    }
    let bytes = 0;
    for (const { id } of items) bytes += ITEM_HEADER_BYTES + Buffer.byteLength(id, 'utf8');
    const buf = Buffer.allocUnsafe(bytes);
    let at = 0;
    for (const item of items) {
      buf.writeDoubleLE(item.at, at);
      const n = buf.write(item.id, at + ITEM_HEADER_BYTES, 'utf8');
      buf.writeUInt32LE(n, at + 8);
      at += ITEM_HEADER_BYTES + n;
    }
    const start = this.file.size;
    let done = 0;
    while (done < bytes) done += writeSync(this.file.fd, buf, done, bytes - done, start + done);
    this.file.size += bytes;
    this.runs.push({ next: start, end: start + bytes, headAt: items[0]!.at, chunk: undefined, chunkStart: start });
  }

  /** The item at the run's head, and moves the head on. */
  private take(run: Run): { at: number; id: string } {
    const header = this.bytes(run, ITEM_HEADER_BYTES);
    const at = header.readDoubleLE(0);
    const n = header.readUInt32LE(8);
    const id = this.bytes(run, ITEM_HEADER_BYTES + n).toString('utf8', ITEM_HEADER_BYTES);
    run.next += ITEM_HEADER_BYTES + n;
    if (run.next < run.end) run.headAt = this.bytes(run, 8).readDoubleLE(0);
    else run.chunk = undefined;
    return { at, id };
  }

  /** The run's next `n` bytes (a view, valid until the next read of this run). */
  private bytes(run: Run, n: number): Buffer {
    const from = run.next - run.chunkStart;
    if (!run.chunk || from + n > run.chunk.length) {
      const length = Math.min(Math.max(CHUNK_BYTES, n), run.end - run.next);
      const chunk = run.chunk && run.chunk.length >= length ? run.chunk : Buffer.allocUnsafe(length);
      let done = 0;
      while (done < length) {
        const got = readSync(this.file!.fd, chunk, done, length - done, run.next + done);
        if (got === 0) throw new Error(`expiry spill: run cut short at ${run.next + done}`);
        done += got;
      }
      run.chunk = chunk.subarray(0, length);
      run.chunkStart = run.next;
      return run.chunk.subarray(0, n);
    }
    return run.chunk.subarray(from, from + n);
  }
}
