/**
 * The replay's spill target (core/join/packed-store.ts, issue 13): join
 * entries beyond the in-memory bound, packed as they are, in LMDB in a fresh
 * private directory under `dir`, off the JS heap. Keys as LmdbJoinStore's
 * (long ids hashed); values msgpack with shared record structures, the
 * packed prediction as bytes (as a string, msgpack would write its bytes
 * over 0x7f as two bytes of UTF-8: a fifth more pages to map). No
 * durability (noSync): nothing reopens it; close() deletes the directory
 * (the replay also deletes its temp dir on failure).
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { open, type Database, type RootDatabase } from 'lmdb';
import type { PackedEntry, SpillTarget } from '../../core/join/index.js';
import { entryKey } from './lmdb-join-store.js';

/** An entry as stored: its packed prediction (a one-byte string) as bytes. */
type Stored = Omit<PackedEntry, 'packed'> & { packed: Uint8Array | null };

/** Where msgpackr keeps the record structures shared by all entries (a symbol: never a prediction_id). */
const STRUCTURES_KEY = Symbol.for('structures');

export class LmdbSpill implements SpillTarget {
  /** The directory this target owns (deleted by close()). */
  readonly path: string;
  private readonly root: RootDatabase;
  private readonly entries: Database<Stored, string>;
  private depth = 0;
  private closed = false;

  constructor(dir: string) {
    mkdirSync(dir, { recursive: true });
    this.path = mkdtempSync(join(dir, 'join-spill-'));
    // As LmdbJoinStore's environment (adapters/state/lmdb-join-store.ts says why not useWritemap).
    this.root = open({ path: this.path, maxDbs: 2, mapSize: 2 ** 30, noSync: true, noMetaSync: true, noMemInit: true, useWritemap: false, overlappingSync: false, cache: false });
    this.entries = this.root.openDB<Stored, string>({ name: 'entries', encoding: 'msgpack', sharedStructuresKey: STRUCTURES_KEY });
  }

  get(id: string): PackedEntry | undefined {
    const stored = this.entries.get(entryKey(id));
    if (stored === undefined) return undefined;
    const bytes = stored.packed;
    return { ...stored, packed: bytes === null ? null : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1') };
  }

  has(id: string): boolean {
    return this.entries.doesExist(entryKey(id));
  }

  set(id: string, entry: PackedEntry): void {
    this.entries.putSync(entryKey(id), { ...entry, packed: entry.packed === null ? null : Buffer.from(entry.packed, 'latin1') });
  }

  delete(id: string): boolean {
    return this.entries.removeSync(entryKey(id));
  }

  /** One LMDB write transaction (nested calls join the outer one). */
  transaction<T>(fn: () => T): T {
    if (this.depth > 0) return fn();
    this.depth++;
    try {
      return this.root.transactionSync(fn);
    } finally {
      this.depth--;
    }
  }

  /** Closes the database and deletes its directory. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.root.close();
    rmSync(this.path, { recursive: true, force: true });
  }
}
