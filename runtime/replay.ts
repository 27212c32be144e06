/**
 * The embedded path: files of events through the very same processors, on
 * the in-process log, with no servers. Used by `feedbackloop replay`, the
 * demo and the tests.
 *
 * Input: JSON Lines with the Avro field names of schemas/ (docs/architecture.md, "Event contracts"). Output in DIR:
 *   labelled.jsonl      one line per labelled example or correction, in processing order
 *   unlabelled.jsonl    predictions that expired without a label (when joiner.emit_unlabelled)
 *                       (neither file holds the joiner's arrival records, joiner.emit_arrivals)
 *   unmatched.jsonl     feedback whose prediction never came, with the reason
 *   dead_letters.jsonl  malformed lines, lines stamped outside the plausible event times
 *                       (joiner.min_timestamp, joiner.max_future against the stream's own time)
 *                       and rejected events, with file, line and reason
 *   metrics.jsonl       the final figure of every metric point (model, version, role, segment, window)
 *   drift.jsonl         every drift test (PSI/KS per window) and every detector alarm
 *   feedback.jsonl      feedback statistics per model, UTC day, feedback type and source
 *   charts.jsonl        chart data: each binary role's total-window ROC/PR curve points (at most 101)
 *                       and confusion matrix, each input feature's reference and latest-window counts
 *   snapshots.jsonl     every challenger snapshot the learner published (version, examples seen, data hash,
 *                       its 20 largest standardised coefficients: core/models/importance.ts)
 *   promotions.jsonl    every promotion / rollback decision, with its evidence
 *   report.html         one self-contained page: each model's figures over time, champion vs
 *                       challengers, with drift and decision markers; the total window's curves,
 *                       reliability and confusion matrices; the per-feature drift table; the
 *                       challengers' feature importance; label delay and coverage;
 *                       feedback statistics; fairness by segment (report/)
 *   summary.json        the counts
 *
 * The evaluator reads the joiner's labelled examples from the in-process
 * log, as it reads them from Kafka in `run`; with clickhouse.url set, its
 * rows go to ClickHouse as well as to the files.
 *
 * Memory does not grow with the input: the files are read line by line and
 * merged on the fly (replay-input.ts); after each chunk the outputs are
 * drained to files (replay-outputs.ts) and the in-process log frees what
 * every reader has consumed (MemoryTransport.release). At most
 * joiner.replay_memory_entries pending predictions stay on the heap, the
 * oldest beyond wait in LMDB (core/join/packed-store.ts), and the metric
 * points the report does not draw (sliding windows, the segments' tumbling
 * windows) wait in sorted run files (sinks/point-spill.ts), both in the
 * temp folder under DIR, removed at the end (also on failure). What stays
 * grows only with the whole model's tumbling windows and the drift tests
 * over the stream's time span, the expiry index
 * (about 40 bytes per pending prediction), and the snapshots and decisions.
 */
import { constants } from 'node:fs';
import { access, mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { modelKindOf, type Config } from '../adapters/config/index.js';
import { makeCodecs, type Codecs } from '../adapters/codec/codecs.js';
import { avroPredictionPacking } from '../adapters/codec/prediction-packing.js';
import { ExpirySpill } from '../adapters/state/expiry-spill.js';
import { FileSpill } from '../adapters/state/file-spill.js';
import { MemoryTransport } from '../adapters/transport/memory.js';
import type { OutgoingRecord } from '../adapters/transport/transport.js';
import type { Clock } from '../core/clock.js';
import type { PipelineObserver } from '../core/observer.js';
import { ConfigError, errorMessage } from '../core/errors.js';
import { validateFeedback, validatePrediction, type DeadLetter, type Feedback, type Prediction } from '../core/events.js';
import { PackedJoinStore, type JoinCounters, type JoinStore } from '../core/join/index.js';
import type { ClickHouseStore } from '../adapters/clickhouse/index.js';
import { renderReport, type ReportSummary } from '../report/index.js';
import { FileEvaluatorSink, type EvaluatorSink } from '../sinks/evaluator-rows.js';
import { FanOutSink, type Sink } from '../sinks/sink.js';
import { Pipeline, topicSpecs, type PipelineEnv, type ProcessorName } from './pipeline.js';
import { asRecords, chunksOf, InputFile, mergeByTime } from './replay-input.js';
import { ReplayOutputs } from './replay-outputs.js';
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
  /** Called after each input chunk with the bytes of the input files read so far and their total size. */
  onProgress?: (done: number, total: number) => void;
  /** Hooks into the processors (e.g. `published`: every snapshot with its parameters, which snapshots.jsonl leaves out). */
  observer?: PipelineObserver;
  /**
   * The in-process log carries each input event and labelled example beside its bytes, so
   * the processors reading it skip the Avro decode (default true; processors/decode.ts says
   * why that is safe). False: every reader decodes the bytes, as on Kafka (the same outputs).
   */
  keepDecoded?: boolean;
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
  files: { labelled: string; unlabelled: string; unmatched: string; dead_letters: string; metrics: string; drift: string; feedback: string; charts: string; snapshots: string; promotions: string; report: string; summary: string };
}

