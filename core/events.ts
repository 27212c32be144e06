/**
 * The event contracts (docs/architecture.md, "Event contracts") as TypeScript types, with validation.
 * Field names are the Avro field names (schemas/*.avsc); JSON Lines files
 * used by `replay` carry the same names. Timestamps are epoch milliseconds.
 */
import { ValidationError } from './errors.js';
import { checkEntries, checkLength, DEFAULT_RECORD_LIMITS, maxExampleIdLength, type RecordLimits } from './limits.js';

export const FEEDBACK_TYPES = ['USER_CONFIRMED', 'USER_REJECTED', 'AUTO_VALIDATED', 'EXPERT_REVIEW'] as const;
export type FeedbackType = (typeof FEEDBACK_TYPES)[number];

export interface Prediction {
  prediction_id: string;
  model: string;
  model_version: string;
  timestamp: number;
  features: Record<string, number>;
  categorical: Record<string, string>;
  segments: Record<string, string>;
  score: number;
  threshold: number;
  /**
   * Upstream candidates' scores for the same request (candidate version → score), made
   * upstream at prediction time: evaluated and promotable like our own challengers (README,
   * "Upstream challengers"). Empty by default.
   */
  shadow_scores: Record<string, number>;
  /**
   * Schema version 3. Multi-class: the probability of each class (each in [0, 1], their sum within
   * 0.01 of 1, a class left out is 0); multi-label: the probability that each label applies (each
   * in [0, 1], independent). Keys are the names of models.<name>.classes. Empty by default (binary, regression).
   */
  class_scores: Record<string, number>;
  /** Schema version 3. The class a multi-class model decided; null: the arg-max of class_scores (ties: the first in models.<name>.classes). */
  predicted_class: string | null;
  /** Schema version 3. The labels a multi-label model decided; null: every label whose class_scores entry is at least `threshold`. */
  predicted_labels: string[] | null;
}

export interface Feedback {
  prediction_id: string;
  timestamp: number;
  feedback_type: FeedbackType;
  label: number | null;
  uncertain: boolean;
  source: string | null;
  notes: string | null;
  /** Schema version 2. Multi-class: the true class (then `label`, when given, is the numeric head: models.<name>.numeric_target). */
  label_class: string | null;
  /** Schema version 2. Multi-label: the full set of true labels. */
  labels: string[] | null;
  /** Schema version 2. Multi-label: labels to add to the prediction's decided set (with labels_removed; not with labels). */
  labels_added: string[] | null;
  /** Schema version 2. Multi-label: labels to remove from the prediction's decided set. */
  labels_removed: string[] | null;
}

export interface LabelledExample {
  example_id: string;
  prediction_id: string;
  model: string;
  model_version: string;
  timestamp: number;
  features: Record<string, number>;
  categorical: Record<string, string>;
  segments: Record<string, string>;
  score: number;
  threshold: number;
  label: number | null;
  feedback_type: FeedbackType | null;
  source: string | null;
  feedback_timestamp: number | null;
  label_delay_ms: number | null;
  correction_of: string | null;
  shadow_scores: Record<string, number>;
  /** On a correction: the label it replaces, as the replaced example carried it (what downstream reverts); null otherwise and on corrections of older joiners. */
  replaces: ReplacedLabel | null;
  /** An arrival record: the prediction as it arrived (label and feedback fields null), not a label (see schemas/LabelledExample.avsc). */
  arrival: boolean;
  /** Schema version 4: the prediction's class_scores ({} for binary and regression). */
  class_scores: Record<string, number>;
  /** Schema version 4. Multi-class: the class the prediction decided (resolved: never null for a multi-class model); else null. */
  predicted_class: string | null;
  /** Schema version 4. Multi-class: the true class; null when unknown (unlabelled, or a rejection without the right class). */
  label_class: string | null;
  /** Schema version 4. Multi-class: a rejection without the right class: the class it was not (the predicted class). */
  rejected_class: string | null;
  /** Schema version 4. Multi-label: the labels the prediction decided (resolved: never null for a multi-label model); else null. */
  predicted_labels: string[] | null;
  /** Schema version 4. Multi-label: the true labels (in models.<name>.classes order); null when unlabelled. */
  labels: string[] | null;
}

