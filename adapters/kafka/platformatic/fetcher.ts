/**
 * One fetch of some partitions at given offsets, committed records only
 * (read_committed; the batches of aborted transactions are dropped here,
 * records.ts dropAborted, as are control batches), one request per
 * partition leader. Consumers and readToEnd both read through it, so the
 * library's own stream (no pause, resume or seek per partition) is not used.
 */
import { FetchIsolationLevels, type ConnectionPool, type Consumer } from '@platformatic/kafka';
import { FeedbackloopError } from '../../../core/errors.js';
import type { LogRecord } from '../../transport/transport.js';
import { dropAborted, nextOffsetAfter, toLogRecords } from './records.js';

export interface FetchPosition {
  topic: string;
  partition: number;
  /** The next offset to read. */
  offset: number;
}

export interface FetchedPartition {
  topic: string;
  partition: number;
  /** Data records at or after the position, in offset order. */
  records: LogRecord[];
  /** Where the next fetch starts: past every batch fetched (data, aborted, control). */
  next: number;
  highWatermark: number;
  /** The last stable offset: a read_committed reader gets nothing at or after it. */
  lastStable: number;
}

export interface FetchSettings {
  /** How long the broker waits for data when there is none. */
  maxWaitMs: number;
  /** Upper bound on the bytes of one partition in one fetch. */
  maxBytesPerPartition: number;
  /** Connections of this reader's own: a long poll does not hold up the group's heartbeats. */
  pool?: ConnectionPool;
}

type FetchTopics = Parameters<Consumer['fetch']>[0]['topics'];

const key = (topic: string, partition: number) => `${topic}\u0000${partition}`;

/** The fetch requests by leader, and topic id -> name. */
async function plan(client: Consumer, positions: readonly FetchPosition[], settings: FetchSettings) {
  const metadata = await client.metadata({ topics: [...new Set(positions.map((p) => p.topic))] });
  const byLeader = new Map<number, Map<string, FetchTopics[number]['partitions']>>();
  const names = new Map<string, string>();
  for (const { topic, partition, offset } of positions) {
    const info = metadata.topics.get(topic);
    const leader = info?.partitions[partition]?.leader;
    if (!info || leader === undefined || leader < 0) throw new FeedbackloopError(`no leader known for ${topic}/${partition}`, { retriable: true });
    names.set(info.id, topic);
    let topics = byLeader.get(leader);
    if (!topics) byLeader.set(leader, (topics = new Map()));
    let partitions = topics.get(info.id);
    if (!partitions) topics.set(info.id, (partitions = []));
    partitions.push({ partition, fetchOffset: BigInt(offset), partitionMaxBytes: settings.maxBytesPerPartition, currentLeaderEpoch: -1, lastFetchedEpoch: -1 });
  }
  return { byLeader, names };
}

export async function fetchPartitions(client: Consumer, positions: readonly FetchPosition[], settings: FetchSettings): Promise<FetchedPartition[]> {
  if (positions.length === 0) return [];
  const from = new Map(positions.map((p) => [key(p.topic, p.partition), p.offset]));
  const { byLeader, names } = await plan(client, positions, settings);
  const responses = await Promise.all(
    [...byLeader].map(([node, topics]) =>
      client.fetch({
        node,
        topics: [...topics].map(([topicId, partitions]) => ({ topicId, partitions })),
        maxWaitTime: settings.maxWaitMs,
        minBytes: 1,
        maxBytes: settings.maxBytesPerPartition * Math.max(1, positions.length),
        isolationLevel: FetchIsolationLevels.READ_COMMITTED,
        ...(settings.pool ? { connectionPool: settings.pool } : {}),
      }),
    ),
  );
  const out: FetchedPartition[] = [];
  for (const response of responses) {
    for (const topicResponse of response.responses) {
      const topic = names.get(topicResponse.topicId);
      if (topic === undefined) continue;
      for (const p of topicResponse.partitions) {
        const start = from.get(key(topic, p.partitionIndex));
        if (start === undefined) continue;
        const batches = dropAborted(p.records ?? [], p.abortedTransactions ?? []);
        out.push({
          topic,
          partition: p.partitionIndex,
          records: toLogRecords(topic, p.partitionIndex, batches, start),
          next: nextOffsetAfter(batches, start),
          highWatermark: Number(p.highWatermark),
          lastStable: Number(p.lastStableOffset),
        });
      }
    }
  }
  return out;
}
