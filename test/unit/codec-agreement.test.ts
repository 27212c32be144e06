/**
 * What the validators accept (core/events.ts), the codec encodes and decodes
 * unchanged (LocalCodec, adapters/codec: Avro through avsc): a seeded random
 * search over events with fields near and past every edge, and a table of
 * the edges themselves. The fields come from the Avro schemas (schemas/), so
 * a field added there is covered here.
 *
 * fast-check is not installed: the generator is demo/random's mulberry32.
 * Fixed seeds run every time, plus one fresh seed per run, printed on
 * failure; CODEC_AGREEMENT_SEED=<n> runs that seed alone; FC_RUNS_FACTOR=<n>
 * multiplies the cases of each seed.
 */
import avro from 'avsc';
import { describe, expect, it } from 'vitest';
import { LocalCodec } from '../../adapters/codec/codec.js';
import { loadSchema } from '../../adapters/codec/schemas.js';
import { ValidationError } from '../../core/errors.js';
import { DEFAULT_RECORD_LIMITS, NO_RECORD_LIMITS } from '../../core/limits.js';
import { FEEDBACK_TYPES, LONG_MAX, LONG_MIN, TIMESTAMP_MAX, validateFeedback, validateLabelledExample, validatePrediction } from '../../core/events.js';
import { mulberry32, type Random } from '../../demo/random.js';
import { runsFactor } from '../support/properties.js';
import { SAMPLES } from '../support/samples.js';
import { VALIDATED_NAMES, VALIDATORS, type ValidatedName } from '../support/validators.js';

const VALIDATED = VALIDATORS;
type Validated = ValidatedName;
const NAMES = VALIDATED_NAMES;

// ------------------------------------------------------------ the schemas' fields

type AvroType = string | { type: string; values?: AvroType; items?: AvroType; symbols?: string[]; fields?: AvroField[] } | AvroType[];
interface AvroField { name: string; type: AvroType }

function fieldsOf(name: Validated): AvroField[] {
  return (JSON.parse(loadSchema(name).text) as { fields: AvroField[] }).fields;
}

/** The type without its null branch, and whether it has one. */
function unwrap(type: AvroType): { type: Exclude<AvroType, AvroType[]>; nullable: boolean } {
  if (Array.isArray(type)) {
    const other = type.filter((t) => t !== 'null');
    return { type: other[0] as Exclude<AvroType, AvroType[]>, nullable: other.length < type.length };
  }
  return { type, nullable: false };
}

// ------------------------------------------------------------ values near and past the edges

const LONG_EDGES = [
  0, -0, 1, -1, 2 ** 31 - 1, 2 ** 31, TIMESTAMP_MAX, TIMESTAMP_MAX + 1, LONG_MIN, LONG_MIN - 1, LONG_MAX, LONG_MAX + 1,
  2 ** 53 - 1, 2 ** 53, -(2 ** 53 - 2), -(2 ** 53 - 1), 2 ** 63, 1.5, 0.1, -0.5,
  946_684_800_000, 1_763_942_400_000, 1_763_942_400, 1_763_942_400_000_000,
];
const DOUBLE_EDGES = [
  0, -0, 1, -1, 0.5, 1e308, -1e308, Number.MAX_VALUE, -Number.MAX_VALUE, 5e-324, -5e-324, 2.2250738585072014e-308, 1e-310,
  Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 2 ** 53 - 1, 2 ** 53, Number.EPSILON,
];
const WRONG_TYPES: unknown[] = [null, undefined, '1', '', true, {}, [], [1]];

const LONG_STRING = 'x'.repeat(100_000);
const STRING_EDGES = [
  '', 'a', 'fraud-detector', ' ', '\u0000', 'é', '日本', '\u{1F600}', 'a\u{1F600}b', '\uD800', '\uDFFF', 'a\uD83Db', '\uDE00\uD83D',
  '__proto__', 'constructor', 'toString', '{"json": true}', LONG_STRING, `${LONG_STRING}\uD800`,
];

function randomLong(random: Random): number {
  const magnitude = 2 ** Math.floor(random() * 64);
  return Math.floor((random() * 2 - 1) * magnitude);
}

