/**
 * Query parameters for ClickHouse, bound here: ClickHouse 18.16 (the oldest
 * server supported) has no server-side parameters, so a query is written
 * with placeholders in the server's own syntax, `{name:Type}`, and each value
 * is bound by its declared type, never pasted in: a String becomes a quoted,
 * escaped literal, an integer type takes only a safe integer in its range,
 * Float64 only a finite number.
 * The query text is ours; user input only ever arrives through here.
 */
import { FeedbackloopError } from '../../core/errors.js';
import { sqlString } from './store.js';

export type QueryParam = string | number;

const INTEGER_RANGES: ReadonlyMap<string, [number, number]> = new Map([
  ['UInt8', [0, 255]],
  ['UInt32', [0, 4_294_967_295]],
  ['UInt64', [0, Number.MAX_SAFE_INTEGER]],
  ['Int64', [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER]],
]);

const PLACEHOLDER = /\{([A-Za-z_][A-Za-z0-9_]*):([A-Za-z0-9]+)\}/g;

function literal(name: string, type: string, value: QueryParam | undefined): string {
  if (value === undefined) throw new FeedbackloopError(`query parameter ${name} has no value`);
  if (type === 'String') {
    if (typeof value !== 'string') throw new FeedbackloopError(`query parameter ${name} must be a string`);
    return sqlString(value);
  }
  if (type === 'Float64') {
    if (typeof value !== 'number' || !Number.isFinite(value)) throw new FeedbackloopError(`query parameter ${name} must be a finite Float64, got ${String(value)}`);
    return String(value); // digits, a dot, an exponent (1e+150): a ClickHouse number literal
  }
  const range = INTEGER_RANGES.get(type);
  if (!range) throw new FeedbackloopError(`query parameter ${name}: type ${type} is not supported`);
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < range[0] || value > range[1]) {
    throw new FeedbackloopError(`query parameter ${name} must be a ${type}, got ${String(value)}`);
  }
  return String(value);
}

/** The query with every `{name:Type}` replaced by its value as a literal of that type (one pass: a value is never scanned again). */
export function bindParams(sql: string, params: Readonly<Record<string, QueryParam>>): string {
  return sql.replace(PLACEHOLDER, (_match, name: string, type: string) => literal(name, type, Object.hasOwn(params, name) ? params[name] : undefined));
}
