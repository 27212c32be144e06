/**
 * Model snapshots: `{ algorithm, version, hyperparameters, state }`, a plain
 * JSON-serialisable object. The learner stores it (JSON.stringify) as a
 * ModelSnapshot's `parameters`; scorers rebuild the model with
 * `modelFromSnapshot`.
 *
 * Bit-identical round trips: learned arrays are stored as base64 of their
 * little-endian IEEE-754 bytes, not as JSON numbers, because JSON turns -0
 * into 0 and NaN/±Infinity into null (a weight of -0 is harmless but a NaN
 * must come back as NaN, not 0). Scalars are plain JSON numbers when that is
 * exact, else the strings "NaN", "Infinity", "-Infinity", "-0". Base64 keeps
 * an array of 2^20 weights at 11 MB of JSON instead of ~20 MB of decimals.
 * Base64 is implemented here (no Buffer, no btoa) so the core stays free of
 * platform APIs.
 */
import { FeedbackloopError } from '../errors.js';

export const SNAPSHOT_VERSION = 1;

/** A JSON object (what hyperparameters and state are). */
export type JsonObject = { [key: string]: unknown };

export interface ModelSnapshotData {
  /** Which class to rebuild: "logistic_regression", "pipeline", ... */
  algorithm: string;
  version: typeof SNAPSHOT_VERSION;
  /** Everything the constructor needs (clone() gives a model with these and no state). */
  hyperparameters: JsonObject;
  /** What was learned. */
  state: JsonObject;
}

/**
 * Bad hyperparameters, or a snapshot that cannot be restored (unknown
 * algorithm, other version, missing or malformed state). Never retriable:
 * the same input fails again.
 */
export class ModelError extends FeedbackloopError {
  constructor(message: string) {
    super(message, { retriable: false });
  }
}

// ---- scalars ----

export type EncodedNumber = number | 'NaN' | 'Infinity' | '-Infinity' | '-0';

export function encodeNumber(x: number): EncodedNumber {
  if (Number.isNaN(x)) return 'NaN';
  if (x === Infinity) return 'Infinity';
  if (x === -Infinity) return '-Infinity';
  if (Object.is(x, -0)) return '-0';
  return x;
}

export function decodeNumber(value: unknown, what: string): number {
  if (typeof value === 'number') return value;
  switch (value) {
    case 'NaN':
      return NaN;
    case 'Infinity':
      return Infinity;
    case '-Infinity':
      return -Infinity;
    case '-0':
      return -0;
  }
  throw new ModelError(`${what}: expected a number, got ${JSON.stringify(value)}`);
}

// ---- arrays: base64 of little-endian float64 bytes ----

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const LOOKUP = new Int16Array(128).fill(-1);
for (let i = 0; i < ALPHABET.length; i++) LOOKUP[ALPHABET.charCodeAt(i)] = i;

function bytesToBase64(bytes: Uint8Array): string {
  const parts: string[] = [];
  let chunk = '';
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    chunk += ALPHABET[n >> 18]! + ALPHABET[(n >> 12) & 63]! + ALPHABET[(n >> 6) & 63]! + ALPHABET[n & 63]!;
    if (chunk.length >= 8192) {
      parts.push(chunk);
      chunk = '';
    }
  }
  const rest = bytes.length - i;
  if (rest === 1) {
    const n = bytes[i]! << 16;
    chunk += ALPHABET[n >> 18]! + ALPHABET[(n >> 12) & 63]! + '==';
  } else if (rest === 2) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8);
    chunk += ALPHABET[n >> 18]! + ALPHABET[(n >> 12) & 63]! + ALPHABET[(n >> 6) & 63]! + '=';
  }
  parts.push(chunk);
  return parts.join('');
}

function base64ToBytes(text: string, what: string): Uint8Array {
  if (text.length % 4 !== 0) throw new ModelError(`${what}: base64 length ${text.length} is not a multiple of 4`);
  const padding = text.endsWith('==') ? 2 : text.endsWith('=') ? 1 : 0;
  const bytes = new Uint8Array((text.length / 4) * 3 - padding);
  let o = 0;
  for (let i = 0; i < text.length; i += 4) {
    let n = 0;
    for (let j = 0; j < 4; j++) {
      const c = text.charCodeAt(i + j);
      const d = c === 61 /* = */ && i + j >= text.length - padding ? 0 : c < 128 ? LOOKUP[c]! : -1;
      if (d < 0) throw new ModelError(`${what}: not base64 at character ${i + j}`);
      n = (n << 6) | d;
    }
    if (o < bytes.length) bytes[o++] = (n >> 16) & 255;
    if (o < bytes.length) bytes[o++] = (n >> 8) & 255;
    if (o < bytes.length) bytes[o++] = n & 255;
  }
  return bytes;
}

