/**
 * Event-time alignment of a task's input partitions (docs/architecture.md,
 * "The partition task"): partition p of each input topic is buffered as it
 * is delivered, and records are handed on in timestamp order across the
 * topics, the way Kafka Streams picks the head record with the lowest
 * timestamp among a task's partitions. So a backlog on one topic is never
 * read far ahead of the other: the joiner's watermark cannot run past
 * predictions that were produced but not yet fetched.
 *
 * An input whose buffer is empty is waited for when it may still deliver
 * something older than the other heads: when it lags (the partition's end,
 * as read when the task opened or reported by its latest batch, is past what
 * it delivered), the task waits until it delivers, at most `maxWaitMs` from
 * when its buffer emptied (a bound for records a consumer never delivers,
 * e.g. those of aborted transactions). An input that delivered everything up
 * to its end is not waited for.
 *
 * Time is each record's event time as the caller reads it (the joiner: the
 * event's own `timestamp` field, not the time the record was produced).
 *
 * Pure: the caller feeds batches with their records' times and asks for the
 * next run of records to process, or how long to wait.
 */
import type { LogRecord, PartitionBatch } from '../adapters/transport/transport.js';

interface Input {
  topic: string;
  records: LogRecord[];
  /** The event time of each record of `records`. */
  times: number[];
  /** Index of the first unread record of `records` (taken records are dropped in bulk). */
  head: number;
  /** The offset after the last record delivered (what to commit once all delivered are processed). */
  delivered: number;
  /** The partition's end as last known. */
  highWatermark: number;
  /** Since when the buffer has been empty (ms, the caller's clock). */
  emptySince: number;
}

/** A run of records of several inputs, in event-time order, and what to commit once it is processed. */
export interface AlignedBatch extends PartitionBatch {
  /** The offset after the last record taken (or delivered) of each input the run took from. */
  offsets: Array<{ topic: string; partition: number; offset: number }>;
}

export type AlignedStep = { kind: 'batch'; batch: AlignedBatch } | { kind: 'wait'; until: number } | { kind: 'idle' };

export class AlignedInputs {
  private readonly inputs: Input[];

  constructor(
    topics: string[],
    private readonly partition: number,
    private readonly generation: number,
    resumeAt: (topic: string) => number,
    ends: (topic: string) => number,
    now: number,
    private readonly options: { maxWaitMs: number; maxBatch: number },
  ) {
    this.inputs = topics.map((topic) => ({ topic, records: [], times: [], head: 0, delivered: resumeAt(topic), highWatermark: ends(topic), emptySince: now }));
  }

  /** Buffers a delivered batch (its records already past the task's resume offsets) with each record's event time. */
  push(batch: PartitionBatch, times: number[], now: number): void {
    const input = this.input(batch.topic);
    if (this.size(input) === 0) input.emptySince = now;
    for (let i = 0; i < batch.records.length; i++) {
      input.records.push(batch.records[i]!);
      input.times.push(times[i]!);
    }
    input.delivered = Math.max(input.delivered, batch.nextOffset);
    input.highWatermark = Math.max(input.highWatermark, batch.highWatermark);
  }

  /** Records buffered for `topic`. */
  buffered(topic: string): number {
    return this.size(this.input(topic));
  }

  /**
   * The next run of records in event-time order across the inputs (at most
   * maxBatch), up to where an empty input that may still deliver older
   * records must be waited for; or how long to wait; or idle.
   */
  next(now: number): AlignedStep {
    const records: LogRecord[] = [];
    const taken = new Map<Input, number>();
    while (records.length < this.options.maxBatch) {
      const input = this.earliest();
      if (!input) break;
      const until = this.waitFor(input, now);
      if (until !== undefined) {
        if (records.length === 0) return { kind: 'wait', until };
        break;
      }
      const record = input.records[input.head]!;
      records.push(record);
      input.head++;
      taken.set(input, this.settle(input, record, now));
    }
    if (records.length === 0) return { kind: 'idle' };
    const first = records[0]!;
    const offsets = [...taken].map(([input, offset]) => ({ topic: input.topic, partition: this.partition, offset }));
    const own = offsets.find((o) => o.topic === first.topic)!;
    return {
      kind: 'batch',
      batch: { topic: first.topic, partition: this.partition, records, nextOffset: own.offset, highWatermark: this.input(first.topic).highWatermark, generation: this.generation, offsets },
    };
  }

  /** Until when to wait before taking `candidate`'s head: some other input is empty but may deliver older records. */
  private waitFor(candidate: Input, now: number): number | undefined {
    let until: number | undefined;
    for (const input of this.inputs) {
      if (input === candidate || this.size(input) > 0 || this.caughtUp(input)) continue;
      const deadline = input.emptySince + this.options.maxWaitMs;
      if (deadline > now) until = Math.max(until ?? deadline, deadline);
    }
    return until;
  }

  /** After a record was taken: the offset to commit for its input (past what was delivered once its buffer is empty). */
  private settle(input: Input, record: LogRecord, now: number): number {
    if (this.size(input) === 0) {
      input.records = [];
      input.times = [];
      input.head = 0;
      input.emptySince = now;
      return input.delivered;
    }
    if (input.head > 4096 && input.head * 2 > input.records.length) {
      input.records = input.records.slice(input.head);
      input.times = input.times.slice(input.head);
      input.head = 0;
    }
    return record.offset + 1;
  }

  private input(topic: string): Input {
    const input = this.inputs.find((i) => i.topic === topic);
    if (!input) throw new Error(`topic ${topic} is not an input of this task`);
    return input;
  }

  private size(input: Input): number {
    return input.records.length - input.head;
  }

  private caughtUp(input: Input): boolean {
    return input.delivered >= input.highWatermark;
  }

  /** The input whose head record is the earliest (ties: the first input, as the topics were given). */
  private earliest(): Input | undefined {
    let best: Input | undefined;
    for (const input of this.inputs) {
      const head = input.times[input.head];
      if (head !== undefined && (!best || head < best.times[best.head]!)) best = input;
    }
    return best;
  }
}
