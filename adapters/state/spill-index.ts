/**
 * The in-memory index of the replay's spill file (adapters/state/file-spill.ts,
 * issue 13): id hash → where the entry's latest record is in the file.
 * Open addressing with linear probing in three typed arrays (12 bytes a
 * slot, off the JS heap, at most about 2.9 slots an entry: no object per
 * entry). A slot keeps the id's 32-bit hash, not the id: two ids can share
 * a hash, so the caller checks a candidate against the id in its record
 * (`isId`). Records start at multiples of 8 bytes (offsets up to 32 GiB).
 */

/** Length of a slot never used (probing stops there). */
const EMPTY = 0;
/** Length of a slot whose entry was removed (probing goes on past it). */
const REMOVED = 0xffffffff;
/** Used slots (live and removed) above this share of the capacity make the table grow. */
const MAX_LOAD = 0.7;
const MIN_CAPACITY = 1024;
/** Record offsets are kept in units of this many bytes. */
export const RECORD_ALIGN = 8;

/** FNV-1a over the id's UTF-16 code units: a uint32. */
export function idHash(id: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

export class SpillIndex {
  private hashes = new Uint32Array(MIN_CAPACITY);
  /** Record offsets divided by RECORD_ALIGN. */
  private offsets = new Uint32Array(MIN_CAPACITY);
  /** Record lengths in bytes (EMPTY, REMOVED: no record). */
  private lengths = new Uint32Array(MIN_CAPACITY);
  private live = 0;
  /** Live and removed slots. */
  private used = 0;

  /** Entries indexed. */
  get size(): number {
    return this.live;
  }

  /** Slots allocated (for tests and figures). */
  get capacity(): number {
    return this.hashes.length;
  }

  /** The slot of the record for which isId(offset, length) holds, among those of this hash; -1 if none. */
  find(hash: number, isId: (offset: number, length: number) => boolean): number {
    const mask = this.hashes.length - 1;
    for (let i = hash & mask; ; i = (i + 1) & mask) {
      const length = this.lengths[i]!;
      if (length === EMPTY) return -1;
      if (length !== REMOVED && this.hashes[i] === hash && isId(this.offsets[i]! * RECORD_ALIGN, length)) return i;
    }
  }

  offsetAt(slot: number): number {
    return this.offsets[slot]! * RECORD_ALIGN;
  }

  lengthAt(slot: number): number {
    return this.lengths[slot]!;
  }

  /** Adds an entry the index does not hold (the caller found none with find()). Slots returned before are void after. */
  insert(hash: number, offset: number, length: number): void {
    if ((this.used + 1) > this.hashes.length * MAX_LOAD) this.rehash(Math.max(this.live + 1, 1));
    const mask = this.hashes.length - 1;
    let i = hash & mask;
    while (this.lengths[i] !== EMPTY && this.lengths[i] !== REMOVED) i = (i + 1) & mask;
    if (this.lengths[i] === EMPTY) this.used++;
    this.live++;
    this.put(i, hash, offset, length);
  }

  /** Points a slot find() returned at the entry's new record. */
  update(slot: number, offset: number, length: number): void {
    this.put(slot, this.hashes[slot]!, offset, length);
  }

  /** Removes the entry of a slot find() returned. */
  remove(slot: number): void {
    this.lengths[slot] = REMOVED;
    this.live--;
  }

  private put(slot: number, hash: number, offset: number, length: number): void {
    if (offset % RECORD_ALIGN !== 0 || offset / RECORD_ALIGN > 0xffffffff) throw new Error(`spill index: record offset ${offset} not storable`);
    if (length === EMPTY || length >= REMOVED) throw new Error(`spill index: record length ${length} not storable`);
    this.hashes[slot] = hash;
    this.offsets[slot] = offset / RECORD_ALIGN;
    this.lengths[slot] = length;
  }

  /** A table of the smallest power-of-two capacity that holds `entries` at half load, with the live entries only. */
  private rehash(entries: number): void {
    let capacity = MIN_CAPACITY;
    while (capacity * 0.5 < entries) capacity *= 2;
    const { hashes, offsets, lengths } = this;
    this.hashes = new Uint32Array(capacity);
    this.offsets = new Uint32Array(capacity);
    this.lengths = new Uint32Array(capacity);
    const mask = capacity - 1;
    for (let j = 0; j < hashes.length; j++) {
      const length = lengths[j]!;
      if (length === EMPTY || length === REMOVED) continue;
      let i = hashes[j]! & mask;
      while (this.lengths[i] !== EMPTY) i = (i + 1) & mask;
      this.hashes[i] = hashes[j]!;
      this.offsets[i] = offsets[j]!;
      this.lengths[i] = length;
    }
    this.used = this.live;
  }
}