/** Any 64-bit pattern as a double: NaNs, infinities, denormals, both zeros, everything between. */
function randomBits(random: Random): number {
  const words = new Uint32Array([Math.floor(random() * 2 ** 32), Math.floor(random() * 2 ** 32)]);
  return new Float64Array(words.buffer)[0]!;
}

function randomString(random: Random): string {
  const length = Math.floor(random() * 12);
  let s = '';
  // Any UTF-16 code unit: a lone surrogate now and then.
  for (let i = 0; i < length; i++) s += String.fromCharCode(random() < 0.8 ? 0x20 + Math.floor(random() * 0x5f) : Math.floor(random() * 0x10000));
  return s;
}

function oneOf<T>(random: Random, values: readonly T[]): T {
  return values[Math.floor(random() * values.length)]!;
}

function longValue(random: Random): unknown {
  const r = random();
  return r < 0.5 ? oneOf(random, LONG_EDGES) : r < 0.8 ? randomLong(random) : r < 0.9 ? oneOf(random, DOUBLE_EDGES) : oneOf(random, WRONG_TYPES);
}

function doubleValue(random: Random): unknown {
  const r = random();
  return r < 0.4 ? oneOf(random, DOUBLE_EDGES) : r < 0.7 ? randomBits(random) : r < 0.9 ? (random() - 0.5) * 10 ** Math.floor(random() * 40 - 20) : oneOf(random, WRONG_TYPES);
}

function stringValue(random: Random): unknown {
  const r = random();
  return r < 0.5 ? oneOf(random, STRING_EDGES) : r < 0.9 ? randomString(random) : oneOf(random, WRONG_TYPES);
}

/** A map of `value`s: empty, small, now and then huge, with awkward keys; or not a map at all. */
function mapValue(random: Random, value: (random: Random) => unknown): unknown {
  const r = random();
  if (r < 0.1) return oneOf(random, [null, undefined, [], 'x', 1]);
  if (r < 0.25) return {};
  if (r < 0.3) {
    const huge: Record<string, unknown> = {};
    const good = random() < 0.5;
    for (let i = 0; i < 20_000; i++) huge[`k${i}`] = good ? i / 7 : value(random);
    return huge;
  }
  // JSON.parse, as a replay reads a line: "__proto__" becomes an own key.
  const entries: Array<[string, unknown]> = [];
  const n = 1 + Math.floor(random() * 4);
  for (let i = 0; i < n; i++) entries.push([random() < 0.2 ? (oneOf(random, STRING_EDGES) as string) : randomString(random), random() < 0.6 ? 0.25 * i : value(random)]);
  const out: Record<string, unknown> = {};
  for (const [k, v] of entries) Object.defineProperty(out, k, { value: v, enumerable: true, configurable: true, writable: true });
  return out;
}

/** A list of class names: short lists of awkward names (duplicates now and then), a huge one, or items of the wrong type. */
function namesValue(random: Random): unknown {
  const r = random();
  if (r < 0.1) return Array.from({ length: 300 + Math.floor(random() * 100_000) }, (_, i) => `c${i}`);
  if (r < 0.2) return [oneOf(random, WRONG_TYPES)];
  const n = Math.floor(random() * 4);
  return Array.from({ length: n }, () => (random() < 0.3 ? oneOf(random, STRING_EDGES) : random() < 0.5 ? oneOf(random, ['a', 'b', 'c']) : randomString(random)));
}

