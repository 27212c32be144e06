/**
 * MurmurHash3 (x86, 32-bit) of the UTF-8 bytes of a token, computed
 * straight from the string's UTF-16 code units: the hashing trick runs per
 * categorical value on the hot path, and TextEncoder would allocate a buffer
 * per call. `hashToken(name, value, seed)` hashes "name=value" without
 * building that string, giving the same 32-bit value as scikit-learn's
 * `murmurhash3_32("name=value", seed)` and River's FeatureHasher.
 *
 * The state lives in module variables (the hash is synchronous and not
 * re-entrant), so a call allocates nothing.
 */

const C1 = 0xcc9e2d51;
const C2 = 0x1b873593;

let h1 = 0;
let block = 0;
let blockBytes = 0;
let length = 0;

function begin(seed: number): void {
  h1 = seed >>> 0;
  block = 0;
  blockBytes = 0;
  length = 0;
}

function byte(b: number): void {
  block |= b << (8 * blockBytes);
  blockBytes++;
  length++;
  if (blockBytes === 4) {
    let k1 = Math.imul(block, C1);
    k1 = (k1 << 15) | (k1 >>> 17);
    k1 = Math.imul(k1, C2);
    h1 ^= k1;
    h1 = (h1 << 13) | (h1 >>> 19);
    h1 = (Math.imul(h1, 5) + 0xe6546b64) | 0;
    block = 0;
    blockBytes = 0;
  }
}

/** Feeds the UTF-8 encoding of s (lone surrogates become U+FFFD, as TextEncoder does). */
function text(s: string): void {
  for (let i = 0; i < s.length; i++) {
    let c = s.charCodeAt(i);
    if (c < 0x80) {
      byte(c);
      continue;
    }
    if (c < 0x800) {
      byte(0xc0 | (c >> 6));
      byte(0x80 | (c & 63));
      continue;
    }
    if (c >= 0xd800 && c <= 0xdfff) {
      const next = i + 1 < s.length ? s.charCodeAt(i + 1) : 0;
      if (c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
        c = 0x10000 + ((c - 0xd800) << 10) + (next - 0xdc00);
        i++;
        byte(0xf0 | (c >> 18));
        byte(0x80 | ((c >> 12) & 63));
        byte(0x80 | ((c >> 6) & 63));
        byte(0x80 | (c & 63));
        continue;
      }
      c = 0xfffd;
    }
    byte(0xe0 | (c >> 12));
    byte(0x80 | ((c >> 6) & 63));
    byte(0x80 | (c & 63));
  }
}

/** The hash as a signed 32-bit integer (scikit-learn's default `positive=False`). */
function end(): number {
  if (blockBytes > 0) {
    let k1 = Math.imul(block, C1);
    k1 = (k1 << 15) | (k1 >>> 17);
    k1 = Math.imul(k1, C2);
    h1 ^= k1;
  }
  h1 ^= length;
  h1 ^= h1 >>> 16;
  h1 = Math.imul(h1, 0x85ebca6b);
  h1 ^= h1 >>> 13;
  h1 = Math.imul(h1, 0xc2b2ae35);
  h1 ^= h1 >>> 16;
  return h1 | 0;
}

/** murmurhash3_32(s, seed), signed. */
export function murmur3(s: string, seed = 0): number {
  begin(seed);
  text(s);
  return end();
}

/** murmurhash3_32(`${name}=${value}`, seed), signed, without building the string. */
export function hashToken(name: string, value: string, seed = 0): number {
  begin(seed);
  text(name);
  byte(61); // '='
  text(value);
  return end();
}