/** The label fields of the example a correction replaces (its prediction and scores are the correction's own). */
export interface ReplacedLabel {
  /** Null since schema version 4 (a multi-class example without a numeric head, a multi-label one). */
  label: number | null;
  feedback_type: FeedbackType;
  source: string | null;
  feedback_timestamp: number;
  /** Schema version 4: the replaced example's label_class, rejected_class and labels. */
  label_class: string | null;
  rejected_class: string | null;
  labels: string[] | null;
}

/** The class fields of a prediction without classes (a binary or regression model), fresh: to spread into a literal. */
export function noPredictionClasses(): Pick<Prediction, 'class_scores' | 'predicted_class' | 'predicted_labels'> {
  return { class_scores: {}, predicted_class: null, predicted_labels: null };
}

/** The class fields of a feedback without classes (a binary or regression model): to spread into a literal. */
export function noFeedbackClasses(): Pick<Feedback, 'label_class' | 'labels' | 'labels_added' | 'labels_removed'> {
  return { label_class: null, labels: null, labels_added: null, labels_removed: null };
}

/** The class fields of a labelled example without classes (a binary or regression model), fresh: to spread into a literal. */
export function noExampleClasses(): Pick<LabelledExample, 'class_scores' | 'predicted_class' | 'label_class' | 'rejected_class' | 'predicted_labels' | 'labels'> {
  return { class_scores: {}, predicted_class: null, label_class: null, rejected_class: null, predicted_labels: null, labels: null };
}

export interface FeatureSpec {
  name: string;
  kind: 'NUMERIC' | 'CATEGORICAL';
}

export interface ModelSnapshot {
  model: string;
  version: string;
  challenger: string;
  algorithm: string;
  parameters: string;
  feature_schema: FeatureSpec[];
  training_count: number;
  data_hash: string;
  parent_version: string | null;
  created_at: number;
}

export const DECISIONS = ['PROMOTE', 'HOLD', 'ROLLBACK', 'PIN', 'UNPIN'] as const;
export type Decision = (typeof DECISIONS)[number];

/**
 * What a model predicts: a probability of the positive class (binary), a number (regression),
 * one class of several (multiclass) or a set of labels (multilabel), each with its class_scores.
 */
export type ModelKind = 'binary' | 'regression' | 'multiclass' | 'multilabel';

export interface PromotionDecision {
  decision_id: string;
  model: string;
  from_version: string;
  to_version: string;
  decision: Decision;
  policy: string;
  statistic: number | null;
  p_value: number | null;
  bound: number | null;
  alpha: number | null;
  sample_size: number;
  metric_deltas: Record<string, number>;
  guardrails: Record<string, number>;
  reason: string;
  actor: string;
  at: number;
  decided_at: number;
}

export interface DeadLetter {
  topic: string;
  partition: number;
  offset: number;
  key: Buffer | null;
  value: Buffer | null;
  error_class: string;
  error_message: string;
  stage: string;
  failed_at: number;
}

// ---------------------------------------------------------------- validation
//
// A validator accepts exactly what its Avro schema (schemas/*.avsc) carries
// through avsc (adapters/codec) unchanged, so an event that passes it always
// encodes and decodes to an equal event (test/unit/codec-agreement.test.ts):
//
// - double: a finite number (avsc would write NaN and ±Infinity, which no
//   reader here accepts); -0 and denormals round-trip as they are.
// - long: an integer from LONG_MIN to LONG_MAX. avsc refuses to encode past
//   ±(2^53 − 2) ("potential precision loss": 2^53 − 1 is a safe integer but
//   not an avsc long), and below −2^52 it encodes without complaint but
//   decodes another number (the zigzag form 2|n| − 1 is odd and past 2^53, so
//   it is rounded to an even neighbour and read back as a positive number).
//   -0 is read back as 0, so the validator returns 0 for it.
// - timestamps (epoch milliseconds): an integer from 0 to TIMESTAMP_MAX, so
//   that the difference of two (label_delay_ms) is a long too.
// - string (values and map keys): well-formed UTF-16. A lone surrogate has no
//   UTF-8 form: it would be written as U+FFFD and read back different.
// - map keys: anything but "__proto__", which a plain object cannot hold as a
//   key (the copy, and avsc's decoder, would drop it silently).
//
// On top of what the codec carries, the record limits (core/limits.ts,
// config `limits.*`) bound the identifiers, names and map sizes of the events
// upstream sends (Prediction, Feedback, and the LabelledExample made of
// them): a subset of what the codec carries, so what they accept still
// round-trips. The events only our processors write (ModelSnapshot,
// PromotionDecision) are bounded by what they are made of.

