/**
 * The generic checkpoint records (processors/checkpoint.ts) and the restore
 * from them (processors/checkpoint-restore.ts): chunking of large states,
 * what compaction leaves behind, incomplete, damaged and foreign checkpoints.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { MemoryTransport } from '../../adapters/transport/memory.js';
import type { LogRecord, OutgoingRecord } from '../../adapters/transport/transport.js';
import { CHECKPOINT_CHUNK_BYTES, CheckpointAssembler, checkpointRecords, parseChunk, readCheckpoint, type Checkpoint } from '../../processors/checkpoint.js';
import { restoreCheckpoint } from '../../processors/checkpoint-restore.js';

const TOPIC = 'checkpoints';
const noHeartbeat = async () => {};

/** The records as a log holds them from offset `first`. */
function logged(records: OutgoingRecord[], first = 0): LogRecord[] {
  return records.map((r, i) => ({ topic: TOPIC, partition: 0, offset: first + i, key: r.key, value: r.value, timestamp: 0, headers: {} }));
}

/** What compaction keeps: the latest record per key, in offset order. */
function compacted(log: LogRecord[]): LogRecord[] {
  const latest = new Map<string, LogRecord>();
  for (const r of log) latest.set(r.key!.toString('utf8'), r);
  return [...latest.values()].sort((a, b) => a.offset - b.offset);
}

function assemble(log: LogRecord[]): ReturnType<CheckpointAssembler['result']> {
  const assembler = new CheckpointAssembler();
  for (const r of log) assembler.add(r);
  return assembler.result();
}

const checkpoint = (bytes: number, offset: number): Checkpoint => ({ state: randomBytes(bytes), offsets: { labelled: offset } });

describe('checkpoint records', () => {
  it('cut a state into chunks of at most 512 KiB, keys chunk-<i>, each with its header; read back whole', async () => {
    const big = checkpoint(2 * CHECKPOINT_CHUNK_BYTES + 1000, 123_456);
    const records = checkpointRecords(TOPIC, 2, big);
    expect(records.map((r) => r.key!.toString())).toEqual(['chunk-0', 'chunk-1', 'chunk-2']);
    expect(records.every((r) => r.topic === TOPIC && r.partition === 2 && r.value!.length < CHECKPOINT_CHUNK_BYTES + 1024)).toBe(true);
    const headers = records.map((r) => parseChunk(r).header);
    expect(headers.map((h) => [h.format, h.index, h.count, h.bytes])).toEqual([0, 1, 2].map((i) => [1, i, 3, big.state.length]));
    expect(new Set(headers.map((h) => h.id)).size).toBe(1);

    const log = new MemoryTransport();
    await log.ensureTopics([{ name: TOPIC, partitions: 3, compacted: true }]);
    const producer = await log.producer();
    await producer.send(records);
    await producer.send(checkpointRecords(TOPIC, 1, checkpoint(10, 1)));
    const read = await readCheckpoint(log, TOPIC, 2, noHeartbeat);
    expect(read.records).toBe(3);
    expect(read.checkpoint?.state.equals(big.state)).toBe(true);
    expect(read.checkpoint?.offsets).toEqual({ labelled: 123_456 });
    // An empty state is one chunk; an empty partition has none.
    expect(checkpointRecords(TOPIC, 0, { state: Buffer.alloc(0), offsets: {} })).toHaveLength(1);
    expect(await readCheckpoint(log, TOPIC, 0, noHeartbeat)).toEqual({ checkpoint: undefined, reason: 'no checkpoint yet', records: 0 });
  });

  it('the latest checkpoint wins, before and after compaction: stale higher chunks of an older, larger one are ignored', () => {
    const older = checkpoint(3 * 100 - 5, 10);
    const newer = checkpoint(100, 20);
    const log = logged([...checkpointRecords(TOPIC, 0, older, { chunkBytes: 100 }), ...checkpointRecords(TOPIC, 0, newer, { chunkBytes: 100 })]);
    for (const form of [log, compacted(log)]) {
      const read = assemble(form);
      expect(read.checkpoint?.state.equals(newer.state)).toBe(true);
      expect(read.checkpoint?.offsets).toEqual({ labelled: 20 });
    }
    // Compaction left chunk-1 and chunk-2 of the older one before the newer chunk-0.
    expect(compacted(log).map((r) => `${r.key}@${r.offset}`)).toEqual(['chunk-1@1', 'chunk-2@2', 'chunk-0@3']);
    // A newer one with two chunks over an older one with three: chunk-2 of the older stays, ignored.
    const two = checkpoint(150, 30);
    const again = compacted(logged([...checkpointRecords(TOPIC, 0, older, { chunkBytes: 100 }), ...checkpointRecords(TOPIC, 0, two, { chunkBytes: 100 })]));
    expect(again.map((r) => r.key!.toString())).toEqual(['chunk-2', 'chunk-0', 'chunk-1']);
    expect(assemble(again).checkpoint?.state.equals(two.state)).toBe(true);
  });

  it('an incomplete checkpoint is not used: the one before it is, or none, saying why', () => {
    const older = checkpoint(150, 10);
    const newer = checkpoint(250, 20);
    const newerRecords = checkpointRecords(TOPIC, 0, newer, { chunkBytes: 100 });
    const withoutChunk1 = [newerRecords[0]!, newerRecords[2]!];
    const log = logged([...checkpointRecords(TOPIC, 0, older, { chunkBytes: 100 }), ...withoutChunk1]);
    expect(assemble(log).checkpoint?.offsets).toEqual({ labelled: 10 });
    const alone = assemble(logged(withoutChunk1));
    expect(alone.checkpoint).toBeUndefined();
    expect((alone as { reason: string }).reason).toMatch(/incomplete \(chunk 1 missing\)/);
    const truncated = assemble(logged(newerRecords.slice(0, 2)));
    expect((truncated as { reason: string }).reason).toMatch(/incomplete \(2 of 3 chunks\)/);
  });

  it('a checkpoint of another format, a damaged one or an unreadable record is not used', () => {
    const records = checkpointRecords(TOPIC, 0, checkpoint(50, 1));
    const rewrite = (edit: (header: Record<string, unknown>) => void): OutgoingRecord => {
      const { header, bytes } = parseChunk(records[0]!);
      const h = { ...header } as Record<string, unknown>;
      edit(h);
      const json = Buffer.from(JSON.stringify(h));
      const length = Buffer.alloc(4);
      length.writeUInt32BE(json.length);
      return { ...records[0]!, value: Buffer.concat([length, json, bytes]) };
    };
    expect(assemble(logged([rewrite((h) => (h.format = 2))]))).toEqual({ checkpoint: undefined, reason: 'checkpoint format 2 is not this version\'s (1)' });
    expect((assemble(logged([rewrite((h) => (h.sha256 = '00'))])) as { reason: string }).reason).toMatch(/is damaged/);
    expect((assemble(logged([{ ...records[0]!, value: Buffer.from('xx') }])) as { reason: string }).reason).toMatch(/unreadable checkpoint record at offset 0/);
    // A tombstone is skipped.
    expect(assemble(logged([...records, { ...records[0]!, value: null }])).checkpoint).toBeDefined();
  });
});

