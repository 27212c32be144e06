/**
 * The joiner processor: predictions ⋈ feedback -> labelled examples.
 *
 * One task per input partition p (predictions-p and feedback-p are
 * co-partitioned and always assigned together). A task holds a Joiner over
 * its own state store, restored from partition p of the changelog topic.
 * Each batch is one transaction: the examples, unmatched feedback, dead
 * letters, the changelog updates of the keys it touched and the input
 * offset are committed together or not at all (exactly once on Kafka; the
 * in-process log does the same atomically).
 *
 * A task's transactional producer has the id `<prefix>-<p>`: whoever takes
 * partition p next fences the previous owner and aborts its open
 * transaction before restoring, so the restored state is exactly what the
 * committed offsets imply.
 */
import { SerialQueue } from '../core/serial.js';
import { FeedbackloopError } from '../core/errors.js';
import type { Clock } from '../core/clock.js';
import { validateFeedback, validatePrediction, type DeadLetter, type Feedback, type LabelledExample, type Prediction } from '../core/events.js';
import { Joiner, emptyCounters, type JoinCounters, type JoinerOptions, type JoinOutput, type JoinStore } from '../core/join/index.js';
import type { Codec } from '../adapters/codec/codec.js';
import type { LogConsumer, LogRecord, LogTransport, OutgoingRecord, PartitionBatch, TransactionalProducer } from '../adapters/log/transport.js';
import { ChangelogRecorder, decodeChangelogRecord } from './joiner-changelog.js';
import { deadLetterFor, decodeRecord } from './decode.js';

export const JOINER_STAGE = 'joiner';

export interface JoinerTopics {
  predictions: string;
  feedback: string;
  labelled: string;
  unmatched: string;
  deadLetters: string;
  changelog: string;
}

export interface JoinerProcessorDeps {
  transport: LogTransport;
  topics: JoinerTopics;
  groupId: string;
  /** Transactional ids are `<prefix>-<partition>`. */
  transactionalIdPrefix: string;
  codecs: {
    prediction: Codec<Prediction>;
    feedback: Codec<Feedback>;
    labelled: Codec<LabelledExample>;
    deadLetter: Codec<DeadLetter>;
  };
  joiner: Partial<JoinerOptions>;
  /** A fresh, empty store for a partition's state. */
  createStore: (partition: number) => JoinStore;
  clock: Clock;
  /** Called after each committed batch with the counters' increments (for metrics). */
  onCommitted?: (delta: JoinCounters, partition: number) => void;
}

interface Task {
  partition: number;
  generation: number;
  joiner: Joiner;
  store: ChangelogRecorder;
  producer: TransactionalProducer;
  /** Input offsets (per topic) the restored state already covers: records below are skipped. */
  skipBelow: Map<string, number>;
}

/** Adds counters (for totals over batches and tasks). */
export function addCounters(into: JoinCounters, from: JoinCounters): JoinCounters {
  for (const key of Object.keys(from) as Array<keyof JoinCounters>) {
    if (key === 'byModel') continue;
    (into[key] as number) += from[key] as number;
  }
  for (const [model, counters] of Object.entries(from.byModel)) {
    const target = (into.byModel[model] ??= { predictions: 0, labelled: 0, corrections: 0, expired_labelled: 0, expired_unlabelled: 0 });
    for (const key of Object.keys(counters) as Array<keyof typeof counters>) target[key] += counters[key];
  }
  return into;
}

type JoinInput = { record: LogRecord; prediction: Prediction } | { record: LogRecord; feedback: Feedback };

export class JoinerProcessor {
  private readonly tasks = new Map<number, Task>();
  private consumer: LogConsumer | undefined;
  /** Batches and advances never interleave. */
  private readonly queue = new SerialQueue();
  /** Counters over every batch this instance committed. */
  readonly totals: JoinCounters = emptyCounters();

  constructor(private readonly deps: JoinerProcessorDeps) {}

  /** Refuses to start unless predictions and feedback (and the changelog) have the same partition count. */
  async checkCoPartitioning(): Promise<number> {
    const { transport, topics } = this.deps;
    const predictions = await transport.partitionCount(topics.predictions);
    const feedback = await transport.partitionCount(topics.feedback);
    if (predictions !== feedback) {
      throw new FeedbackloopError(
        `topics ${topics.predictions} (${predictions} partitions) and ${topics.feedback} (${feedback} partitions) are not co-partitioned: ` +
          'the joiner needs both keyed by prediction_id with the same partition count; repartition one of them',
      );
    }
    const changelog = await transport.partitionCount(topics.changelog);
    if (changelog !== predictions) {
      throw new FeedbackloopError(
        `changelog topic ${topics.changelog} has ${changelog} partitions but ${topics.predictions} has ${predictions}; they must match (delete and recreate the changelog only with the joiner stopped)`,
      );
    }
    return predictions;
  }

