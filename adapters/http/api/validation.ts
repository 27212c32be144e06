/**
 * How the server validates requests against their JSON schemas (ajv, through
 * fastify's own compiler): bodies strictly (no type coercion, no defaults
 * filled in, nothing removed: a body is checked as sent, the event contract
 * fills the defaults), query strings and path parameters with coercion (they
 * arrive as text: `limit=10` is the integer 10). And what a failed check
 * says: the first problem, as `{ error, field, message }` with the field as a
 * path (`events[3].features.amount`).
 */
import AjvCompiler from '@fastify/ajv-compiler';

type Factory = AjvCompiler.BuildCompilerFromPool;

const pool = AjvCompiler();

/** fastify's compilersFactory.buildValidator: strict for bodies, coercing elsewhere. */
export const strictBodyValidators: Factory = (externalSchemas, options) => {
  // Nothing removed: an unknown field or parameter is refused (400), not dropped.
  const custom = { ...options?.customOptions, allowUnionTypes: true, removeAdditional: false };
  const coercing = pool(externalSchemas, { ...options, customOptions: custom } as Parameters<Factory>[1]);
  const strict = pool(externalSchemas, { ...options, customOptions: { ...custom, coerceTypes: false, useDefaults: false, removeAdditional: false } } as Parameters<Factory>[1]);
  return (route) => (route.httpPart === 'body' ? strict : coercing)(route);
};

/** What ajv reports about one problem (the fields used here). */
export interface SchemaProblem {
  keyword: string;
  instancePath: string;
  params: Record<string, unknown>;
  message?: string;
}

export interface FieldProblem {
  error: 'validation';
  /** Where, as a path into the input (`events[3].score`); '' for the input as a whole. */
  field: string;
  message: string;
}

/** A JSON pointer (`/events/3/features/a~1b`) as a path (`events[3].features.a/b`). */
export function pointerPath(pointer: string): string {
  let out = '';
  for (const raw of pointer.split('/').slice(1)) {
    const part = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    out += /^\d+$/.test(part) ? `[${part}]` : out === '' ? part : `.${part}`;
  }
  return out;
}

/** Appends a property name to a path. */
export const childPath = (path: string, name: string) => (path === '' ? name : `${path}.${name}`);

/** The problem to report: the first that names a place (`if` only says a branch failed, after the branch's own). */
export function fieldProblem(problems: readonly SchemaProblem[], part: string): FieldProblem {
  const problem = problems.find((p) => p.keyword !== 'if') ?? problems[0];
  if (!problem) return { error: 'validation', field: '', message: `${part} is not valid` };
  let field = pointerPath(problem.instancePath);
  const missing = problem.params.missingProperty ?? problem.params.additionalProperty;
  if (typeof missing === 'string') field = childPath(field, missing);
  const where = field === '' ? part : `${part === 'body' ? '' : `${part} `}${field}`;
  const text = problem.keyword === 'required' ? 'is required' : problem.keyword === 'additionalProperties' ? 'is not a known field' : (problem.message ?? 'is not valid');
  return { error: 'validation', field, message: `${where} ${text}` };
}