/** The smallest integer an Avro long carries exactly through avsc: −2^52. */
export const LONG_MIN = -(2 ** 52);
/** The largest integer avsc encodes as an Avro long: 2^53 − 2 (it refuses 2^53 − 1). */
export const LONG_MAX = 2 ** 53 - 2;
/** The latest timestamp accepted: 2^52 ms (in the year 144,683), so that differences of timestamps are longs. */
export const TIMESTAMP_MAX = 2 ** 52;

type Obj = Record<string, unknown>;

function isObject(value: unknown): value is Obj {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A lone surrogate (half of a pair without its other half): with the u flag, a whole pair is one code point and does not match. */
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;

/** String.prototype.isWellFormed (Node 20; not in the ES2022 lib), else the regular expression. */
const isWellFormed: (value: string) => boolean =
  typeof (String.prototype as { isWellFormed?: unknown }).isWellFormed === 'function'
    ? (value) => (value as unknown as { isWellFormed(): boolean }).isWellFormed()
    : (value) => !LONE_SURROGATE.test(value);

/** Throws unless `value` has a UTF-8 form (Avro strings are UTF-8). */
function requireWellFormed(value: string, name: string, what: string): string {
  if (!isWellFormed(value)) {
    throw new ValidationError(`${what}: ${name} must be well-formed Unicode text (it holds a lone UTF-16 surrogate, which has no UTF-8 form), got ${describe(value)}`);
  }
  return value;
}

function requireString(obj: Obj, field: string, what: string, options: { empty?: boolean } = {}): string {
  const value = obj[field];
  if (typeof value !== 'string' || (value.length === 0 && !options.empty)) {
    throw new ValidationError(`${what}: ${field} must be a ${options.empty ? '' : 'non-empty '}string, got ${describe(value)}`);
  }
  return requireWellFormed(value, field, what);
}

/** A string that may be empty. */
function requireText(obj: Obj, field: string, what: string): string {
  return requireString(obj, field, what, { empty: true });
}

function optionalString(obj: Obj, field: string, what: string): string | null {
  const value = obj[field];
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string') throw new ValidationError(`${what}: ${field} must be a string or null, got ${describe(value)}`);
  return requireWellFormed(value, field, what);
}

/** An integer in [min, max] (-0 comes back as 0, as Avro reads it), or null when `nullable` and missing or null. */
function integerIn(obj: Obj, field: string, what: string, min: number, max: number, expected: string, nullable: boolean): number | null {
  const value = obj[field];
  if (nullable && (value === undefined || value === null)) return null;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new ValidationError(`${what}: ${field} must be ${expected}${nullable ? ' or null' : ''}, got ${describe(value)}`);
  }
  return value === 0 ? 0 : value;
}

const COUNT = `an integer from 0 to ${LONG_MAX} (2^53 - 2, the largest Avro long)`;
const EPOCH_MS = `epoch milliseconds: an integer from 0 to ${TIMESTAMP_MAX} (2^52)`;

/** A count (Avro long, never negative). */
function requireCount(obj: Obj, field: string, what: string): number {
  return integerIn(obj, field, what, 0, LONG_MAX, COUNT, false)!;
}

function requireTimestamp(obj: Obj, field: string, what: string): number {
  return integerIn(obj, field, what, 0, TIMESTAMP_MAX, EPOCH_MS, false)!;
}

function optionalTimestamp(obj: Obj, field: string, what: string): number | null {
  return integerIn(obj, field, what, 0, TIMESTAMP_MAX, EPOCH_MS, true);
}

/** Any Avro long avsc carries exactly, or null. */
function optionalLong(obj: Obj, field: string, what: string): number | null {
  return integerIn(obj, field, what, LONG_MIN, LONG_MAX, `an integer from ${LONG_MIN} (-2^52) to ${LONG_MAX} (2^53 - 2)`, true);
}

/** A map key: well-formed, and not the one key a plain object cannot hold. */
/** A map key the codec carries unchanged (`__proto__` is refused by mapKeys). */
function requireKey(key: string, field: string, what: string): string {
  return isWellFormed(key) ? key : requireWellFormed(key, `${field} key ${describe(key)}`, what);
}

