/**
 * The evaluator's pure outputs: plain data, written to storage by adapters
 * (adapters/clickhouse/rows.ts maps them to rows). Timestamps are epoch
 * milliseconds.
 */

/**
 * One metric of one model version, role and segment over one window. A point
 * is identified by model, model_version, role, segment, window, window_start
 * and metric; window_end is not part of the identity. A ratio whose
 * denominator is zero has value null.
 */
export interface MetricPoint {
  model: string;
  model_version: string;
  role: string;
  segment: string;
  window: string;
  window_start: number;
  window_end: number;
  metric: string;
  value: number | null;
  count: number;
}

/** One drift test of one feature: the statistic's value, its threshold and whether drift was detected. */
export interface DriftRecord {
  model: string;
  model_version: string;
  role: string;
  feature: string;
  statistic: string;
  value: number | null;
  threshold: number;
  detected: boolean;
  window: string;
  window_start: number;
  window_end: number;
  at: number;
  n: number;
}

/** Feedback counts of one model for one UTC day, feedback type and source. */
export interface FeedbackStat {
  model: string;
  /** Epoch milliseconds of the UTC day start. */
  day: number;
  feedback_type: string;
  source: string;
  labels: number;
  corrections: number;
  overturned: number;
  overturned_by_expert: number;
}

/** A row and the version it carries: of two rows with the same key, the later version wins. */
export interface Versioned<T> {
  value: T;
  version: number;
}

/** What one evaluator flush writes. */
export interface EvaluatorRows {
  points: Array<Versioned<MetricPoint>>;
  drift: Array<Versioned<DriftRecord>>;
  feedback: Array<Versioned<FeedbackStat>>;
  /** The audit trail: every labelled example, correction and expired prediction, versioned by its offset. */
  examples: Array<Versioned<import('../events.js').LabelledExample>>;
}