  async start(): Promise<LogConsumer> {
    await this.checkCoPartitioning();
    const consumer = await this.deps.transport.consumer({
      groupId: this.deps.groupId,
      topics: [this.deps.topics.predictions, this.deps.topics.feedback],
    });
    this.consumer = consumer;
    await consumer.run((batch) => this.onBatch(batch));
    return consumer;
  }

  async stop(): Promise<void> {
    await this.consumer?.stop();
    await this.queue.run(async () => {
      for (const task of [...this.tasks.values()]) await this.dropTask(task);
    });
  }

  /** Forgets a task: its state may be ahead of what was committed, or the partition went elsewhere. */
  private async dropTask(task: Task): Promise<void> {
    if (this.tasks.get(task.partition) === task) this.tasks.delete(task.partition);
    task.store.discardChanges();
    await task.producer.close().catch(() => {});
    await task.store.close();
  }

  /** Pending entries per partition (for metrics and tests). */
  pending(): Map<number, number> {
    return new Map([...this.tasks].map(([p, t]) => [p, t.store.size()]));
  }

  private async task(batch: PartitionBatch): Promise<Task> {
    const existing = this.tasks.get(batch.partition);
    if (existing && existing.generation === batch.generation) return existing;
    // New assignment: someone else may have processed this partition meanwhile. Fence, then restore.
    if (existing) await this.dropTask(existing);
    const producer = await this.deps.transport.transactionalProducer(`${this.deps.transactionalIdPrefix}-${batch.partition}`);
    const store = new ChangelogRecorder(this.deps.createStore(batch.partition));
    let watermark = Number.NEGATIVE_INFINITY;
    await this.deps.transport.readToEnd(this.deps.topics.changelog, [batch.partition], (records) => {
      store.transaction(() => {
        for (const record of records) {
          const change = decodeChangelogRecord(record);
          if (change.kind === 'watermark') watermark = change.watermark;
          else if (change.entry) store.restore(change.key, change.entry);
          else store.restoreDelete(change.key);
        }
      });
    });
    store.restoreWatermark(watermark);
    const joiner = new Joiner(store, this.deps.joiner);
    joiner.watermark = watermark;
    // The previous owner may have committed after our consumer fetched its start offsets and before
    // the fencing above (kafkajs has no KIP-447): what it committed is in the restored state.
    const skipBelow = new Map<string, number>();
    for (const topic of [this.deps.topics.predictions, this.deps.topics.feedback]) {
      const committed = (await this.deps.transport.committedOffsets(this.deps.groupId, topic)).find((o) => o.partition === batch.partition);
      if (committed) skipBelow.set(topic, committed.offset);
    }
    const task: Task = { partition: batch.partition, generation: batch.generation, joiner, store, producer, skipBelow };
    this.tasks.set(batch.partition, task);
    return task;
  }

  /**
   * Moves every task's watermark to `eventTime` and commits what expired. A
   * partition that receives nothing keeps its old watermark; the replay calls
   * this at the end of its input (the replay's clock stops at the last event).
   */
  async advanceTasks(eventTime: number): Promise<void> {
    await this.queue.run(async () => {
      for (const task of [...this.tasks.values()]) {
        const counters = (task.joiner.counters = emptyCounters());
        const cause: LogRecord = { topic: '', partition: task.partition, offset: -1, key: null, value: null, timestamp: eventTime, headers: {} };
        let out: OutgoingRecord[];
        try {
          const outputs = task.store.transaction(() => task.joiner.advance(eventTime));
          out = await this.encodeOutputs([{ record: cause, outputs }], [], this.deps.clock.now());
          out.push(...task.store.drainChanges(this.deps.topics.changelog, task.partition, task.joiner.watermark));
        } catch (error) {
          await this.dropTask(task);
          throw error;
        }
        await this.commit(task, out, [], counters);
      }
    });
  }


  private async commit(task: Task, out: OutgoingRecord[], offsets: Array<{ topic: string; partition: number; offset: number }>, counters: JoinCounters): Promise<void> {
    try {
      await task.producer.sendWithOffsets(out, { groupId: this.deps.groupId, offsets });
    } catch (error) {
      // The state is now ahead of what was committed: drop the task so it is restored.
      await this.dropTask(task);
      throw error;
    }
    addCounters(this.totals, counters);
    this.deps.onCommitted?.(counters, task.partition);
  }

