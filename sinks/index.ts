export type { Sink } from './sink.js';
export { TopicDeadLetterSink, FileDeadLetterSink, ClickHouseDeadLetterSink, FanOutSink, deadLetterJson } from './dead-letters.js';
export { ClickHouseTableSink, type ClickHouseTableSinkOptions, type RetryListener } from './clickhouse-table.js';
export { BatchingSink, type BatchPolicy } from './batching.js';
export { ClickHouseEvaluatorSink, FileEvaluatorSink, FanOutEvaluatorSink, EVALUATOR_TABLES, pointKey, driftKey, feedbackKey, type EvaluatorSink } from './evaluator-rows.js';
