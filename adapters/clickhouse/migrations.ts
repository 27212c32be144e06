/**
 * The ClickHouse schema, as numbered migrations. Each is idempotent
 * (CREATE ... IF NOT EXISTS) and recorded in schema_migrations, so any
 * number of instances may run them at start, at once.
 *
 * SQL is kept to what ClickHouse 18.16 (Debian's package, used in tests)
 * and current releases both accept: no DateTime64, Map, LowCardinality or
 * TTL; epoch milliseconds in UInt64 columns beside a DateTime for
 * partitioning and Grafana; ReplacingMergeTree with a version so that a
 * re-delivered row replaces, never double counts (read with FINAL or argMax).
 *
 * Columns added to an existing table are a migration of `addColumns`: 18.16
 * has no ADD COLUMN IF NOT EXISTS, so the runner adds only the columns the
 * table lacks (system.columns), which keeps it idempotent too.
 */
import { DROP_METRIC_POINTS_MERGED, METRIC_POINTS_MERGED, METRIC_POINTS_MERGED_BINARY, METRIC_POINTS_MERGED_REGRESSION } from './merged-view.js';

export type Migration = { id: number; name: string } & ({ sql: string } | { addColumns: { table: string; columns: ReadonlyArray<readonly [name: string, type: string]> } });

export const MIGRATIONS_TABLE = 'schema_migrations';

