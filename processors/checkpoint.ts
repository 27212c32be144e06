/**
 * Checkpoints of a processor's partition state (docs/architecture.md,
 * "Checkpoints"), for processors whose state is a function of their input
 * and would otherwise be rebuilt by re-reading the input from its start.
 *
 * A checkpoint of partition p is an opaque state (bytes: the processor
 * encodes it) and the input offsets it covers (per input topic, the next
 * offset of partition p not in it). It is written as records to partition
 * p of the processor's compacted checkpoint topic, in the same transaction
 * as those input offsets (TaskContext.commit), so a checkpoint never covers
 * more than what was committed: a restore takes the checkpoint, then
 * re-reads only the input from its offsets up to `resumeAt`.
 *
 * Records: the state cut into chunks of at most CHECKPOINT_CHUNK_BYTES
 * (Kafka refuses messages over 1 MB by default), keys `chunk-<i>`, each
 * value a header (format, checkpoint id, index, count, total bytes, SHA-256
 * of the whole state, the offsets) and its bytes: a 4-byte big-endian header
 * length, the header as JSON, the chunk. Compaction keeps the latest record
 * per key, so a checkpoint with fewer chunks than the one before leaves the
 * older checkpoint's higher chunks behind; the reader assembles one
 * checkpoint from its chunk 0 and the chunks that follow it with the same
 * id, in order (one transaction writes them in order to one partition), and
 * ignores any other. The latest complete, intact checkpoint of a known
 * format wins; an incomplete one (a chunk missing), a damaged one (length
 * or digest wrong) or one of another format is not used.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { LogRecord, LogTransport, OutgoingRecord } from '../adapters/transport/transport.js';
import { FeedbackloopError } from '../core/errors.js';

/** The header format this code writes and reads; a checkpoint of any other is not used. */
export const CHECKPOINT_FORMAT = 1;

/** State bytes per record, at most (a record then stays well under Kafka's default 1 MB limit). */
export const CHECKPOINT_CHUNK_BYTES = 512 * 1024;

export interface Checkpoint {
  /** The processor's state, opaque here. */
  state: Buffer;
  /** What the state covers: per input topic, the next offset (of this partition) not in it. */
  offsets: Record<string, number>;
}

/** What each chunk's value carries before its bytes. */
export interface ChunkHeader {
  format: number;
  /** Unique per checkpoint. */
  id: string;
  index: number;
  count: number;
  /** Length and SHA-256 (hex) of the whole state. */
  bytes: number;
  sha256: string;
  offsets: Record<string, number>;
}

/** A checkpoint read, or why there is none to use; `records`: checkpoint records read. */
export type CheckpointRead = { checkpoint: Checkpoint; id: string; records: number } | { checkpoint: undefined; reason: string; records: number };

/** The records of one checkpoint, for partition `partition` of the checkpoint topic `topic`. */
export function checkpointRecords(topic: string, partition: number, checkpoint: Checkpoint, options: { chunkBytes?: number; id?: string } = {}): OutgoingRecord[] {
  const size = options.chunkBytes ?? CHECKPOINT_CHUNK_BYTES;
  const { state, offsets } = checkpoint;
  const count = Math.max(1, Math.ceil(state.length / size));
  const common = { format: CHECKPOINT_FORMAT, id: options.id ?? randomUUID(), count, bytes: state.length, sha256: digest(state), offsets };
  const out: OutgoingRecord[] = [];
  for (let index = 0; index < count; index++) {
    const header = Buffer.from(JSON.stringify({ ...common, index } satisfies ChunkHeader), 'utf8');
    const length = Buffer.alloc(4);
    length.writeUInt32BE(header.length);
    const value = Buffer.concat([length, header, state.subarray(index * size, (index + 1) * size)]);
    out.push({ topic, partition, key: Buffer.from(`chunk-${index}`, 'utf8'), value });
  }
  return out;
}

/** Reads partition `partition` of the checkpoint topic to its end: its latest usable checkpoint, or why there is none. */
export async function readCheckpoint(transport: LogTransport, topic: string, partition: number, heartbeat: () => Promise<void>): Promise<CheckpointRead> {
  const assembler = new CheckpointAssembler();
  let records = 0;
  await transport.readToEnd(topic, [partition], async (batch) => {
    await heartbeat().catch(() => {});
    for (const record of batch) {
      records++;
      assembler.add(record);
    }
  });
  const found = assembler.result();
  return found.checkpoint ? { ...found, records } : { checkpoint: undefined, reason: found.reason, records };
}

