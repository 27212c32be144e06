/**
 * JSON values beside Avro on the input topics (predictions, feedback).
 *
 * Each record is recognised by its first byte, so one topic may carry both:
 *
 * - `0x00`: the Confluent wire format (magic byte 0, schema id, Avro body),
 *   read by the Avro codec as always;
 * - `{` (after optional UTF-8 byte-order mark and JSON whitespace): one JSON
 *   object, UTF-8, with the event's fields under their Avro names (the
 *   README's "Connect your app" lists them). Absent optional fields take
 *   their schema defaults, exactly as the validators apply them to an Avro
 *   record; numbers are JSON numbers (timestamps: epoch milliseconds).
 *
 * Anything else is a DecodeError (dead-lettered with the reason). The JSON
 * object then goes through the same validator as a decoded Avro record, so
 * one contract holds for both encodings. Outputs stay Avro: encode() is the
 * Avro codec's.
 */
import { DecodeError } from '../../core/errors.js';
import { MAGIC_BYTE, type Codec } from './codec.js';

const UTF8 = new TextDecoder('utf-8', { fatal: true });
const OPEN_BRACE = 0x7b;
/** The UTF-8 byte-order mark some writers put first. */
const BOM = [0xef, 0xbb, 0xbf] as const;

/** JSON's insignificant whitespace (RFC 8259): space, tab, line feed, carriage return. */
function isJsonSpace(byte: number): boolean {
  return byte === 0x20 || byte === 0x09 || byte === 0x0a || byte === 0x0d;
}

/** Where a JSON object starts in `bytes` (after a BOM and whitespace), or -1 when the record is not JSON. */
export function jsonStart(bytes: Buffer): number {
  let i = bytes.length >= 3 && bytes[0] === BOM[0] && bytes[1] === BOM[1] && bytes[2] === BOM[2] ? 3 : 0;
  while (i < bytes.length && isJsonSpace(bytes[i]!)) i++;
  return i < bytes.length && bytes[i] === OPEN_BRACE ? i : -1;
}

/** One JSON object from a record's bytes; DecodeError (naming what is wrong) for anything else. */
export function parseJsonValue(bytes: Buffer, start: number, schema: string): unknown {
  let text: string;
  try {
    text = UTF8.decode(bytes.subarray(start));
  } catch {
    throw new DecodeError(`cannot decode ${schema}: a JSON value must be UTF-8, and this record is not`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new DecodeError(`cannot decode ${schema}: not valid JSON: ${(error as Error).message}`);
  }
}

/** The codec of an input topic: JSON or Confluent Avro per record on decode, Avro on encode. */
export class JsonOrAvroCodec<T> implements Codec<T> {
  readonly schema;
  /** The Avro codec's, when it has them (LocalCodec: the replay's lazily encoded inputs). */
  readonly encodeNow?: (value: T) => Buffer;
  readonly encodedLength?: (value: T) => number;

  constructor(private readonly avro: Codec<T>) {
    this.schema = avro.schema;
    if (avro.encodeNow) this.encodeNow = avro.encodeNow.bind(avro);
    if (avro.encodedLength) this.encodedLength = avro.encodedLength.bind(avro);
  }

  encode(value: T): Promise<Buffer> {
    return this.avro.encode(value);
  }

  /** The Avro codec's schema registration (`check` registers the writer schema). */
  register(): Promise<number> | undefined {
    return (this.avro as { register?: () => Promise<number> }).register?.();
  }

  async decode(bytes: Buffer | null): Promise<T> {
    if (bytes === null || bytes.length === 0 || bytes[0] === MAGIC_BYTE) return this.avro.decode(bytes);
    const start = jsonStart(bytes);
    if (start < 0) {
      throw new DecodeError(
        `record is neither Confluent Avro (first byte 0x00) nor a JSON object (first byte '{'): first byte 0x${bytes[0]!.toString(16).padStart(2, '0')}`,
      );
    }
    return parseJsonValue(bytes, start, this.schema) as T;
  }
}
