/**
 * The embedded path: files of events through the very same processors, on
 * the in-process log, with no servers. Used by `feedbackloop replay`, the
 * demo and the tests.
 *
 * Input: JSON Lines with the Avro field names of schemas/ (docs/architecture.md, "Event contracts"). Output in DIR:
 *   labelled.jsonl      one line per labelled example or correction, in processing order
 *   unlabelled.jsonl    predictions that expired without a label (when joiner.emit_unlabelled)
 *   unmatched.jsonl     feedback whose prediction never came, with the reason
 *   dead_letters.jsonl  malformed lines, lines stamped outside the plausible event times
 *                       (joiner.min_timestamp, joiner.max_future against the stream's own time)
 *                       and rejected events, with file, line and reason
 *   metrics.jsonl       the final figure of every metric point (model, version, role, segment, window)
 *   drift.jsonl         every drift test (PSI/KS per window) and every detector alarm
 *   feedback.jsonl      feedback statistics per model, UTC day, feedback type and source
 *   snapshots.jsonl     every challenger snapshot the learner published (version, examples seen, data hash)
 *   promotions.jsonl    every promotion / rollback decision, with its evidence
 *   report.html         one self-contained page: each model's figures over time, champion vs
 *                       challengers, with drift and decision markers; label delay and coverage;
 *                       feedback statistics; fairness by segment (core/report)
 *   summary.json        the counts
 *
 * The evaluator reads the joiner's labelled examples from the in-process
 * log, as it reads them from Kafka in `run`; with clickhouse.url set, its
 * rows go to ClickHouse as well as to the files.
 */
