/**
 * Records between the log interface and @platformatic/kafka: outgoing records
 * to the messages it produces (placed by Kafka's murmur2 partitioner), and the
 * record batches of a fetch response to LogRecords.
 */
import { IS_CONTROL, IS_TRANSACTIONAL, type MessageToProduce, type Partitioner, type RecordsBatch } from '@platformatic/kafka';
import { murmur2 } from '../../transport/partitioner.js';
import type { LogRecord, OutgoingRecord } from '../../transport/transport.js';

/**
 * Keyed records where the Java client, kafkajs and the in-process log put them
 * (@platformatic/kafka's default partitioner hashes with `>>> 0`, which differs
 * for half the keys); unkeyed ones round robin. The producer takes the result
 * modulo the partition count.
 */
export function murmur2Partitioner(): Partitioner<Buffer, Buffer, Buffer, Buffer> {
  const next = new Map<string, number>();
  return (message, key) => {
    if (key && key.length > 0) return murmur2(key) & 0x7fffffff;
    const n = next.get(message.topic) ?? 0;
    next.set(message.topic, (n + 1) & 0x7fffffff);
    return n;
  };
}

export function toMessage(record: OutgoingRecord): MessageToProduce<Buffer, Buffer, Buffer, Buffer> {
  const message: MessageToProduce<Buffer, Buffer, Buffer, Buffer> = { topic: record.topic };
  // Left out, a key or value is written as null (a value as a compaction tombstone).
  if (record.key) message.key = record.key;
  if (record.value) message.value = record.value;
  if (record.partition !== undefined) message.partition = record.partition;
  message.timestamp = BigInt(record.timestamp ?? Date.now());
  if (record.headers) message.headers = new Map(Object.entries(record.headers).map(([k, v]) => [Buffer.from(k), Buffer.from(v)]));
  return message;
}

/**
 * The batches of a read_committed fetch without those of aborted transactions
 * (as the Java consumer does): a producer's batches from the first offset the
 * broker lists for one of its aborted transactions up to its abort marker.
 * @platformatic/kafka 1.35.0 filters too, but keeps one range per producer,
 * so when a fetch holds two aborted transactions of one producer the records
 * of the first are delivered (kafka-transport-platformatic.test.ts).
 */
export function dropAborted(batches: readonly RecordsBatch[], aborted: ReadonlyArray<{ producerId: bigint; firstOffset: bigint }>): RecordsBatch[] {
  if (aborted.length === 0) return [...batches];
  const pending = [...aborted].sort((a, b) => (a.firstOffset < b.firstOffset ? -1 : a.firstOffset > b.firstOffset ? 1 : 0));
  const abortedProducers = new Set<bigint>();
  const out: RecordsBatch[] = [];
  for (const batch of batches) {
    while (pending.length > 0 && pending[0]!.firstOffset <= batch.firstOffset + BigInt(batch.lastOffsetDelta)) abortedProducers.add(pending.shift()!.producerId);
    if (batch.attributes & IS_CONTROL) {
      // Control record key: version (int16), type (int16; 0 = abort, 1 = commit).
      if (batch.records[0]?.key?.readInt16BE(2) === 0) abortedProducers.delete(batch.producerId);
      out.push(batch);
      continue;
    }
    if (!((batch.attributes & IS_TRANSACTIONAL) && abortedProducers.has(batch.producerId))) out.push(batch);
  }
  return out;
}

/** The data records of `batches` at or after `from` (a fetch may start inside a batch), in offset order. */
export function toLogRecords(topic: string, partition: number, batches: readonly RecordsBatch[], from: number): LogRecord[] {
  const out: LogRecord[] = [];
  for (const batch of batches) {
    if (batch.attributes & IS_CONTROL) continue;
    const first = Number(batch.firstOffset);
    for (const record of batch.records) {
      const offset = first + record.offsetDelta;
      if (offset < from) continue;
      const headers: Record<string, string> = {};
      for (const [name, value] of record.headers) {
        if (name) headers[name.toString('utf8')] = value ? value.toString('utf8') : '';
      }
      out.push({
        topic,
        partition,
        offset,
        key: record.key,
        value: record.value,
        timestamp: timestampOf(batch, record.timestampDelta),
        headers,
      });
    }
  }
  return out;
}

/** Bit 3 of a record batch's attributes: the broker stamped it (LogAppendTime). */
const LOG_APPEND_TIME = 0x08;

/**
 * A record's timestamp: the broker's append time for the whole batch on a
 * LogAppendTime topic (the records keep the producer's stamps, which a
 * client must then ignore, as the Java consumer does), else the record's own.
 */
function timestampOf(batch: RecordsBatch, delta: bigint): number {
  return Number(batch.attributes & LOG_APPEND_TIME ? batch.maxTimestamp : batch.firstTimestamp + delta);
}

/** The offset after the last batch of a fetch (data, aborted or control): where the next fetch starts. */
export function nextOffsetAfter(batches: readonly RecordsBatch[], from: number): number {
  const last = batches[batches.length - 1];
  if (!last) return from;
  return Math.max(from, Number(last.firstOffset) + last.lastOffsetDelta + 1);
}