function requireFinite(obj: Obj, field: string, what: string, fallback?: number): number {
  const value = obj[field] === undefined && fallback !== undefined ? fallback : obj[field];
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new ValidationError(`${what}: ${field} must be a finite number, got ${describe(value)}`);
  }
  return value;
}

function optionalFinite(obj: Obj, field: string, what: string): number | null {
  const value = obj[field];
  if (value === undefined || value === null) return null;
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new ValidationError(`${what}: ${field} must be a finite number or null, got ${describe(value)}`);
  return value;
}

/**
 * The keys of a map field (its values read by key: no pair allocated per entry). Any key is an ordinary name (`constructor`,
 * `toString`…) but `__proto__`, which is refused rather than lost: copied
 * into an object it would set the prototype and vanish, avsc's decoder
 * drops it, and the join state's msgpack (lmdb-js) renames it.
 */
function mapKeys(map: Obj, field: string, what: string): string[] {
  if (Object.hasOwn(map, '__proto__')) {
    throw new ValidationError(`${what}: ${field} has the key "__proto__", which no map accepts (it cannot stay an ordinary key through the codec and the join state)`);
  }
  return Object.keys(map);
}

/** How many entries a map may have and how long its keys (and string values) may be, and the settings that say so. */
interface MapBounds {
  entries: number;
  entriesSetting: string;
  length: number;
}

const UNBOUNDED_MAP: MapBounds = { entries: Number.POSITIVE_INFINITY, entriesSetting: '', length: Number.POSITIVE_INFINITY };

/** The bounds of a map of names (features, categorical, segments): at most `entries` entries (set by `setting`), names of max_name_length. */
function namesMap(limits: RecordLimits, entries: number, setting: string): MapBounds {
  return { entries, entriesSetting: setting, length: limits.maxNameLength };
}

/** Counted before any copy (checkEntries): an oversized map is refused without being read. */
function boundedKeys(map: Obj, field: string, what: string, bounds: MapBounds): string[] {
  checkEntries(map, bounds.entries, field, what, bounds.entriesSetting);
  return mapKeys(map, field, what);
}

function numberMap(obj: Obj, field: string, what: string, required: boolean, bounds: MapBounds = UNBOUNDED_MAP): Record<string, number> {
  const value = obj[field];
  if (value === undefined && !required) return {};
  if (!isObject(value)) throw new ValidationError(`${what}: ${field} must be a map of numbers, got ${describe(value)}`);
  const out: Record<string, number> = {};
  for (const key of boundedKeys(value, field, what, bounds)) {
    const v = value[key];
    requireKey(key, field, what);
    checkLength(key, bounds.length, `${field} key`, what, 'limits.max_name_length');
    if (typeof v !== 'number' || !Number.isFinite(v)) {
      throw new ValidationError(`${what}: ${field}.${key} must be a finite number, got ${describe(v)}`);
    }
    out[key] = v;
  }
  return out;
}

function stringMap(obj: Obj, field: string, what: string, bounds: MapBounds): Record<string, string> {
  const value = obj[field];
  if (value === undefined || value === null) return {};
  if (!isObject(value)) throw new ValidationError(`${what}: ${field} must be a map of strings, got ${describe(value)}`);
  const out: Record<string, string> = {};
  for (const key of boundedKeys(value, field, what, bounds)) {
    const v = value[key];
    requireKey(key, field, what);
    checkLength(key, bounds.length, `${field} key`, what, 'limits.max_name_length');
    if (typeof v !== 'string') throw new ValidationError(`${what}: ${field}.${key} must be a string, got ${describe(v)}`);
    checkLength(v, bounds.length, `${field}.${key.length > 40 ? `${key.slice(0, 40)}…` : key}`, what, 'limits.max_name_length');
    out[key] = isWellFormed(v) ? v : requireWellFormed(v, `${field}.${key}`, what);
  }
  return out;
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing (missing)';
  if (typeof value === 'number' && Number.isNaN(value)) return 'NaN';
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (value === null) return 'null';
  return typeof value === 'object' ? (Array.isArray(value) ? 'an array' : 'an object') : String(value);
}

/** An identifier: a non-empty string of at most limits.max_id_length (`max` for the ids made of one). */
function requireId(obj: Obj, field: string, what: string, limits: RecordLimits, max = limits.maxIdLength): string {
  return checkLength(requireString(obj, field, what), max, field, what, 'limits.max_id_length');
}