  private onBatch(batch: PartitionBatch): Promise<void> {
    return this.queue.run(() => this.processBatch(batch));
  }

  private async processBatch(batch: PartitionBatch): Promise<void> {
    const task = await this.task(batch);
    const now = this.deps.clock.now();
    const letters: DeadLetter[] = [];
    let out: OutgoingRecord[];
    const counters = (task.joiner.counters = emptyCounters());
    try {
      // Decode (async), join (synchronous, one store transaction), encode (async).
      const skip = task.skipBelow.get(batch.topic) ?? 0;
      const inputs = await this.decode(skip > 0 ? batch.records.filter((r) => r.offset >= skip) : batch.records, now, letters);
      const results = task.store.transaction(() =>
        inputs.map((input) => ({
          record: input.record,
          outputs: 'prediction' in input ? task.joiner.onPrediction(input.prediction) : task.joiner.onFeedback(input.feedback),
        })),
      );
      out = await this.encodeOutputs(results, letters, now);
      out.push(...task.store.drainChanges(this.deps.topics.changelog, batch.partition, task.joiner.watermark));
    } catch (error) {
      // Decoding or encoding failed mid-batch (e.g. the registry is down): the state moved, so restore it.
      await this.dropTask(task);
      throw error;
    }
    await this.commit(task, out, [{ topic: batch.topic, partition: batch.partition, offset: batch.nextOffset }], counters);
  }

  /** Output records for join results, then the dead letters (those from decoding and those the join rejected). */
  private async encodeOutputs(results: Array<{ record: LogRecord; outputs: JoinOutput[] }>, letters: DeadLetter[], now: number): Promise<OutgoingRecord[]> {
    const out: OutgoingRecord[] = [];
    for (const { record, outputs } of results) {
      for (const output of outputs) out.push(...(await this.toRecords(output, record, now, letters)));
    }
    for (const letter of letters) {
      out.push({ topic: this.deps.topics.deadLetters, key: letter.key, value: await this.deps.codecs.deadLetter.encode(letter), timestamp: now });
    }
    return out;
  }

  /** Reads the batch's records; one that cannot be read becomes a dead letter. */
  private async decode(records: LogRecord[], now: number, letters: DeadLetter[]): Promise<JoinInput[]> {
    const { topics, codecs } = this.deps;
    const inputs: JoinInput[] = [];
    for (const record of records) {
      if (record.topic === topics.predictions) {
        const decoded = await decodeRecord(record, codecs.prediction as Codec<unknown>, validatePrediction, JOINER_STAGE, now);
        if (decoded.ok) inputs.push({ record, prediction: decoded.value });
        else letters.push(decoded.letter);
      } else {
        const decoded = await decodeRecord(record, codecs.feedback as Codec<unknown>, validateFeedback, JOINER_STAGE, now);
        if (decoded.ok) inputs.push({ record, feedback: decoded.value });
        else letters.push(decoded.letter);
      }
    }
    return inputs;
  }

  private async toRecords(output: JoinOutput, source: LogRecord, now: number, letters: DeadLetter[]): Promise<OutgoingRecord[]> {
    const { topics, codecs } = this.deps;
    // Output records carry the event time of the input that caused them.
    const timestamp = source.timestamp;
    switch (output.kind) {
      case 'example':
        return [{ topic: topics.labelled, key: Buffer.from(output.example.model), value: await codecs.labelled.encode(output.example), timestamp }];
      case 'unmatched':
        return [
          {
            topic: topics.unmatched,
            key: Buffer.from(output.feedback.prediction_id),
            value: await codecs.feedback.encode(output.feedback),
            timestamp,
            headers: { reason: output.reason },
          },
        ];
      case 'rejected': {
        if (output.input === 'feedback' && source.topic !== topics.feedback) {
          // Feedback that waited for its prediction and proved invalid for it: its bytes are re-encoded.
          const value = await codecs.feedback.encode(output.event);
          const original: LogRecord = { topic: topics.feedback, partition: source.partition, offset: -1, key: Buffer.from(output.prediction_id), value, timestamp: output.event.timestamp, headers: {} };
          letters.push(deadLetterFor(original, JOINER_STAGE, 'validation', `${output.reason} (feedback rejected when its prediction arrived)`, now));
        } else {
          letters.push(deadLetterFor(source, JOINER_STAGE, 'validation', output.reason, now));
        }
        return [];
      }
    }
  }
}
