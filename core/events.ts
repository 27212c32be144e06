/**
 * The event contracts (docs/architecture.md, "Event contracts") as TypeScript types, with validation.
 * Field names are the Avro field names (schemas/*.avsc); JSON Lines files
 * used by `replay` carry the same names. Timestamps are epoch milliseconds.
 */
import { ValidationError } from './errors.js';

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
}

export interface Feedback {
  prediction_id: string;
  timestamp: number;
  feedback_type: FeedbackType;
  label: number | null;
  uncertain: boolean;
  source: string | null;
  notes: string | null;
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

/** What a model predicts: a probability of the positive class (binary) or a number (regression). */
export type ModelKind = 'binary' | 'regression';

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

type Obj = Record<string, unknown>;

function isObject(value: unknown): value is Obj {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function requireString(obj: Obj, field: string, what: string, options: { empty?: boolean } = {}): string {
  const value = obj[field];
  if (typeof value !== 'string' || (value.length === 0 && !options.empty)) {
    throw new ValidationError(`${what}: ${field} must be a ${options.empty ? '' : 'non-empty '}string, got ${describe(value)}`);
  }
  return value;
}

/** A string that may be empty. */
function requireText(obj: Obj, field: string, what: string): string {
  return requireString(obj, field, what, { empty: true });
}

function optionalString(obj: Obj, field: string, what: string): string | null {
  const value = obj[field];
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string') throw new ValidationError(`${what}: ${field} must be a string or null, got ${describe(value)}`);
  return value;
}

function requireCount(obj: Obj, field: string, what: string, expected = 'a non-negative integer'): number {
  const value = obj[field];
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new ValidationError(`${what}: ${field} must be ${expected}, got ${describe(value)}`);
  }
  return value;
}

function requireTimestamp(obj: Obj, field: string, what: string): number {
  return requireCount(obj, field, what, 'epoch milliseconds (a non-negative integer)');
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
 * The entries of a map field. Any key is an ordinary name (`constructor`,
 * `toString`…) but `__proto__`, which is refused rather than lost: copied
 * into an object it would set the prototype and vanish, avsc's decoder
 * drops it, and the join state's msgpack (lmdb-js) renames it.
 */
function mapEntries(map: Obj, field: string, what: string): Array<[string, unknown]> {
  if (Object.hasOwn(map, '__proto__')) {
    throw new ValidationError(`${what}: ${field} has the key "__proto__", which no map accepts (it cannot stay an ordinary key through the codec and the join state)`);
  }
  return Object.entries(map);
}

function numberMap(obj: Obj, field: string, what: string, required: boolean): Record<string, number> {
  const value = obj[field];
  if (value === undefined && !required) return {};
  if (!isObject(value)) throw new ValidationError(`${what}: ${field} must be a map of numbers, got ${describe(value)}`);
  const out: Record<string, number> = {};
  for (const [key, v] of mapEntries(value, field, what)) {
    if (typeof v !== 'number' || !Number.isFinite(v)) {
      throw new ValidationError(`${what}: ${field}.${key} must be a finite number, got ${describe(v)}`);
    }
    out[key] = v;
  }
  return out;
}

function stringMap(obj: Obj, field: string, what: string): Record<string, string> {
  const value = obj[field];
  if (value === undefined || value === null) return {};
  if (!isObject(value)) throw new ValidationError(`${what}: ${field} must be a map of strings, got ${describe(value)}`);
  const out: Record<string, string> = {};
  for (const [key, v] of mapEntries(value, field, what)) {
    if (typeof v !== 'string') throw new ValidationError(`${what}: ${field}.${key} must be a string, got ${describe(v)}`);
    out[key] = v;
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

/** Checks a decoded object against the Prediction contract; returns a clean copy or throws ValidationError. */
export function validatePrediction(value: unknown): Prediction {
  if (!isObject(value)) throw new ValidationError(`prediction must be an object, got ${describe(value)}`);
  const what = 'prediction';
  return {
    prediction_id: requireString(value, 'prediction_id', what),
    model: requireString(value, 'model', what),
    model_version: requireString(value, 'model_version', what),
    timestamp: requireTimestamp(value, 'timestamp', what),
    features: numberMap(value, 'features', what, true),
    categorical: stringMap(value, 'categorical', what),
    segments: stringMap(value, 'segments', what),
    score: requireFinite(value, 'score', what),
    threshold: requireFinite(value, 'threshold', what, 0.5),
  };
}

/** Checks a decoded object against the Feedback contract; returns a clean copy or throws ValidationError. */
export function validateFeedback(value: unknown): Feedback {
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
    prediction_id: requireString(value, 'prediction_id', what),
    timestamp: requireTimestamp(value, 'timestamp', what),
    feedback_type: type as FeedbackType,
    label: (label as number | null | undefined) ?? null,
    uncertain: uncertain ?? false,
    source: optionalString(value, 'source', what),
    notes: optionalString(value, 'notes', what),
  };
}

function optionalInteger(obj: Obj, field: string, what: string): number | null {
  const value = obj[field];
  if (value === undefined || value === null) return null;
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) throw new ValidationError(`${what}: ${field} must be an integer or null, got ${describe(value)}`);
  return value;
}

/**
 * Checks a decoded object against the LabelledExample contract (what the
 * joiner writes; read by the evaluator, learner and promoter). Avro admits
 * NaN doubles, so numbers are checked to be finite.
 */
export function validateLabelledExample(value: unknown): LabelledExample {
  if (!isObject(value)) throw new ValidationError(`labelled example must be an object, got ${describe(value)}`);
  const what = 'labelled example';
  const prediction = validatePrediction(value);
  const type = value.feedback_type;
  if (type !== undefined && type !== null && !(FEEDBACK_TYPES as readonly string[]).includes(type as string)) {
    throw new ValidationError(`${what}: feedback_type must be one of ${FEEDBACK_TYPES.join(', ')} or null, got ${describe(type)}`);
  }
  const label = value.label;
  if (label !== undefined && label !== null && (typeof label !== 'number' || !Number.isFinite(label))) {
    throw new ValidationError(`${what}: label must be a finite number or null, got ${describe(label)}`);
  }
  return {
    example_id: requireString(value, 'example_id', what),
    ...prediction,
    label: (label as number | null | undefined) ?? null,
    feedback_type: (type as FeedbackType | null | undefined) ?? null,
    source: optionalString(value, 'source', what),
    feedback_timestamp: optionalInteger(value, 'feedback_timestamp', what),
    label_delay_ms: optionalInteger(value, 'label_delay_ms', what),
    correction_of: optionalString(value, 'correction_of', what),
    shadow_scores: numberMap(value, 'shadow_scores', what, false),
  };
}

/** Checks a decoded object against the ModelSnapshot contract (what the registry reads of it); returns a clean copy or throws ValidationError. */
export function validateModelSnapshot(value: unknown): ModelSnapshot {
  const what = 'model snapshot';
  if (!isObject(value)) throw new ValidationError(`${what} must be an object`);
  const schema = value.feature_schema ?? [];
  if (!Array.isArray(schema) || !schema.every((f: unknown) => isObject(f) && typeof f.name === 'string' && (f.kind === 'NUMERIC' || f.kind === 'CATEGORICAL'))) {
    throw new ValidationError(`${what}: feature_schema must be a list of {name, kind: NUMERIC or CATEGORICAL}`);
  }
  return {
    model: requireString(value, 'model', what),
    version: requireString(value, 'version', what),
    challenger: requireText(value, 'challenger', what),
    algorithm: requireText(value, 'algorithm', what),
    parameters: requireText(value, 'parameters', what),
    feature_schema: schema.map((f: FeatureSpec) => ({ name: f.name, kind: f.kind })),
    training_count: requireCount(value, 'training_count', what),
    data_hash: requireText(value, 'data_hash', what),
    parent_version: optionalString(value, 'parent_version', what),
    created_at: requireTimestamp(value, 'created_at', what),
  };
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