/** An identifier or null. */
function optionalId(obj: Obj, field: string, what: string, limits: RecordLimits, max = limits.maxIdLength): string | null {
  const value = optionalString(obj, field, what);
  return value === null ? null : checkLength(value, max, field, what, 'limits.max_id_length');
}

/**
 * A class or label name (multi-class and multi-label models): a non-empty, well-formed string of
 * at most limits.max_name_length, never "__proto__" (class names become keys of class_scores).
 */
function requireClassName(value: unknown, field: string, what: string, limits: RecordLimits): string {
  if (typeof value !== 'string' || value.length === 0) throw new ValidationError(`${what}: ${field} must be a class name (a non-empty string), got ${describe(value)}`);
  checkLength(value, limits.maxNameLength, field, what, 'limits.max_name_length');
  requireWellFormed(value, field, what);
  if (value === '__proto__') throw new ValidationError(`${what}: ${field} is "__proto__", which no class may be called (it cannot stay an ordinary key through the codec and the join state)`);
  return value;
}

/** A class name, or null when missing or null. */
function optionalClassName(obj: Obj, field: string, what: string, limits: RecordLimits): string | null {
  const value = obj[field];
  return value === undefined || value === null ? null : requireClassName(value, field, what, limits);
}

/** A list of distinct class names, or null when missing or null; its length is checked (limits.max_classes) before any item is read. */
function optionalClassList(obj: Obj, field: string, what: string, limits: RecordLimits): string[] | null {
  const value = obj[field];
  if (value === undefined || value === null) return null;
  if (!Array.isArray(value)) throw new ValidationError(`${what}: ${field} must be a list of class names or null, got ${describe(value)}`);
  if (value.length > limits.maxClasses) throw new ValidationError(`${what}: ${field} has more than ${limits.maxClasses} items (limits.max_classes)`);
  const seen = new Set<string>();
  const out: string[] = [];
  for (let i = 0; i < value.length; i++) {
    const name = requireClassName(value[i], `${field}[${i}]`, what, limits);
    if (seen.has(name)) throw new ValidationError(`${what}: ${field} lists ${describe(name)} twice`);
    seen.add(name);
    out.push(name);
  }
  return out;
}

/** class_scores: at most limits.max_classes entries, keys class names, values probabilities in [0, 1]. */
function classScores(obj: Obj, field: string, what: string, limits: RecordLimits): Record<string, number> {
  const scores = numberMap(obj, field, what, false, namesMap(limits, limits.maxClasses, 'limits.max_classes'));
  for (const key of Object.keys(scores)) {
    if (key.length === 0) throw new ValidationError(`${what}: ${field} has an empty key (keys are class names)`);
    const score = scores[key]!;
    if (score < 0 || score > 1) throw new ValidationError(`${what}: ${field}.${describe(key)} must be a probability in [0, 1], got ${score}`);
  }
  return scores;
}

/**
 * Checks a decoded object against the Prediction contract and the record
 * limits; returns a clean copy or throws ValidationError.
 */
export function validatePrediction(value: unknown, limits: RecordLimits = DEFAULT_RECORD_LIMITS): Prediction {
  if (!isObject(value)) throw new ValidationError(`prediction must be an object, got ${describe(value)}`);
  const fields = predictionFields(value, limits);
  return { ...fields, shadow_scores: upstreamScores(value, fields.model, limits) };
}

/** Most upstream candidates one prediction may carry scores of. */
export const MAX_UPSTREAM_CANDIDATES = 16;

/**
 * A prediction's upstream `shadow_scores`: at most MAX_UPSTREAM_CANDIDATES, each a finite
 * score under a version outside the names our own shadow scores use (`previous:…` for a
 * previous champion, `<model>/…` for our challengers' snapshots), so the two never mix.
 */
function upstreamScores(value: Obj, model: string, limits: RecordLimits): Record<string, number> {
  const what = 'prediction';
  const scores = numberMap(value, 'shadow_scores', what, false, namesMap(limits, MAX_UPSTREAM_CANDIDATES, 'the most upstream candidates per prediction (16)'));
  for (const key of Object.keys(scores)) {
    if (key.startsWith('previous:') || key.startsWith(`${model}/`)) {
      throw new ValidationError(`${what}: shadow_scores key ${describe(key)} is reserved (previous:… and ${model}/… name feedbackloop's own shadow scores): name an upstream candidate by its own version`);
    }
  }
  return scores;
}

