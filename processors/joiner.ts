/**
 * The joiner processor: predictions ⋈ feedback -> labelled examples.
 *
 * One task per input partition p (predictions-p and feedback-p are
 * co-partitioned and always assigned together). A task holds a Joiner over
 * its own state store, restored from partition p of the changelog topic.
 * Each batch is one transaction: the examples (and the arrival records of
 * its accepted predictions, joiner.emit_arrivals), unmatched feedback, dead
 * letters, the changelog updates of the keys it touched and the input
 * offset are committed together or not at all (exactly once on Kafka; the
 * in-process log does the same atomically).
 *
 * The partition task (partition-tasks.ts) fences the previous owner of p
 * before the state is restored, so the restored state is exactly what the
 * committed offsets imply.
 *
 * Misplaced records: a prediction and its feedback meet only if both sit on
 * partition murmur2(prediction_id) mod N, where Kafka's default partitioner
 * for the key prediction_id puts them. A producer with another partitioner
 * (librdkafka's default, CRC32) or another key places some elsewhere; each
 * such record is forwarded, bytes unchanged, to its partition of the same
 * topic (header `feedbackloop-rerouted-from: <partition>@<offset>`) in the
 * batch's transaction, and is joined there. Nothing is lost and nothing is
 * joined twice; the join counts `rerouted`.
 */
import { FeedbackloopError } from '../core/errors.js';
import type { Clock } from '../core/clock.js';
import { DEFAULT_RECORD_LIMITS, type RecordLimits } from '../core/limits.js';
import { validateFeedback, validatePrediction, type DeadLetter, type Feedback, type LabelledExample, type Prediction } from '../core/events.js';
import { Joiner, emptyCounters, modelCounters, NO_CLOCK, timeProblem, UNBOUNDED, type JoinCounters, type JoinerOptions, type JoinOutput, type JoinStore } from '../core/join/index.js';
import { LazyEncoding, type Codec } from '../adapters/codec/codec.js';
import type { LogRecord, LogTransport, OutgoingRecord, PartitionBatch } from '../adapters/transport/transport.js';
import { partitionForKey } from '../adapters/transport/partitioner.js';
import { ChangelogRecorder, decodeChangelogRecord } from './joiner-changelog.js';
import { deadLetterFor, deadLetterRecords, decodeRecord } from './decode.js';
import { offsetsOf, PartitionTasks, type AlignOptions, type TaskContext } from './partition-tasks.js';
import { poisonToTopic, taskHealth, taskOpened } from './poison.js';
import type { Processor } from './processor.js';
import type { PipelineObserver } from '../core/observer.js';

export const JOINER_STAGE = 'joiner';

export interface JoinerTopics {
  predictions: string;
  feedback: string;
  labelled: string;
  unmatched: string;
  deadLetters: string;
  changelog: string;
  /**
   * evaluator.shard_by: prediction: every labelled example (arrival records and corrections included) is also
   * written here, keyed by prediction_id, in the same transaction (docs/scale-out.md). Absent: not written.
   */
  sharded?: string;
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
  /** Bounds on each input record (limits.*; default: the defaults): a record past them is dead-lettered. */
  limits?: RecordLimits;
  /** A fresh, empty store for a partition's state. */
  createStore: (partition: number) => JoinStore;
  /** Event-time alignment of predictions and feedback (default: 5 s wait, 20,000 records buffered per input). */
  align?: AlignOptions;
  clock: Clock;
  /** Input records per batch, at most (one transaction each; default partition-tasks' DEFAULT_MAX_BATCH, 500). */
  maxBatch?: number;
  /** Hooks: `joined` after each committed batch, with the counters' increments. */
  observer?: PipelineObserver;
  /**
   * Write the changelog (default true). Only a driver in which no joiner task is
   * ever restored may turn it off: the replay (see PipelineEnv.joinerChangelog).
   * Without it, a partition's task opened a second time (after a failed batch:
   * a poison record) fails the processor rather than go on with an empty store.
   */
  changelog?: boolean;
}

/** A partition's state: the join over its restored store. */
interface JoinTask {
  joiner: Joiner;
  store: ChangelogRecorder;
}

/** Adds counters (for totals over batches and tasks). */
export function addCounters(into: JoinCounters, from: JoinCounters): JoinCounters {
  for (const key of Object.keys(from) as Array<keyof JoinCounters>) {
    if (key === 'byModel') continue;
    (into[key] as number) += from[key] as number;
  }
  for (const [model, counters] of Object.entries(from.byModel)) {
    const target = modelCounters(into.byModel, model);
    for (const key of Object.keys(counters) as Array<keyof typeof counters>) target[key] += counters[key];
  }
  return into;
}

