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
 */
import type { Prediction } from '../events.js';
import { ExpiryHeap } from './expiry-heap.js';
import type { JoinEntry, JoinStore } from './store.js';

/** Turns a prediction into a compact string and back, losslessly. */
export interface Packing {
  pack(prediction: Prediction): string;
  unpack(packed: string): Prediction;
}

/** An entry as kept: its prediction packed (null while only feedback was seen). */
interface PackedEntry extends Omit<JoinEntry, 'prediction'> {
  packed: string | null;
}

export class PackedJoinStore implements JoinStore {
  private readonly entries = new Map<string, PackedEntry>();
  private readonly expiries = new ExpiryHeap();
  /** The prediction the last get() unpacked, and the string it came from. */
  private lastUnpacked: { prediction: Prediction; packed: string } | undefined;

  constructor(private readonly packing: Packing) {}

  get(predictionId: string): JoinEntry | undefined {
    const e = this.entries.get(predictionId);
    if (!e) return undefined;
    const prediction = e.packed === null ? null : this.packing.unpack(e.packed);
    this.lastUnpacked = prediction === null ? undefined : { prediction, packed: e.packed! };
    return { prediction, shadow_scores: e.shadow_scores, early: e.early, resolved: e.resolved, seq: e.seq, seen: e.seen, expires_at: e.expires_at };
  }

  set(predictionId: string, entry: JoinEntry): void {
    const p = entry.prediction;
    const packed = p === null ? null : p === this.lastUnpacked?.prediction ? this.lastUnpacked.packed : this.packing.pack(p);
    this.entries.set(predictionId, { packed, shadow_scores: entry.shadow_scores, early: entry.early, resolved: entry.resolved, seq: entry.seq, seen: entry.seen, expires_at: entry.expires_at });
  }

  delete(predictionId: string): void {
    this.entries.delete(predictionId);
  }

  size(): number {
    return this.entries.size;
  }

  addExpiry(at: number, id: string): void {
    this.expiries.add(at, id);
  }

  takeExpired(watermark: number): Array<{ at: number; id: string }> {
    return this.expiries.takeUpTo(watermark);
  }
}
