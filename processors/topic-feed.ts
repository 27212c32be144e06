/**
 * A feed: a whole topic read from its start by a consumer group of its own
 * that never commits, each decoded value handed on as it arrives. The
 * joiner's shadow scorer follows model-snapshots and model-promotions this
 * way, and the promoter the manual decisions. A record that cannot be
 * decoded or applied is reported and skipped: a feed never stops the
 * processor that follows it. An error a retry can mend (the schema registry
 * is down) is not a reason to skip: it is thrown, and the batch is read again.
 */
import type { Codec } from '../adapters/codec/codec.js';
import { isRetriable } from '../core/errors.js';
import type { LogConsumer, LogRecord, LogTransport } from '../adapters/transport/transport.js';

export interface TopicFeedOptions<T> {
  topic: string;
  /** Unique per reader (it never commits; every start reads the topic again). */
  groupId: string;
  codec: Codec<T>;
  apply: (value: T, record: LogRecord) => void | Promise<void>;
  /** A record that could not be decoded or applied (default: skipped silently). */
  onSkipped?: (error: unknown, record: LogRecord) => void;
}

/** Hands each decodable record of `records` to `apply`, in order; the others to `onSkipped`. */
export async function applyRecords<T>(records: LogRecord[], options: Pick<TopicFeedOptions<T>, 'codec' | 'apply' | 'onSkipped'>): Promise<void> {
  for (const record of records) {
    try {
      await options.apply(await options.codec.decode(record.value), record);
    } catch (error) {
      if (isRetriable(error)) throw error;
      options.onSkipped?.(error, record);
    }
  }
}

export async function followTopic<T>(transport: LogTransport, options: TopicFeedOptions<T>): Promise<LogConsumer> {
  const feed = await transport.consumer({ groupId: options.groupId, topics: [options.topic], fromBeginning: true });
  await feed.run((batch) => applyRecords(batch.records, options));
  return feed;
}
