/**
 * The bounds on what input can make the pipeline hold (README, "Limits, bad
 * input and faults"). Unbounded cardinality is a denial of service: one
 * prediction with 100,000 segment keys ran the evaluator out of memory, and
 * a 1 MB model name became 254 MB of metrics. Two kinds of bound:
 *
 * - per record (RecordLimits): the validators (core/events.ts) refuse an
 *   event whose identifiers or names are too long or whose maps have too many
 *   entries, so it is dead-lettered where it is first read, never stored;
 * - across records (FirstSeen): where state is keyed by input (models in the
 *   joiner, segment values and attributes in the evaluator, feature names in
 *   a challenger's encoders), the first N distinct names are kept and the rest
 *   refused, pooled or ignored, each counted.
 *
 * Lengths are in UTF-16 code units (String.length), the unit every string
 * here is measured in; the UTF-8 bytes are at most three times as many.
 */
import { ValidationError } from './errors.js';

export interface RecordLimits {
  /** prediction_id, model, model_version and a feedback's source (limits.max_id_length). */
  maxIdLength: number;
  /** Keys of features, categorical and segments; values of categorical and segments (limits.max_name_length). */
  maxNameLength: number;
  /** Entries of features, and of categorical (each; limits.max_features). */
  maxFeatures: number;
  /** Entries of segments (limits.max_segments). */
  maxSegments: number;
  /**
   * Entries of a prediction's class_scores and items of every list of class or label names
   * (predicted_labels, a feedback's labels, labels_added, labels_removed), and names in
   * models.<name>.classes (limits.max_classes).
   */
  maxClasses: number;
}

export const DEFAULT_RECORD_LIMITS: Readonly<RecordLimits> = { maxIdLength: 256, maxNameLength: 256, maxFeatures: 1_000, maxSegments: 32, maxClasses: 256 };

/** No per-record bound (tests of other edges, and what a caller that checked already passes). */
export const NO_RECORD_LIMITS: Readonly<RecordLimits> = {
  maxIdLength: Number.POSITIVE_INFINITY, maxNameLength: Number.POSITIVE_INFINITY, maxFeatures: Number.POSITIVE_INFINITY, maxSegments: Number.POSITIVE_INFINITY,
  maxClasses: Number.POSITIVE_INFINITY,
};

/** Distinct models a joiner partition admits (limits.max_models); configured models always pass. */
export const DEFAULT_MAX_MODELS = 1_000;
/** Distinct values per model and segment attribute the evaluator keeps apart (evaluator.max_segment_values). */
export const DEFAULT_MAX_SEGMENT_VALUES = 100;
/** Distinct segment attributes per model the evaluator keeps (evaluator.max_segment_attributes). */
export const DEFAULT_MAX_SEGMENT_ATTRIBUTES = 32;
/** Distinct feature names a challenger's encoder learns (learner.max_model_features). */
export const DEFAULT_MAX_MODEL_FEATURES = 10_000;

/** The segment value the evaluator pools values beyond evaluator.max_segment_values into (`<attribute>=other`). */
export const OTHER_SEGMENT_VALUE = 'other';

/**
 * The longest example id the joiner makes of an accepted prediction_id:
 * `<prediction_id>#<n>`, n an example count (at most 16 digits below 2^53),
 * or `<prediction_id>#arrival` (core/contracts/example-id.ts).
 */
export function maxExampleIdLength(limits: RecordLimits): number {
  return limits.maxIdLength + 17;
}

/** The start of a long value, for a message (never the whole megabyte). */
function preview(value: string): string {
  return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
}

/**
 * Throws unless `value` is at most `max` long. `name` leads the message (the
 * field, `segments.region`, or `segments key "…"`), `setting` is the key it
 * is configured by.
 */
export function checkLength(value: string, max: number, name: string, what: string, setting: string): string {
  if (value.length > max) {
    throw new ValidationError(`${what}: ${name} is ${value.length} characters long, more than ${setting} (${max}), got ${preview(value)}`);
  }
  return value;
}

/**
 * Throws when `map` has more than `max` own keys. Counts without copying and
 * stops at max + 1, so a map of 100,000 keys costs no more than one of max + 1.
 */
export function checkEntries(map: object, max: number, field: string, what: string, setting: string): void {
  if (!Number.isFinite(max)) return;
  let n = 0;
  for (const key in map) {
    if (!Object.hasOwn(map, key)) continue;
    if (++n > max) throw new ValidationError(`${what}: ${field} has more than ${max} entries (${setting})`);
  }
}

/**
 * The first `max` distinct names, kept; any later one is refused (`admit`
 * returns false). Restorable: `add` puts back a name admitted before (a
 * restart), even past `max` when the limit was lowered since.
 */
export class FirstSeen {
  private readonly names = new Set<string>();

  constructor(readonly max: number) {}

  admit(name: string): boolean {
    if (this.names.has(name)) return true;
    if (this.names.size >= this.max) return false;
    this.names.add(name);
    return true;
  }

  has(name: string): boolean {
    return this.names.has(name);
  }

  add(name: string): void {
    this.names.add(name);
  }

  get size(): number {
    return this.names.size;
  }

  values(): IterableIterator<string> {
    return this.names.values();
  }

  /** The names admitted, in the order they came. */
  toState(): FirstSeenState {
    return [...this.names];
  }

  /** The names of a state put back (past `max` too, as `add` does, when the limit was lowered since). */
  static fromState(state: FirstSeenState, max: number): FirstSeen {
    const seen = new FirstSeen(max);
    for (const name of state) seen.add(name);
    return seen;
  }
}

/** A FirstSeen's state: the names admitted, first first. */
export type FirstSeenState = string[];
