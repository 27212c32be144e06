/**
 * The prediction archive: predictions -> the ClickHouse `predictions` table
 * (the score distribution of every served model, labelled or not). Bad
 * records go to the dead-letter sink with the reason; offsets are committed
 * only after the rows and dead letters of a batch are durable.
 */
import type { Clock } from '../core/clock.js';
import { validatePrediction, type DeadLetter, type Prediction } from '../core/events.js';
import type { RecordLimits } from '../core/limits.js';
import type { Codec } from '../adapters/codec/codec.js';
import type { LogTransport, PartitionBatch } from '../adapters/transport/transport.js';
import { predictionRow } from '../adapters/clickhouse/rows.js';
import type { Sink } from '../sinks/sink.js';
import { decodeRecord } from './decode.js';
import { PartitionTasks } from './partition-tasks.js';
import type { Processor } from './processor.js';
import type { PipelineObserver } from '../core/observer.js';
import { poisonToSink, taskHealth, taskOpened } from './poison.js';

export const ARCHIVE_STAGE = 'prediction-archive';

export interface PredictionArchiveDeps {
  transport: LogTransport;
  topic: string;
  groupId: string;
  codec: Codec<Prediction>;
  /** Bounds on each input record (limits.*; default: the defaults): a record past them is dead-lettered. */
  limits?: RecordLimits;
  rows: Sink<ReturnType<typeof predictionRow>>;
  deadLetters: Sink<DeadLetter>;
  clock: Clock;
  /** Hooks: `recordsIn`, `deadLetter`, `commitFailed` (an offset commit failed: the rows are keyed, the records are written again). */
  observer?: PipelineObserver;
}

export class PredictionArchive implements Processor {
  readonly name = 'archive';
  readonly inputs: string[];
  readonly outputs: string[] = [];
  private readonly tasks: PartitionTasks<void>;

  constructor(private readonly deps: PredictionArchiveDeps) {
    this.inputs = [deps.topic];
    this.tasks = new PartitionTasks<void>({
      transport: deps.transport,
      groupId: deps.groupId,
      topics: this.inputs,
      work: { open: async () => {}, process: (_, batch) => this.onBatch(batch) },
      onCommitFailed: (error) => deps.observer?.commitFailed?.(ARCHIVE_STAGE, error),
      poison: poisonToSink(ARCHIVE_STAGE, deps.deadLetters, deps.observer),
      health: taskHealth(ARCHIVE_STAGE, deps.observer),
      onOpened: taskOpened(ARCHIVE_STAGE, deps.observer),
    });
  }

  start(): Promise<void> {
    return this.tasks.start();
  }

  get done(): Promise<void> {
    return this.tasks.done;
  }

  stop(): Promise<void> {
    return this.tasks.stop();
  }

  private async onBatch(batch: PartitionBatch): Promise<void> {
    const { deps } = this;
    const now = deps.clock.now();
    const rows: Array<ReturnType<typeof predictionRow>> = [];
    const letters: DeadLetter[] = [];
    for (const record of batch.records) {
      const decoded = await decodeRecord(record, deps.codec as Codec<unknown>, (v) => validatePrediction(v, deps.limits), ARCHIVE_STAGE, now);
      if (decoded.ok) rows.push(predictionRow(decoded.value, now));
      else letters.push(decoded.letter);
    }
    await deps.rows.writeBatch(rows);
    await deps.deadLetters.writeBatch(letters);
    deps.observer?.recordsIn?.(batch.topic, batch.records.length);
    for (const letter of letters) deps.observer?.deadLetter?.(letter);
    await this.tasks.commitHeld([{ topic: batch.topic, partition: batch.partition, offset: batch.nextOffset }]);
  }
}