/** The first `length` elements (default all) as base64 of little-endian float64 bytes. */
export function encodeFloats(array: Float64Array, length = array.length): string {
  const bytes = new Uint8Array(length * 8);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < length; i++) view.setFloat64(i * 8, array[i]!, true);
  return bytesToBase64(bytes);
}

export function decodeFloats(value: unknown, what: string): Float64Array {
  if (typeof value !== 'string') throw new ModelError(`${what}: expected a base64 string of float64 values`);
  const bytes = base64ToBytes(value, what);
  if (bytes.length % 8 !== 0) throw new ModelError(`${what}: ${bytes.length} bytes is not a whole number of float64 values`);
  const view = new DataView(bytes.buffer);
  const out = new Float64Array(bytes.length / 8);
  for (let i = 0; i < out.length; i++) out[i] = view.getFloat64(i * 8, true);
  return out;
}

// ---- reading snapshots with errors that name the field ----

export function asObject(value: unknown, path: string): JsonObject {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new ModelError(`${path}: expected an object`);
  return value as JsonObject;
}

/** Reads fields of a snapshot part, naming the path of anything missing or malformed. */
export class FieldReader {
  private readonly fields: JsonObject;

  constructor(
    value: unknown,
    readonly path: string,
  ) {
    this.fields = asObject(value, path);
  }

  has(key: string): boolean {
    return this.fields[key] !== undefined;
  }

  raw(key: string): unknown {
    return this.fields[key];
  }

  /** A nested object, checked. */
  object(key: string): JsonObject {
    return asObject(this.fields[key], `${this.path}.${key}`);
  }

  child(key: string): FieldReader {
    return new FieldReader(this.fields[key], `${this.path}.${key}`);
  }

  number(key: string): number {
    return decodeNumber(this.fields[key], `${this.path}.${key}`);
  }

  /** A non-negative integer (counts, sizes). */
  count(key: string): number {
    const value = this.fields[key];
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
      throw new ModelError(`${this.path}.${key}: expected a non-negative integer, got ${JSON.stringify(value)}`);
    }
    return value;
  }

  floats(key: string, length?: number): Float64Array {
    const out = decodeFloats(this.fields[key], `${this.path}.${key}`);
    if (length !== undefined && out.length !== length) throw new ModelError(`${this.path}.${key}: expected ${length} values, got ${out.length}`);
    return out;
  }

  string(key: string): string {
    const value = this.fields[key];
    if (typeof value !== 'string') throw new ModelError(`${this.path}.${key}: expected a string`);
    return value;
  }

  strings(key: string): string[] {
    const value = this.fields[key];
    if (!Array.isArray(value) || !value.every((s) => typeof s === 'string')) throw new ModelError(`${this.path}.${key}: expected an array of strings`);
    return value as string[];
  }

  integers(key: string): number[] {
    const value = this.fields[key];
    if (!Array.isArray(value) || !value.every((n) => typeof n === 'number' && Number.isInteger(n))) {
      throw new ModelError(`${this.path}.${key}: expected an array of integers`);
    }
    return value as number[];
  }

  array(key: string): unknown[] {
    const value = this.fields[key];
    if (!Array.isArray(value)) throw new ModelError(`${this.path}.${key}: expected an array`);
    return value;
  }
}

/** Checks the envelope of a snapshot (after JSON.parse) and returns it typed. */
export function readEnvelope(value: unknown, what = 'snapshot'): ModelSnapshotData {
  const r = new FieldReader(value, what);
  const algorithm = r.string('algorithm');
  const version = r.raw('version');
  if (version !== SNAPSHOT_VERSION) {
    throw new ModelError(`${what}: version ${JSON.stringify(version)} of "${algorithm}" is not supported (this build reads version ${SNAPSHOT_VERSION})`);
  }
  return { algorithm, version: SNAPSHOT_VERSION, hyperparameters: r.object('hyperparameters'), state: r.object('state') };
}
