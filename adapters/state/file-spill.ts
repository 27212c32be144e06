/**
 * The replay's spill target (core/join/packed-store.ts, issue 13): join
 * entries beyond the in-memory bound, in an append-only file in a fresh
 * private directory under `dir`, read back with pread, and an index of
 * where each id's latest record is (adapters/state/spill-index.ts: 12 bytes
 * a slot, off the JS heap). Unlike a memory-mapped store (LMDB, before),
 * the pages of the file are the kernel's page cache, not the process's
 * resident memory: what the process keeps grows by the index alone.
 *
 * A record: the id's UTF-8 length (uint32 LE), the id, the entry as V8's
 * structured serialisation (node:v8: the packed prediction, a one-byte
 * string, as its bytes; undefined, -0 and key order kept), padded to 8
 * bytes. set() of an id appends a new record and points the index at it;
 * delete() drops it from the index. The bytes of replaced and deleted
 * records stay in the file (the replay's pending entries are about all
 * that it writes: nothing expires within a bench's stream). Appends wait in
 * a 1 MiB buffer (reads of them are served from it).
 *
 * No durability, no rollback: transaction() runs `fn` (the replay stops at
 * a failed batch and deletes its temp dir); close() deletes the directory.
 */
import { closeSync, mkdirSync, mkdtempSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { deserialize, serialize } from 'node:v8';
import type { PackedEntry, SpillTarget } from '../../core/join/index.js';
import { idHash, RECORD_ALIGN, SpillIndex } from './spill-index.js';

const WRITE_BUFFER_BYTES = 1 << 20;
const ID_LENGTH_BYTES = 4;

export class FileSpill implements SpillTarget {
  /** The directory this target owns (deleted by close()). */
  readonly path: string;
  private readonly index = new SpillIndex();
  private readonly fd: number;
  /** Appends not yet written; buffer[0] is at file offset `flushed`. */
  private buffer = Buffer.allocUnsafe(WRITE_BUFFER_BYTES);
  private buffered = 0;
  private flushed = 0;
  private scratch = Buffer.allocUnsafe(4096);
  /** The last id found, its slot and record (set() after get() needs no second read); void after any index change. */
  private last: { id: string; slot: number; record: Buffer } | undefined;
  private closed = false;

  constructor(dir: string) {
    mkdirSync(dir, { recursive: true });
    this.path = mkdtempSync(join(dir, 'join-spill-'));
    this.fd = openSync(join(this.path, 'entries'), 'w+');
  }

  /** Entries held (for tests and figures). */
  get size(): number {
    return this.index.size;
  }

  /** Slots of the index (12 bytes each, off the heap; for tests and figures). */
  get capacity(): number {
    return this.index.capacity;
  }

  /** Bytes appended to the file so far (for tests and figures). */
  get bytes(): number {
    return this.flushed + this.buffered;
  }

  get(id: string): PackedEntry | undefined {
    const found = this.find(id);
    if (!found) return undefined;
    const start = ID_LENGTH_BYTES + found.record.readUInt32LE(0);
    return deserialize(found.record.subarray(start)) as PackedEntry;
  }

  has(id: string): boolean {
    return this.find(id) !== undefined;
  }

  set(id: string, entry: PackedEntry): void {
    const found = this.find(id);
    const [offset, length] = this.append(id, serialize(entry));
    if (found) this.index.update(found.slot, offset, length);
    else this.index.insert(idHash(id), offset, length);
    this.last = undefined;
  }

  delete(id: string): boolean {
    const found = this.find(id);
    if (!found) return false;
    this.index.remove(found.slot);
    this.last = undefined;
    return true;
  }

  /** Runs `fn`: appends need no transaction, and nothing is rolled back (see the top of the file). */
  transaction<T>(fn: () => T): T {
    return fn();
  }

  /** Closes the file and deletes its directory. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    closeSync(this.fd);
    rmSync(this.path, { recursive: true, force: true });
  }

  /** The slot and record of the id's entry, if held. */
  private find(id: string): { slot: number; record: Buffer } | undefined {
    if (this.last?.id === id) return this.last;
    this.last = undefined; // its record may be a view of the scratch buffer this lookup reads into
    let record: Buffer | undefined;
    const slot = this.index.find(idHash(id), (offset, length) => {
      const r = this.read(offset, length);
      const n = r.readUInt32LE(0);
      if (r.toString('utf8', ID_LENGTH_BYTES, ID_LENGTH_BYTES + n) !== id) return false;
      record = r;
      return true;
    });
    if (slot < 0) return undefined;
    this.last = { id, slot, record: record! };
    return this.last;
  }

  /** Appends a record; its offset and length. */
  private append(id: string, body: Buffer): [number, number] {
    const idBytes = Buffer.byteLength(id, 'utf8');
    const length = ID_LENGTH_BYTES + idBytes + body.length;
    const padded = Math.ceil(length / RECORD_ALIGN) * RECORD_ALIGN;
    if (this.buffered + padded > this.buffer.length) this.flush();
    if (padded > this.buffer.length) this.buffer = Buffer.allocUnsafe(padded);
    const offset = this.flushed + this.buffered;
    const at = this.buffered;
    this.buffer.writeUInt32LE(idBytes, at);
    this.buffer.write(id, at + ID_LENGTH_BYTES, 'utf8');
    body.copy(this.buffer, at + ID_LENGTH_BYTES + idBytes);
    this.buffered += padded;
    return [offset, length];
  }

  private flush(): void {
    let done = 0;
    while (done < this.buffered) done += writeSync(this.fd, this.buffer, done, this.buffered - done, this.flushed + done);
    this.flushed += this.buffered;
    this.buffered = 0;
  }

  /** The record's bytes: a view of the write buffer or of a scratch buffer, valid until the next read or append. */
  private read(offset: number, length: number): Buffer {
    if (offset >= this.flushed) return this.buffer.subarray(offset - this.flushed, offset - this.flushed + length);
    if (this.scratch.length < length) this.scratch = Buffer.allocUnsafe(Math.max(length, 2 * this.scratch.length));
    let done = 0;
    while (done < length) {
      const n = readSync(this.fd, this.scratch, done, length - done, offset + done);
      if (n === 0) throw new Error(`spill file: record at ${offset} cut short`);
      done += n;
    }
    return this.scratch.subarray(0, length);
  }
}
