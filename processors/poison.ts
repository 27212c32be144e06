/**
 * What the partition tasks know of poison records (docs/architecture.md,
 * "Poison records"): records that passed decoding and validation but made
 * a processor throw an error that a retry cannot mend.
 *
 * A batch that fails that way is not retried as a whole (it would fail
 * again, forever): its partition is *isolated* up to where the batch ended,
 * i.e. once the task is restored those records are processed one at a time,
 * so the record that fails again is known by itself. That record is then
 * remembered as *poisoned*, and skipped (and dead-lettered) every time it is
 * delivered until a commit passes it.
 *
 * A run of poisons with no record succeeding in between looks like a fault
 * of the processor, not of the records: after `maxRun` of them the ledger
 * says stop rather than dead-letter the whole stream. The ledger is bounded
 * (`maxKnown` poisons per partition waiting for a commit).
 *
 * Pure bookkeeping: PartitionTasks decides when to drop, rewind and commit.
 */
import type { Codec } from '../adapters/codec/codec.js';
import type { LogRecord, PartitionBatch, TopicPartitionOffset } from '../adapters/transport/transport.js';
import type { DeadLetter } from '../core/events.js';
import type { PipelineObserver } from '../core/observer.js';
import type { Sink } from '../sinks/sink.js';
import type { PartitionTasksOptions, PoisonOptions } from './partition-tasks.js';

export interface Poison {
  record: LogRecord;
  error: unknown;
  /** A processor that writes its dead letters at once (not in its transaction) wrote this one. */
  written: boolean;
}

interface Isolation {
  /** Per input: records below this offset are processed one at a time. */
  ends: Map<string, number>;
  /** Poisons found since the last record that succeeded. */
  run: number;
}

export interface PoisonLimits {
  /** Poisons in a row (no record succeeding between them) before the processor stops. */
  maxRun: number;
  /** Poisons per partition remembered until a commit passes them. */
  maxKnown: number;
}

export const DEFAULT_POISON_LIMITS: PoisonLimits = { maxRun: 20, maxKnown: 1_000 };

const key = (topic: string, offset: number) => `${topic}\u0000${offset}`;

export class PoisonLedger {
  private readonly isolations = new Map<number, Isolation>();
  private readonly known = new Map<number, Map<string, Poison>>();

  constructor(private readonly limits: PoisonLimits = DEFAULT_POISON_LIMITS) {}

  /** Records of partition p below `ends` are to be processed one at a time. */
  isolate(partition: number, ends: TopicPartitionOffset[]): void {
    const isolation = this.isolations.get(partition) ?? { ends: new Map<string, number>(), run: 0 };
    for (const { topic, offset } of ends) isolation.ends.set(topic, Math.max(isolation.ends.get(topic) ?? 0, offset));
    this.isolations.set(partition, isolation);
  }

  /** Is some record of `batch` to be processed alone? Ends the isolation once a batch is entirely past it. */
  isolating(batch: PartitionBatch): boolean {
    const isolation = this.isolations.get(batch.partition);
    if (!isolation) return false;
    for (const record of batch.records) {
      if (record.offset < (isolation.ends.get(record.topic) ?? 0)) return true;
    }
    if (batch.records.length > 0) this.isolations.delete(batch.partition);
    return false;
  }

  /**
   * Remembers `record` as poisoned. Returns a reason to stop instead (a run
   * too long to be the records' fault, or too many waiting for a commit).
   */
  poisoned(record: LogRecord, error: unknown): string | undefined {
    const isolation = this.isolations.get(record.partition);
    const run = (isolation?.run ?? 0) + 1;
    if (isolation) isolation.run = run;
    if (run >= this.limits.maxRun) return `${run} records in a row failed`;
    const known = this.known.get(record.partition) ?? new Map<string, Poison>();
    if (known.size >= this.limits.maxKnown) return `${known.size} poison records of partition ${record.partition} wait for a commit`;
    known.set(key(record.topic, record.offset), { record, error, written: false });
    this.known.set(record.partition, known);
    return undefined;
  }

  /** A record processed alone succeeded: the run of poisons is broken. */
  succeeded(partition: number): void {
    const isolation = this.isolations.get(partition);
    if (isolation) isolation.run = 0;
  }

  /** The poison `record` is, if it is one. */
  find(record: LogRecord): Poison | undefined {
    return this.known.get(record.partition)?.get(key(record.topic, record.offset));
  }

  /** Forgets the poisons that committed offsets have passed (their dead letters are out). */
  committed(offsets: TopicPartitionOffset[]): void {
    for (const { topic, partition, offset } of offsets) {
      const known = this.known.get(partition);
      if (!known) continue;
      for (const [k, poison] of known) if (poison.record.topic === topic && poison.record.offset < offset) known.delete(k);
      if (known.size === 0) this.known.delete(partition);
    }
  }

  /** Poisons remembered (for tests and metrics). */
  size(): number {
    let n = 0;
    for (const known of this.known.values()) n += known.size;
    return n;
  }
}

/**
 * `batch` as batches of one record each, in order; the last one carries the
 * batch's own end offsets (an aligned run's inputs may end past their last
 * record: a transaction marker, a skipped poison).
 */
export function oneByOne(batch: PartitionBatch, offsets: TopicPartitionOffset[]): Array<PartitionBatch & { offsets: TopicPartitionOffset[] }> {
  return batch.records.map((record, i) => {
    const last = i === batch.records.length - 1;
    return {
      topic: record.topic,
      partition: batch.partition,
      records: [record],
      nextOffset: last && record.topic === batch.topic ? batch.nextOffset : record.offset + 1,
      highWatermark: batch.highWatermark,
      generation: batch.generation,
      offsets: last ? offsets : [{ topic: record.topic, partition: batch.partition, offset: record.offset + 1 }],
    };
  });
}

/** How an exactly-once processor dead-letters a poison record: in its next transaction, on the dead-letter topic. */
export function poisonToTopic(stage: string, topic: string, codec: Codec<DeadLetter>, observer: PipelineObserver | undefined): PoisonOptions {
  return {
    stage,
    encode: async (letter) => ({ topic, key: letter.key, value: await codec.encode(letter), timestamp: letter.failed_at }),
    onPoisoned: (letter) => poisonReported(letter, observer),
  };
}

/** How the other processors dead-letter a poison record: written at once, to their dead-letter sink. */
export function poisonToSink(stage: string, sink: Sink<DeadLetter>, observer: PipelineObserver | undefined): PoisonOptions {
  return {
    stage,
    write: (letter) => sink.writeBatch([letter]),
    onPoisoned: (letter) => poisonReported(letter, observer),
  };
}

/** A processor's `onOpened` (partition-tasks.ts): each task opened or kept, told to the observer. */
export function taskOpened(processor: string, observer: PipelineObserver | undefined): NonNullable<PartitionTasksOptions<unknown>['onOpened']> {
  return (event) => observer?.taskOpened?.({ processor, ...event });
}

/** The health hooks of a processor's tasks: a batch failed and is retried, or one succeeded again. */
export function taskHealth(processor: string, observer: PipelineObserver | undefined): NonNullable<PartitionTasksOptions<unknown>['health']> {
  return {
    failing: (error) => observer?.retrying?.(processor, error),
    recovered: () => observer?.recovered?.(processor),
  };
}

function poisonReported(letter: DeadLetter, observer: PipelineObserver | undefined): void {
  observer?.deadLetter?.(letter);
  observer?.poisoned?.(letter);
}