type JoinInput = { record: LogRecord; prediction: Prediction } | { record: LogRecord; feedback: Feedback };

/** The header a forwarded record carries: where it was first found. */
export const REROUTED_FROM_HEADER = 'feedbackloop-rerouted-from';

export class JoinerProcessor implements Processor {
  readonly name = 'joiner';
  readonly inputs: string[];
  readonly outputs: string[];
  private readonly tasks: PartitionTasks<JoinTask>;
  /** Counters over every batch this instance committed. */
  readonly totals: JoinCounters = emptyCounters();
  /** Partitions whose task was opened (without a changelog, none may be opened twice). */
  private readonly opened = new Set<number>();
  /** Records decoded for their event time, waiting in the alignment buffers to be processed. */
  private readonly decoded = new WeakMap<LogRecord, JoinInput | { letter: DeadLetter }>();
  /** Partitions of the input topics (checkCoPartitioning): where murmur2(prediction_id) puts each event. */
  private partitions = 0;

  constructor(private readonly deps: JoinerProcessorDeps) {
    const t = deps.topics;
    this.inputs = [t.predictions, t.feedback];
    // The inputs too: a misplaced record is forwarded to its partition.
    this.outputs = [t.labelled, ...(t.sharded === undefined ? [] : [t.sharded]), t.unmatched, t.deadLetters, t.changelog, t.predictions, t.feedback];
    this.tasks = new PartitionTasks<JoinTask>({
      transport: deps.transport,
      groupId: deps.groupId,
      topics: this.inputs,
      transactionalIdPrefix: deps.transactionalIdPrefix,
      align: { ...(deps.align ?? { maxWaitMs: 5_000, maxBuffered: 20_000 }), eventTime: (record) => this.eventTime(record) },
      onFailed: (error) => deps.observer?.commitFailed?.(JOINER_STAGE, error),
      poison: poisonToTopic(JOINER_STAGE, deps.topics.deadLetters, deps.codecs.deadLetter, deps.observer),
      health: taskHealth(JOINER_STAGE, deps.observer),
      onOpened: taskOpened(JOINER_STAGE, deps.observer),
      ...(deps.maxBatch !== undefined ? { maxBatch: deps.maxBatch } : {}),
      work: {
        open: (ctx) => this.restore(ctx),
        process: (task, batch, ctx) => this.processBatch(task, batch, ctx),
        close: async (task) => {
          task.store.discardChanges();
          await task.store.close();
        },
      },
    });
  }

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

  async start(): Promise<void> {
    this.partitions = await this.checkCoPartitioning();
    await this.tasks.start();
  }

  get done(): Promise<void> {
    return this.tasks.done;
  }

  async stop(): Promise<void> {
    await this.tasks.stop();
  }

  /** Pending entries per partition (for metrics and tests). */
  pending(): Map<number, number> {
    return new Map(this.tasks.all().map((t) => [t.context.partition, t.state.store.size()]));
  }

  /** Partition p's join state, restored from partition p of the changelog. */
  private async restore(ctx: TaskContext): Promise<JoinTask> {
    this.checkRestorable(ctx.partition);
    const store = new ChangelogRecorder(this.deps.createStore(ctx.partition), this.deps.changelog !== false);
    let watermark = Number.NEGATIVE_INFINITY;
    const models: string[] = [];
    await this.deps.transport.readToEnd(this.deps.topics.changelog, [ctx.partition], async (records) => {
      // A long restore must not cost the member its place in the group.
      await ctx.heartbeat();
      store.transaction(() => {
        for (const record of records) {
          const change = decodeChangelogRecord(record);
          if (change.kind === 'watermark') watermark = change.watermark;
          else if (change.kind === 'model') models.push(change.model);
          else if (change.entry) store.restore(change.key, change.entry);
          else store.restoreDelete(change.key);
        }
      });
    });
    store.restoreWatermark(watermark);
    const joiner = new Joiner(store, this.deps.joiner);
    joiner.watermark = watermark;
    for (const model of models) joiner.restoreModel(model);
    return { joiner, store };
  }

