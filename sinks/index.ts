export type { Sink } from './sink.js';
export { TopicDeadLetterSink, FileDeadLetterSink, ClickHouseDeadLetterSink, FanOutSink, deadLetterJson } from './dead-letters.js';
export { ClickHouseTableSink } from './clickhouse-table.js';
