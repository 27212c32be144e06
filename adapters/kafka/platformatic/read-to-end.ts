/**
 * LogTransport.readToEnd over @platformatic/kafka: fetches the partitions
 * directly from their leaders (no consumer group: nothing to join, commit or
 * delete afterwards), from the log start or `from` up to the last stable
 * offset as of the call (see the interface: records of open transactions are
 * not read, nor anything after them).
 */
import { FetchIsolationLevels, ListOffsetTimestamps, type Consumer } from '@platformatic/kafka';
import { FeedbackloopError } from '../../../core/errors.js';
import type { LogRecord } from '../../transport/transport.js';
import { fetchPartitions, type FetchPosition } from './fetcher.js';

/** The offsets of every partition of `topic` at `timestamp` (latest: the LSO for read_committed). */
export async function listOffsets(client: Consumer, topic: string, timestamp: bigint): Promise<number[]> {
  const offsets = await client.listOffsets({ topics: [topic], timestamp, isolationLevel: FetchIsolationLevels.READ_COMMITTED });
  return (offsets.get(topic) ?? []).map(Number);
}

export async function readToEnd(
  client: Consumer,
  partitionCount: (topic: string) => Promise<number>,
  topic: string,
  partitions: number[],
  onRecords: (records: LogRecord[]) => void | Promise<void>,
  from?: ReadonlyMap<number, number>,
): Promise<{ endOffsets: Map<number, number> }> {
  const count = await partitionCount(topic);
  for (const p of partitions) {
    if (!Number.isInteger(p) || p < 0 || p >= count) throw new FeedbackloopError(`topic ${topic} has no partition ${p}`);
  }
  const [ends, starts] = await Promise.all([listOffsets(client, topic, ListOffsetTimestamps.LATEST), listOffsets(client, topic, ListOffsetTimestamps.EARLIEST)]);
  const endOffsets = new Map<number, number>();
  const pending = new Map<number, FetchPosition & { end: number }>();
  for (const partition of partitions) {
    const end = ends[partition];
    if (end === undefined) throw new FeedbackloopError(`no offsets for ${topic}/${partition}`, { retriable: true });
    endOffsets.set(partition, end);
    const offset = Math.max(starts[partition] ?? 0, from?.get(partition) ?? 0);
    if (end > offset) pending.set(partition, { topic, partition, offset, end });
  }
  while (pending.size > 0) {
    // Short polls: there is always something below the LSO until we are done.
    const fetched = await fetchPartitions(client, [...pending.values()], { maxWaitMs: 200, maxBytesPerPartition: 1024 * 1024 });
    for (const part of fetched) {
      const state = pending.get(part.partition)!;
      const records = part.records.filter((r) => r.offset < state.end);
      if (records.length > 0) await onRecords(records);
      state.offset = part.next;
      if (state.offset >= state.end) pending.delete(part.partition);
    }
  }
  return { endOffsets };
}
