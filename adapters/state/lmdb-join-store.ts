/**
 * A JoinStore on LMDB (lmdb-js): entries and the expiry index live in a
 * memory-mapped file, off the JS heap. What stays on the heap does not grow
 * with the entries: a counter (size), the smallest indexed expiry time (so
 * takeExpired is one comparison when nothing is due), a read-ahead of at
 * most 2 x 512 index items (the next to expire), msgpack's shared record
 * structures, and a one-key hint that saves an existence lookup on
 * set-after-get.
 *
 * Two named databases in one environment:
 *   entries  key: the prediction_id (a hash of it when too long for an LMDB key)
 *            value: the JoinEntry, msgpack with shared record structures
 *   expiry   key: 8 order-preserving bytes of `at` + the id as UTF-16BE, so a
 *            range scan returns items ordered by (at, id) exactly as JS string
 *            comparison orders ids (MemoryJoinStore's order); value: empty,
 *            or the full id when the key had to truncate it (ids over 960
 *            UTF-16 units: ties among those order by prefix, then hash).
 *   An (at, id) item added twice is one item (the heap store keeps both; the
 *   Joiner skips the second either way).
 *
 * Durability is off (noSync, noMetaSync): the changelog topic is the source
 * of truth and a partition's store is rebuilt from it at every assignment, so
 * each store opens a fresh, private directory under `dir` and deletes it on
 * close(). Not useWritemap: LMDB's writemap mode aborts the process on this
 * store's put/delete mix (see the constructor).
 *
 * Every write outside transaction() is its own LMDB transaction (correct, but
 * a commit per call, about half the speed). Run a batch inside
 * `transaction(fn)`: one commit for the batch, reads see the batch's own
 * writes, and a throw rolls back the database, the counter and the read-ahead.
 *
 * Values returned by get() are fresh copies: changing one changes nothing
 * until it is passed to set() (the Joiner always does).
 */
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { open, type Database, type RootDatabase } from 'lmdb';
import type { JoinEntry, JoinStore } from '../../core/join/store.js';

export interface LmdbJoinStoreOptions {
  /** Parent directory; the store creates its own fresh subdirectory in it (removed on close). */
  dir: string;
  /** Names the subdirectory (`joiner-p<partition>-XXXXXX`), for people looking at the disk. */
  partition?: number;
  /**
   * Initial size of the memory map in bytes (address space, not memory; the
   * file grows as needed and lmdb-js enlarges the map when it fills).
   * Default 1 GiB.
   */
  mapSize?: number;
}

export interface LmdbJoinStoreStats {
  /** Entries counted by LMDB (equals size() unless something is wrong). */
  entries: number;
  /** Expiry index items, stale ones included. */
  expiryItems: number;
  /** Bytes of the map in use (last page number x page size). */
  usedBytes: number;
}

/** Largest id (in UTF-16 code units) whose expiry key is the id itself: 8 + 2 x 960 <= 1978, LMDB's key limit. */
const MAX_INDEX_ID_UNITS = 960;
/** Longer ids keep this prefix in the expiry key, then a hash; the full id is the item's value. */
const INDEX_PREFIX_UNITS = 900;
/** Entries keyed by ids longer than this (UTF-8 bytes) are keyed by a hash of the id. */
const MAX_ENTRY_KEY_BYTES = 1900;
const EMPTY = Buffer.alloc(0);
/** Index items read ahead from LMDB into the head cache. */
const HEAD_SIZE = 512;

interface HeadItem {
  key: Buffer;
  at: number;
  id: string;
}
/** Where msgpackr keeps the record structures shared by all entries (a symbol: never a prediction_id). */
const STRUCTURES_KEY = Symbol.for('structures');

/** Writes `at` as 8 bytes whose unsigned byte order is the numeric order (IEEE 754 with the sign flipped). */
function writeAt(at: number, target: Buffer): void {
  target.writeDoubleBE(at === 0 ? 0 : at, 0); // -0 sorts with +0
  if (target[0]! & 0x80) {
    for (let i = 0; i < 8; i++) target[i] = ~target[i]! & 0xff;
  } else {
    target[0] = target[0]! | 0x80;
  }
}

function readAt(source: Buffer): number {
  const bytes = Buffer.from(source.subarray(0, 8));
  if (bytes[0]! & 0x80) {
    bytes[0] = bytes[0]! & 0x7f;
  } else {
    for (let i = 0; i < 8; i++) bytes[i] = ~bytes[i]! & 0xff;
  }
  return bytes.readDoubleBE(0);
}

