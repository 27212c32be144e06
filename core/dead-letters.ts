/**
 * A dead letter of a record: where it came from, its bytes, and why it was
 * rejected. Bounded, because a dead letter is a record too (see below).
 */
import type { DeadLetter } from './events.js';

/** Where a rejected record came from (a log record, or a row with no offset: -1). */
export interface RejectedRecord {
  topic: string;
  partition: number;
  offset: number;
  key: Buffer | null;
  value: Buffer | null;
}

/**
 * The most bytes of a record's value a dead letter carries. A dead letter is
 * a record too: one that carries a whole record near the broker's size limit
 * (message.max.bytes, 1 MB by default) would be refused, and with it the
 * transaction of every good record of its batch, at every retry. Past this,
 * the value is cut and the message says so; the whole record stays on its
 * topic, at the partition and offset the dead letter names.
 */
export const DEAD_LETTER_MAX_VALUE = 256 * 1024;

/** The most characters of an error message a dead letter carries. */
const MAX_MESSAGE = 2_000;

export function deadLetterFor(record: RejectedRecord, stage: string, errorClass: string, message: string, now: number): DeadLetter {
  const size = record.value?.length ?? 0;
  const cut = size > DEAD_LETTER_MAX_VALUE;
  const text = message.length > MAX_MESSAGE ? `${message.slice(0, MAX_MESSAGE)}…` : message;
  return {
    topic: record.topic,
    partition: record.partition,
    offset: record.offset,
    key: record.key !== null && record.key.length > DEAD_LETTER_MAX_VALUE ? record.key.subarray(0, DEAD_LETTER_MAX_VALUE) : record.key,
    value: cut ? record.value!.subarray(0, DEAD_LETTER_MAX_VALUE) : record.value,
    error_class: errorClass,
    error_message: cut ? `${text} (value cut to its first ${DEAD_LETTER_MAX_VALUE} of ${size} bytes: the whole record is at ${record.topic}/${record.partition}@${record.offset})` : text,
    stage,
    failed_at: now,
  };
}

