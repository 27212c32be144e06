/**
 * Our schemas against the real schema registry: each registers, and adding
 * a field with a default passes the registry's BACKWARD check while adding
 * one without a default fails it.
 */
import { readFileSync } from 'node:fs';
import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import avro from 'avsc';
import { beforeAll, describe, expect, it } from 'vitest';
import { RegistryCodec } from '../../adapters/codec/codec.js';
import { loadSchema, SCHEMA_NAMES } from '../../adapters/codec/schemas.js';
import { DecodeError } from '../../core/errors.js';
import { validateLabelledExample } from '../../core/events.js';
import { SAMPLES } from '../support/samples.js';
import { uniqueName } from '../support/collect.js';
import { requireStack, STACK } from '../support/stack.js';

async function registryCall(method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> {
  const response = await fetch(`${STACK.registryUrl}${path}`, {
    method,
    headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, json: text ? JSON.parse(text) : null };
}

describe('schema registry (real)', () => {
  let registry: SchemaRegistry;

  beforeAll(async () => {
    await requireStack('registry');
    registry = new SchemaRegistry({ host: STACK.registryUrl });
  });

  it.each(SCHEMA_NAMES)('%s registers and a sample round-trips in the Confluent wire format', async (name) => {
    const codec = new RegistryCodec<unknown>(registry, name, uniqueName(`t-${name}`) + '-value');
    const bytes = await codec.encode(SAMPLES[name]);
    expect(bytes[0]).toBe(0);
    expect(bytes.readInt32BE(1)).toBe(await codec.register());
    // A second codec (another process) decodes by fetching the schema by id.
    const other = new RegistryCodec<unknown>(registry, name, 'unused-value');
    expect(await other.decode(bytes)).toEqual(SAMPLES[name]);
  });

  it('eight processes registering a new subject at once all get the same id (registry races are retried)', async () => {
    const subject = uniqueName('race') + '-value';
    const codecs = Array.from({ length: 8 }, () => new RegistryCodec<unknown>(new SchemaRegistry({ host: STACK.registryUrl }), 'DeadLetter', subject));
    const ids = await Promise.all(codecs.map((c) => c.register()));
    expect(new Set(ids).size).toBe(1);
  });

  it('an unknown schema id is a DecodeError of class unknown_schema', async () => {
    const codec = new RegistryCodec<unknown>(registry, 'Prediction', 'unused-value');
    const bytes = Buffer.from([0, 0x7f, 0xff, 0xff, 0x00, 1, 2, 3]);
    const error = await codec.decode(bytes).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DecodeError);
    expect((error as DecodeError).errorClass).toBe('unknown_schema');
  });

  it('LabelledExample v2 (replaces) is BACKWARD compatible with v1, and a v1 record (an older joiner) reads as replaces: null', async () => {
    const subject = `${uniqueName('migrate-labelled')}-value`;
    const v1 = readFileSync(new URL('../fixtures/schemas/LabelledExample.v1.avsc', import.meta.url), 'utf8');
    expect((await registryCall('PUT', `/config/${subject}`, { compatibility: 'BACKWARD' })).status).toBe(200);
    const { id } = await registry.register({ type: SchemaType.AVRO, schema: v1 }, { subject });
    // The new joiner's codec registers v2 under the same subject: accepted by the BACKWARD rule.
    const codec = new RegistryCodec<unknown>(registry, 'LabelledExample', subject);
    expect(await codec.register()).not.toBe(id);
    // A correction an older joiner wrote (v1 wire format) decodes through the new reader schema.
    const { replaces: _, ...old } = { ...SAMPLES.LabelledExample, example_id: 'p-1#2', correction_of: 'p-1#1' };
    const body = avro.Type.forSchema(JSON.parse(v1)).toBuffer(old);
    const header = Buffer.alloc(5);
    header.writeInt32BE(id, 1);
    const decoded = validateLabelledExample(await codec.decode(Buffer.concat([header, body])));
    expect(decoded).toEqual({ ...old, replaces: null });
  });

  it.each([
    ['Prediction', 'Prediction.v2.avsc', { class_scores: {}, predicted_class: null, predicted_labels: null }],
    ['Feedback', 'Feedback.v1.avsc', { label_class: null, labels: null, labels_added: null, labels_removed: null }],
    ['LabelledExample', 'LabelledExample.v3.avsc', { class_scores: {}, predicted_class: null, label_class: null, rejected_class: null, predicted_labels: null, labels: null }],
  ] as const)('%s with the class fields (issue 16) is BACKWARD compatible with %s, and a record written before reads them as their defaults', async (name, fixture, defaults) => {
    const subject = `${uniqueName(`classes-${name}`)}-value`;
    const before = readFileSync(new URL(`../fixtures/schemas/${fixture}`, import.meta.url), 'utf8');
    expect((await registryCall('PUT', `/config/${subject}`, { compatibility: 'BACKWARD' })).status).toBe(200);
    const { id } = await registry.register({ type: SchemaType.AVRO, schema: before }, { subject });
    const codec = new RegistryCodec<unknown>(registry, name, subject);
    expect(await codec.register()).not.toBe(id);
    // A correction as a joiner before version 4 wrote it: its replaced label is a double.
    const sample: Record<string, unknown> = name === 'LabelledExample'
      ? { ...SAMPLES.LabelledExample, example_id: 'p-1#2', correction_of: 'p-1#1', replaces: { label: 0, feedback_type: 'USER_CONFIRMED', source: null, feedback_timestamp: 1 } }
      : { ...SAMPLES[name] };
    for (const field of Object.keys(defaults)) delete sample[field];
    const header = Buffer.alloc(5);
    header.writeInt32BE(id, 1);
    const decoded = await codec.decode(Buffer.concat([header, avro.Type.forSchema(JSON.parse(before)).toBuffer(sample)]));
    const expected = name === 'LabelledExample' ? { ...sample, ...defaults, replaces: { label: 0, feedback_type: 'USER_CONFIRMED', source: null, feedback_timestamp: 1, label_class: null, rejected_class: null, labels: null } } : { ...sample, ...defaults };
    expect(decoded).toEqual(expected);
  });

  it.each(SCHEMA_NAMES)('%s: a new field with a default is BACKWARD compatible, one without is not', async (name) => {
    const subject = `${uniqueName(`compat-${name}`)}-value`;
    const base = JSON.parse(loadSchema(name).text);
    expect((await registryCall('PUT', `/config/${subject}`, { compatibility: 'BACKWARD' })).status).toBe(200);
    const registered = await registryCall('POST', `/subjects/${subject}/versions`, { schema: JSON.stringify(base) });
    expect(registered.status).toBe(200);
    expect(typeof registered.json.id).toBe('number');

    const withDefault = { ...base, fields: [...base.fields, { name: 'added_later', type: ['null', 'string'], default: null }] };
    const ok = await registryCall('POST', `/compatibility/subjects/${subject}/versions/latest`, { schema: JSON.stringify(withDefault) });
    expect(ok.status).toBe(200);
    expect(ok.json.is_compatible).toBe(true);

    const withoutDefault = { ...base, fields: [...base.fields, { name: 'added_later', type: 'string' }] };
    const bad = await registryCall('POST', `/compatibility/subjects/${subject}/versions/latest`, { schema: JSON.stringify(withoutDefault) });
    expect(bad.status).toBe(200);
    expect(bad.json.is_compatible).toBe(false);
  });
});
