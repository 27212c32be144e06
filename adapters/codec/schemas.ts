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

const cache = new Map<SchemaName, LoadedSchema>();

export function loadSchema(name: SchemaName): LoadedSchema {
  let loaded = cache.get(name);
  if (!loaded) {
    const text = readFileSync(join(SCHEMAS_DIR, `${name}.avsc`), 'utf8');
    loaded = { name, text: JSON.stringify(JSON.parse(text)), type: avro.Type.forSchema(JSON.parse(text)) };
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