import { constants, createReadStream } from 'node:fs';
import { access, mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import type { Config } from '../adapters/config/index.js';
import type { Codec } from '../adapters/codec/codec.js';
import { makeCodecs, type Codecs } from '../adapters/codec/codecs.js';
import { MemoryTransport } from '../adapters/transport/memory.js';
import type { LogRecord, OutgoingRecord } from '../adapters/transport/transport.js';
import type { Clock } from '../core/clock.js';
import type { PipelineObserver } from '../core/observer.js';
import { ConfigError, errorMessage, ValidationError } from '../core/errors.js';
import { validateFeedback, validatePrediction, type DeadLetter, type Feedback, type LabelledExample, type ModelSnapshot, type Prediction, type PromotionDecision } from '../core/events.js';
import { MemoryJoinStore, StreamTimeCheck, type Checked, type JoinCounters, type TimeBounds } from '../core/join/index.js';
import type { ClickHouseStore } from '../adapters/clickhouse/index.js';
import { renderReport, type ReportSummary } from '../report/index.js';
import { deadLetterJson } from '../sinks/dead-letters.js';
import { FileEvaluatorSink, type EvaluatorSink } from '../sinks/evaluator-rows.js';
import { FanOutSink, type Sink } from '../sinks/sink.js';
import { Pipeline, topicSpecs, type PipelineEnv, type ProcessorName } from './pipeline.js';
import { joinerTimeBounds, recordLimits } from './settings.js';

export interface ReplayInput {
  predictions: string;
  feedback: string;
  out: string;
  config: Config;
  clock: Clock;
  /** Also write the evaluator's rows here (ClickHouse, when configured). */
  clickhouse?: EvaluatorSink;
  /** Also write the registry tables (model_versions, champion_history) here (ClickHouse, when configured). */
  registry?: Pick<ClickHouseStore, 'insert'>;
  /** Called after each input chunk with the events processed so far and the total. */
  onProgress?: (done: number, total: number) => void;
  /** Hooks into the processors (e.g. `published`: every snapshot with its parameters, which snapshots.jsonl leaves out). */
  observer?: PipelineObserver;
}

/** The counts (the report's header shows those of ReportSummary: predictions and feedback read, labelled, dead letters…) and the files. */
export interface ReplaySummary extends ReportSummary {
  superseded: number;
  confirmations: number;
  expired_labelled: number;
  metric_points: number;
  drift_alarms: number;
  snapshots_published: number;
  decisions: number;
  files: { labelled: string; unlabelled: string; unmatched: string; dead_letters: string; metrics: string; drift: string; feedback: string; snapshots: string; promotions: string; report: string; summary: string };
}

interface FileEvent<T> {
  value: T;
  line: number;
}

/**
 * Reads a JSON Lines file; a line that is not JSON, breaks the contract, or
 * is stamped outside the plausible event times (before joiner.min_timestamp,
 * or more than joiner.max_future ahead of the stream's own time: the rule of
 * StreamTimeCheck, core/join/time-bounds.ts) becomes a dead letter. Time is
 * checked here, before the files are merged by event time, as a line
 * stamped far ahead would also hold back the rest of its file in the merge.
 */
async function readEvents<T extends { timestamp: number }>(
  path: string,
  what: string,
  validate: (value: unknown) => T,
  bounds: TimeBounds,
  now: number,
  letters: DeadLetter[],
): Promise<Array<FileEvent<T>>> {
  const events: Array<FileEvent<T>> = [];
  const refused: DeadLetter[] = [];
  const letter = (line: number, text: string, errorClass: string, message: string): DeadLetter => ({
    topic: path, partition: 0, offset: line, key: null, value: Buffer.from(text, 'utf8'),
    error_class: errorClass, error_message: message, stage: 'replay-input', failed_at: now,
  });
  const time = new StreamTimeCheck<{ value: T; line: number; text: string }>('timestamp', bounds);
  const take = (verdicts: Array<Checked<{ value: T; line: number; text: string }>>) => {
    for (const { item, problem } of verdicts) {
      if (problem === undefined) events.push({ value: item.value, line: item.line });
      else refused.push(letter(item.line, item.text, 'validation', `line ${item.line}: ${what}: ${problem}`));
    }
  };
  const lines = createInterface({ input: createReadStream(path, 'utf8'), crlfDelay: Infinity });
  let number = 0;
  for await (const text of lines) {
    number++;
    if (text.trim() === '') continue;
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (error) {
      refused.push(letter(number, text, 'decode', `line ${number} is not JSON: ${errorMessage(error)}`));
      continue;
    }
    let value: T;
    try {
      value = validate(parsed);
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      refused.push(letter(number, text, 'validation', `line ${number}: ${error.message}`));
      continue;
    }
    take(time.push({ value, line: number, text }, value.timestamp));
  }
  take(time.end());
  // In line order (a time verdict can come a few lines late).
  for (const l of refused.sort((a, b) => a.offset - b.offset)) letters.push(l);
  return events;
}

/** Events per replay chunk (extended to the end of equal timestamps). */
const REPLAY_CHUNK = 1000;

/**
 * The two inputs merged by timestamp (each in its file order; predictions
 * first on ties, as the in-process log delivers them) and cut into chunks
 * of about `size` records, never between equal timestamps.
 */
function eventTimeChunks(a: OutgoingRecord[], b: OutgoingRecord[], size: number): OutgoingRecord[][] {
  const merged: OutgoingRecord[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (j >= b.length || (i < a.length && a[i]!.timestamp! <= b[j]!.timestamp!)) merged.push(a[i++]!);
    else merged.push(b[j++]!);
  }
  const chunks: OutgoingRecord[][] = [];
  let start = 0;
  while (start < merged.length) {
    let end = Math.min(merged.length, start + size);
    while (end < merged.length && merged[end]!.timestamp === merged[end - 1]!.timestamp) end++;
    chunks.push(merged.slice(start, end));
    start = end;
  }
  return chunks;
}

/** A snapshot as a snapshots.jsonl line: everything but the parameters, which are large. */
function snapshotLine(s: ModelSnapshot) {
  return {
    model: s.model, version: s.version, challenger: s.challenger, algorithm: s.algorithm, training_count: s.training_count,
    data_hash: s.data_hash, parent_version: s.parent_version, created_at: s.created_at, features: s.feature_schema.map((f) => f.name),
  };
}

/** A decision as a promotions.jsonl line (the evidence in full is on the model-promotions topic). */
function promotionLine(d: PromotionDecision) {
  return {
    model: d.model, decision: d.decision.toLowerCase(), from_version: d.from_version, to_version: d.to_version, at: d.at, n: d.sample_size,
    statistic: d.statistic, bound: d.bound, alpha: d.alpha, metric_deltas: d.metric_deltas, guardrails: d.guardrails, reason: d.reason,
  };
}

function jsonl(rows: unknown[]): string {
  return rows.map((row) => `${JSON.stringify(row)}\n`).join('');
}

/** Records of a topic in processing order: by timestamp (the input event time that caused them), then partition and offset. */
function inProcessingOrder(records: LogRecord[]): LogRecord[] {
  return [...records].sort((a, b) => a.timestamp - b.timestamp || a.partition - b.partition || a.offset - b.offset);
}

/** A sink that keeps what it is given (the evaluator's and the registry's dead letters). */
function collecting<T>(into: T[]): Sink<T> {
  return { connect: async () => {}, writeBatch: async (items) => void items.forEach((item) => into.push(item)), close: async () => {} };
}

/** The largest timestamp of the events (a loop: the inputs can be far larger than a call's arguments). */
function lastTimestamp(...inputs: Array<Array<FileEvent<{ timestamp: number }>>>): number {
  let end = Number.NEGATIVE_INFINITY;
  for (const events of inputs) for (const e of events) if (e.value.timestamp > end) end = e.value.timestamp;
  return end;
}

/** The input files, each line a validated event or a dead letter. */
async function readInputs(input: ReplayInput, now: number, letters: DeadLetter[]): Promise<{ predictions: Array<FileEvent<Prediction>>; feedback: Array<FileEvent<Feedback>> }> {
  for (const [option, path] of [['--predictions', input.predictions], ['--feedback', input.feedback]] as const) {
    try {
      await access(path, constants.R_OK);
    } catch (error) {
      throw new ConfigError(option, `cannot read ${path}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : errorMessage(error)}`);
    }
  }
  const limits = recordLimits(input.config);
  return {
    predictions: await readEvents<Prediction>(input.predictions, 'prediction', (v) => validatePrediction(v, limits), joinerTimeBounds(input.config), now, letters),
    feedback: await readEvents<Feedback>(input.feedback, 'feedback', (v) => validateFeedback(v, limits), joinerTimeBounds(input.config), now, letters),
  };
}

/** Events as records of their topic, keyed by prediction_id, with the file and line they came from. */
async function toRecords<T extends { prediction_id: string; timestamp: number }>(events: Array<FileEvent<T>>, topic: string, codec: Codec<T>, path: string): Promise<OutgoingRecord[]> {
  const out: OutgoingRecord[] = [];
  for (const e of events) {
    out.push({ topic, key: Buffer.from(e.value.prediction_id), value: await codec.encode(e.value), timestamp: e.value.timestamp, headers: { file: resolve(path), line: String(e.line) } });
  }
  return out;
}

/** What the replay gives the pipeline: the in-process log, join state in memory, files (and ClickHouse), event time. */
function replayEnvironment(input: ReplayInput, log: MemoryTransport, codecs: Codecs, files: FileEvaluatorSink, letters: DeadLetter[], stores: MemoryJoinStore[]): PipelineEnv {
  const { config, clickhouse } = input;
  return {
    config,
    transport: log,
    codecs,
    clock: input.clock,
    name: 'replay',
    time: 'event-time',
    joinStore: () => {
      const store = new MemoryJoinStore();
      stores.push(store);
      return store;
    },
    evaluator: {
      sink: clickhouse ? new FanOutSink([files, clickhouse]) : files,
      // Everything in memory until the end, unless ClickHouse wants batches.
      flush: clickhouse
        ? { maxRows: config.evaluator.flush_rows, maxBytes: config.evaluator.flush_bytes, intervalMs: Number.MAX_SAFE_INTEGER }
        : { maxRows: Number.MAX_SAFE_INTEGER, maxBytes: Number.MAX_SAFE_INTEGER, intervalMs: Number.MAX_SAFE_INTEGER },
    },
    deadLetters: collecting(letters),
    // With ClickHouse: the registry tables too, from the same topics `run --only registry` reads.
    ...(input.registry ? { clickhouse: input.registry } : {}),
    observer: input.observer ?? {},
  };
}

/** The examples, unmatched feedback and dead letters the processors wrote to the in-process log, for the files. */
async function collectOutputs(log: MemoryTransport, topics: Config['topics'], codecs: Codecs, letters: DeadLetter[]): Promise<{ examples: LabelledExample[]; unlabelled: LabelledExample[]; unmatched: unknown[] }> {
  const examples: LabelledExample[] = [];
  const unlabelled: LabelledExample[] = [];
  for (const record of inProcessingOrder(log.records(topics.labelled_examples))) {
    const example = await codecs.labelled.decode(record.value);
    (example.label === null ? unlabelled : examples).push(example);
  }
  const unmatched: unknown[] = [];
  for (const record of inProcessingOrder(log.records(topics.unmatched_feedback))) {
    unmatched.push({ ...(await codecs.feedback.decode(record.value)), reason: record.headers.reason ?? null });
  }
  // Dead letters from the processors point at in-process records; name the file line they came from.
  const inputs = new Map<string, LogRecord[]>([
    [topics.predictions, log.records(topics.predictions)],
    [topics.feedback, log.records(topics.feedback)],
  ]);
  for (const record of log.records(topics.dead_letters)) {
    const letter = await codecs.deadLetter.decode(record.value);
    // One partition per topic: the offset indexes the topic's records.
    const origin = letter.partition === 0 ? inputs.get(letter.topic)?.[letter.offset] : undefined;
    letters.push(origin?.headers.file ? { ...letter, topic: origin.headers.file, partition: 0, offset: Number(origin.headers.line) } : letter);
  }
  return { examples, unlabelled, unmatched };
}

export async function replay(input: ReplayInput): Promise<ReplaySummary> {
  const { config, clock } = input;
  const letters: DeadLetter[] = [];
  const { predictions, feedback } = await readInputs(input, clock.now(), letters);
  const t = config.topics;
  const log = new MemoryTransport(() => clock.now());
  // One partition per topic: the replay is one thread anyway, and so its outputs (and the
  // evaluator's sliding windows) follow event time, not the interleaving of partition batches.
  await log.ensureTopics(topicSpecs(config).map((spec) => ({ ...spec, partitions: 1 })));
  const codecs = makeCodecs(t, undefined);
  const predictionRecords = await toRecords(predictions, t.predictions, codecs.prediction, input.predictions);
  const feedbackRecords = await toRecords(feedback, t.feedback, codecs.feedback, input.feedback);

  await mkdir(input.out, { recursive: true });
  const files = new FileEvaluatorSink(input.out);
  const stores: MemoryJoinStore[] = [];
  const names: ProcessorName[] = ['joiner', 'learner', 'promoter', 'evaluator', ...(input.registry ? (['registry'] as const) : [])];
  const pipeline = new Pipeline(replayEnvironment(input, log, codecs, files, letters, stores), names);
  const joiner = pipeline.get('joiner')!;
  const learner = pipeline.get('learner')!;
  const promoter = pipeline.get('promoter')!;
  await pipeline.start();
  // The input goes in in event-time chunks, each processed through every processor before the
  // next: the learner's snapshots then keep up with the predictions they shadow-score.
  const producer = await log.producer();
  const total = predictionRecords.length + feedbackRecords.length;
  let done = 0;
  for (const chunk of eventTimeChunks(predictionRecords, feedbackRecords, REPLAY_CHUNK)) {
    await producer.send(chunk);
    await log.whenIdle();
    pipeline.feed?.applyArrived();
    input.onProgress?.((done += chunk.length), total);
  }
  // The replay's event time ends at its last event, in every partition.
  const end = lastTimestamp(predictions, feedback);
  if (Number.isFinite(end)) await joiner.advanceTasks(end);
  await log.whenIdle();
  await pipeline.stop(() => log.whenIdle());
  await files.close();
  const { examples, unlabelled, unmatched } = await collectOutputs(log, t, codecs, letters);

  const paths = {
    labelled: join(input.out, 'labelled.jsonl'),
    unlabelled: join(input.out, 'unlabelled.jsonl'),
    unmatched: join(input.out, 'unmatched.jsonl'),
    dead_letters: join(input.out, 'dead_letters.jsonl'),
    ...files.files,
    snapshots: join(input.out, 'snapshots.jsonl'),
    promotions: join(input.out, 'promotions.jsonl'),
    report: join(input.out, 'report.html'),
    summary: join(input.out, 'summary.json'),
  };
  await writeFile(paths.labelled, jsonl(examples));
  await writeFile(paths.unlabelled, jsonl(unlabelled));
  await writeFile(paths.unmatched, jsonl(unmatched));
  await writeFile(paths.dead_letters, jsonl(letters.map((l) => ({ file: l.topic, line: l.offset, ...deadLetterJson(l) }))));
  await writeFile(paths.snapshots, jsonl(learner.published.map(snapshotLine)));
  await writeFile(paths.promotions, jsonl(promoter.published.map(promotionLine)));

  const c: JoinCounters = joiner.totals;
  const final = files.final();
  const summary: ReplaySummary = {
    predictions_read: predictions.length,
    feedback_read: feedback.length,
    labelled: c.labelled,
    corrections: c.corrections,
    duplicates_ignored: c.duplicates,
    uncertain: c.uncertain,
    superseded: c.superseded,
    confirmations: c.confirmations,
    unmatched: c.unmatched,
    expired_labelled: c.expired_labelled,
    expired_unlabelled: c.expired_unlabelled,
    pending_at_end: stores.reduce((sum, store) => sum + store.size(), 0),
    dead_letters: letters.length,
    by_model: c.byModel,
    metric_points: files.points.rows.size,
    drift_alarms: final.drift.filter((d) => d.detected).length,
    snapshots_published: learner.published.length,
    decisions: promoter.published.length,
    files: paths,
  };
  const kinds = new Map(Object.entries(config.models).map(([model, m]) => [model, m.task]));
  await writeFile(paths.report, renderReport({ summary, ...final, decisions: promoter.published.map(promotionLine), kinds }));
  await writeFile(paths.summary, `${JSON.stringify(summary, null, 2)}\n`);
  return summary;
}