/** The fields a prediction and a labelled example share (a labelled example's shadow scores are checked as its own). */
function predictionFields(value: Obj, limits: RecordLimits): Omit<Prediction, 'shadow_scores'> {
  const what = 'prediction';
  const features = namesMap(limits, limits.maxFeatures, 'limits.max_features');
  return {
    prediction_id: requireId(value, 'prediction_id', what, limits),
    model: requireId(value, 'model', what, limits),
    model_version: requireId(value, 'model_version', what, limits),
    timestamp: requireTimestamp(value, 'timestamp', what),
    features: numberMap(value, 'features', what, true, features),
    categorical: stringMap(value, 'categorical', what, features),
    segments: stringMap(value, 'segments', what, namesMap(limits, limits.maxSegments, 'limits.max_segments')),
    score: requireFinite(value, 'score', what),
    threshold: requireFinite(value, 'threshold', what, 0.5),
    class_scores: classScores(value, 'class_scores', what, limits),
    predicted_class: optionalClassName(value, 'predicted_class', what, limits),
    predicted_labels: optionalClassList(value, 'predicted_labels', what, limits),
  };
}

/** Checks a decoded object against the Feedback contract and the record limits; returns a clean copy or throws ValidationError. */
export function validateFeedback(value: unknown, limits: RecordLimits = DEFAULT_RECORD_LIMITS): Feedback {
  if (!isObject(value)) throw new ValidationError(`feedback must be an object, got ${describe(value)}`);
  const what = 'feedback';
  const type = value.feedback_type;
  if (typeof type !== 'string' || !(FEEDBACK_TYPES as readonly string[]).includes(type)) {
    throw new ValidationError(`${what}: feedback_type must be one of ${FEEDBACK_TYPES.join(', ')}, got ${describe(type)}`);
  }
  const label = value.label;
  if (label !== undefined && label !== null && (typeof label !== 'number' || !Number.isFinite(label))) {
    throw new ValidationError(`${what}: label must be a finite number or null, got ${describe(label)}`);
  }
  const uncertain = value.uncertain;
  if (uncertain !== undefined && typeof uncertain !== 'boolean') {
    throw new ValidationError(`${what}: uncertain must be a boolean, got ${describe(uncertain)}`);
  }
  return {
    prediction_id: requireId(value, 'prediction_id', what, limits),
    timestamp: requireTimestamp(value, 'timestamp', what),
    feedback_type: type as FeedbackType,
    label: (label as number | null | undefined) ?? null,
    uncertain: uncertain ?? false,
    source: optionalId(value, 'source', what, limits),
    // Free text: bounded by the record's size only (it is carried, never a key of any state).
    notes: optionalString(value, 'notes', what),
    ...feedbackClasses(value, what, limits),
  };
}

/** A feedback's class fields: one true class, or a full set of labels, or edits of the decided set (never both a set and edits, nor a label added and removed). */
function feedbackClasses(value: Obj, what: string, limits: RecordLimits): Pick<Feedback, 'label_class' | 'labels' | 'labels_added' | 'labels_removed'> {
  const out = {
    label_class: optionalClassName(value, 'label_class', what, limits),
    labels: optionalClassList(value, 'labels', what, limits),
    labels_added: optionalClassList(value, 'labels_added', what, limits),
    labels_removed: optionalClassList(value, 'labels_removed', what, limits),
  };
  const edits = out.labels_added !== null || out.labels_removed !== null;
  if (out.labels !== null && edits) {
    throw new ValidationError(`${what}: ${out.labels_added !== null ? 'labels_added' : 'labels_removed'} and labels exclude each other (labels is the full set; labels_added and labels_removed edit the predicted set)`);
  }
  if (out.label_class !== null && (out.labels !== null || edits)) {
    throw new ValidationError(`${what}: label_class (a multi-class label) and labels, labels_added or labels_removed (multi-label) exclude each other`);
  }
  if (out.labels_added !== null && out.labels_removed !== null) {
    const added = new Set(out.labels_added);
    const both = out.labels_removed.find((name) => added.has(name));
    if (both !== undefined) throw new ValidationError(`${what}: labels_removed names ${describe(both)}, which labels_added names too`);
  }
  return out;
}

/**
 * Checks a decoded object against the LabelledExample contract (what the
 * joiner writes; read by the evaluator, learner and promoter). Avro admits
 * NaN doubles, so numbers are checked to be finite. The record limits are
 * the prediction's (an example the joiner made passes them; one written
 * before they existed, or under larger ones, is refused where it is read);
 * example ids are a prediction_id and `#<n>`. Shadow-score keys are snapshot
 * versions our learner made: bounded by the model name and the config.
 */
