/**
 * A join entry (core/join/store.ts) as the joiner's changelog keeps it:
 * the two bytes 0x00 0x01 (format marker, format version), then the entry's
 * Avro body by schemas/internal/JoinChangelogEntry.avsc, whose prediction and
 * early feedback are the Prediction and Feedback records of schemas/ (the
 * very types the joiner decoded them with, and the replay packs predictions
 * with: adapters/codec/prediction-packing.ts). No JSON text starts with a
 * 0x00 byte: the JSON an older joiner wrote starts with `{`
 * (processors/joiner-changelog.ts tells the two apart).
 *
 * Lossless for every entry the join makes from validated events: Avro of a
 * validated prediction or feedback is (see prediction-packing.ts), the hashes
 * are unsigned 32-bit integers, trust 1 to 3, and expires_at a double. An
 * absent `resolved.emitted` is written as null and read back absent.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import avro from 'avsc';
import type { JoinEntry } from '../../core/join/index.js';
import { loadSchema, SCHEMAS_DIR } from './schemas.js';

/** The first bytes of every entry written in this format: 0x00 (never the first byte of JSON), then the version. */
export const JOIN_ENTRY_AVRO_MARKER = Buffer.from([0x00, 0x01]);

let entryType: avro.Type | undefined;

/** The entry schema, its Prediction, Feedback and FeedbackType taken from schemas/ (with their map and array checks). */
function type(): avro.Type {
  if (entryType) return entryType;
  const prediction = loadSchema('Prediction').type;
  const feedback = loadSchema('Feedback').type as avro.types.RecordType;
  const registry: Record<string, avro.Type> = {
    'feedbackloop.Prediction': prediction,
    'feedbackloop.Feedback': feedback,
    'feedbackloop.FeedbackType': feedback.field('feedback_type')!.type,
  };
  const schema = JSON.parse(readFileSync(join(SCHEMAS_DIR, 'internal', 'JoinChangelogEntry.avsc'), 'utf8')) as avro.Schema;
  entryType = avro.Type.forSchema(schema, { registry });
  return entryType;
}

/** Where entries are encoded before their bytes are copied out (grown for a large entry, given back after it). */
const SCRATCH_BYTES = 4096;
/** A scratch grown past this is dropped after its entry: a rare huge entry does not stay on the heap. */
const MAX_KEPT_SCRATCH_BYTES = 1 << 20;
let scratch = Buffer.allocUnsafe(SCRATCH_BYTES);

export function encodeJoinEntry(entry: JoinEntry): Buffer {
  const t = type();
  const resolved = entry.resolved;
  const value = resolved && resolved.emitted === undefined ? { ...entry, resolved: { ...resolved, emitted: null } } : entry;
  for (;;) {
    const end = t.encode(value, scratch, JOIN_ENTRY_AVRO_MARKER.length);
    if (end >= 0) {
      JOIN_ENTRY_AVRO_MARKER.copy(scratch, 0);
      const bytes = Buffer.from(scratch.subarray(0, end));
      if (scratch.length > MAX_KEPT_SCRATCH_BYTES) scratch = Buffer.allocUnsafe(SCRATCH_BYTES);
      return bytes;
    }
    // avsc says how many bytes were missing.
    scratch = Buffer.allocUnsafe(2 * (scratch.length - end));
  }
}

/** True when `value` starts with this format's marker (version included). */
export function isAvroJoinEntry(value: Buffer): boolean {
  return value.length >= JOIN_ENTRY_AVRO_MARKER.length && value[0] === JOIN_ENTRY_AVRO_MARKER[0] && value[1] === JOIN_ENTRY_AVRO_MARKER[1];
}

/** The entry of a value that isAvroJoinEntry; throws (avsc's error) when the body is not one. */
export function decodeJoinEntry(value: Buffer): JoinEntry {
  const entry = type().fromBuffer(value.subarray(JOIN_ENTRY_AVRO_MARKER.length)) as JoinEntry;
  if (entry.resolved && entry.resolved.emitted === null) delete entry.resolved.emitted;
  return entry;
}
