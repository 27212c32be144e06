/**
 * The length of a value's Avro body without encoding it: a sizer compiled
 * once per schema from avsc's type, following avsc's writer byte for byte
 * (zigzag varints for int and long, length-prefixed UTF-8 strings, maps and
 * arrays as one block then a 0, a union's branch index then the branch).
 * The in-process log weighs a lazily encoded record with it (its bytes are
 * made only when a reader reads them: adapters/transport/memory.ts).
 *
 * Only for values the schema's validator accepted (core/events.ts): it does
 * not check them. Unions are the `["null", X]` kind our schemas use; a schema
 * with another kind gets no sizer (sizerOf returns undefined).
 */
import type avro from 'avsc';

export type Sizer = (value: unknown) => number;

/** Bytes of the zigzag varint of an integer, as avsc's Tap.writeLong writes it (floating arithmetic past ±2^30). */
export function varintLength(n: number): number {
  let f = n >= 0 ? n * 2 : -n * 2 - 1;
  let bytes = 1;
  while (f >= 128) {
    f /= 128;
    bytes++;
  }
  return bytes;
}

function stringLength(s: string): number {
  const len = Buffer.byteLength(s, 'utf8');
  return varintLength(len) + len;
}

interface AvroTypeLike {
  typeName: string;
  fields?: Array<{ name: string; type: AvroTypeLike }>;
  valuesType?: AvroTypeLike;
  itemsType?: AvroTypeLike;
  types?: AvroTypeLike[];
  symbols?: readonly string[];
}

/** A sizer for `type`, or undefined when it holds a kind this module does not size. */
export function sizerOf(type: avro.Type): Sizer | undefined {
  try {
    return compile(type as unknown as AvroTypeLike);
  } catch {
    return undefined;
  }
}

function compile(type: AvroTypeLike): Sizer {
  switch (type.typeName) {
    case 'null':
      return () => 0;
    case 'boolean':
      return () => 1;
    case 'int':
    case 'long':
      return (v) => varintLength(v as number);
    case 'float':
      return () => 4;
    case 'double':
      return () => 8;
    case 'string':
      return (v) => stringLength(v as string);
    case 'enum': {
      const index = new Map(type.symbols!.map((s, i) => [s, varintLength(i)]));
      return (v) => index.get(v as string)!;
    }
    case 'map':
      return mapSizer(compile(type.valuesType!));
    case 'array':
      return arraySizer(compile(type.itemsType!));
    case 'record':
      return recordSizer(type.fields!.map((f) => ({ name: f.name, size: compile(f.type) })));
    case 'union:unwrapped':
      return unionSizer(type.types!);
    default:
      throw new Error(`no sizer for ${type.typeName}`);
  }
}

function mapSizer(values: Sizer): Sizer {
  return (v) => {
    const map = v as Record<string, unknown>;
    let n = 0;
    let bytes = 1; // the closing 0
    for (const key in map) {
      n++;
      bytes += stringLength(key) + values(map[key]);
    }
    return n === 0 ? bytes : bytes + varintLength(n);
  };
}

function arraySizer(items: Sizer): Sizer {
  return (v) => {
    const list = v as unknown[];
    let bytes = 1;
    for (const item of list) bytes += items(item);
    return list.length === 0 ? bytes : bytes + varintLength(list.length);
  };
}

function recordSizer(fields: Array<{ name: string; size: Sizer }>): Sizer {
  return (v) => {
    const record = v as Record<string, unknown>;
    let bytes = 0;
    for (const f of fields) bytes += f.size(record[f.name]);
    return bytes;
  };
}

/** `["null", X]` (either order): the branch index (one byte), then X's bytes unless null. */
function unionSizer(types: AvroTypeLike[]): Sizer {
  const nullAt = types.findIndex((t) => t.typeName === 'null');
  if (types.length !== 2 || nullAt < 0) throw new Error('only ["null", X] unions are sized');
  const other = compile(types[1 - nullAt]!);
  return (v) => (v === null || v === undefined ? 1 : 1 + other(v));
}
