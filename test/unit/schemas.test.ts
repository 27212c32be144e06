import { describe, expect, it } from 'vitest';
import avro from 'avsc';
import { LocalCodec } from '../../adapters/codec/codec.js';
import { loadSchema, SCHEMA_NAMES } from '../../adapters/codec/schemas.js';
import { DecodeError } from '../../core/errors.js';
import { SAMPLES } from '../support/samples.js';

describe('Avro schemas', () => {
  it.each(SCHEMA_NAMES)('%s parses and a sample record round-trips through the wire format', async (name) => {
    const schema = loadSchema(name);
    expect(schema.type.name).toBe(`feedbackloop.${name}`);
    const codec = new LocalCodec<unknown>(name);
    const bytes = await codec.encode(SAMPLES[name]);
    expect(bytes[0]).toBe(0);
    expect(bytes.readInt32BE(1)).toBe(SCHEMA_NAMES.indexOf(name) + 1);
    expect(await codec.decode(bytes)).toEqual(SAMPLES[name]);
  });

  it('Prediction has exactly the contract field names of docs/architecture.md, with the stated defaults', () => {
    const fields = JSON.parse(loadSchema('Prediction').text).fields as Array<{ name: string; default?: unknown }>;
    expect(fields.map((f) => f.name)).toEqual([
      'prediction_id', 'model', 'model_version', 'timestamp', 'features', 'categorical', 'segments', 'score', 'threshold', 'shadow_scores',
      'class_scores', 'predicted_class', 'predicted_labels',
    ]);
    expect(fields.find((f) => f.name === 'class_scores')!.default).toEqual({});
    expect(fields.find((f) => f.name === 'predicted_class')!.default).toBeNull();
    expect(fields.find((f) => f.name === 'predicted_labels')!.default).toBeNull();
    expect(fields.find((f) => f.name === 'threshold')!.default).toBe(0.5);
    expect(fields.find((f) => f.name === 'shadow_scores')!.default).toEqual({});
    expect(fields.find((f) => f.name === 'categorical')!.default).toEqual({});
  });

  it('Feedback has exactly the contract field names and the four feedback types', () => {
    const schema = JSON.parse(loadSchema('Feedback').text);
    expect(schema.fields.map((f: { name: string }) => f.name)).toEqual([
      'prediction_id', 'timestamp', 'feedback_type', 'label', 'uncertain', 'source', 'notes',
      'label_class', 'labels', 'labels_added', 'labels_removed',
    ]);
    expect(schema.fields.slice(7).map((f: { default: unknown }) => f.default)).toEqual([null, null, null, null]);
    expect(schema.fields[2].type.symbols).toEqual(['USER_CONFIRMED', 'USER_REJECTED', 'AUTO_VALIDATED', 'EXPERT_REVIEW']);
  });

  it('reads an old Prediction (no categorical/segments/threshold/shadow_scores) with the defaults filled in', () => {
    const old = avro.Type.forSchema({
      type: 'record',
      name: 'Prediction',
      namespace: 'feedbackloop',
      fields: [
        { name: 'prediction_id', type: 'string' },
        { name: 'model', type: 'string' },
        { name: 'model_version', type: 'string' },
        { name: 'timestamp', type: 'long' },
        { name: 'features', type: { type: 'map', values: 'double' } },
        { name: 'score', type: 'double' },
      ],
    });
    const reader = loadSchema('Prediction').type;
    const resolver = reader.createResolver(old);
    const bytes = old.toBuffer({ prediction_id: 'x', model: 'm', model_version: '1', timestamp: 5, features: { a: 1 }, score: 0.2 });
    expect(reader.fromBuffer(bytes, resolver)).toEqual({
      prediction_id: 'x', model: 'm', model_version: '1', timestamp: 5, features: { a: 1 },
      categorical: {}, segments: {}, score: 0.2, threshold: 0.5, shadow_scores: {},
      class_scores: {}, predicted_class: null, predicted_labels: null,
    });
  });
});

describe('LocalCodec errors', () => {
  const codec = new LocalCodec<unknown>('Prediction');

  it.each([
    ['garbage text', Buffer.from('hello world'), /magic byte 0 \(got 0x68\)/, 'decode'],
    ['too short', Buffer.from([0, 0, 0]), /too short/, 'decode'],
    ['another schema', Buffer.from([0, 0, 0, 0, 2, 1, 2]), /expected a Prediction record, got schema 2 \(Feedback\)/, 'unknown_schema'],
    ['unknown id', Buffer.from([0, 0, 0, 0, 99, 1]), /unknown schema id 99/, 'unknown_schema'],
    ['truncated body', Buffer.from([0, 0, 0, 0, 1, 6, 0x61]), /cannot decode Prediction/, 'decode'],
  ])('%s is a DecodeError with a reason', async (_name, bytes, message, errorClass) => {
    const error = await codec.decode(bytes).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DecodeError);
    expect((error as DecodeError).message).toMatch(message);
    expect((error as DecodeError).errorClass).toBe(errorClass);
    expect((error as DecodeError).retriable).toBe(false);
  });

  // Found by the property suite: avsc believes a block's count and loops for as long as it says.
  it.each([
    ['a map', 'Prediction', [0x02, 0x61, 0x02, 0x61, 0x02, 0x61, 0x00]],
    ['an array', 'ModelSnapshot', [0x02, 0x61, 0x02, 0x61, 0x02, 0x61, 0x02, 0x61, 0x02, 0x61]],
  ] as const)('%s block that claims 1e11 entries in 12 bytes is a DecodeError at once, not a hang', async (_name, schema, head) => {
    const zigzag = [0x80, 0xa0, 0xb7, 0x87, 0xe9, 0x05]; // 1e11 as a zigzag varint
    const bytes = Buffer.concat([Buffer.from([0, 0, 0, 0, SCHEMA_NAMES.indexOf(schema) + 1]), Buffer.from(head), Buffer.from(zigzag)]);
    const error = await new LocalCodec<unknown>(schema).decode(bytes).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DecodeError);
    expect((error as Error).message).toMatch(/claims 100000000000 entries but only 0 bytes are left/);
  });

  it('a null value is a DecodeError', async () => {
    await expect(codec.decode(null)).rejects.toThrow(/no value/);
  });

  it('refuses to encode a record that breaks the schema, naming the field', async () => {
    await expect(codec.encode({ ...SAMPLES.Prediction, score: 'high' })).rejects.toThrow(/score: "high" is not a valid double/);
  });
});