/** Events per replay chunk (extended to the end of equal timestamps). */
const REPLAY_CHUNK = 1000;

/** Refuses an input file that cannot be read, naming its option. */
async function checkReadable(input: ReplayInput): Promise<void> {
  for (const [option, path] of [['--predictions', input.predictions], ['--feedback', input.feedback]] as const) {
    try {
      await access(path, constants.R_OK);
    } catch (error) {
      throw new ConfigError(option, `cannot read ${path}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : errorMessage(error)}`);
    }
  }
}

/** The two input files, read as streams (runtime/replay-input.ts), their dead letters to `outputs`. */
function inputFiles(input: ReplayInput, now: number, outputs: ReplayOutputs) {
  const limits = recordLimits(input.config);
  const bounds = joinerTimeBounds(input.config);
  return {
    predictions: new InputFile<Prediction>({ path: input.predictions, what: 'prediction', validate: (v) => validatePrediction(v, limits), bounds, now, letters: outputs.inputLetters.predictions }),
    feedback: new InputFile<Feedback>({ path: input.feedback, what: 'feedback', validate: (v) => validateFeedback(v, limits), bounds, now, letters: outputs.inputLetters.feedback }),
    limits,
  };
}

/** The inputs merged by event time, in chunks of records for the in-process log. */
function inputChunks(input: ReplayInput, files: ReturnType<typeof inputFiles>, codecs: Codecs, lazy: boolean): AsyncGenerator<OutgoingRecord[]> {
  const t = input.config.topics;
  // Validated as the joiner validates them (the same contracts and limits): it takes them as they are (processors/decode.ts).
  const { limits } = files;
  const predictions = asRecords(files.predictions.read(), t.predictions, codecs.prediction, input.predictions, { lazy, validatedBy: { contract: validatePrediction, limits } });
  const feedback = asRecords(files.feedback.read(), t.feedback, codecs.feedback, input.feedback, { lazy, validatedBy: { contract: validateFeedback, limits } });
  return chunksOf(mergeByTime(predictions, feedback), REPLAY_CHUNK);
}

/** What the replay gives the pipeline: the in-process log, join state in memory, files (and ClickHouse), event time. */
function replayEnvironment(input: ReplayInput, log: MemoryTransport, codecs: Codecs, files: FileEvaluatorSink, letters: Sink<DeadLetter>, stores: JoinStore[], tmp: string): PipelineEnv {
  const { config, clickhouse } = input;
  return {
    config,
    transport: log,
    codecs,
    clock: input.clock,
    name: 'replay',
    time: 'event-time',
    // Pending predictions packed as Avro (a third of their decoded size; core/join/packed-store.ts),
    // at most joiner.replay_memory_entries of them on the heap, the oldest beyond on disk (in tmp),
    // and as many expiry items (the later ones in sorted runs on disk).
    joinStore: () => {
      const bound = config.joiner.replay_memory_entries;
      const spill = { maxInMemory: bound, open: () => new FileSpill(join(tmp, 'join')), expiries: () => new ExpirySpill(join(tmp, 'join'), bound) };
      const store = new PackedJoinStore(avroPredictionPacking(), spill);
      stores.push(store);
      return store;
    },
    // Pure cost here (memory: the latest entry of every pending prediction as JSON; CPU: the
    // JSON of every touched entry per batch): nothing restores a joiner task mid-replay (one
    // process, one member of each group, no restart). Only a poison record would (its task is
    // reopened); without a changelog the joiner then stops the replay instead (processors/joiner.ts).
    joinerChangelog: false,
    evaluator: {
      sink: clickhouse ? new FanOutSink([files, clickhouse]) : files,
      // In batches (the files keep the latest row per key, so when it flushes does not change them), never by the clock.
      flush: { maxRows: config.evaluator.flush_rows, maxBytes: config.evaluator.flush_bytes, intervalMs: Number.MAX_SAFE_INTEGER },
    },
    deadLetters: letters,
    // With ClickHouse: the registry tables too, from the same topics `run --only registry` reads.
    ...(input.registry ? { clickhouse: input.registry } : {}),
    observer: input.observer ?? {},
  };
}

