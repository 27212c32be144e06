/**
 * JSON values on the input topics (adapters/codec/json-values.ts): a JSON
 * object gives the event its Avro encoding gives, through the same
 * validator; anything that is neither JSON nor Confluent Avro, or JSON that
 * breaks the contract, is a dead letter that says why, never a throw.
 * Seeds: see test/support/properties.ts (FC_SEED replays a failure).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LocalCodec, type Codec } from '../../adapters/codec/codec.js';
import { JsonOrAvroCodec } from '../../adapters/codec/json-values.js';
import type { LogRecord } from '../../adapters/transport/transport.js';
import { validateFeedback, validatePrediction, type Feedback, type Prediction } from '../../core/events.js';
import { decodeRecord } from '../../processors/decode.js';
import { anyField, PROTOTYPE_NAMES, runs, weirdNumber, weirdString } from '../support/properties.js';
import { sampleFeedback, samplePrediction } from '../support/samples.js';

const prediction = new JsonOrAvroCodec(new LocalCodec<Prediction>('Prediction'));
const feedback = new JsonOrAvroCodec(new LocalCodec<Feedback>('Feedback'));

function recordOf(value: Buffer | null): LogRecord {
  return { topic: 'predictions', partition: 0, offset: 7, key: null, value, timestamp: 1_763_942_400_000, headers: {} };
}

const decodePrediction = (value: Buffer | null) => decodeRecord(recordOf(value), prediction as Codec<unknown>, (v) => validatePrediction(v), 'joiner', 0);
const decodeFeedback = (value: Buffer | null) => decodeRecord(recordOf(value), feedback as Codec<unknown>, (v) => validateFeedback(v), 'joiner', 0);
const json = (value: unknown, prefix = '') => Buffer.from(prefix + JSON.stringify(value), 'utf8');

describe('JSON values on the input topics', () => {
  it('a JSON prediction and its Avro encoding give the same event', async () => {
    const event = samplePrediction();
    const fromJson = await decodePrediction(json(event));
    const fromAvro = await decodePrediction(await prediction.encode(event));
    expect(fromJson.ok && fromJson.value).toEqual(event);
    expect(fromAvro.ok && fromAvro.value).toEqual(event);
  });

  it('a JSON feedback with a BOM and whitespace before it, optional fields absent: the schema defaults', async () => {
    const decoded = await decodeFeedback(json({ prediction_id: 'p-1', timestamp: 1_763_946_000_000, feedback_type: 'USER_REJECTED' }, '\uFEFF \r\n\t'));
    expect(decoded.ok && decoded.value).toEqual({
      prediction_id: 'p-1', timestamp: 1_763_946_000_000, feedback_type: 'USER_REJECTED', label: null, uncertain: false, source: null, notes: null,
      label_class: null, labels: null, labels_added: null, labels_removed: null,
    });
  });

  it('a prediction without threshold, categorical and segments gets 0.5, {} and {} as from Avro', async () => {
    const { threshold: _t, categorical: _c, segments: _s, ...bare } = samplePrediction();
    const decoded = await decodePrediction(json(bare));
    expect(decoded.ok && decoded.value).toEqual({ ...bare, threshold: 0.5, categorical: {}, segments: {} });
  });

  it('refusals name what is wrong: not JSON nor Avro, broken JSON, not UTF-8, a contract breach', async () => {
    const cases: Array<[Buffer, string, RegExp]> = [
      [Buffer.from('prediction_id=p-1'), 'decode', /neither Confluent Avro \(first byte 0x00\) nor a JSON object \(first byte '\{'\): first byte 0x70/],
      [Buffer.from('{"prediction_id": "p-1",'), 'decode', /not valid JSON/],
      [Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]), 'decode', /must be UTF-8/],
      [json({ ...samplePrediction(), score: 'high' }), 'validation', /score/],
      [json({ ...samplePrediction(), features: { amount: null } }), 'validation', /features/],
      [json({ ...samplePrediction(), timestamp: 1.5e300 }), 'validation', /timestamp/],
    ];
    for (const [bytes, errorClass, message] of cases) {
      const decoded = await decodePrediction(bytes);
      expect(decoded.ok).toBe(false);
      if (!decoded.ok) {
        expect(decoded.letter.error_class).toBe(errorClass);
        expect(decoded.letter.error_message).toMatch(message);
      }
    }
  });

  it('keys that name Object.prototype members: plain feature names, and `__proto__` refused as from Avro', async () => {
    const names = PROTOTYPE_NAMES.filter((name) => name !== '__proto__');
    const text = (features: string) => `{"prediction_id":"p","model":"m","model_version":"v","timestamp":1763942400000,"score":0.5,"features":${features}}`;
    const accepted = await decodePrediction(Buffer.from(text(JSON.stringify(Object.fromEntries(names.map((name, i) => [name, i]))))));
    expect(accepted.ok ? Object.entries(accepted.value.features) : accepted.letter.error_message).toEqual(names.map((name, i) => [name, i]));
    const refused = await decodePrediction(Buffer.from(text('{"__proto__": 1}')));
    expect(refused.ok ? 'ok' : refused.letter.error_message).toMatch(/features has the key "__proto__", which no map accepts/);
  });

  it('a 5-million-deep array in a JSON value is a validation dead letter, not a stack overflow', async () => {
    const deep = `{"prediction_id":"p","model":"m","model_version":"v","timestamp":1763942400000,"score":0.5,"features":${'['.repeat(5_000_000)}${']'.repeat(5_000_000)}}`;
    const decoded = await decodePrediction(Buffer.from(deep));
    expect(decoded.ok).toBe(false);
    if (!decoded.ok) expect(decoded.letter.error_class).toBe('validation');
  });

  it('property: any JSON-looking bytes give a validated event or a dead letter, never a throw', async () => {
    const hostileObject = fc.dictionary(fc.oneof(weirdString, fc.constantFrom('prediction_id', 'model', 'model_version', 'timestamp', 'score', 'features', 'threshold')), fc.oneof(anyField, weirdNumber), { maxKeys: 8 });
    const bytes = fc.oneof(
      hostileObject.map((o) => Buffer.from(safeStringify(o), 'utf8')),
      fc.uint8Array({ maxLength: 60 }).map((b) => Buffer.concat([Buffer.from('{'), Buffer.from(b)])),
      fc.uint8Array({ maxLength: 60 }).map((b) => Buffer.from(b)),
    );
    await fc.assert(
      fc.asyncProperty(bytes, async (value) => {
        const decoded = await decodePrediction(value);
        if (!decoded.ok) expect(['decode', 'validation', 'unknown_schema']).toContain(decoded.letter.error_class);
      }),
      runs(300),
    );
  });

  it('property: a valid prediction decodes to the same event from JSON and from Avro', async () => {
    const finite = fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e12, max: 1e12 });
    const name = fc.string({ minLength: 1, maxLength: 12 });
    const event = fc.record({
      prediction_id: name, model: name, model_version: name,
      timestamp: fc.integer({ min: 1_500_000_000_000, max: 1_900_000_000_000 }),
      features: fc.dictionary(name, finite, { maxKeys: 5 }),
      categorical: fc.dictionary(name, name, { maxKeys: 3 }),
      segments: fc.dictionary(name, name, { maxKeys: 3 }),
      score: finite, threshold: finite,
    });
    await fc.assert(
      fc.asyncProperty(event, async (raw) => {
        const fromJson = await decodePrediction(json(raw));
        if (!fromJson.ok) return; // the validator refused it (a limit): the Avro path is not reached either
        const fromAvro = await decodePrediction(await prediction.encode(fromJson.value));
        expect(fromAvro.ok && fromAvro.value).toEqual(fromJson.value);
      }),
      runs(300),
    );
  });
});

/** JSON text of a hostile object (bigint, symbol and function values become strings). */
function safeStringify(value: unknown): string {
  try {
    return JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' || typeof v === 'symbol' || typeof v === 'function' ? String(v) : v)) ?? 'null';
  } catch {
    return '{"nested": "too deep for JSON.stringify"}'; // the 5-million-deep case above covers depth
  }
}

// Avro-encoded sample feedback still decodes through the JSON-aware codec (the magic byte decides).
describe('Avro through the JSON-aware codec', () => {
  it('decodes as before', async () => {
    const event = sampleFeedback();
    const decoded = await decodeFeedback(await feedback.encode(event));
    expect(decoded.ok && decoded.value).toEqual(event);
  });
});