  /** Without a changelog a task's state cannot be rebuilt: a second open of a partition is a fault (systemic: it stops the joiner). */
  private checkRestorable(partition: number): void {
    if (this.deps.changelog === false && this.opened.has(partition)) {
      throw new FeedbackloopError(`joiner: partition ${partition} must be restored, but this joiner writes no changelog (a replay does not restart)`, { systemic: true });
    }
    this.opened.add(partition);
  }

  /**
   * Moves every task's watermark to `eventTime` and commits what expired. A
   * partition that receives nothing keeps its old watermark; the replay calls
   * this at the end of its input (the replay's clock stops at the last event).
   */
  async advanceTasks(eventTime: number): Promise<void> {
    await this.tasks.forEach(async (task, ctx) => {
      const counters = (task.joiner.counters = emptyCounters());
      const cause: LogRecord = { topic: '', partition: ctx.partition, offset: -1, key: null, value: null, timestamp: eventTime, headers: {} };
      const outputs = task.store.transaction(() => task.joiner.advance(eventTime));
      const out = await this.encodeOutputs([{ record: cause, outputs }], [], this.deps.clock.now());
      await this.commit(task, ctx, out, [], counters);
    });
  }

  /** The batch's outputs, the changelog of what it changed and its offsets, in one transaction. */
  private async commit(task: JoinTask, ctx: TaskContext, out: OutgoingRecord[], offsets: Array<{ topic: string; partition: number; offset: number }>, counters: JoinCounters): Promise<void> {
    for (const change of task.store.drainChanges(this.deps.topics.changelog, ctx.partition, task.joiner.watermark, task.joiner.takeNewModels())) out.push(change);
    await ctx.commit(out, offsets);
    addCounters(this.totals, counters);
    this.deps.observer?.joined?.(counters, ctx.partition);
  }

  private async processBatch(task: JoinTask, batch: PartitionBatch, ctx: TaskContext): Promise<void> {
    const now = this.deps.clock.now();
    const letters: DeadLetter[] = [];
    const counters = (task.joiner.counters = emptyCounters());
    // Decode (async), join (synchronous, one store transaction), encode (async).
    const rerouted: OutgoingRecord[] = [];
    const inputs = this.placed(await this.decode(batch.records, now, letters), rerouted);
    counters.rerouted = rerouted.length;
    const results = task.store.transaction(() =>
      inputs.map((input) => ({
        record: input.record,
        outputs: 'prediction' in input ? task.joiner.onPrediction(input.prediction) : task.joiner.onFeedback(input.feedback),
      })),
    );
    const out = await this.encodeOutputs(results, letters, now);
    for (const record of rerouted) out.push(record);
    await this.commit(task, ctx, out, offsetsOf(batch), counters);
  }

  /** The inputs on their own partition; the others go to `rerouted` as records for theirs. */
  private placed(inputs: JoinInput[], rerouted: OutgoingRecord[]): JoinInput[] {
    if (this.partitions <= 1) return inputs;
    const here: JoinInput[] = [];
    for (const input of inputs) {
      const id = 'prediction' in input ? input.prediction.prediction_id : input.feedback.prediction_id;
      const key = Buffer.from(id, 'utf8');
      const partition = partitionForKey(key, this.partitions);
      if (partition === input.record.partition) here.push(input);
      else rerouted.push(forwarded(input.record, key, partition));
    }
    return here;
  }

  /** Output records for join results, then the dead letters (those from decoding and those the join rejected). */
  private async encodeOutputs(results: Array<{ record: LogRecord; outputs: JoinOutput[] }>, letters: DeadLetter[], now: number): Promise<OutgoingRecord[]> {
    const out: OutgoingRecord[] = [];
    for (const { record, outputs } of results) {
      for (const output of outputs) {
        for (const encoded of await this.toRecords(output, record, now, letters)) out.push(encoded);
      }
    }
    for (const letter of await deadLetterRecords(letters, this.deps.topics.deadLetters, this.deps.codecs.deadLetter, now)) out.push(letter);
    return out;
  }

  /** Reads the batch's records; one that cannot be read becomes a dead letter. */
  private async decode(records: LogRecord[], now: number, letters: DeadLetter[]): Promise<JoinInput[]> {
    const inputs: JoinInput[] = [];
    for (const record of records) {
      const input = this.decoded.get(record) ?? (await this.decodeOne(record, now));
      this.decoded.delete(record);
      if ('letter' in input) letters.push(input.letter);
      else inputs.push(input);
    }
    return inputs;
  }

