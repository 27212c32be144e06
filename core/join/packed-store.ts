/**
 * A join store for the replay (issue 13: its memory must not grow with the
 * input): like MemoryJoinStore, but each pending prediction is kept as its
 * encoded bytes in a one-byte string (`Packing`: the replay packs it as Avro)
 * and decoded again by `get`. A decoded prediction (its maps, key and value
 * strings, boxed numbers) costs about three times its Avro bytes on the heap
 * (bench/join-store-memory.ts).
 *
 * Semantics are MemoryJoinStore's but for identity: `get` returns a fresh
 * entry whose prediction is a new, equal object (what a disk-backed store
 * returns too: the joiner writes back every change with `set`). The arrays
 * and the label of the entry are shared with what was set, as in
 * MemoryJoinStore. Equality needs a lossless packing of every prediction the
 * join keeps: Avro of a prediction that passed validation is.
 *
 * A feedback's get() and the set() after it carry the same prediction,
 * unchanged (the join never writes to a prediction: events are values), so
 * set() of the prediction the last get() unpacked keeps its packed string
 * instead of packing it again.
 *
 * Bounded (issue 13, `spill`): at most `maxInMemory` entries stay on the
 * heap; beyond that the oldest set (Map insertion order: about arrival
 * order, so about expiry order) move to a SpillTarget (the replay's: an
 * append-only file in a temp dir, adapters/state/file-spill.ts), packed as they are. A
 * spilled entry stays there until deleted (a set() of it writes it there).
 * What stays on the heap per spilled entry is its expiry index item (its id
 * and time, about 50 bytes), unless `spill.expiries` keeps those elsewhere
 * (the replay's: adapters/state/expiry-spill.ts). The target is opened at the first spill;
 * transaction() is then the target's (the replay's file spill rolls back
 * nothing): the replay (no changelog) stops at a failed batch
 * (processors/joiner.ts).
 */
import type { Prediction } from '../events.js';
import { ExpiryHeap, type ExpiryIndex } from './expiry-heap.js';
import type { JoinEntry, JoinStore } from './store.js';

/** Turns a prediction into a compact one-byte string (every char below 256: bytes) and back, losslessly. */
export interface Packing {
  pack(prediction: Prediction): string;
  unpack(packed: string): Prediction;
}

/** An entry as kept: its prediction packed (null while only feedback was seen). */
export interface PackedEntry extends Omit<JoinEntry, 'prediction'> {
  packed: string | null;
}

/** Where entries beyond the in-memory bound go (synchronous, like the join). */
export interface SpillTarget {
  get(id: string): PackedEntry | undefined;
  has(id: string): boolean;
  set(id: string, entry: PackedEntry): void;
  /** True when the id was there. */
  delete(id: string): boolean;
  /** Runs `fn` (synchronous) as one write transaction. */
  transaction<T>(fn: () => T): T;
  close(): Promise<void> | void;
}

export interface Spill {
  /** Entries kept on the heap at most (0: every entry goes to the target). */
  maxInMemory: number;
  /** Opens the target, at the first entry beyond the bound (a replay that stays within it opens none). */
  open(): SpillTarget;
  /** The expiry index to use instead of a heap of every item (the replay's keeps the later ones on disk too). */
  expiries?(): ExpiryIndex;
}

export class PackedJoinStore implements JoinStore {
  private readonly entries = new Map<string, PackedEntry>();
  private readonly expiries: ExpiryIndex;
  /** The prediction the last get() unpacked, and the string it came from. */
  private lastUnpacked: { prediction: Prediction; packed: string } | undefined;
  /** The spill target, once opened. */
  private target: SpillTarget | undefined;
  /** Entries in the spill target. */
  private spilled = 0;
  /** The in-memory ids in insertion order, from the oldest not yet spilled or deleted (a live Map iterator). */
  private order: Iterator<string> | undefined;
  /** The last id looked up in the spill target, and whether it is there: set() after get() needs no second lookup. */
  private hint: { id: string; there: boolean } | undefined;

  constructor(
    private readonly packing: Packing,
    private readonly spill?: Spill,
  ) {
    this.expiries = spill?.expiries?.() ?? new ExpiryHeap();
  }

  /** Entries in the spill target (for tests and figures). */
  get spilledCount(): number {
    return this.spilled;
  }

  get(predictionId: string): JoinEntry | undefined {
    const e = this.entries.get(predictionId) ?? this.spilledEntry(predictionId);
    if (!e) return undefined;
    const prediction = e.packed === null ? null : this.packing.unpack(e.packed);
    this.lastUnpacked = prediction === null ? undefined : { prediction, packed: e.packed! };
    return { prediction, shadow_scores: e.shadow_scores, early: e.early, resolved: e.resolved, seq: e.seq, seen: e.seen, expires_at: e.expires_at };
  }

  set(predictionId: string, entry: JoinEntry): void {
    const p = entry.prediction;
    const packed = p === null ? null : p === this.lastUnpacked?.prediction ? this.lastUnpacked.packed : this.packing.pack(p);
    const kept: PackedEntry = { packed, shadow_scores: entry.shadow_scores, early: entry.early, resolved: entry.resolved, seq: entry.seq, seen: entry.seen, expires_at: entry.expires_at };
    if (!this.entries.has(predictionId) && this.isSpilled(predictionId)) {
      this.target!.set(predictionId, kept);
      return;
    }
    this.entries.set(predictionId, kept);
    if (this.spill && this.entries.size > this.spill.maxInMemory) this.spillOldest();
  }

  delete(predictionId: string): void {
    if (this.entries.delete(predictionId) || !this.isSpilled(predictionId)) return;
    this.target!.delete(predictionId);
    this.spilled--;
    this.hint = { id: predictionId, there: false };
  }

  size(): number {
    return this.entries.size + this.spilled;
  }

  transaction<T>(fn: () => T): T {
    return this.target ? this.target.transaction(fn) : fn();
  }

  async close(): Promise<void> {
    this.expiries.close?.();
    await this.target?.close();
  }

  /** The entry in the spill target, if any (nothing is looked up while it is empty). */
  private spilledEntry(id: string): PackedEntry | undefined {
    if (this.spilled === 0) return undefined;
    const e = this.target!.get(id);
    this.hint = { id, there: e !== undefined };
    return e;
  }

  private isSpilled(id: string): boolean {
    if (this.spilled === 0) return false;
    if (this.hint?.id === id) return this.hint.there;
    return this.target!.has(id);
  }

  /** Moves the oldest in-memory entry to the spill target. */
  private spillOldest(): void {
    let next = this.order?.next();
    if (!next || next.done) {
      // Only when the Map was emptied since (a finished iterator stays finished).
      this.order = this.entries.keys();
      next = this.order.next();
    }
    const id = next.value as string;
    this.target ??= this.spill!.open();
    this.target.set(id, this.entries.get(id)!);
    this.entries.delete(id);
    this.spilled++;
    if (this.hint?.id === id) this.hint = undefined;
  }

  addExpiry(at: number, id: string): void {
    this.expiries.add(at, id);
  }

  takeExpired(watermark: number): Array<{ at: number; id: string }> {
    return this.expiries.takeUpTo(watermark);
  }
}
