/**
 * The partials' integration tests' ClickHouse database: each model's shards'
 * drains (partials-stream.ts shardRows) written through the real sink.
 */
import { ClickHouseStore } from '../../adapters/clickhouse/index.js';
import type { EvaluatorRows } from '../../core/evaluate/index.js';
import { systemClock } from '../../core/clock.js';
import { ClickHouseEvaluatorSink } from '../../sinks/evaluator-rows.js';
import { writeInterleaved } from './partials-stream.js';
import { STACK } from './stack.js';

/** A store on `database` of the stack's ClickHouse, each model's shards' drains written through the real sink (writeInterleaved). */
export async function storeOfShards(database: string, models: ReadonlyArray<{ rowsOfShards: readonly EvaluatorRows[][] }>): Promise<ClickHouseStore> {
  const store = await ClickHouseStore.open({ url: STACK.clickhouseUrl, database, username: 'default', password: '', requestTimeoutMs: 30_000 });
  const sink = new ClickHouseEvaluatorSink(store, systemClock, { maxRows: 1000, maxBytes: 8_000_000 });
  for (const m of models) await writeInterleaved(sink, m.rowsOfShards);
  return store;
}