/** The 8 bytes just above `at`'s: an exclusive end that includes every id at `at`. */
function endAfter(at: number): Buffer | undefined {
  const end = Buffer.alloc(8);
  writeAt(at, end);
  for (let i = 7; i >= 0; i--) {
    if (end[i] !== 0xff) {
      end[i] = end[i]! + 1;
      return end;
    }
    end[i] = 0;
  }
  return undefined; // `at` was the largest key prefix: no end
}

function expiryKey(at: number, id: string): Buffer {
  const long = id.length > MAX_INDEX_ID_UNITS;
  const units = long ? INDEX_PREFIX_UNITS : id.length;
  const key = Buffer.allocUnsafe(8 + 2 * units + (long ? 16 : 0));
  writeAt(at, key);
  let p = 8;
  for (let i = 0; i < units; i++) {
    const c = id.charCodeAt(i);
    key[p++] = c >> 8;
    key[p++] = c & 0xff;
  }
  if (long) createHash('sha256').update(id).digest().copy(key, p, 0, 16);
  return key;
}

function idOfKey(key: Buffer): string {
  let id = '';
  const units: number[] = [];
  for (let p = 8; p + 1 < key.length; p += 2) {
    units.push((key[p]! << 8) | key[p + 1]!);
    if (units.length === 4096) {
      id += String.fromCharCode(...units); // bounded: 4096 UTF-16 units, flushed here every 4096
      units.length = 0;
    }
  }
  return id + String.fromCharCode(...units); // bounded: fewer than 4096 units (the loop flushes at 4096)
}

export function entryKey(id: string): string {
  if (id.length * 3 <= MAX_ENTRY_KEY_BYTES || Buffer.byteLength(id, 'utf8') <= MAX_ENTRY_KEY_BYTES) return id;
  // 1901 bytes: longer than any id stored as itself, so no short id can collide with it.
  return `\u0000#${createHash('sha256').update(id).digest('hex')}${'#'.repeat(MAX_ENTRY_KEY_BYTES - 65)}`;
}

export class LmdbJoinStore implements JoinStore {
  /** The directory this store owns (deleted by close()). */
  readonly path: string;
  private readonly root: RootDatabase;
  private readonly entries: Database<JoinEntry, string>;
  private readonly expiry: Database<Buffer, Buffer>;
  private count = 0;
  /** Smallest `at` in the expiry index (Infinity when empty; -Infinity when unknown). */
  private minAt = Number.POSITIVE_INFINITY;
  /**
   * The head of the expiry index, in key order, from headPos on: exactly the
   * index items whose key is <= bound (all of them when bound is null). At
   * most 2 x HEAD_SIZE items: a constant, whatever the number pending.
   */
  private head: HeadItem[] = [];
  private headPos = 0;
  private bound: Buffer | null = null;
  /** The last id looked up or written, and whether it exists: set() after get() needs no second lookup. */
  private hintId: string | undefined;
  private hintExists = false;
  private depth = 0;
  private closed = false;

  constructor(options: LmdbJoinStoreOptions) {
    mkdirSync(options.dir, { recursive: true });
    this.path = mkdtempSync(join(options.dir, `joiner-p${options.partition ?? 0}-`));
    this.root = open({
      path: this.path,
      maxDbs: 4,
      mapSize: options.mapSize ?? 2 ** 30,
      noSync: true,
      noMetaSync: true,
      noMemInit: true,
      // Not useWritemap: faster, but LMDB's writemap mode aborts the process in mdb_freelist_save
      // ("Assertion 'x <= dl[0].mid' failed") on our put/delete mix (an open LMDB bug with MDB_WRITEMAP).
      useWritemap: false,
      overlappingSync: false,
      cache: false,
    });
    this.entries = this.root.openDB<JoinEntry, string>({ name: 'entries', encoding: 'msgpack', sharedStructuresKey: STRUCTURES_KEY });
    this.expiry = this.root.openDB<Buffer, Buffer>({ name: 'expiry', keyEncoding: 'binary', encoding: 'binary' });
  }

  get(predictionId: string): JoinEntry | undefined {
    const entry = this.entries.get(entryKey(predictionId));
    this.hintId = predictionId;
    this.hintExists = entry !== undefined;
    return entry;
  }

  set(predictionId: string, entry: JoinEntry): void {
    const key = entryKey(predictionId);
    const existed = this.hintId === predictionId ? this.hintExists : this.entries.doesExist(key);
    this.entries.putSync(key, entry);
    if (!existed) this.count++;
    this.hintId = predictionId;
    this.hintExists = true;
  }

  delete(predictionId: string): void {
    if (this.hintId === predictionId && !this.hintExists) return;
    if (this.entries.removeSync(entryKey(predictionId))) this.count--;
    this.hintId = predictionId;
    this.hintExists = false;
  }

  size(): number {
    return this.count;
  }