export function validateLabelledExample(value: unknown, limits: RecordLimits = DEFAULT_RECORD_LIMITS): LabelledExample {
  if (!isObject(value)) throw new ValidationError(`labelled example must be an object, got ${describe(value)}`);
  const what = 'labelled example';
  const prediction = predictionFields(value, limits);
  const type = value.feedback_type;
  if (type !== undefined && type !== null && !(FEEDBACK_TYPES as readonly string[]).includes(type as string)) {
    throw new ValidationError(`${what}: feedback_type must be one of ${FEEDBACK_TYPES.join(', ')} or null, got ${describe(type)}`);
  }
  const label = value.label;
  if (label !== undefined && label !== null && (typeof label !== 'number' || !Number.isFinite(label))) {
    throw new ValidationError(`${what}: label must be a finite number or null, got ${describe(label)}`);
  }
  return {
    example_id: requireId(value, 'example_id', what, limits, maxExampleIdLength(limits)),
    ...prediction,
    label: (label as number | null | undefined) ?? null,
    feedback_type: (type as FeedbackType | null | undefined) ?? null,
    source: optionalId(value, 'source', what, limits),
    feedback_timestamp: optionalTimestamp(value, 'feedback_timestamp', what),
    label_delay_ms: optionalLong(value, 'label_delay_ms', what),
    correction_of: optionalId(value, 'correction_of', what, limits, maxExampleIdLength(limits)),
    shadow_scores: numberMap(value, 'shadow_scores', what, false),
    replaces: replacedLabel(value, what, limits),
    arrival: arrivalFlag(value, what),
    ...exampleClasses(value, what, limits),
  };
}

/** A labelled example's resolved class fields: a true class or a rejected one (not both). */
function exampleClasses(value: Obj, what: string, limits: RecordLimits): Pick<LabelledExample, 'label_class' | 'rejected_class' | 'labels'> {
  const out = {
    label_class: optionalClassName(value, 'label_class', what, limits),
    rejected_class: optionalClassName(value, 'rejected_class', what, limits),
    labels: optionalClassList(value, 'labels', what, limits),
  };
  if (out.label_class !== null && out.rejected_class !== null) {
    throw new ValidationError(`${what}: rejected_class must be null when label_class is set (a rejection without the right class has no label_class)`);
  }
  return out;
}

/** The `arrival` field: absent (records before schema version 3) is false; an arrival record carries no label. */
function arrivalFlag(obj: Obj, what: string): boolean {
  const value = obj.arrival;
  if (value === undefined || value === null || value === false) return false;
  if (value !== true) throw new ValidationError(`${what}: arrival must be a boolean, got ${describe(value)}`);
  for (const field of ['label', 'label_class', 'rejected_class', 'labels']) {
    const label = obj[field];
    if (label !== undefined && label !== null) throw new ValidationError(`${what}: arrival must be false when a label is set (an arrival record carries no label), got ${field} ${describe(label)}`);
  }
  return true;
}

/** The `replaces` field: null, or the replaced label (only on a correction). */
function replacedLabel(obj: Obj, what: string, limits: RecordLimits): ReplacedLabel | null {
  const value = obj.replaces;
  if (value === undefined || value === null) return null;
  const field = `${what}: replaces`;
  if (!isObject(value)) throw new ValidationError(`${field} must be an object or null, got ${describe(value)}`);
  if (obj.correction_of === undefined || obj.correction_of === null) throw new ValidationError(`${field} is set but correction_of is not (only a correction replaces a label)`);
  const label = value.label;
  if (label !== undefined && label !== null && (typeof label !== 'number' || !Number.isFinite(label))) {
    throw new ValidationError(`${field}.label must be a finite number or null, got ${describe(label)}`);
  }
  const type = value.feedback_type;
  if (typeof type !== 'string' || !(FEEDBACK_TYPES as readonly string[]).includes(type)) {
    throw new ValidationError(`${field}.feedback_type must be one of ${FEEDBACK_TYPES.join(', ')}, got ${describe(type)}`);
  }
  // The field helpers name the field they read: read these under their full names.
  const nested: Obj = {
    'replaces.source': value.source, 'replaces.feedback_timestamp': value.feedback_timestamp,
    'replaces.label_class': value.label_class, 'replaces.rejected_class': value.rejected_class, 'replaces.labels': value.labels,
  };
  const replaced: ReplacedLabel = {
    label: (label as number | null | undefined) ?? null,
    feedback_type: type as FeedbackType,
    source: optionalId(nested, 'replaces.source', what, limits),
    feedback_timestamp: requireTimestamp(nested, 'replaces.feedback_timestamp', what),
    label_class: optionalClassName(nested, 'replaces.label_class', what, limits),
    rejected_class: optionalClassName(nested, 'replaces.rejected_class', what, limits),
    labels: optionalClassList(nested, 'replaces.labels', what, limits),
  };
  if (replaced.label === null && replaced.label_class === null && replaced.rejected_class === null && replaced.labels === null) {
    throw new ValidationError(`${field} carries no label (label, label_class, rejected_class and labels are all null)`);
  }
  return replaced;
}