  private async decodeOne(record: LogRecord, now: number): Promise<JoinInput | { letter: DeadLetter }> {
    const { topics, codecs } = this.deps;
    const limits = this.deps.limits ?? DEFAULT_RECORD_LIMITS;
    if (record.topic === topics.predictions) {
      const decoded = await decodeRecord(record, codecs.prediction as Codec<unknown>, { contract: validatePrediction, limits }, JOINER_STAGE, now);
      return decoded.ok ? { record, prediction: decoded.value } : { letter: decoded.letter };
    }
    const decoded = await decodeRecord(record, codecs.feedback as Codec<unknown>, { contract: validateFeedback, limits }, JOINER_STAGE, now);
    return decoded.ok ? { record, feedback: decoded.value } : { letter: decoded.letter };
  }

  /**
   * A record's event time for the alignment of the inputs: the event's own
   * timestamp (the decoded event is kept for the batch that processes it).
   * A record that does not decode sorts by its log timestamp (it becomes a
   * dead letter when processed), and so does an event whose own time the join
   * will refuse (in microseconds, far ahead): sorted by it, it would hold
   * back every later record of its input while the other input runs ahead.
   * A codec that cannot answer now (the registry is down) leaves it to the
   * batch to fail and be retried.
   */
  private async eventTime(record: LogRecord): Promise<number> {
    try {
      const input = await this.decodeOne(record, this.deps.clock.now());
      this.decoded.set(record, input);
      const time = 'prediction' in input ? input.prediction.timestamp : 'feedback' in input ? input.feedback.timestamp : undefined;
      if (time !== undefined && this.plausible(time)) return time;
    } catch {
      // Decoded again when processed, where the error counts.
    }
    return record.timestamp;
  }

  /** Would the join take an event stamped `time` (the same bounds as core/join's check)? */
  private plausible(time: number): boolean {
    const { timeBounds, eventClock } = this.deps.joiner;
    return timeProblem('timestamp', time, timeBounds ?? UNBOUNDED, (eventClock ?? NO_CLOCK)()) === undefined;
  }

  /**
   * An example's value: its bytes, or on a transport that takes them (the replay's in-process
   * log, whose readers take the example beside the bytes) a lazy value, encoded only if read.
   */
  private async labelledValue(example: LabelledExample): Promise<Pick<OutgoingRecord, 'value' | 'lazyValue'>> {
    const codec = this.deps.codecs.labelled;
    const lazy = this.deps.transport.lazyValues ? LazyEncoding.of(codec, example) : undefined;
    return lazy ? { value: null, lazyValue: lazy } : { value: await codec.encode(example) };
  }

  /**
   * An example's records: on labelled examples keyed by model, and with `topics.sharded` its copy there keyed
   * by prediction_id (a correction has its prediction's, so it lands where the example it replaces is).
   */
  private async exampleRecords(example: LabelledExample, timestamp: number): Promise<OutgoingRecord[]> {
    const { labelled, sharded } = this.deps.topics;
    const value = await this.labelledValue(example);
    const byModel: OutgoingRecord = { topic: labelled, key: Buffer.from(example.model), ...value, timestamp, decoded: example };
    if (sharded === undefined) return [byModel];
    return [byModel, { topic: sharded, key: Buffer.from(example.prediction_id), ...value, timestamp, decoded: example }];
  }

  private async toRecords(output: JoinOutput, source: LogRecord, now: number, letters: DeadLetter[]): Promise<OutgoingRecord[]> {
    const { topics, codecs } = this.deps;
    // Output records carry the event time of the input that caused them.
    const timestamp = source.timestamp;
    switch (output.kind) {
      case 'example':
      case 'arrival':
        // Arrival records go with the examples: same topics and keys, in this batch's transaction.
        return this.exampleRecords(output.example, timestamp);
      case 'unmatched':
        return [{
          topic: topics.unmatched,
          key: Buffer.from(output.feedback.prediction_id),
          value: await codecs.feedback.encode(output.feedback),
          timestamp,
          headers: { reason: output.reason },
        }];
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

/** A misplaced input record as it goes to its partition: same topic, value and timestamp, keyed by its prediction_id. */
function forwarded(record: LogRecord, key: Buffer, partition: number): OutgoingRecord {
  const headers: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const [name, value] of Object.entries(record.headers)) headers[name] = value;
  headers[REROUTED_FROM_HEADER] = `${record.partition}@${record.offset}`;
  return { topic: record.topic, partition, key, value: record.value, timestamp: record.timestamp, headers };
}
