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

export type AlignedStep =
  | { kind: 'batch'; batch: PartitionBatch }
  | { kind: 'wait'; until: number }
  | { kind: 'idle' };

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

  /** The next run of records in event-time order, or how long to wait for an input that may deliver older ones. */
  next(now: number): AlignedStep {
    const candidate = this.earliest();
    if (!candidate) return { kind: 'idle' };
    let limit = Number.POSITIVE_INFINITY;
    let waitUntil = Number.NEGATIVE_INFINITY;
    for (const input of this.inputs) {
      if (input === candidate) continue;
      const head = input.times[input.head];
      if (head !== undefined) {
        limit = Math.min(limit, head);
      } else if (!this.caughtUp(input)) {
        waitUntil = Math.max(waitUntil, input.emptySince + this.options.maxWaitMs);
      }
    }
    if (waitUntil > now) return { kind: 'wait', until: waitUntil };
    return { kind: 'batch', batch: this.take(candidate, limit, now) };
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

  /**
   * Takes the candidate's records up to `limit` (the other heads' earliest
   * timestamp; on a tie the earlier input goes first), at most maxBatch.
   */
  private take(input: Input, limit: number, now: number): PartitionBatch {
    const first = this.inputs.indexOf(input);
    const tieFirst = this.inputs.every((other, i) => i >= first || other.times[other.head] !== limit);
    const records: LogRecord[] = [];
    while (records.length < this.options.maxBatch && input.head < input.records.length) {
      const time = input.times[input.head]!;
      if (records.length > 0 && (time > limit || (time === limit && !tieFirst))) break;
      records.push(input.records[input.head]!);
      input.head++;
    }
    const drained = this.size(input) === 0;
    if (drained) {
      input.records = [];
      input.times = [];
      input.head = 0;
      input.emptySince = now;
    } else if (input.head > 4096 && input.head * 2 > input.records.length) {
      input.records = input.records.slice(input.head);
      input.times = input.times.slice(input.head);
      input.head = 0;
    }
    const last = records[records.length - 1]!;
    return {
      topic: input.topic,
      partition: this.partition,
      records,
      // Past the end of what was delivered once the buffer is empty (a fetch may end on commit markers).
      nextOffset: drained ? input.delivered : last.offset + 1,
      highWatermark: input.highWatermark,
      generation: this.generation,
    };
  }
}