export const MIGRATIONS: Migration[] = [
  {
    id: 1,
    name: 'predictions',
    sql: `CREATE TABLE IF NOT EXISTS predictions (
  prediction_id String,
  model String,
  model_version String,
  ts DateTime,
  ts_ms UInt64,
  score Float64,
  threshold Float64,
  feature_names Array(String),
  feature_values Array(Float64),
  categorical_names Array(String),
  categorical_values Array(String),
  segment_names Array(String),
  segment_values Array(String),
  ingested_at_ms UInt64
) ENGINE = ReplacingMergeTree(ingested_at_ms)
PARTITION BY toYYYYMM(ts)
ORDER BY (model, prediction_id)`,
  },
  {
    id: 2,
    name: 'dead_letters',
    sql: `CREATE TABLE IF NOT EXISTS dead_letters (
  topic String,
  partition UInt32,
  offset UInt64,
  stage String,
  error_class String,
  error_message String,
  key_base64 String,
  value_base64 String,
  failed_at DateTime,
  failed_at_ms UInt64
) ENGINE = ReplacingMergeTree(failed_at_ms)
PARTITION BY toYYYYMM(failed_at)
ORDER BY (topic, partition, offset, stage)`,
  },
  {
    id: 3,
    name: 'metric_points',
    // A point is (model, model_version, role, segment, window, window_start,
    // metric); window_end is not part of the key.
    sql: `CREATE TABLE IF NOT EXISTS metric_points (
  model String,
  model_version String,
  role String,
  segment String,
  window String,
  window_start DateTime,
  window_start_ms UInt64,
  window_end DateTime,
  window_end_ms UInt64,
  metric String,
  value Nullable(Float64),
  count Float64,
  version UInt64,
  written_at_ms UInt64
) ENGINE = ReplacingMergeTree(version)
PARTITION BY toYYYYMM(window_start)
ORDER BY (model, metric, window, segment, role, model_version, window_start)`,
  },
  {
    id: 4,
    name: 'drift_events',
    sql: `CREATE TABLE IF NOT EXISTS drift_events (
  model String,
  model_version String,
  role String,
  feature String,
  statistic String,
  value Nullable(Float64),
  threshold Float64,
  detected UInt8,
  window String,
  window_start DateTime,
  window_start_ms UInt64,
  window_end_ms UInt64,
  at DateTime,
  at_ms UInt64,
  n UInt64,
  version UInt64
) ENGINE = ReplacingMergeTree(version)
PARTITION BY toYYYYMM(at)
ORDER BY (model, feature, statistic, role, model_version, window, n)`,
  },
  {
    id: 5,
    name: 'feedback_stats',
    // day is inserted as 'YYYY-MM-DD' (18.16 rejects a number for a Date in
    // JSONEachRow) and shows 1970-01-01 as 0000-00-00: read day_ms.
    sql: `CREATE TABLE IF NOT EXISTS feedback_stats (
  model String,
  day Date,
  day_ms UInt64,
  feedback_type String,
  source String,
  labels Float64,
  corrections Float64,
  overturned Float64,
  overturned_by_expert Float64,
  version UInt64
) ENGINE = ReplacingMergeTree(version)
PARTITION BY toYYYYMM(day)
ORDER BY (model, day, feedback_type, source)`,
  },
  {
    id: 6,
    name: 'labelled_examples',
    sql: `CREATE TABLE IF NOT EXISTS labelled_examples (
  example_id String,
  prediction_id String,
  model String,
  model_version String,
  ts DateTime,
  ts_ms UInt64,
  label Nullable(Float64),
  score Float64,
  threshold Float64,
  feedback_type String,
  source String,
  feedback_ts_ms Nullable(UInt64),
  label_delay_ms Nullable(Int64),
  correction_of String,
  feature_names Array(String),
  feature_values Array(Float64),
  categorical_names Array(String),
  categorical_values Array(String),
  segment_names Array(String),
  segment_values Array(String),
  shadow_names Array(String),
  shadow_values Array(Float64),
  split String,
  version UInt64
) ENGINE = ReplacingMergeTree(version)
PARTITION BY toYYYYMM(ts)
ORDER BY (model, example_id)`,
  },
  {
    id: 7,
    name: 'model_versions',
    // The model registry (docs/registry.md): one row per model snapshot the
    // learner published, with its lineage. No PARTITION BY: the table is
    // small, and a re-delivered row must meet the one it replaces in the same
    // partition.
    sql: `CREATE TABLE IF NOT EXISTS model_versions (
  model String,
  version String,
  challenger String,
  algorithm String,
  parent_version String,
  training_count UInt64,
  data_hash String,
  feature_names Array(String),
  created_at DateTime,
  created_at_ms UInt64,
  version_row UInt64
) ENGINE = ReplacingMergeTree(version_row)
ORDER BY (model, version)
-- parent_version is '' for the first snapshot of a challenger.
-- Whether a version is deployed is not stored (it would need updating): it is
-- derived from champion_history (see there): deployed = (version = champion).`,
  },
  {
    id: 8,
    name: 'champion_history',
    // Every promotion decision, as published on model-promotions. No
    // PARTITION BY, as for model_versions.
    sql: `CREATE TABLE IF NOT EXISTS champion_history (
  decision_id String,
  model String,
  decision String,
  from_version String,
  to_version String,
  actor String,
  reason String,
  policy String,
  statistic Nullable(Float64),
  bound Nullable(Float64),
  alpha Nullable(Float64),
  sample_size UInt64,
  metric_names Array(String),
  metric_values Array(Float64),
  guardrail_names Array(String),
  guardrail_values Array(Float64),
  at DateTime,
  at_ms UInt64,
  decided_at DateTime,
  decided_at_ms UInt64
) ENGINE = ReplacingMergeTree(decided_at_ms)
ORDER BY (model, decision_id)
-- Every decision (PROMOTE, ROLLBACK, PIN, UNPIN, HOLD): who took it (actor),
-- when (at: event time of the evidence; decided_at: when it was published),
-- why (reason, policy) and on what evidence: metric_names/metric_values are
-- the metric deltas (challenger minus champion), guardrail_names/values the
-- guardrails, both as at decision time. Decisions are ordered by
-- (decided_at_ms, at_ms): decisions published together share decided_at (a
-- replay gives them all one), at breaks the tie.
-- Derived, never stored (docs/registry.md has these queries, tested):
--   the current champion of a model = to_version of its latest PROMOTE or
--   ROLLBACK; deployed_at = that decision's at; the deployed flag of a
--   version = (version = champion); metrics at decision time = that
--   decision's metric and guardrail arrays:
--     SELECT model,
--            argMax(to_version, (decided_at_ms, at_ms)) AS champion,
--            argMax(at, (decided_at_ms, at_ms)) AS deployed_at,
--            argMax(metric_names, (decided_at_ms, at_ms)) AS metric_names,
--            argMax(metric_values, (decided_at_ms, at_ms)) AS metric_values
--     FROM champion_history FINAL
--     WHERE decision IN ('PROMOTE', 'ROLLBACK')
--     GROUP BY model`,
  },
  {
    id: 9,
    name: 'evaluation_charts',
    // The evaluator's chart data (core/evaluate/rows.ts, ChartRow): the ROC /
    // PR curve points and the confusion matrix of each role's total window,
    // each input feature's reference and latest-window counts. A chart is
    // (model, model_version, role, segment, window, chart, subject): a later
    // row replaces it, so the table stays as small as its keys. No PARTITION
    // BY, as for model_versions.
    sql: `CREATE TABLE IF NOT EXISTS evaluation_charts (
  model String,
  model_version String,
  role String,
  segment String,
  window String,
  window_start DateTime,
  window_start_ms UInt64,
  window_end_ms UInt64,
  chart String,
  subject String,
  point_labels Array(String),
  series_names Array(String),
  series_values Array(Float64),
  n Float64,
  version UInt64
) ENGINE = ReplacingMergeTree(version)
ORDER BY (model, chart, subject, window, segment, role, model_version)
-- series_values holds the series one after the other: series_names[s]'s
-- value at point i is series_values[s * points + i + 1] (1-based), points =
-- length(series_values) / length(series_names); point_labels names the
-- points where they have names (bins, categories, classes). Charts:
-- score_curve (threshold, tp, fp), confusion (row = true class),
-- numeric_histogram and category_counts (reference, current).`,
  },
  {
    id: 10,
    name: 'labelled_examples_classes',
    // Multi-class and multi-label examples (LabelledExample schema version 4): their class
    // scores as parallel arrays, the decided and true class, a rejected class, and the decided
    // and true label sets ('' and [] where an example has none; label_set says whether labels
    // is set: a multi-label example may be labelled with the empty set).
    addColumns: {
      table: 'labelled_examples',
      columns: [
        ['class_names', 'Array(String)'],
        ['class_values', 'Array(Float64)'],
        ['predicted_class', 'String'],
        ['label_class', 'String'],
        ['rejected_class', 'String'],
        ['predicted_labels', 'Array(String)'],
        ['labels', 'Array(String)'],
        ['label_set', 'UInt8'],
      ],
    },
  },
  {
    id: 11,
    name: 'metric_partials',
    // The evaluator's mergeable partials (evaluator.write_partials; docs/scale-out.md): per
    // binary `total` or tumbling window and shard (the labelled-examples partition) the
    // sufficient statistics its figures derive from, one row per window changed per drain.
    // Versioned by the shard's offset as metric_points are: the latest row per (window,
    // shard) is that shard's window; summed over shards, the model's (metric_points_merged).
    // Column types, as the partial holds its numbers:
    // - tp, fp, tn, fn and every bin weight Float64: the core's weights are doubles (the
    //   evaluator's are 1, so integers, exact to 2^53), and the derived figures in SQL then do
    //   the core's own IEEE arithmetic (MCC's product of four sums would wrap in UInt64);
    // - log_loss_sum, brier_sum and the calibration score sums Float64: float sums;
    // - labelled and expired UInt64: counts of examples, only ever incremented;
    // - bin indices UInt32 (evaluator.auc_bins is at most 1,000,000), with the bin counts
    //   beside them; the bins are sparse: only those where a value is non-zero (parallel
    //   arrays: score_bins[i] holds score_positives[i] and score_negatives[i]);
    // - label-delay DDSketch bucket indices Int32 (ceil(log_gamma(ms)): negative below 1 ms,
    //   |index| < 40,000 for any double at accuracy 0.01) with Float64 counts, its zero
    //   count, and its relative accuracy (gamma = (1 + a) / (1 - a)); has_delay = 1 for the
    //   champion role only (the other roles keep no label delays, labelled or expired);
    // - last_timestamp_ms: the largest prediction timestamp counted (null before any);
    //   window_end_ms: the window's end as this shard sees it (a `total` window's: its last
    //   prediction), merged by max.
    sql: `CREATE TABLE IF NOT EXISTS metric_partials (
  model String,
  model_version String,
  role String,
  segment String,
  window String,
  window_start DateTime,
  window_start_ms UInt64,
  window_end_ms UInt64,
  shard UInt32,
  tp Float64,
  fp Float64,
  tn Float64,
  fn Float64,
  log_loss_sum Float64,
  brier_sum Float64,
  score_bin_count UInt32,
  score_bins Array(UInt32),
  score_positives Array(Float64),
  score_negatives Array(Float64),
  calibration_bin_count UInt32,
  calibration_bins Array(UInt32),
  calibration_count Array(Float64),
  calibration_score Array(Float64),
  calibration_positive Array(Float64),
  has_delay UInt8,
  labelled UInt64,
  expired UInt64,
  delay_accuracy Float64,
  delay_zero_count Float64,
  delay_buckets Array(Int32),
  delay_counts Array(Float64),
  last_timestamp_ms Nullable(Float64),
  version UInt64,
  written_at_ms UInt64
) ENGINE = ReplacingMergeTree(version)
PARTITION BY toYYYYMM(window_start)
ORDER BY (model, window, segment, role, model_version, window_start, shard)`,
  },
  {
    id: 12,
    name: 'metric_points_merged',
    sql: METRIC_POINTS_MERGED_BINARY,
  },
  // The view of migration 12 failed on any window without labels (its score bins empty: only
  // expired predictions or arrival records): the average precision's shifted recall was [0] beside
  // []. A view cannot be altered in 18.16: dropped, then created with the fixed query.
  {
    id: 13,
    name: 'metric_points_merged_drop',
    sql: DROP_METRIC_POINTS_MERGED,
  },
  {
    id: 14,
    name: 'metric_points_merged_v2',
    sql: METRIC_POINTS_MERGED_BINARY,
  },
  {
    id: 15,
    name: 'metric_partials_regression',
    // Regression windows' partials (core/metrics/regression-partial.ts) in metric_partials: kind
    // 'regression' (old rows and binary windows 'binary'), and RegressionMetrics' running sums, each
    // Float64 as the core holds them: the weight n (integers exact to 2^53), Σw|e|, Σw·e²,
    // Σw·|e|/max(|y|, ε), the labels' weighted mean and centred squares Σw(y − mean)². A regression
    // row's binary columns are empty (zero counts, no bins, bin counts 0); a binary row's reg_* 0.
    addColumns: {
      table: 'metric_partials',
      columns: [
        ['kind', "String DEFAULT 'binary'"],
        ['reg_count', 'Float64'],
        ['reg_abs_error_sum', 'Float64'],
        ['reg_squared_error_sum', 'Float64'],
        ['reg_label_mean', 'Float64'],
        ['reg_label_squares', 'Float64'],
        ['reg_percent_sum', 'Float64'],
      ],
    },
  },
  // The view again, reading migration 15's columns: each window its kind's figures (binary or regression).
  {
    id: 16,
    name: 'metric_points_merged_drop_v2',
    sql: DROP_METRIC_POINTS_MERGED,
  },
  {
    id: 17,
    name: 'metric_points_merged_v3',
    sql: METRIC_POINTS_MERGED_REGRESSION,
  },
  {
    id: 18,
    name: 'metric_partials_classes',
    // Multi-class and multi-label windows' partials (core/metrics/class-partial.ts): kind
    // 'multiclass' or 'multilabel'; `classes` the config's class (label) list in index order
    // (at most MAX_CLASSES names; [] for other kinds); class_head the numeric head's name ('' none;
    // its sums in the reg_* columns). Multi-class: the confusion matrix row-major (classes², row =
    // true class), the rejections per predicted class, top-k's k, and the log loss, Brier and top-k
    // hit sums. Multi-label: per label tp, fp, fn (tn too, for the state; no figure reads it) and the
    // per-example sums in MULTILABEL_SUMS' order. Every weight Float64 as the core holds it (integers
    // exact to 2^53). Other kinds' rows have them empty or 0; old rows read so too.
    addColumns: {
      table: 'metric_partials',
      columns: [
        ['classes', 'Array(String)'],
        ['class_head', 'String'],
        ['mc_confusion', 'Array(Float64)'],
        ['mc_rejected', 'Array(Float64)'],
        ['mc_top_k', 'UInt32'],
        ['mc_log_loss_sum', 'Float64'],
        ['mc_brier_sum', 'Float64'],
        ['mc_top_k_hits', 'Float64'],
        ['ml_tp', 'Array(Float64)'],
        ['ml_fp', 'Array(Float64)'],
        ['ml_fn', 'Array(Float64)'],
        ['ml_tn', 'Array(Float64)'],
        ['ml_sums', 'Array(Float64)'],
      ],
    },
  },
  // The view again, reading migration 18's columns: class windows' figures too.
  {
    id: 19,
    name: 'metric_points_merged_drop_v3',
    sql: DROP_METRIC_POINTS_MERGED,
  },
  {
    id: 20,
    name: 'metric_points_merged_v4',
    sql: METRIC_POINTS_MERGED,
  },
];
