/**
 * The joiner's changelog: every key a batch touched is written to the
 * compacted changelog topic (the entry in binary, or a tombstone when it is
 * gone), plus the partition's watermark, in the same transaction as the
 * batch's outputs and offsets, and each model the partition admitted
 * (limits.max_models: a restart admits the same models). Restoring a
 * partition replays its changelog into an empty store.
 *
 * An entry's value is told apart by its first byte: 0x00 is the binary
 * format (0x00 0x01, then Avro: adapters/codec/join-entry-avro.ts); `{` is
 * the JSON that joiners before it wrote, still read (a deployment upgrades
 * in place: its changelog holds both until compaction). Anything else, or a
 * value that does not decode, fails the restore with an error that names
 * the record (as a changelog record that is not JSON always did).
 * The watermark and model records stay small JSON.
 */
import { errorMessage, FeedbackloopError } from '../core/errors.js';
import { withClassDefaults, type JoinEntry, type JoinStore } from '../core/join/index.js';
import { decodeJoinEntry, encodeJoinEntry, isAvroJoinEntry } from '../adapters/codec/join-entry-avro.js';
import type { LogRecord, OutgoingRecord } from '../adapters/transport/transport.js';

/** Changelog key of the watermark record (no prediction_id starts with NUL). */
export const WATERMARK_KEY = '\u0000watermark';

/** Changelog keys of the admitted models: this prefix and the name (one record each, never deleted). */
export const MODEL_KEY_PREFIX = '\u0000model:';

export type ChangelogChange =
  | { kind: 'watermark'; watermark: number }
  | { kind: 'model'; model: string }
  | { kind: 'entry'; key: string; entry: JoinEntry | null };

export function decodeChangelogRecord(record: LogRecord): ChangelogChange {
  if (!record.key) throw new FeedbackloopError(`changelog record ${record.topic}/${record.partition}@${record.offset} has no key`);
  const key = record.key.toString('utf8');
  if (key === WATERMARK_KEY) {
    return { kind: 'watermark', watermark: (JSON.parse(record.value!.toString('utf8')) as { watermark: number }).watermark };
  }
  if (key.startsWith(MODEL_KEY_PREFIX)) return { kind: 'model', model: key.slice(MODEL_KEY_PREFIX.length) };
  return { kind: 'entry', key, entry: record.value === null ? null : decodeEntry(record) };
}

/** A JSON left brace: the first byte of every entry written as JSON (by joiners before the binary format). */
const JSON_START = 0x7b;

/** An entry's value, binary or (written by an older joiner) JSON. */
function decodeEntry(record: LogRecord): JoinEntry {
  const value = record.value!;
  const where = `changelog record ${record.topic}/${record.partition}@${record.offset}`;
  if (isAvroJoinEntry(value)) {
    try {
      return decodeJoinEntry(value);
    } catch (error) {
      throw new FeedbackloopError(`${where} does not decode as a join entry: ${errorMessage(error)}`, { cause: error });
    }
  }
  if (value[0] !== JSON_START) {
    const first = value.length === 0 ? 'is empty' : `starts with byte 0x${value[0]!.toString(16).padStart(2, '0')}`;
    throw new FeedbackloopError(`${where} ${first}: neither a binary join entry (0x00 0x01) nor JSON ({)`);
  }
  let entry: JoinEntry;
  try {
    entry = JSON.parse(value.toString('utf8')) as JoinEntry;
  } catch (error) {
    throw new FeedbackloopError(`${where} is not JSON: ${errorMessage(error)}`, { cause: error });
  }
  // An entry an older joiner wrote has no class fields: they are filled in as their defaults.
  return withClassDefaults(entry);
}

/**
 * A JoinStore that remembers which keys changed since the last drain, and their last value.
 * With `recording` false it remembers nothing and drains nothing (a joiner without a changelog).
 */
export class ChangelogRecorder implements JoinStore {
  /** id -> the entry last set (null: deleted). Kept so the drain need not read the store back. */
  private readonly dirty = new Map<string, JoinEntry | null>();
  private lastWatermark = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly inner: JoinStore,
    private readonly recording = true,
  ) {}

  get(id: string): JoinEntry | undefined {
    return this.inner.get(id);
  }

  set(id: string, entry: JoinEntry): void {
    this.inner.set(id, entry);
    if (this.recording) this.dirty.set(id, entry);
  }

  delete(id: string): void {
    this.inner.delete(id);
    if (this.recording) this.dirty.set(id, null);
  }

  transaction<T>(fn: () => T): T {
    return this.inner.transaction ? this.inner.transaction(fn) : fn();
  }

  async close(): Promise<void> {
    this.dirty.clear();
    await this.inner.close?.();
  }

  /** Forgets the changes not yet drained (their batch failed; the task is restored from the changelog). */
  discardChanges(): void {
    this.dirty.clear();
  }

  addExpiry(at: number, id: string): void {
    this.inner.addExpiry(at, id);
  }

  takeExpired(watermark: number): Array<{ at: number; id: string }> {
    return this.inner.takeExpired(watermark);
  }

  size(): number {
    return this.inner.size();
  }

  /** Restores one entry from the changelog (not recorded as a change). */
  restore(id: string, entry: JoinEntry): void {
    this.inner.set(id, entry);
    // Re-index; a stale item from an earlier version of the entry is skipped at expiry.
    this.inner.addExpiry(entry.expires_at, id);
  }

  restoreDelete(id: string): void {
    this.inner.delete(id);
  }

  restoreWatermark(watermark: number): void {
    this.lastWatermark = watermark;
  }

  /** The changelog records for everything changed since the last drain (and the models admitted meanwhile), and forgets them. */
  drainChanges(topic: string, partition: number, watermark: number, models: readonly string[] = []): OutgoingRecord[] {
    const out: OutgoingRecord[] = [];
    if (!this.recording) return out;
    for (const model of models) out.push({ topic, partition, key: Buffer.from(`${MODEL_KEY_PREFIX}${model}`, 'utf8'), value: Buffer.from('{}', 'utf8') });
    for (const [id, entry] of this.dirty) {
      out.push({ topic, partition, key: Buffer.from(id, 'utf8'), value: entry ? encodeJoinEntry(entry) : null });
    }
    this.dirty.clear();
    if (watermark !== this.lastWatermark && Number.isFinite(watermark)) {
      out.push({ topic, partition, key: Buffer.from(WATERMARK_KEY, 'utf8'), value: Buffer.from(JSON.stringify({ watermark }), 'utf8') });
      this.lastWatermark = watermark;
    }
    return out;
  }
}
