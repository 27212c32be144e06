/**
 * The embedded path: files of events through the very same processors, on
 * the in-process log, with no servers. Used by `feedbackloop replay`, the
 * demo and the tests.
 *
 * Input: JSON Lines with the Avro field names of DESIGN.md. Output in DIR:
 *   labelled.jsonl      one line per labelled example or correction, in processing order
 *   unlabelled.jsonl    predictions that expired without a label (when joiner.emit_unlabelled)
 *   unmatched.jsonl     feedback whose prediction never came, with the reason
 *   dead_letters.jsonl  malformed lines and rejected events, with file, line and reason
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
import { MemoryTransport } from '../adapters/log/memory.js';
import type { LogRecord, OutgoingRecord } from '../adapters/log/transport.js';
import type { Clock } from '../core/clock.js';
import { ConfigError, errorMessage, ValidationError } from '../core/errors.js';
import { validateFeedback, validatePrediction, type DeadLetter, type Feedback, type LabelledExample, type ModelSnapshot, type Prediction, type PromotionDecision } from '../core/events.js';
import { MemoryJoinStore, type JoinCounters } from '../core/join/index.js';
import { JoinerProcessor } from '../processors/joiner.js';
import { deadLetterJson } from '../sinks/dead-letters.js';
import { evaluatorOptions, joinerTopics, learnerSettings, makeCodecs, policyOptions, promoterTopics } from './runtime.js';
import { EvaluatorProcessor } from '../processors/evaluator.js';
import { LearnerProcessor } from '../processors/learner.js';
import { PromoterProcessor } from '../processors/promoter.js';
import { RegistryProcessor } from '../processors/registry.js';
import type { ClickHouseStore } from '../adapters/clickhouse/index.js';
import { ShadowScorer } from '../core/learn/index.js';
import { renderReport, type ReportSummary } from '../core/report/index.js';
import { FanOutEvaluatorSink, FileEvaluatorSink, type EvaluatorSink } from '../sinks/evaluator.js';

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

/** Reads a JSON Lines file; a line that is not JSON or breaks the contract becomes a dead letter. */
async function readEvents<T>(
  path: string,
  validate: (value: unknown) => T,
  now: number,
  letters: DeadLetter[],
): Promise<Array<FileEvent<T>>> {
  const events: Array<FileEvent<T>> = [];
  const lines = createInterface({ input: createReadStream(path, 'utf8'), crlfDelay: Infinity });
  let number = 0;
  for await (const text of lines) {
    number++;
    if (text.trim() === '') continue;
    const letter = (errorClass: string, message: string): DeadLetter => ({
      topic: path, partition: 0, offset: number, key: null, value: Buffer.from(text, 'utf8'),
      error_class: errorClass, error_message: message, stage: 'replay-input', failed_at: now,
    });
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (error) {
      letters.push(letter('decode', `line ${number} is not JSON: ${errorMessage(error)}`));
      continue;
    }
    try {
      events.push({ value: validate(parsed), line: number });
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      letters.push(letter('validation', `line ${number}: ${error.message}`));
    }
  }
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

export async function replay(input: ReplayInput): Promise<ReplaySummary> {
  const { config, clock, clickhouse } = input;
  const now = clock.now();
  const letters: DeadLetter[] = [];
  for (const [option, path] of [['--predictions', input.predictions], ['--feedback', input.feedback]] as const) {
    try {
      await access(path, constants.R_OK);
    } catch (error) {
      throw new ConfigError(option, `cannot read ${path}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : errorMessage(error)}`);
    }
  }
  const predictions = await readEvents<Prediction>(input.predictions, validatePrediction, now, letters);
  const feedback = await readEvents<Feedback>(input.feedback, validateFeedback, now, letters);

  const t = config.topics;
  const log = new MemoryTransport(() => clock.now());
  // One partition per topic: the replay is one thread anyway, and so its outputs (and the
  // evaluator's sliding windows) follow event time, not the interleaving of partition batches.
  const partitions = 1;
  await log.ensureTopics([
    { name: t.predictions, partitions },
    { name: t.feedback, partitions },
    { name: t.labelled_examples, partitions },
    { name: t.unmatched_feedback, partitions },
    { name: t.dead_letters, partitions },
    { name: t.joiner_changelog, partitions, compacted: true },
    { name: t.model_snapshots, partitions, compacted: true },
    { name: t.model_promotions, partitions },
  ]);
  const codecs = makeCodecs(config, undefined);
  const producer = await log.producer();
  const source = (path: string, line: number) => ({ file: resolve(path), line: String(line) });
  const predictionRecords = await Promise.all(
    predictions.map(async (e) => ({
      topic: t.predictions, key: Buffer.from(e.value.prediction_id), value: await codecs.prediction.encode(e.value),
      timestamp: e.value.timestamp, headers: source(input.predictions, e.line),
    })),
  );
  const feedbackRecords = await Promise.all(
    feedback.map(async (e) => ({
      topic: t.feedback, key: Buffer.from(e.value.prediction_id), value: await codecs.feedback.encode(e.value),
      timestamp: e.value.timestamp, headers: source(input.feedback, e.line),
    })),
  );

  const kindOf = (model: string) => config.models[model]?.task ?? 'binary';
  // Shadow scoring: the joiner scores each prediction with the newest snapshot of every challenger
  // made before the prediction's time (the learner stamps snapshots with event time).
  const scorer = new ShadowScorer({ retainMs: config.joiner.join_window });
  const learner = new LearnerProcessor({
    transport: log,
    ...learnerSettings(config),
    groupId: 'replay-learner',
    transactionalIdPrefix: 'replay-learner',
    codecs,
    snapshotEvery: config.learner.snapshot_every,
    snapshotIntervalMs: Number.MAX_SAFE_INTEGER,
    createdAt: 'event-time',
    clock,
  });
  const promoter = new PromoterProcessor({
    transport: log,
    topics: promoterTopics(config),
    groupId: 'replay-promoter',
    transactionalIdPrefix: 'replay-promoter',
    codecs,
    policyOf: (model) => policyOptions(config, model),
    actor: 'feedbackloop-promoter (replay)',
    clock,
  });
  // Snapshots reach the scorer between input chunks only, so which snapshot scores a prediction
  // does not depend on how the processors' batches interleave inside a chunk (deterministic).
  const arrived: ModelSnapshot[] = [];
  const snapshotFeed = await log.consumer({ groupId: 'replay-shadow-scorer', topics: [t.model_snapshots] });
  await snapshotFeed.run(async (batch) => {
    for (const record of batch.records) arrived.push(await codecs.snapshot.decode(record.value));
  });
  // Decisions too (the previous champion is shadow-scored from a promotion on), after the snapshots.
  const decided: PromotionDecision[] = [];
  const decisionFeed = await log.consumer({ groupId: 'replay-shadow-decisions', topics: [t.model_promotions] });
  await decisionFeed.run(async (batch) => {
    for (const record of batch.records) decided.push(await codecs.promotion.decode(record.value));
  });
  const stores = new Map<number, MemoryJoinStore>();
  const joiner = new JoinerProcessor({
    transport: log,
    topics: joinerTopics(config),
    groupId: 'replay-joiner',
    transactionalIdPrefix: 'replay-joiner',
    codecs,
    joiner: {
      joinWindowMs: config.joiner.join_window,
      earlyFeedbackTtlMs: config.joiner.early_feedback_ttl,
      emitUnlabelled: config.joiner.emit_unlabelled,
      kindOf,
      shadowScorer: scorer,
    },
    createStore: (partition) => {
      const store = new MemoryJoinStore();
      stores.set(partition, store);
      return store;
    },
    clock,
  });
  await mkdir(input.out, { recursive: true });
  const files = new FileEvaluatorSink(input.out);
  const evaluatorLetters: DeadLetter[] = [];
  const evaluator = new EvaluatorProcessor({
    transport: log,
    topic: t.labelled_examples,
    groupId: 'replay-evaluator',
    codec: codecs.labelled,
    evaluator: evaluatorOptions(config),
    sink: clickhouse ? new FanOutEvaluatorSink([files, clickhouse]) : files,
    deadLetters: { connect: async () => {}, writeBatch: async (l) => void evaluatorLetters.push(...l), close: async () => {} },
    // Everything in memory until the end, unless ClickHouse wants batches.
    flush: clickhouse
      ? { maxRows: config.evaluator.flush_rows, maxBytes: config.evaluator.flush_bytes, intervalMs: Number.MAX_SAFE_INTEGER }
      : { maxRows: Number.MAX_SAFE_INTEGER, maxBytes: Number.MAX_SAFE_INTEGER, intervalMs: Number.MAX_SAFE_INTEGER },
    clock,
  });
  await joiner.start();
  await learner.start();
  await promoter.start();
  await evaluator.start();
  // With ClickHouse: the registry tables too, from the same topics `run --only registry` reads.
  const registry = input.registry
    ? new RegistryProcessor({
        transport: log,
        topics: { snapshots: t.model_snapshots, promotions: t.model_promotions },
        groupId: 'replay-registry',
        codecs,
        store: input.registry,
        deadLetters: { connect: async () => {}, writeBatch: async (l) => void evaluatorLetters.push(...l), close: async () => {} },
        clock,
      })
    : undefined;
  await registry?.start();
  // The input goes in in event-time chunks, each processed through every processor before the
  // next: the learner's snapshots then keep up with the predictions they shadow-score.
  const total = predictionRecords.length + feedbackRecords.length;
  let done = 0;
  for (const chunk of eventTimeChunks(predictionRecords, feedbackRecords, REPLAY_CHUNK)) {
    await producer.send(chunk);
    await log.whenIdle();
    for (const snapshot of arrived.splice(0)) scorer.add(snapshot);
    for (const decision of decided.splice(0)) scorer.decide(decision);
    input.onProgress?.((done += chunk.length), total);
  }
  // The replay's event time ends at its last event, in every partition.
  const end = Math.max(...predictions.map((e) => e.value.timestamp), ...feedback.map((e) => e.value.timestamp));
  if (Number.isFinite(end)) await joiner.advanceTasks(end);
  await joiner.stop();
  await log.whenIdle();
  await learner.stop();
  await promoter.stop();
  await log.whenIdle();
  await registry?.stop();
  await log.whenIdle();
  await snapshotFeed.stop();
  await decisionFeed.stop();
  await evaluator.stop({ final: true });
  await writeFile(join(input.out, 'snapshots.jsonl'), jsonl(learner.published.map(snapshotLine)));
  await writeFile(join(input.out, 'promotions.jsonl'), jsonl(promoter.published.map(promotionLine)));
  await files.close();
  letters.push(...evaluatorLetters);

  // Collect the outputs.
  const examples: LabelledExample[] = [];
  const unlabelled: LabelledExample[] = [];
  for (const record of inProcessingOrder(log.records(t.labelled_examples))) {
    const example = await codecs.labelled.decode(record.value);
    (example.label === null ? unlabelled : examples).push(example);
  }
  const unmatched: unknown[] = [];
  for (const record of inProcessingOrder(log.records(t.unmatched_feedback))) {
    unmatched.push({ ...(await codecs.feedback.decode(record.value)), reason: record.headers.reason ?? null });
  }
  // Dead letters from the processors point at in-process records; name the file line they came from.
  const byPartition = new Map<string, LogRecord[]>();
  for (const topic of [t.predictions, t.feedback]) {
    for (const record of log.records(topic)) {
      const key = `${topic}\u0000${record.partition}`;
      if (!byPartition.has(key)) byPartition.set(key, []);
      byPartition.get(key)!.push(record);
    }
  }
  for (const record of log.records(t.dead_letters)) {
    const letter = await codecs.deadLetter.decode(record.value);
    const origin = byPartition.get(`${letter.topic}\u0000${letter.partition}`)?.[letter.offset];
    if (origin?.headers.file) {
      letters.push({ ...letter, topic: origin.headers.file, partition: 0, offset: Number(origin.headers.line) });
    } else {
      letters.push(letter);
    }
  }

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
    pending_at_end: [...stores.values()].reduce((sum, s) => sum + s.size(), 0),
    dead_letters: letters.length,
    by_model: c.byModel,
    metric_points: files.points.rows.size,
    drift_alarms: final.drift.filter((d) => d.detected).length,
    snapshots_published: learner.published.length,
    decisions: promoter.published.length,
    files: paths,
  };
  const kinds = Object.fromEntries(Object.entries(config.models).map(([model, m]) => [model, m.task]));
  await writeFile(paths.report, renderReport({ summary, ...final, decisions: promoter.published.map(promotionLine), kinds }));
  await writeFile(paths.summary, `${JSON.stringify(summary, null, 2)}\n`);
  return summary;
}