function valueFor(random: Random, avroType: AvroType): unknown {
  const { type, nullable } = unwrap(avroType);
  if (nullable && random() < 0.15) return null;
  const name = typeof type === 'string' ? type : type.type;
  switch (name) {
    case 'long':
    case 'int':
      return longValue(random);
    case 'double':
    case 'float':
      return doubleValue(random);
    case 'string':
      return stringValue(random);
    case 'boolean':
      return random() < 0.8 ? random() < 0.5 : oneOf(random, WRONG_TYPES);
    case 'enum': {
      const symbols = (type as { symbols: string[] }).symbols;
      return random() < 0.8 ? oneOf(random, symbols) : oneOf(random, ['', 'MAYBE', symbols[0]!.toLowerCase(), null, 1]);
    }
    case 'map': {
      const values = (type as { values: AvroType }).values;
      return mapValue(random, (r) => valueFor(r, values));
    }
    case 'array': {
      if (random() < 0.1) return oneOf(random, [null, 'x', {}]);
      if ((type as { items: AvroType }).items === 'string') return namesValue(random);
      const items = (type as { items: { fields: AvroField[] } }).items;
      return Array.from({ length: Math.floor(random() * 3) }, () =>
        Object.fromEntries(items.fields.map((f) => [f.name, random() < 0.7 ? validSample(f.type, random) : valueFor(random, f.type)])),
      );
    }
    case 'record': {
      // LabelledExample.replaces: mostly valid fields, now and then not an object.
      if (random() < 0.1) return oneOf(random, ['x', 1, []]);
      const fields = (type as { fields: AvroField[] }).fields;
      return Object.fromEntries(fields.map((f) => [f.name, random() < 0.6 ? validFieldValue(f.type, random) : valueFor(random, f.type)]));
    }
    case 'FeedbackType': // a reference to the enum defined earlier in the schema
      return valueFor(random, { type: 'enum', symbols: [...FEEDBACK_TYPES] } as AvroType);
    default:
      throw new Error(`no generator for Avro type ${name}`);
  }
}

/** A value that fits a record's field. */
function validFieldValue(type: AvroType, random: Random): unknown {
  const { type: t } = unwrap(type);
  if (t === 'double') return random();
  if (t === 'long') return 1_763_942_400_000 + Math.floor(random() * 1e6);
  if (t === 'FeedbackType') return oneOf(random, [...FEEDBACK_TYPES]);
  return validSample(type, random);
}

/** A value that fits the field, for the array items. */
function validSample(type: AvroType, random: Random): unknown {
  const { type: t } = unwrap(type);
  if (t === 'string') return randomString(random).replace(/[\uD800-\uDFFF]/g, '?');
  if (typeof t === 'object' && t.type === 'enum') return oneOf(random, t.symbols!);
  return null;
}

// ------------------------------------------------------------ equality to the bit

/** Where two decoded values differ (numbers by Object.is: -0 is not 0), or undefined. */
function difference(a: unknown, b: unknown, path = '(event)'): string | undefined {
  if (typeof a === 'number' || typeof b === 'number') return Object.is(a, b) ? undefined : `${path}: ${String(a)} vs ${String(b)}`;
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return a === b ? undefined : `${path}: ${JSON.stringify(a)?.slice(0, 60)} vs ${JSON.stringify(b)?.slice(0, 60)}`;
  if (Array.isArray(a) !== Array.isArray(b)) return `${path}: array vs not`;
  const ka = Object.keys(a).sort();
  const kb = Object.keys(b).sort();
  if (ka.length !== kb.length || ka.some((k, i) => k !== kb[i])) return `${path}: keys ${ka.length} vs ${kb.length} (${ka.filter((k) => !kb.includes(k)).concat(kb.filter((k) => !ka.includes(k))).slice(0, 3).join(', ')})`;
  for (const k of ka) {
    const d = difference((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], `${path}.${k}`);
    if (d) return d;
  }
  return undefined;
}

const WHAT = /^(prediction|feedback|labelled example|model snapshot|promotion decision): /;

/**
 * The property: the validator refuses `raw` with a ValidationError naming
 * one of `fields`, or accepts it, and what it returns encodes, decodes to an
 * equal event, and passes the validator again unchanged.
 */
