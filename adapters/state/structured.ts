/**
 * Plain data <-> bytes for checkpoints (processors/checkpoint.ts): the
 * structured clone encoding of V8 (v8.serialize), which carries objects,
 * arrays, Maps, strings and every number (Infinity and NaN included) as
 * they are. Newer Node versions read what older ones wrote.
 */
import { deserialize, serialize } from 'node:v8';

export function encodeState(value: unknown): Buffer {
  return serialize(value);
}

/** The value encodeState made of `bytes`; an Error saying so when they are not such a value. */
export function decodeState(bytes: Buffer): unknown {
  try {
    return deserialize(bytes);
  } catch (error) {
    throw new Error(`not a structured-clone state (${(error as Error).message})`);
  }
}