/** Checks a decoded object against the ModelSnapshot contract (what the registry reads of it); returns a clean copy or throws ValidationError. */
export function validateModelSnapshot(value: unknown): ModelSnapshot {
  const what = 'model snapshot';
  if (!isObject(value)) throw new ValidationError(`${what} must be an object`);
  const schema = featureSchema(value.feature_schema ?? [], what);
  return {
    model: requireString(value, 'model', what),
    version: requireString(value, 'version', what),
    challenger: requireText(value, 'challenger', what),
    algorithm: requireText(value, 'algorithm', what),
    parameters: requireText(value, 'parameters', what),
    feature_schema: schema,
    training_count: requireCount(value, 'training_count', what),
    data_hash: requireText(value, 'data_hash', what),
    parent_version: optionalString(value, 'parent_version', what),
    created_at: requireTimestamp(value, 'created_at', what),
  };
}

/**
 * A snapshot's feature schema: a list of {name, kind}, read by index so a
 * sparse array's holes are refused (every() and map() skip them, and the
 * codec cannot encode a hole).
 */
function featureSchema(schema: unknown, what: string): FeatureSpec[] {
  const refused = () => new ValidationError(`${what}: feature_schema must be a list of {name, kind: NUMERIC or CATEGORICAL}`);
  if (!Array.isArray(schema)) throw refused();
  const specs: FeatureSpec[] = [];
  for (let i = 0; i < schema.length; i++) {
    const f: unknown = schema[i];
    if (!isObject(f) || typeof f.name !== 'string' || (f.kind !== 'NUMERIC' && f.kind !== 'CATEGORICAL')) throw refused();
    specs.push({ name: requireWellFormed(f.name, `feature_schema[${i}].name`, what), kind: f.kind });
  }
  return specs;
}

/** A map of numbers that may be missing or null (then empty). */
function optionalNumberMap(obj: Obj, field: string, what: string): Record<string, number> {
  return obj[field] === null ? {} : numberMap(obj, field, what, false);
}

/** Checks a decoded object against the PromotionDecision contract; returns a clean copy or throws ValidationError. */
export function validatePromotionDecision(value: unknown): PromotionDecision {
  const what = 'promotion decision';
  if (!isObject(value)) throw new ValidationError(`${what} must be an object`);
  const decision = value.decision;
  if (typeof decision !== 'string' || !(DECISIONS as readonly string[]).includes(decision)) {
    throw new ValidationError(`${what}: decision must be one of ${DECISIONS.join(', ')}`);
  }
  return {
    decision_id: requireString(value, 'decision_id', what),
    model: requireString(value, 'model', what),
    from_version: requireText(value, 'from_version', what),
    to_version: requireText(value, 'to_version', what),
    decision: decision as Decision,
    policy: requireText(value, 'policy', what),
    statistic: optionalFinite(value, 'statistic', what),
    p_value: optionalFinite(value, 'p_value', what),
    bound: optionalFinite(value, 'bound', what),
    alpha: optionalFinite(value, 'alpha', what),
    sample_size: requireCount(value, 'sample_size', what),
    metric_deltas: optionalNumberMap(value, 'metric_deltas', what),
    guardrails: optionalNumberMap(value, 'guardrails', what),
    reason: requireText(value, 'reason', what),
    actor: requireText(value, 'actor', what),
    at: requireTimestamp(value, 'at', what),
    decided_at: requireTimestamp(value, 'decided_at', what),
  };
}
