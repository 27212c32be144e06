/**
 * Property: the processors' decode step (processors/decode.ts decodeRecord)
 * turns any record value into a validated event or a dead letter with an
 * error class and message and the record's own bytes, never a throw: random
 * bytes, a null value, wrong magic bytes and schema ids, truncated and
 * overlong encodings of valid events.
 *
 * Random bytes are any bytes: an Avro block count is a varint, and a
 * dozen bytes can claim 2^36 entries; avsc's readers looped past the
 * buffer's end for minutes on that until the codec bounded counts by the
 * bytes left (adapters/codec/schemas.ts, blockCount).
 * Seeds: see test/support/properties.ts (FC_SEED replays a failure).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LocalCodec, type Codec } from '../../adapters/codec/codec.js';
import { SCHEMA_NAMES } from '../../adapters/codec/schemas.js';
import type { LogRecord } from '../../adapters/transport/transport.js';
import { decodeRecord } from '../../processors/decode.js';
import { runs } from '../support/properties.js';
import { SAMPLES } from '../support/samples.js';
import { VALIDATED_NAMES, VALIDATORS, type ValidatedName } from '../support/validators.js';

const READERS = VALIDATORS;
type Name = ValidatedName;
const NAMES = VALIDATED_NAMES;
const HEADER = 5;

const anyBytes = (maxLength: number) => fc.uint8Array({ maxLength }).map((bytes) => Buffer.from(bytes));

function header(id: number, magic = 0): Buffer {
  const out = Buffer.alloc(HEADER);
  out.writeUInt8(magic, 0);
  out.writeInt32BE(id, 1);
  return out;
}

/** Record values: random bytes, bad headers, a valid encoding cut short or with bytes appended. */
function values(name: Name, valid: Buffer): fc.Arbitrary<Buffer | null> {
  const id = SCHEMA_NAMES.indexOf(name) + 1;
  return fc.oneof(
    fc.constant(null),
    anyBytes(40),
    anyBytes(200).map((body) => Buffer.concat([header(id), body])),
    fc.tuple(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), fc.integer({ min: 0, max: 255 })).map(([other, magic]) => Buffer.concat([header(other, magic), valid.subarray(HEADER)])),
    fc.integer({ min: 0, max: valid.length - 1 }).map((end) => valid.subarray(0, end)),
    anyBytes(20).filter((extra) => extra.length > 0).map((extra) => Buffer.concat([valid, extra])),
  );
}

function recordOf(value: Buffer | null, offset: number): LogRecord {
  return { topic: 'in', partition: 3, offset, key: Buffer.from('k'), value, timestamp: 1_763_942_400_000, headers: {} };
}

describe('property: the decode step', () => {
  it.each(NAMES)('%s: any record value gives a validated event or a dead letter that says why, never a throw', async (name) => {
    const codec = new LocalCodec<unknown>(name);
    const valid = await codec.encode(READERS[name](SAMPLES[name]));
    await fc.assert(
      fc.asyncProperty(values(name, valid), fc.nat(), async (value, offset) => {
        const record = recordOf(value, offset);
        const decoded = await decodeRecord<unknown>(record, codec as Codec<unknown>, READERS[name], 'property', 7);
        if (decoded.ok) {
          // What passes is an event the validator accepts as it is.
          expect((READERS[name] as (value: unknown) => unknown)(decoded.value)).toEqual(decoded.value);
          return;
        }
        const letter = decoded.letter;
        expect(letter.error_class.length).toBeGreaterThan(0);
        expect(letter.error_message.length).toBeGreaterThan(0);
        expect(letter).toMatchObject({ topic: 'in', partition: 3, offset, stage: 'property', failed_at: 7 });
        expect(letter.value).toBe(value);
      }),
      runs(300),
    );
  });
});