describe('restoreCheckpoint', () => {
  const ctx = (resumeAt: number) => ({ partition: 0, resumeAt: () => resumeAt, heartbeat: noHeartbeat });

  async function logWith(...checkpoints: Checkpoint[]): Promise<MemoryTransport> {
    const log = new MemoryTransport();
    await log.ensureTopics([{ name: TOPIC, partitions: 1, compacted: true }]);
    const producer = await log.producer();
    for (const c of checkpoints) await producer.send(checkpointRecords(TOPIC, 0, c));
    return log;
  }

  it('gives the decoded state and where the input re-read starts', async () => {
    const log = await logWith({ state: Buffer.from('state'), offsets: { labelled: 40 } });
    const restored = await restoreCheckpoint({ transport: log, topic: TOPIC, inputs: ['labelled'], ctx: ctx(50), decode: (b) => b.toString() });
    expect(restored).toEqual({ state: 'state', from: { labelled: 40 } });
  });

  it('uses none, saying why, when there is none, it does not cover an input, it is ahead of the committed offsets, or it does not fit', async () => {
    const options = (transport: MemoryTransport, resumeAt = 50, decode = (b: Buffer) => b.toString()) => ({ transport, topic: TOPIC, inputs: ['labelled'], ctx: ctx(resumeAt), decode });
    const none = await restoreCheckpoint(options(await logWith()));
    expect(none).toEqual({ state: undefined, from: { labelled: 0 }, reason: 'no checkpoint yet' });
    const log = await logWith({ state: Buffer.from('s'), offsets: { other: 40 } });
    expect((await restoreCheckpoint(options(log))).reason).toMatch(/does not cover labelled/);
    const ahead = await logWith({ state: Buffer.from('s'), offsets: { labelled: 60 } });
    expect((await restoreCheckpoint(options(ahead))).reason).toMatch(/ahead of the committed offset of labelled \(60 > 50\)/);
    const unfit = await restoreCheckpoint(options(await logWith({ state: Buffer.from('s'), offsets: { labelled: 40 } }), 50, () => {
      throw new Error('made under other settings');
    }));
    expect(unfit).toMatchObject({ state: undefined, from: { labelled: 0 } });
    expect(unfit.reason).toMatch(/does not fit: made under other settings/);
  });
});
