/**
 * The Avro schemas of schemas/*.avsc, loaded once. The folder is found by
 * walking up from this module, so it works from the TypeScript sources and
 * from dist/ alike.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import avro from 'avsc';

export const SCHEMA_NAMES = [
  'Prediction',
  'Feedback',
  'LabelledExample',
  'ModelSnapshot',
  'PromotionDecision',
  'DeadLetter',
] as const;
export type SchemaName = (typeof SCHEMA_NAMES)[number];

export interface LoadedSchema {
  name: SchemaName;
  /** The schema as JSON text, as registered with a schema registry. */
  text: string;
  type: avro.Type;
}

function findSchemasDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const candidate = join(dir, 'schemas');
    if (existsSync(join(candidate, 'Prediction.avsc'))) return candidate;
    dir = dirname(dir);
  }
  throw new Error('cannot find the schemas/ folder (expected schemas/Prediction.avsc above this module)');
}

export const SCHEMAS_DIR = findSchemasDir();

/** The part of avsc's (internal) Tap that reads a map or an array: block counts, strings, where it is. */
interface Tap {
  readLong(): number;
  skipLong(): void;
  readString(): string;
  buf: Buffer;
  pos: number;
}

/**
 * The entries of a map or array block, once checked against the bytes left:
 * every entry of ours takes at least one byte (a map key, a record with a
 * string), so a larger count is a lie. avsc believes it and loops (reading
 * past the end) for as long as it says: 12 bytes claiming 1e11 entries held
 * a processor for minutes. Throws (the record becomes a dead letter).
 */
function blockCount(tap: Tap, n: number): number {
  const count = n < 0 ? -n : n;
  if (n < 0) tap.skipLong();
  if (count > tap.buf.length - tap.pos) throw new Error(`a block claims ${count} entries but only ${Math.max(0, tap.buf.length - tap.pos)} bytes are left`);
  return count;
}

/**
 * An Avro map that refuses the key `__proto__`. avsc reads a map into a
 * plain object by assignment, where that key sets the prototype (a number
 * or a string is ignored): the entry would vanish without a word. Here the
 * decode throws instead, so the record becomes a dead letter that says why
 * (as the validators of core/events.ts refuse the key). Every other key,
 * `constructor` and `toString` included, is an ordinary own entry. Reads
 * the same bytes as avsc's MapType._read (avsc 5): blocks of entries until
 * a count of 0; a negative count is followed by the block's size in bytes.
 */
class KeyCheckedMapType extends avro.types.MapType {
  _read(tap: Tap): Record<string, unknown> {
    const values = this.valuesType as { _read(tap: Tap): unknown };
    const out: Record<string, unknown> = {};
    for (let n = tap.readLong(); n !== 0; n = tap.readLong()) {
      for (n = blockCount(tap, n); n > 0; n--) {
        const key = tap.readString();
        if (key === '__proto__') throw new Error('a map has the key "__proto__", which no map accepts (it would not stay an ordinary key)');
        out[key] = values._read(tap);
      }
    }
    return out;
  }
}

/** An Avro array whose block counts are checked against the bytes left (see blockCount); avsc's ArrayType._read otherwise. */
class CountCheckedArrayType extends avro.types.ArrayType {
  _read(tap: Tap): unknown[] {
    const items = this.itemsType as unknown as { _read(tap: Tap): unknown };
    const out: unknown[] = [];
    for (let n = tap.readLong(); n !== 0; n = tap.readLong()) {
      for (n = blockCount(tap, n); n > 0; n--) out.push(items._read(tap));
    }
    return out;
  }
}

/** Builds every map and array of a schema as the checked types above (avsc's own types otherwise). */
function keyCheckedMaps(schema: avro.Schema, opts: avro.ForSchemaOptions): avro.Type | undefined {
  const s = schema as { type?: unknown };
  if (typeof schema !== 'object') return undefined;
  if (s.type === 'map') return new KeyCheckedMapType(schema, opts);
  return s.type === 'array' ? new CountCheckedArrayType(schema, opts) : undefined;
}

const cache = new Map<SchemaName, LoadedSchema>();

export function loadSchema(name: SchemaName): LoadedSchema {
  let loaded = cache.get(name);
  if (!loaded) {
    const text = readFileSync(join(SCHEMAS_DIR, `${name}.avsc`), 'utf8');
    loaded = { name, text: JSON.stringify(JSON.parse(text)), type: avro.Type.forSchema(JSON.parse(text), { typeHook: keyCheckedMaps }) };
    cache.set(name, loaded);
  }
  return loaded;
}

/** Why a value does not fit a schema, as field paths: "features.x: NaN is not a double". */
export function explainInvalid(type: avro.Type, value: unknown): string | undefined {
  const problems: string[] = [];
  type.isValid(value, {
    errorHook: (path: string[], any: unknown, t: avro.Type) => {
      problems.push(`${path.join('.') || '(record)'}: ${JSON.stringify(any) ?? String(any)} is not a valid ${t.typeName ?? t.branchName ?? 'value'}`);
    },
  });
  return problems.length > 0 ? problems.join('; ') : undefined;
}
