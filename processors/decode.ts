/**
 * The first step of every processor: bytes -> a validated event, or a dead
 * letter that says why not. Only errors that describe the record itself
 * become dead letters; anything else (a registry that is down, a bug) is
 * thrown, so the batch is retried rather than a good record thrown away.
 */
import { DecodeError, ValidationError } from '../core/errors.js';
import { deadLetterFor } from '../core/dead-letters.js';
import { validateLabelledExample, type DeadLetter, type LabelledExample } from '../core/events.js';
import type { RecordLimits } from '../core/limits.js';
import type { Codec } from '../adapters/codec/codec.js';
import type { LogRecord, LogTransport, OutgoingRecord } from '../adapters/transport/transport.js';

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

/**
 * Re-reads partition `partition` of `topic` from its start (or from offset
 * `from`: the tail after a checkpoint) up to (not including) offset `until`,
 * for a task rebuilding its state from its input:
 * each labelled example goes to `apply`, in offset order. A record that is
 * not ours to read is skipped (it was dead-lettered when first read); any
 * other error (a registry that is down) is thrown, so the rebuild is retried
 * rather than finished with a hole. `heartbeat` runs between fetches: a long
 * rebuild must not cost the member its place in the group. `limits` must be
 * those the live path reads with, so the rebuild skips what it refused.
 * Resolves with the number of records re-read (those in the range).
 */
export async function rereadLabelled(
  transport: LogTransport,
  topic: string,
  partition: number,
  until: number,
  codec: Codec<LabelledExample>,
  heartbeat: () => Promise<void>,
  apply: (example: LabelledExample) => void,
  limits?: RecordLimits,
  from = 0,
): Promise<number> {
  let read = 0;
  await transport.readToEnd(topic, [partition], async (records) => {
    await heartbeat().catch(() => {});
    for (const record of records) {
      if (record.offset >= until || record.offset < from) continue;
      read++;
      let example: LabelledExample;
      try {
        example = validateLabelledExample(await codec.decode(record.value), limits);
      } catch (error) {
        if (error instanceof DecodeError || error instanceof ValidationError) continue;
        throw error;
      }
      apply(example);
    }
  }, from > 0 ? new Map([[partition, from]]) : undefined);
  return read;
}

/** Dead letters as records of the dead-letter topic (the processors that write them in their transaction). */
export async function deadLetterRecords(letters: DeadLetter[], topic: string, codec: Codec<DeadLetter>, timestamp: number): Promise<OutgoingRecord[]> {
  const out: OutgoingRecord[] = [];
  for (const letter of letters) out.push({ topic, key: letter.key, value: await codec.encode(letter), timestamp });
  return out;
}
