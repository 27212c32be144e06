/**
 * LogTransport.readToEnd over kafkajs: reads some partitions of a topic from
 * the log start (or a given offset) to their end as of the call (committed
 * records only), for restoring state from a changelog.
 *
 * kafkajs cannot assign partitions by hand, so this runs a consumer in an
 * ephemeral group of its own (unique id, one member, so it gets every
 * partition), pauses the partitions nobody asked for, never commits, and
 * deletes the group afterwards (best effort: otherwise it stays listed, in
 * state Empty, until the broker expires it).
 *
 * The end of a partition is the offset ListOffsets(latest) returns for a
 * read_committed client, i.e. the LAST STABLE OFFSET: everything before it is
 * decided (committed or aborted), so a read_committed fetch can always get
 * there. (kafkajs's admin.fetchTopicOffsets sends ListOffsets with
 * isolation READ_COMMITTED by default, so its `offset`/`high` is the LSO,
 * not the high watermark; test/integration/kafka-transport.test.ts checks
 * this with an open transaction.) With the high watermark instead, an open
 * transaction would make the read wait until it ends or times out.
 *
 * Records never delivered still occupy offsets: transaction markers and
 * aborted records. So progress is tracked from kafkajs's batch offsets
 * (which include them), not from the records delivered: a batch filtered to
 * nothing still emits END_BATCH_PROCESS with its last raw offset, and
 * batch.lastOffset() of a delivered batch covers a trailing commit marker.
 */
import { randomUUID } from 'node:crypto';
import type { Admin, Kafka, KafkaMessage } from 'kafkajs';
import { FeedbackloopError } from '../../core/errors.js';
import type { LogRecord } from '../transport/transport.js';

export interface ReadToEndDeps {
  kafka: Kafka;
  admin: Admin;
  /** admin.fetchTopicOffsets, serialized by the transport (see KafkaTransport.topicOffsets). */
  topicOffsets: (topic: string) => ReturnType<Admin['fetchTopicOffsets']>;
  /** Prefix of the ephemeral group id. */
  groupPrefix: string;
  /** Partition count of the topic (throws a clear error if it does not exist). */
  partitionCount: (topic: string) => Promise<number>;
  /** The error to end the read with when Kafka refused it for want of an ACL (naming what to grant). */
  refusal?: (error: unknown, groupId: string) => Error | undefined;
  /** Registers the consumer so that closing the transport also closes it; returns the unregister function. */
  track: (client: { disconnect(): Promise<void> }) => () => void;
}

/** The middle of the ephemeral groups' ids, `<groupPrefix>-read-to-end-<uuid>` (runtime/acls.ts grants them by prefix). */
export const READ_TO_END_GROUP = 'read-to-end';

export function toLogRecord(topic: string, partition: number, m: KafkaMessage): LogRecord {
  return {
    topic,
    partition,
    offset: Number(m.offset),
    key: m.key,
    value: m.value,
    timestamp: Number(m.timestamp),
    headers: headersOf(m.headers as Record<string, unknown> | undefined),
  };
}

export function headersOf(raw: Record<string, unknown> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!raw) return out;
  for (const [name, value] of Object.entries(raw)) {
    if (value === undefined) continue;
    out[name] = Buffer.isBuffer(value) ? value.toString('utf8') : String(value);
  }
  return out;
}

export async function readToEnd(
  deps: ReadToEndDeps,
  topic: string,
  partitions: number[],
  onRecords: (records: LogRecord[]) => void | Promise<void>,
  from?: ReadonlyMap<number, number>,
): Promise<{ endOffsets: Map<number, number> }> {
  const count = await deps.partitionCount(topic);
  for (const p of partitions) {
    if (!Number.isInteger(p) || p < 0 || p >= count) throw new FeedbackloopError(`topic ${topic} has no partition ${p}`);
  }
  const offsets = await deps.topicOffsets(topic);
  const endOffsets = new Map<number, number>();
  /** Partitions still to read: partition -> next offset to deliver and end offset. */
  const pending = new Map<number, { next: number; end: number }>();
  for (const partition of partitions) {
    const entry = offsets.find((o) => o.partition === partition);
    if (!entry) throw new FeedbackloopError(`no offsets for ${topic}/${partition}`, { retriable: true });
    const end = Number(entry.offset);
    endOffsets.set(partition, end);
    const start = Math.max(Number(entry.low), from?.get(partition) ?? 0);
    if (end > start) pending.set(partition, { next: start, end });
  }
  if (pending.size === 0) return { endOffsets };

  const groupId = `${deps.groupPrefix}-${READ_TO_END_GROUP}-${randomUUID()}`;
  const consumer = deps.kafka.consumer({
    groupId,
    readUncommitted: false,
    allowAutoTopicCreation: false,
    // Short polls: there is always something below the LSO until we are done.
    maxWaitTimeInMs: 200,
  });
  const untrack = deps.track(consumer);
  let settle!: (error?: unknown) => void;
  let settled = false;
  const finished = new Promise<void>((resolve, reject) => {
    settle = (error?: unknown) => {
      if (settled) return;
      settled = true;
      if (error === undefined) resolve();
      else reject(error);
    };
  });
  finished.catch(() => {}); // awaited below; this only keeps an early failure from counting as unhandled
  const idle = () => Array.from({ length: count }, (_, p) => p).filter((p) => !pending.has(p));
  const advance = (partition: number, next: number) => {
    const state = pending.get(partition);
    if (!state || next < state.end) return;
    pending.delete(partition);
    consumer.pause([{ topic, partitions: [partition] }]);
    if (pending.size === 0) settle();
  };

  try {
    // Runs before the first fetch of each generation: fetch only what we still read.
    consumer.on(consumer.events.GROUP_JOIN, () => {
      const others = idle();
      if (others.length > 0) consumer.pause([{ topic, partitions: others }]);
    });
    consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
      if (payload.topic === topic) advance(payload.partition, Number(payload.lastOffset) + 1);
    });
    // A crash ends the read: a restarted kafkajs consumer would start over in a new member.
    consumer.on(consumer.events.CRASH, ({ payload }) => settle(deps.refusal?.(payload.error, groupId) ?? payload.error));

    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        const state = pending.get(batch.partition);
        if (settled || batch.topic !== topic || !state) return;
        // `next` also drops what a rejoin (e.g. after a session timeout) fetches a second time, and what
        // precedes `from` when a fetch from the log start went out before the seek below took effect.
        const records = batch.messages
          .filter((m) => Number(m.offset) >= state.next && Number(m.offset) < state.end)
          .map((m) => toLogRecord(topic, batch.partition, m));
        if (records.length === 0) return;
        state.next = records[records.length - 1]!.offset + 1;
        try {
          await onRecords(records);
        } catch (error) {
          settle(error);
        }
      },
    });
    // Partitions read from `from`: fetch from there (a seek needs a running consumer; kafkajs applies it at its next fetch).
    for (const [partition, state] of pending) {
      if (from?.has(partition) && state.next > Number(offsets.find((o) => o.partition === partition)!.low)) {
        consumer.seek({ topic, partition, offset: String(state.next) });
      }
    }
    await finished;
    return { endOffsets };
  } finally {
    untrack();
    await consumer.disconnect().catch(() => {});
    await deps.admin.deleteGroups([groupId]).catch(() => {});
  }
}
