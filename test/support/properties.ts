/**
 * Shared pieces of the property-based bad-input suite (test/unit/property-*.test.ts):
 * the fast-check run parameters and arbitraries of adversarial values.
 *
 * Seeds: each run draws a fresh seed; on failure fc.assert throws an error
 * whose message holds the seed, the path and the shrunk counterexample (vitest
 * prints it). FC_SEED=<seed> (and FC_PATH=<path>, to go straight to the shrunk
 * case) replays it:
 *   FC_SEED=-123 FC_PATH="0:1" npx vitest run --project unit test/unit/property-joiner.test.ts
 *
 * Shaking out rare failures: FC_RUNS_FACTOR=<n> (default 1) multiplies every
 * property's number of runs (every fc.assert goes through runs()), e.g.
 *   FC_RUNS_FACTOR=20 npx vitest run --project unit --testTimeout=600000 test/unit/property-partials.test.ts
 * (the unit project's 20 s test timeout is for one run's worth; a property test with a timeout of
 * its own sets it with propertyTimeout(), which scales too).
 */
import fc from 'fast-check';
import { LONG_MAX, LONG_MIN, TIMESTAMP_MAX } from '../../core/events.js';

/** FC_RUNS_FACTOR: a positive number (default 1) that multiplies every property's number of runs. */
export function runsFactor(): number {
  const raw = process.env.FC_RUNS_FACTOR;
  if (raw === undefined || raw === '') return 1;
  const factor = Number(raw);
  if (!Number.isFinite(factor) || factor <= 0) throw new Error(`FC_RUNS_FACTOR must be a positive number, not ${JSON.stringify(raw)}`);
  return factor;
}

/** A property test's own timeout (ms), times FC_RUNS_FACTOR: a test's timeout overrides --testTimeout. */
export function propertyTimeout(ms: number): number {
  return ms * runsFactor();
}

/** fc.assert parameters: `numRuns` times FC_RUNS_FACTOR, and the replayed seed and path when FC_SEED (FC_PATH) is set. */
export function runs<T>(numRuns: number): fc.Parameters<T> {
  const seed = process.env.FC_SEED;
  const path = process.env.FC_PATH;
  const params: fc.Parameters<T> = { numRuns: Math.max(1, Math.round(numRuns * runsFactor())) };
  if (seed !== undefined && seed !== '') params.seed = Number(seed);
  if (path !== undefined && path !== '') params.path = path;
  return params;
}

/** Any UTF-16 code unit: lone surrogates included. */
const codeUnit = fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c));

/** Names that are members of Object.prototype (or the prototype itself). */
export const PROTOTYPE_NAMES = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf', 'isPrototypeOf', '__defineGetter__'] as const;

/** Strings near every edge: prototype names, lone surrogates, NUL, astral characters, empty, long. */
export const weirdString: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom<string>(...PROTOTYPE_NAMES, '', ' ', '\u0000', '\uD800', 'a\uDFFFb', '\uDE00\uD83D', '\u{1F600}', 'é', '{"a":1}', '*', 'a=b'),
  fc.string({ unit: codeUnit, maxLength: 12 }),
  fc.string({ maxLength: 12 }),
  fc.integer({ min: 1_000, max: 200_000 }).map((n) => 'x'.repeat(n)),
);

/** Numbers near every edge of a double, an Avro long and a timestamp. */
export const weirdNumber: fc.Arbitrary<number> = fc.oneof(
  fc.constantFrom(
    Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, -0, 0, 1, -1, 0.5,
    2 ** 53, 2 ** 53 - 1, LONG_MAX, LONG_MAX + 1, LONG_MIN, LONG_MIN - 1, TIMESTAMP_MAX, TIMESTAMP_MAX + 1,
    Number.MAX_VALUE, -Number.MAX_VALUE, Number.MIN_VALUE, 1e308, -1e308, 1e-310, -1_763_942_400_000, 1_763_942_400, 1_763_942_400_000_000,
  ),
  fc.double(),
  fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
  fc.maxSafeInteger(),
);

/** A value of the wrong type for any field. */
export const wrongType: fc.Arbitrary<unknown> = fc.constantFrom<unknown>(null, undefined, true, false, [], [1], {}, '1', '', 1n, Symbol('s'), () => 1, new Date(0), new Number(1), new String('x'));

/** An object nested `depth` deep ({a: {a: ...}}), built without recursion. */
export function nested(depth: number): Record<string, unknown> {
  let value: Record<string, unknown> = { a: 1 };
  for (let i = 0; i < depth; i++) value = { a: value };
  return value;
}

/** An object with these own entries, `__proto__` included as an ordinary own key (as JSON.parse makes it). */
export function ownEntries(entries: Array<[string, unknown]>, nullPrototype = false): Record<string, unknown> {
  const out: Record<string, unknown> = nullPrototype ? Object.create(null) : {};
  for (const [key, value] of entries) Object.defineProperty(out, key, { value, enumerable: true, configurable: true, writable: true });
  return out;
}

/** A map of `values`: small with awkward keys, huge, null-prototype, or not a map at all. */
export function weirdMap(values: fc.Arbitrary<unknown>): fc.Arbitrary<unknown> {
  const entries = fc.array(fc.tuple(fc.oneof(weirdString, fc.string({ maxLength: 6 })), values), { maxLength: 6 });
  return fc.oneof(
    entries.map((e) => ownEntries(e)),
    entries.map((e) => ownEntries(e, true)),
    fc.integer({ min: 1_000, max: 20_000 }).map((n) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, i / 7]))),
    wrongType,
  );
}

/** Anything a field could hold: an edge number or string, a map, a wrong type, deep nesting. */
export const anyField: fc.Arbitrary<unknown> = fc.oneof(
  weirdNumber,
  weirdString,
  wrongType,
  weirdMap(fc.oneof(weirdNumber, weirdString, wrongType)),
  fc.integer({ min: 1, max: 5_000 }).map(nested),
  fc.anything({ withNullPrototype: true, withObjectString: true, withBigInt: true, withBoxedValues: true, withDate: true, withSparseArray: true, maxDepth: 3 }),
);
