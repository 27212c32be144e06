/**
 * The segment of a metric point: `*` for all examples, `<attribute>=<value>`
 * for the examples whose prediction has that value of a segments attribute,
 * and `<attribute>=*` for the fairness gaps across an attribute's values.
 *
 * Parsing splits at the first `=`, so a value may hold `=` but an attribute
 * may not (`a=b` with value `c` reads as attribute `a`, value `b=c`). A value
 * `*` reads as the gap key of its attribute. A key that is neither `*` nor
 * holds a `=` parses to undefined. Attribute and value may be empty.
 */

/** The segment of all examples. */
export const ALL_SEGMENTS = '*';

export type SegmentKey =
  | { kind: 'all' }
  | { kind: 'value'; attribute: string; value: string }
  | { kind: 'gap'; attribute: string };

/** The segment of one value of an attribute. */
export function segmentKey(attribute: string, value: string): string {
  return `${attribute}=${value}`;
}

/** The fairness gaps across the values of an attribute. */
export function fairnessGapKey(attribute: string): string {
  return segmentKey(attribute, ALL_SEGMENTS);
}

/** What a segment key names (see the file comment); undefined when it is not one. */
export function parseSegmentKey(key: string): SegmentKey | undefined {
  if (key === ALL_SEGMENTS) return { kind: 'all' };
  const eq = key.indexOf('=');
  if (eq < 0) return undefined;
  const attribute = key.slice(0, eq);
  const value = key.slice(eq + 1);
  return value === ALL_SEGMENTS ? { kind: 'gap', attribute } : { kind: 'value', attribute, value };
}
