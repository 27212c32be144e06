/**
 * The first step of every processor: bytes -> a validated event, or a dead
 * letter that says why not. Only errors that describe the record itself
 * become dead letters; anything else (a registry that is down, a bug) is
 * thrown, so the batch is retried rather than a good record thrown away.
 */
import { DecodeError, ValidationError } from '../core/errors.js';
import { deadLetterFor } from '../core/dead-letters.js';
import type { DeadLetter } from '../core/events.js';
import type { RecordLimits } from '../core/limits.js';
import type { Codec } from '../adapters/codec/codec.js';
import type { LogRecord, OutgoingRecord } from '../adapters/transport/transport.js';

export { deadLetterFor };

export type Decoded<T> = { ok: true; value: T; record: LogRecord } | { ok: false; letter: DeadLetter };

/**
 * A reader's contract and its record limits, for readers that never change the event they are
 * given (the joiner its inputs; the learner, the promoter and the evaluator each labelled example): of an event
 * the in-process log carries beside its bytes, every such reader under the same contract and
 * equal limits gets the one validated copy its writer or the first reader made (sharedValidation).
 */
export interface SharedContract<T> {
  contract: (value: unknown, limits: RecordLimits) => T;
  limits: RecordLimits;
}

export async function decodeRecord<T>(
  record: LogRecord,
  codec: Codec<unknown>,
  validate: ((value: unknown) => T) | SharedContract<T>,
  stage: string,
  now: number,
): Promise<Decoded<T>> {
  let raw: unknown = record.decoded;
  // The in-process log may carry the event beside its bytes (the replay's inputs, the joiner's
  // outputs): each was validated, and encoded by this schema just before it was produced, and a
  // validated event's Avro round trip gives it back equal (its strings are well formed), so the
  // decode is skipped. The validation is not: it applies this reader's limits, and gives each
  // reader its own copy, or one copy to the readers that share it (SharedContract).
  const carried = raw !== undefined;
  if (!carried) {
    try {
      raw = await codec.decode(record.value);
    } catch (error) {
      if (error instanceof DecodeError) return { ok: false, letter: deadLetterFor(record, stage, error.errorClass, error.message, now) };
      throw error;
    }
  }
  try {
    const value = typeof validate === 'function' ? validate(raw) : carried ? sharedValidation(record, raw, validate) : validate.contract(raw, validate.limits);
    return { ok: true, value, record };
  } catch (error) {
    if (error instanceof ValidationError) return { ok: false, letter: deadLetterFor(record, stage, 'validation', error.message, now) };
    throw error;
  }
}

/**
 * `contract(raw, limits)` for a carried event: the copy its record holds when that was made
 * under the same contract and equal limits (by its writer, or the first reader), else a new
 * one, which the record keeps when it held none. One slot per record: the readers of a topic
 * share their contract, and a reader under other limits validates on its own.
 */
function sharedValidation<T>(record: LogRecord, raw: unknown, { contract, limits }: SharedContract<T>): T {
  const held = record.validated;
  if (held && held.contract === contract && sameLimits(held.limits as RecordLimits, limits)) return held.value as T;
  const value = contract(raw, limits);
  if (!held) record.validated = { contract, limits, value };
  return value;
}

function sameLimits(a: RecordLimits, b: RecordLimits): boolean {
  return a === b || (a.maxIdLength === b.maxIdLength && a.maxNameLength === b.maxNameLength && a.maxFeatures === b.maxFeatures && a.maxSegments === b.maxSegments && a.maxClasses === b.maxClasses);
}

/** Dead letters as records of the dead-letter topic (the processors that write them in their transaction). */
export async function deadLetterRecords(letters: DeadLetter[], topic: string, codec: Codec<DeadLetter>, timestamp: number): Promise<OutgoingRecord[]> {
  const out: OutgoingRecord[] = [];
  for (const letter of letters) out.push({ topic, key: letter.key, value: await codec.encode(letter), timestamp });
  return out;
}