/** Feeds the input through the pipeline chunk by chunk; the outputs drained and the log released after each. */
async function feed(input: ReplayInput, log: MemoryTransport, pipeline: Pipeline, chunks: AsyncIterable<OutgoingRecord[]>, outputs: ReplayOutputs, progress: () => { done: number; total: number }): Promise<void> {
  const producer = await log.producer();
  const publishers = { learner: pipeline.get('learner')!, promoter: pipeline.get('promoter')! };
  // Each chunk is processed through every processor before the next: the learner's snapshots
  // then keep up with the predictions they shadow-score.
  for await (const chunk of chunks) {
    await producer.send(chunk);
    await log.whenIdle();
    pipeline.feed?.applyArrived();
    await outputs.drain(publishers);
    log.release(outputs.readers());
    const { done, total } = progress();
    input.onProgress?.(done, total);
  }
}

export async function replay(input: ReplayInput): Promise<ReplaySummary> {
  const { config, clock } = input;
  await checkReadable(input);
  const t = config.topics;
  const log = new MemoryTransport(() => clock.now(), input.keepDecoded ?? true);
  // One partition per topic: the replay is one thread anyway, and so its outputs (and the
  // evaluator's sliding windows) follow event time, not the interleaving of partition batches.
  await log.ensureTopics(topicSpecs(config).map((spec) => ({ ...spec, partitions: 1 })));
  const codecs = makeCodecs(t, undefined);
  await mkdir(input.out, { recursive: true });
  const tmp = await mkdtemp(join(input.out, '.replay-'));
  try {
    return await run(input, log, codecs, tmp);
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

async function run(input: ReplayInput, log: MemoryTransport, codecs: Codecs, tmp: string): Promise<ReplaySummary> {
  const { config, clock } = input;
  const outputs = new ReplayOutputs(input.out, tmp, log, config.topics, codecs, (model) => modelKindOf(config, model));
  const inputs = inputFiles(input, clock.now(), outputs);
  const files = new FileEvaluatorSink(input.out, { dir: tmp });
  const stores: JoinStore[] = [];
  const names: ProcessorName[] = ['joiner', 'learner', 'promoter', 'evaluator', ...(input.registry ? (['registry'] as const) : [])];
  const pipeline = new Pipeline(replayEnvironment(input, log, codecs, files, outputs.letterSink(), stores, tmp), names);
  const joiner = pipeline.get('joiner')!;
  await pipeline.start();
  const total = (await stat(input.predictions)).size + (await stat(input.feedback)).size;
  await feed(input, log, pipeline, inputChunks(input, inputs, codecs, log.lazyValues), outputs, () => ({ done: inputs.predictions.bytesRead + inputs.feedback.bytesRead, total }));
  // The replay's event time ends at its last event, in every partition.
  const end = Math.max(inputs.predictions.latest, inputs.feedback.latest);
  if (Number.isFinite(end)) await joiner.advanceTasks(end);
  await log.whenIdle();
  await pipeline.stop(() => log.whenIdle());
  await files.close();
  await outputs.drain({ learner: pipeline.get('learner')!, promoter: pipeline.get('promoter')! });
  const deadLetters = await outputs.finish();

  const o = outputs.paths;
  const paths = {
    labelled: o.labelled, unlabelled: o.unlabelled, unmatched: o.unmatched, dead_letters: o.dead_letters,
    ...files.files,
    snapshots: o.snapshots,
    promotions: o.promotions,
    report: join(input.out, 'report.html'),
    summary: join(input.out, 'summary.json'),
  };
  const c: JoinCounters = joiner.totals;
  const final = files.final();
  const summary: ReplaySummary = {
    predictions_read: inputs.predictions.events,
    feedback_read: inputs.feedback.events,
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
    dead_letters: deadLetters,
    by_model: c.byModel,
    metric_points: files.pointCount,
    drift_alarms: final.drift.filter((d) => d.detected).length,
    snapshots_published: outputs.snapshotsPublished,
    decisions: outputs.decisions.length,
    files: paths,
  };
  const kinds = new Map(Object.entries(config.models).map(([model, m]) => [model, m.task]));
  await writeFile(paths.report, renderReport({ summary, ...final, decisions: outputs.decisions, snapshots: outputs.reportSnapshots(), kinds }));
  await writeFile(paths.summary, `${JSON.stringify(summary, null, 2)}\n`);
  return summary;
}