/** The state and its header of one chunk record; throws on a record that is not one. */
export function parseChunk(record: Pick<LogRecord, 'value'>): { header: ChunkHeader; bytes: Buffer } {
  const value = record.value!;
  if (value.length < 4) throw new Error(`a checkpoint record of ${value.length} bytes`);
  const length = value.readUInt32BE(0);
  if (4 + length > value.length) throw new Error(`a checkpoint header of ${length} bytes in a record of ${value.length}`);
  const header = JSON.parse(value.subarray(4, 4 + length).toString('utf8')) as ChunkHeader;
  if (typeof header !== 'object' || header === null || typeof header.format !== 'number') throw new Error('a checkpoint record without a format');
  return { header, bytes: value.subarray(4 + length) };
}

function digest(state: Buffer): string {
  return createHash('sha256').update(state).digest('hex');
}

/**
 * Assembles checkpoints from chunk records in offset order: the one being
 * read (from its chunk 0) and the latest complete one. At most two states
 * are held, whatever the length of the (uncompacted) log.
 */
export class CheckpointAssembler {
  private building: { header: ChunkHeader; parts: Buffer[] } | undefined;
  private complete: { checkpoint: Checkpoint; id: string } | undefined;
  /** Why the latest checkpoint seen was not usable (the reason when none is). */
  private problem = 'no checkpoint yet';

  add(record: Pick<LogRecord, 'key' | 'value' | 'offset'>): void {
    if (record.value === null) return; // a tombstone
    let chunk: { header: ChunkHeader; bytes: Buffer };
    try {
      chunk = parseChunk(record);
    } catch (error) {
      return this.fail(`unreadable checkpoint record at offset ${record.offset}: ${(error as Error).message}`);
    }
    const { header, bytes } = chunk;
    if (header.format !== CHECKPOINT_FORMAT) return this.fail(`checkpoint format ${header.format} is not this version's (${CHECKPOINT_FORMAT})`);
    if (header.index === 0) {
      if (this.building) this.fail(`checkpoint ${this.building.header.id} is incomplete (chunks after ${this.building.parts.length - 1} missing)`);
      this.building = { header, parts: [bytes] };
    } else if (this.building?.header.id === header.id && header.index === this.building.parts.length && header.count === this.building.header.count) {
      this.building.parts.push(bytes);
    } else {
      // A chunk of an older, larger checkpoint left by compaction, or one out of sequence.
      if (this.building?.header.id === header.id) this.fail(`checkpoint ${header.id} is incomplete (chunk ${this.building.parts.length} missing)`);
      return;
    }
    if (this.building.parts.length === this.building.header.count) this.finish(this.building);
  }

  result(): { checkpoint: Checkpoint; id: string } | { checkpoint: undefined; reason: string } {
    if (this.building) this.fail(`checkpoint ${this.building.header.id} is incomplete (${this.building.parts.length} of ${this.building.header.count} chunks)`);
    return this.complete ?? { checkpoint: undefined, reason: this.problem };
  }

  private finish(building: { header: ChunkHeader; parts: Buffer[] }): void {
    this.building = undefined;
    const { header } = building;
    const state = Buffer.concat(building.parts);
    if (state.length !== header.bytes || digest(state) !== header.sha256) {
      return this.fail(`checkpoint ${header.id} is damaged (${state.length} bytes, or its digest, not what its header says)`);
    }
    this.complete = { checkpoint: { state, offsets: header.offsets }, id: header.id };
  }

  private fail(reason: string): void {
    this.building = undefined;
    this.problem = reason;
  }
}

/** Refuses to start (systemic) when the checkpoint topic has fewer partitions than the input: partition p's checkpoint goes to partition p. */
export async function requireCheckpointPartitions(transport: LogTransport, processor: string, checkpoints: string, input: string): Promise<void> {
  const [inputs, available] = [await transport.partitionCount(input), await transport.partitionCount(checkpoints)];
  if (available < inputs) {
    throw new FeedbackloopError(`the ${processor}'s checkpoint topic ${checkpoints} has ${available} partitions, fewer than ${input} (${inputs})`, { systemic: true });
  }
}
