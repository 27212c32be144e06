export { FanOutSink, type Sink } from './sink.js';
export { TopicDeadLetterSink, FileDeadLetterSink, ClickHouseDeadLetterSink, deadLetterJson } from './dead-letters.js';
export { ClickHouseTableSink, type ClickHouseTableSinkOptions, type RetryListener } from './clickhouse-table.js';
export { BatchingSink, type BatchPolicy } from './batching.js';
export { ClickHouseEvaluatorSink, FileEvaluatorSink, EVALUATOR_TABLES, pointKey, driftKey, feedbackKey, chartKey, type EvaluatorSink } from './evaluator-rows.js';
