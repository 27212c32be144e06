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

/**
 * The data of one chart, bounded: `series` named series of equal length,
 * their values series after series (values[s * points + i], points =
 * values.length / series.length), and optionally a name per point
 * (`labels`: a bin, a category, a class). Identified by model,
 * model_version, role, segment, window, chart and subject: a later row
 * replaces it (window_start, window_end and n say what it covers).
 *
 * Charts (core/evaluate/charts.ts):
 * - `score_curve` (binary, `total` window, segment `*`): series threshold,
 *   tp, fp: the ROC and precision–recall curves in at most 101 exact
 *   points (core/metrics/curve.ts); n the labels.
 * - `confusion` (`total` window, segment `*`): labels the classes, series
 *   the true classes, each point a predicted class: the weighted confusion
 *   matrix, row = true class, column = predicted (binary: classes 0 and 1
 *   at each example's threshold).
 * - `numeric_histogram` (role and version `*`, subject the feature): the
 *   reference's and the latest drift window's counts in the PSI bins
 *   (labels: each bin's range); at most evaluator.drift_bins bins.
 * - `category_counts` (role and version `*`, subject the feature): the
 *   reference's and the latest data-quality window's counts per category
 *   (labels), at most evaluator.max_categories and `(other)` when not empty.
 */
export interface ChartRow {
  model: string;
  model_version: string;
  role: string;
  segment: string;
  window: string;
  window_start: number;
  window_end: number;
  chart: string;
  subject: string;
  labels: string[];
  series: string[];
  values: number[];
  n: number;
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
  /** Chart data (absent: none). */
  charts?: Array<Versioned<ChartRow>>;
  /** Binary windows' mergeable partials, one per window changed since the last drain (absent: none; evaluator.write_partials). */
  partials?: Array<Versioned<import('./window-partial.js').ShardPartialRow>>;
  /** The audit trail: every labelled example, correction and expired prediction, versioned by its offset. */
  examples: Array<Versioned<import('../events.js').LabelledExample>>;
}
