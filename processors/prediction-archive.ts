/**
 * The prediction archive: predictions -> the ClickHouse `predictions` table
 * (the score distribution of every served model, labelled or not). Bad
 * records go to the dead-letter sink with the reason; offsets are committed
 * only after the rows and dead letters of a batch are durable.
 */
import type { Clock } from '../core/clock.js';
import { validatePrediction, type DeadLetter, type Prediction } from '../core/events.js';
import type { Codec } from '../adapters/codec/codec.js';
import type { LogConsumer, LogTransport } from '../adapters/log/transport.js';
import type { PipelineMetrics } from '../adapters/http/metrics.js';
import { predictionRow } from '../adapters/clickhouse/rows.js';
import type { Sink } from '../sinks/sink.js';
import { decodeRecord } from './decode.js';

export const ARCHIVE_STAGE = 'prediction-archive';

export interface PredictionArchiveDeps {
  transport: LogTransport;
  topic: string;
  groupId: string;
  codec: Codec<Prediction>;
  rows: Sink<ReturnType<typeof predictionRow>>;
  deadLetters: Sink<DeadLetter>;
  clock: Clock;
  metrics?: PipelineMetrics;
}

export async function startPredictionArchive(deps: PredictionArchiveDeps): Promise<LogConsumer> {
  const consumer = await deps.transport.consumer({ groupId: deps.groupId, topics: [deps.topic] });
  await consumer.run(async (batch) => {
    const now = deps.clock.now();
    const rows: Array<ReturnType<typeof predictionRow>> = [];
    const letters: DeadLetter[] = [];
    for (const record of batch.records) {
      const decoded = await decodeRecord(record, deps.codec as Codec<unknown>, validatePrediction, ARCHIVE_STAGE, now);
      if (decoded.ok) rows.push(predictionRow(decoded.value, now));
      else letters.push(decoded.letter);
    }
    await deps.rows.writeBatch(rows);
    await deps.deadLetters.writeBatch(letters);
    deps.metrics?.recordsIn.inc({ topic: batch.topic }, batch.records.length);
    for (const letter of letters) deps.metrics?.deadLetters.inc({ stage: ARCHIVE_STAGE, error_class: letter.error_class });
    await consumer.commit([{ topic: batch.topic, partition: batch.partition, offset: batch.nextOffset }]);
  });
  return consumer;
}
