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
 */
export interface Migration {
  id: number;
  name: string;
  sql: string;
}

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
];