async function checkAgreement(name: Validated, raw: unknown, fields: string[]): Promise<'accepted' | 'refused'> {
  let event: unknown;
  try {
    event = VALIDATED[name](raw);
  } catch (error) {
    if (!(error instanceof ValidationError)) throw new Error(`the validator threw ${String(error)}, not a ValidationError`);
    const message = error.message.replace(WHAT, '');
    if (!fields.some((f) => message.startsWith(f) && /^[ .[]/.test(message.slice(f.length)))) {
      throw new Error(`the message does not name ${fields.join(' or ')}: ${error.message.slice(0, 300)}`);
    }
    return 'refused';
  }
  const codec = new LocalCodec<unknown>(name);
  const bytes = await codec.encode(event);
  // The sizer that weighs a lazily encoded record (adapters/codec/avro-size.ts) agrees with the bytes.
  if (codec.encodedLength(event) !== bytes.length) throw new Error(`encodedLength ${codec.encodedLength(event)}, but ${bytes.length} bytes`);
  const decoded = await codec.decode(bytes);
  const changed = difference(decoded, event);
  if (changed) throw new Error(`accepted, but the codec changed it: ${changed}`);
  const again = difference(VALIDATED[name](decoded), event);
  if (again) throw new Error(`the decoded event validates to another: ${again}`);
  return 'accepted';
}

// ------------------------------------------------------------ the tests

const FIXED_SEEDS = [1, 7, 2024];
const pinned = process.env.CODEC_AGREEMENT_SEED;
const SEEDS = pinned !== undefined ? [Number(pinned)] : [...FIXED_SEEDS, Date.now() % 2 ** 31];
/** Cases per validated name and seed; FC_RUNS_FACTOR (test/support/properties.ts) multiplies them too. */
const CASES = Math.round(300 * runsFactor());

describe('validators and codecs agree', () => {
  it.each(SEEDS)('seed %i: every event the validators accept round-trips through LocalCodec; every refusal names a field it was given', async (seed) => {
    const random = mulberry32(seed);
    const outcomes: Record<string, number> = { accepted: 0, refused: 0 };
    for (const name of NAMES) {
      const fields = fieldsOf(name);
      for (let i = 0; i < CASES; i++) {
        const raw: Record<string, unknown> = { ...(SAMPLES[name] as object) };
        const mutated: string[] = [];
        const count = 1 + Math.floor(random() * 3);
        for (let m = 0; m < count; m++) {
          const field = oneOf(random, fields);
          if (random() < 0.05) delete raw[field.name];
          else raw[field.name] = valueFor(random, field.type);
          mutated.push(field.name);
        }
        try {
          outcomes[await checkAgreement(name, raw, mutated)]!++;
        } catch (error) {
          const rerun = `CODEC_AGREEMENT_SEED=${seed} npx vitest run --project unit test/unit/codec-agreement.test.ts`;
          console.error(`codec agreement failed: seed ${seed}, ${name} case ${i} (rerun: ${rerun})`);
          throw new Error(`seed ${seed}, ${name} case ${i}, fields ${mutated.join(', ')}: ${(error as Error).message}`);
        }
      }
    }
    // Both sides of the line are searched.
    expect(outcomes.accepted).toBeGreaterThan(NAMES.length * CASES * 0.2);
    expect(outcomes.refused).toBeGreaterThan(NAMES.length * CASES * 0.2);
  });

  it('every edge value of every field is accepted and round-trips, or refused naming the field', async () => {
    for (const name of NAMES) {
      for (const field of fieldsOf(name)) {
        const { type } = unwrap(field.type);
        const kind = typeof type === 'string' ? type : type.type;
        const edges: unknown[] =
          kind === 'long' ? [...LONG_EDGES, ...WRONG_TYPES]
          : kind === 'double' ? [...DOUBLE_EDGES, ...WRONG_TYPES]
          : kind === 'string' ? [...STRING_EDGES, ...WRONG_TYPES]
          : kind === 'map' ? [{}, null, JSON.parse('{"__proto__": 1}'), { '\uD800': 1 }, { a: Number.NaN }, Object.fromEntries(Array.from({ length: 20_000 }, (_, i) => [`k${i}`, i === 7 ? -0 : i + 0.5]))]
          : kind === 'array' ? [[], ['a', 'b'], ['a', 'a'], [''], ['__proto__'], ['\uD800'], ['x'.repeat(1000)], [1], Array.from({ length: 257 }, (_, i) => `c${i}`), Array.from({ length: 256 }, (_, i) => `c${i}`)]
          : [];
        for (const edge of edges) {
          const raw = { ...(SAMPLES[name] as object), [field.name]: edge };
          await expect(checkAgreement(name, raw, [field.name]), `${name}.${field.name} = ${String(edge).slice(0, 30)}`).resolves.toMatch(/accepted|refused/);
        }
      }
    }
  });

  it('draws the lines where avsc does: exact outcomes at the edges', async () => {
    const outcome = (name: Validated, field: string, value: unknown) => checkAgreement(name, { ...(SAMPLES[name] as object), [field]: value }, [field]);
    // Timestamps: 0 to 2^52 ms; 2^53 - 1 (which used to abort the run in the encoder) is refused.
    expect(await outcome('Prediction', 'timestamp', 2 ** 53 - 1)).toBe('refused');
    expect(await outcome('Prediction', 'timestamp', 2 ** 53)).toBe('refused');
    expect(await outcome('Prediction', 'timestamp', TIMESTAMP_MAX)).toBe('accepted');
    expect(await outcome('Prediction', 'timestamp', TIMESTAMP_MAX + 1)).toBe('refused');
    expect(await outcome('Feedback', 'timestamp', -1)).toBe('refused');
    expect(await outcome('Feedback', 'timestamp', 0)).toBe('accepted');
    expect(validatePrediction({ ...SAMPLES.Prediction, timestamp: -0 }).timestamp).toBe(0);
    expect(() => validatePrediction({ ...SAMPLES.Prediction, timestamp: 2 ** 53 - 1 })).toThrow(
      'prediction: timestamp must be epoch milliseconds: an integer from 0 to 4503599627370496 (2^52), got 9007199254740991',
    );
    // Counts: up to 2^53 - 2, the largest long avsc writes.
    expect(await outcome('ModelSnapshot', 'training_count', LONG_MAX)).toBe('accepted');
    expect(await outcome('ModelSnapshot', 'training_count', LONG_MAX + 1)).toBe('refused');
    expect(await outcome('PromotionDecision', 'sample_size', -1)).toBe('refused');
    // label_delay_ms: any long avsc carries exactly, -2^52 to 2^53 - 2.
    expect(await outcome('LabelledExample', 'label_delay_ms', LONG_MIN)).toBe('accepted');
    expect(await outcome('LabelledExample', 'label_delay_ms', LONG_MIN - 1)).toBe('refused');
    expect(await outcome('LabelledExample', 'label_delay_ms', LONG_MAX)).toBe('accepted');
    expect(await outcome('LabelledExample', 'label_delay_ms', -1)).toBe('accepted');
    expect(() => validateLabelledExample({ ...SAMPLES.LabelledExample, label_delay_ms: 2 ** 53 - 1 })).toThrow(
      'labelled example: label_delay_ms must be an integer from -4503599627370496 (-2^52) to 9007199254740990 (2^53 - 2) or null, got 9007199254740991',
    );
    // Doubles: any finite number, -0 and denormals kept to the bit.
    for (const value of [1e308, -1e308, 5e-324, -0, 0]) expect(await outcome('Prediction', 'score', value)).toBe('accepted');
    for (const value of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) expect(await outcome('Prediction', 'score', value)).toBe('refused');
    expect(() => validatePrediction({ ...SAMPLES.Prediction, score: Number.POSITIVE_INFINITY })).toThrow('prediction: score must be a finite number, got Infinity');
    // Strings: any length the record limits allow (core/limits.ts); a lone surrogate (no UTF-8 form) is refused.
    expect(await outcome('Prediction', 'model', 'm'.repeat(1_000_000))).toBe('refused');
    expect(await outcome('Feedback', 'notes', 'a\u{1F600}b')).toBe('accepted');
    expect(() => validateFeedback({ ...SAMPLES.Feedback, source: 'user-\uD800' })).toThrow(
      'feedback: source must be well-formed Unicode text (it holds a lone UTF-16 surrogate, which has no UTF-8 form), got "user-\\ud800"',
    );
    // Maps: empty and huge ones round-trip; "__proto__" and a lone surrogate as keys are refused.
    expect(await outcome('Prediction', 'features', {})).toBe('accepted');
    expect(await outcome('Prediction', 'features', Object.fromEntries(Array.from({ length: 50_000 }, (_, i) => [`f${i}`, i / 3])))).toBe('refused');
    expect(() => validatePrediction({ ...SAMPLES.Prediction, features: JSON.parse('{"a": 1, "__proto__": 2}') })).toThrow('prediction: features has the key "__proto__"');
    expect(() => validatePrediction({ ...SAMPLES.Prediction, segments: { '\uDC00': 'x' } })).toThrow(
      'prediction: segments key "\\udc00" must be well-formed Unicode text (it holds a lone UTF-16 surrogate, which has no UTF-8 form), got "\\udc00"',
    );
  });

  it('what the validators accept at the record limits the codec carries unchanged, in 1-, 3- and 4-byte characters; and without limits, past them', async () => {
    const L = DEFAULT_RECORD_LIMITS;
    /** `n` UTF-16 code units of `char` (an astral character is two). */
    const text = (n: number, char: string) => char.repeat(Math.floor(n / char.length));
    const names = (count: number, length: number, char: string) => Array.from({ length: count }, (_, i) => `${i}`.padStart(8, '0') + text(length - 8, char));
    for (const char of ['x', '\u65E5', '\u{1F600}']) {
      const id = text(L.maxIdLength, char);
      const keys = names(L.maxFeatures, L.maxNameLength, char);
      const raw = {
        ...SAMPLES.Prediction, prediction_id: id, model: id, model_version: id,
        features: Object.fromEntries(keys.map((k, i) => [k, i / 3])),
        categorical: Object.fromEntries(keys.map((k) => [k, text(L.maxNameLength, char)])),
        segments: Object.fromEntries(names(L.maxSegments, L.maxNameLength, char).map((k) => [k, text(L.maxNameLength, char)])),
      };
      expect(id.length).toBe(L.maxIdLength);
      expect(await checkAgreement('Prediction', raw, [])).toBe('accepted');
      // The labelled example the joiner makes of it passes the same limits (its ids are `<prediction_id>#<n>`).
      const example = { ...SAMPLES.LabelledExample, ...raw, example_id: `${id}#12`, correction_of: `${id}#11`, source: id };
      expect(await checkAgreement('LabelledExample', example, [])).toBe('accepted');
      expect(await checkAgreement('Feedback', { ...SAMPLES.Feedback, prediction_id: id, source: id }, [])).toBe('accepted');
    }
    // One past each limit is refused, naming the field (checkAgreement checks the message).
    const over = (field: string, value: unknown) => checkAgreement('Prediction', { ...SAMPLES.Prediction, [field]: value }, [field]);
    expect(await over('model', 'm'.repeat(L.maxIdLength + 1))).toBe('refused');
    expect(await over('prediction_id', 'p'.repeat(L.maxIdLength + 1))).toBe('refused');
    expect(await over('segments', Object.fromEntries(names(L.maxSegments + 1, 10, 'x').map((k) => [k, 'v'])))).toBe('refused');
    expect(await over('features', Object.fromEntries(names(L.maxFeatures + 1, 10, 'x').map((k) => [k, 1])))).toBe('refused');
    expect(await over('features', { ['f'.repeat(L.maxNameLength + 1)]: 1 })).toBe('refused');
    expect(await over('categorical', { plan: 'p'.repeat(L.maxNameLength + 1) })).toBe('refused');
    expect(await checkAgreement('Feedback', { ...SAMPLES.Feedback, source: 's'.repeat(L.maxIdLength + 1) }, ['source'])).toBe('refused');
    // Without limits the line is the codec's own again: a 1 MB name and 50,000 features round-trip.
    const big = { ...SAMPLES.Prediction, model: 'm'.repeat(1_000_000), features: Object.fromEntries(Array.from({ length: 50_000 }, (_, i) => [`f${i}`, i / 3])) };
    const event = validatePrediction(big, NO_RECORD_LIMITS);
    const codec = new LocalCodec<unknown>('Prediction');
    expect(difference(await codec.decode(await codec.encode(event)), event)).toBeUndefined();
  });

  it('the bounds are avsc\'s own: it refuses a long past 2^53 - 2 and reads one below -2^52 back as another number', () => {
    const long = avro.Type.forSchema('long');
    expect(long.fromBuffer(long.toBuffer(LONG_MAX))).toBe(LONG_MAX);
    expect(() => long.toBuffer(LONG_MAX + 1)).toThrow(/invalid "long"/);
    expect(long.fromBuffer(long.toBuffer(LONG_MIN))).toBe(LONG_MIN);
    expect(long.fromBuffer(long.toBuffer(LONG_MIN - 1))).not.toBe(LONG_MIN - 1);
    expect(long.fromBuffer(long.toBuffer(-(2 ** 53 - 2)))).toBe(2 ** 53 - 2);
    expect(Object.is(long.fromBuffer(long.toBuffer(-0)), 0)).toBe(true);
    const string = avro.Type.forSchema('string');
    expect(string.fromBuffer(string.toBuffer('a\uD800'))).not.toBe('a\uD800');
  });
});
