/**
 * The first step of every processor: bytes -> a validated event, or a dead
 * letter that says why not. Only errors that describe the record itself
 * become dead letters; anything else (a registry that is down, a bug) is
 * thrown, so the batch is retried rather than a good record thrown away.
 */
import { DecodeError, ValidationError } from '../core/errors.js';
import { deadLetterFor } from '../core/dead-letters.js';
import type { DeadLetter } from '../core/events.js';
import type { Codec } from '../adapters/codec/codec.js';
import type { LogRecord, OutgoingRecord } from '../adapters/transport/transport.js';

export { deadLetterFor };

export type Decoded<T> = { ok: true; value: T; record: LogRecord } | { ok: false; letter: DeadLetter };

export async function decodeRecord<T>(
  record: LogRecord,
  codec: Codec<unknown>,
  validate: (value: unknown) => T,
  stage: string,
  now: number,
): Promise<Decoded<T>> {
  let raw: unknown = record.decoded;
  // The in-process log may carry the event beside its bytes (the replay's inputs, the joiner's
  // outputs): each was validated, and encoded by this schema just before it was produced, and a
  // validated event's Avro round trip gives it back equal (its strings are well formed), so the
  // decode is skipped. The validation is not: it applies this reader's limits and gives each
  // reader its own copy (the learner, promoter and evaluator read the same record).
  if (raw === undefined) {
    try {
      raw = await codec.decode(record.value);
    } catch (error) {
      if (error instanceof DecodeError) return { ok: false, letter: deadLetterFor(record, stage, error.errorClass, error.message, now) };
      throw error;
    }
  }
  try {
    return { ok: true, value: validate(raw), record };
  } catch (error) {
    if (error instanceof ValidationError) return { ok: false, letter: deadLetterFor(record, stage, 'validation', error.message, now) };
    throw error;
  }
}

/** Dead letters as records of the dead-letter topic (the processors that write them in their transaction). */
export async function deadLetterRecords(letters: DeadLetter[], topic: string, codec: Codec<DeadLetter>, timestamp: number): Promise<OutgoingRecord[]> {
  const out: OutgoingRecord[] = [];
  for (const letter of letters) out.push({ topic, key: letter.key, value: await codec.encode(letter), timestamp });
  return out;
}
