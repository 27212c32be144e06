/**
 * The JSON schemas of the events a client posts, made from the Avro schemas
 * (schemas/*.avsc, the contract): the same fields, types, defaults (a field
 * with a default may be left out) and docs, so the API and its OpenAPI
 * document follow the contract when it evolves. Shapes only: the bounds
 * (limits.*), non-empty ids and plausible times are checked by the contract's
 * validators (core/events.ts) after the schema.
 */
import { loadSchema, type SchemaName } from '../../codec/schemas.js';

type Avro = string | Avro[] | { type: string; [key: string]: unknown };
type Json = Record<string, unknown>;

const PRIMITIVES: ReadonlyMap<string, string> = new Map([
  ['string', 'string'],
  ['long', 'integer'],
  ['int', 'integer'],
  ['double', 'number'],
  ['float', 'number'],
  ['boolean', 'boolean'],
]);

function nullable(schema: Json): Json {
  const type = schema.type;
  return { ...schema, type: [type, 'null'], ...(Array.isArray(schema.enum) ? { enum: [...schema.enum, null] } : {}) };
}

function fromAvro(avro: Avro): Json {
  if (typeof avro === 'string') {
    const type = PRIMITIVES.get(avro);
    if (!type) throw new Error(`no JSON schema for the Avro type ${avro}`);
    return { type };
  }
  if (Array.isArray(avro)) {
    const others = avro.filter((branch) => branch !== 'null');
    if (others.length !== 1 || others.length === avro.length) throw new Error(`no JSON schema for the Avro union ${JSON.stringify(avro)}`);
    return nullable(fromAvro(others[0]!));
  }
  switch (avro.type) {
    case 'map':
      return { type: 'object', additionalProperties: fromAvro(avro.values as Avro) };
    case 'array':
      return { type: 'array', items: fromAvro(avro.items as Avro) };
    case 'enum':
      return { type: 'string', enum: avro.symbols };
    case 'record':
      return recordSchema(avro);
    default:
      return fromAvro(avro.type);
  }
}

function recordSchema(record: { [key: string]: unknown }): Json {
  const fields = record.fields as Array<{ name: string; type: Avro; doc?: string; default?: unknown }>;
  const properties: Json = {};
  for (const field of fields) properties[field.name] = { ...fromAvro(field.type), ...(field.doc ? { description: field.doc } : {}) };
  return {
    type: 'object',
    ...(typeof record.doc === 'string' ? { description: record.doc } : {}),
    required: fields.filter((f) => !Object.hasOwn(f, 'default')).map((f) => f.name),
    properties,
  };
}

/** The JSON schema of one event, from its Avro schema. */
export function eventSchema(name: SchemaName): Json {
  return recordSchema(JSON.parse(loadSchema(name).text));
}