  addExpiry(at: number, predictionId: string): void {
    if (at === 0) at = 0; // -0 is stored (and returned) as 0
    const key = expiryKey(at, predictionId);
    this.expiry.putSync(key, predictionId.length > MAX_INDEX_ID_UNITS ? Buffer.from(predictionId, 'utf8') : EMPTY);
    if (at < this.minAt) this.minAt = at;
    if (this.bound === null || Buffer.compare(key, this.bound) <= 0) this.insertIntoHead({ key, at, id: predictionId });
  }

  takeExpired(watermark: number): Array<{ at: number; id: string }> {
    if (!(watermark >= this.minAt)) return [];
    const out: Array<{ at: number; id: string }> = [];
    this.transaction(() => {
      for (;;) {
        if (this.headPos === this.head.length) {
          if (this.bound === null) break; // the head held the whole index: it is empty
          this.loadHead();
          if (this.headPos === this.head.length) break;
        }
        const item = this.head[this.headPos]!;
        if (item.at > watermark) break;
        this.headPos++;
        this.expiry.removeSync(item.key);
        out.push({ at: item.at, id: item.id });
      }
    });
    if (this.headPos > HEAD_SIZE) {
      this.head.splice(0, this.headPos);
      this.headPos = 0;
    }
    this.minAt = this.headPos < this.head.length ? this.head[this.headPos]!.at : Number.POSITIVE_INFINITY;
    return out;
  }

  /** Reads the smallest HEAD_SIZE index items (everything before them was taken and removed). */
  private loadHead(): void {
    this.head = [];
    this.headPos = 0;
    for (const { key, value } of this.expiry.getRange({ limit: HEAD_SIZE })) {
      this.head.push({ key, at: readAt(key), id: value.length > 0 ? value.toString('utf8') : idOfKey(key) });
    }
    this.bound = this.head.length < HEAD_SIZE ? null : this.head[this.head.length - 1]!.key;
  }

  /** Keeps the head sorted by key; an index item written twice is one item. Trims it back to HEAD_SIZE when it doubles. */
  private insertIntoHead(item: HeadItem): void {
    const head = this.head;
    let lo = this.headPos;
    let hi = head.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const c = Buffer.compare(head[mid]!.key, item.key);
      if (c === 0) return;
      if (c < 0) lo = mid + 1;
      else hi = mid;
    }
    head.splice(lo, 0, item);
    if (head.length - this.headPos > 2 * HEAD_SIZE) {
      head.length = this.headPos + HEAD_SIZE;
      this.bound = head[head.length - 1]!.key;
    }
  }

  /**
   * Runs `fn` (synchronous) in one LMDB write transaction; nested calls join
   * the outer one. One commit for everything it writes; if `fn` throws, the
   * writes, size() and the read-ahead are rolled back and the error rethrown.
   */
  transaction<T>(fn: () => T): T {
    if (this.depth > 0) return fn();
    const count = this.count;
    this.depth++;
    try {
      return this.root.transactionSync(() => {
        const result = fn();
        if (typeof (result as { then?: unknown } | null)?.then === 'function') {
          throw new TypeError('LmdbJoinStore.transaction() takes a synchronous function (the transaction ends when it returns)');
        }
        return result;
      });
    } catch (error) {
      // LMDB rolled back: so do the counter and the hint; the head is re-read from LMDB.
      this.count = count;
      this.hintId = undefined;
      this.forgetHead();
      throw error;
    } finally {
      this.depth--;
    }
  }

  /** Removes every entry and index item. */
  clear(): void {
    this.transaction(() => {
      this.entries.clearSync();
      this.expiry.clearSync();
    });
    this.count = 0;
    this.minAt = Number.POSITIVE_INFINITY;
    this.head = [];
    this.headPos = 0;
    this.bound = null;
    this.hintId = undefined;
  }

  /** Nothing known about the index: the next takeExpired reads it. */
  private forgetHead(): void {
    this.head = [];
    this.headPos = 0;
    this.bound = EMPTY; // no index key is <= the empty key
    this.minAt = Number.NEGATIVE_INFINITY;
  }

  /** What LMDB itself counts (O(1), for checks and metrics). */
  stats(): LmdbJoinStoreStats {
    const entries = this.entries.getStats() as { entryCount: number };
    const expiry = this.expiry.getStats() as { entryCount: number };
    const root = this.root.getStats() as { lastPageNumber: number; pageSize: number };
    const structures = (this.entries as unknown as Database<unknown, symbol>).doesExist(STRUCTURES_KEY) ? 1 : 0;
    return { entries: entries.entryCount - structures, expiryItems: expiry.entryCount, usedBytes: (root.lastPageNumber + 1) * root.pageSize };
  }

  /** Closes the database and deletes its directory. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.root.close();
    rmSync(this.path, { recursive: true, force: true });
  }
}
