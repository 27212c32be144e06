/**
 * One partition of the in-process log (memory.ts): its records in offset
 * order, of which a prefix may have been freed and, in a compacted topic,
 * older records of a key removed (MemoryTransport.release). Offsets never
 * change: a freed record is just gone, so the retained ones may have gaps,
 * and a read from a freed offset starts at the next retained record (as a
 * Kafka consumer after retention starts at the earliest offset).
 */
import type { LogRecord } from './transport.js';

/** Records of a compacted partition below which compaction does not pay yet. */
const MIN_COMPACTION = 1024;

export class PartitionLog {
  /** Retained records, by ascending offset. */
  private records: LogRecord[] = [];
  /** The next offset to be written. */
  end = 0;
  /** Retained records after the last compaction (the next runs at twice as many). */
  private compactedSize = 0;

  /** Records retained (for tests and the replay's figures). */
  get retained(): number {
    return this.records.length;
  }

  /** Appends `record`, giving it the next offset (it is kept as it is: a LazyRecord stays one). */
  push(record: LogRecord): LogRecord {
    record.offset = this.end++;
    this.records.push(record);
    return record;
  }

  /** The first retained record at or after `offset`, with its index, or undefined. */
  first(offset: number): { record: LogRecord; index: number } | undefined {
    const index = this.indexFrom(offset);
    const record = this.records[index];
    return record ? { record, index } : undefined;
  }

  /** The retained record at position `index` (see first). */
  at(index: number): LogRecord | undefined {
    return this.records[index];
  }

  /** Retained records with offsets in [from, to), at most `max` of them. */
  slice(from: number, to: number, max = Number.POSITIVE_INFINITY): LogRecord[] {
    const start = this.indexFrom(from);
    return this.records.slice(start, Math.min(this.indexFrom(to), start + max));
  }

  /** Every retained record. */
  all(): LogRecord[] {
    return this.records;
  }

  /** Frees every record below `offset`. */
  freeBelow(offset: number): void {
    const index = this.indexFrom(offset);
    if (index > 0) this.records.splice(0, index);
  }

  /**
   * Below `offset`: keeps only the latest record of each key, and not even
   * that when it is a tombstone (a null value: the key was deleted). Runs
   * only once the partition holds twice what the last compaction left, so
   * its cost per record stays constant.
   */
  compactBelow(offset: number): void {
    if (this.records.length < Math.max(MIN_COMPACTION, 2 * this.compactedSize)) return;
    const latest = new Map<string, number>();
    for (const r of this.records) if (r.key !== null) latest.set(r.key.toString('latin1'), r.offset);
    const kept: LogRecord[] = [];
    for (const r of this.records) {
      const superseded = r.key !== null && (latest.get(r.key.toString('latin1')) !== r.offset || r.value === null);
      if (r.offset >= offset || !superseded) kept.push(r);
    }
    this.records = kept;
    this.compactedSize = kept.length;
  }

  /** Index of the first retained record at or after `offset` (binary search). */
  private indexFrom(offset: number): number {
    let lo = 0;
    let hi = this.records.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.records[mid]!.offset < offset) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
