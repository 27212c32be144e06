/**
 * The pipeline, defined once (docs/architecture.md, "The pipeline"): which
 * processors there are, what each reads, what it needs, and how it is built
 * from the config. `run` (Kafka) and `replay` (the in-process log) are two
 * drivers of this one definition: they differ only in the environment they
 * pass (transport, state stores, sinks, the clock) and in the loop that
 * drives the processors. Adding a processor means adding one entry to
 * PROCESSORS.
 */
import { modelClassesOf, type Config } from '../adapters/config/index.js';
import type { Codecs } from '../adapters/codec/codecs.js';
import type { ClickHouseStore } from '../adapters/clickhouse/index.js';
import type { LogRecord, LogTransport, TopicSpec } from '../adapters/transport/transport.js';
import type { Clock } from '../core/clock.js';
import type { DeadLetter } from '../core/events.js';
import { wallClock, type JoinStore } from '../core/join/index.js';
import { ShadowScorer } from '../core/learn/index.js';
import type { PipelineObserver } from '../core/observer.js';
import { ConfigError } from '../core/errors.js';
import { ClickHouseTableSink } from '../sinks/clickhouse-table.js';
import type { EvaluatorSink } from '../sinks/evaluator-rows.js';
import type { Sink } from '../sinks/sink.js';
import { EvaluatorProcessor, type EvaluatorFlushPolicy } from '../processors/evaluator.js';
import { JoinerProcessor } from '../processors/joiner.js';
import { LearnerProcessor } from '../processors/learner.js';
import { PredictionArchive } from '../processors/prediction-archive.js';
import type { Processor } from '../processors/processor.js';
import { PromoterProcessor, REQUEST_FEED_GROUP } from '../processors/promoter.js';
import { RegistryProcessor } from '../processors/registry.js';
import {
  evaluatorInput, evaluatorOptions, joinerModelBound, shardedExamplesOf, joinerTasks, joinerTimeBounds, joinerTopics, learnerSettings, policyOptions, promoterTopics, recordLimits,
} from './settings.js';
import { SHADOW_FEED_GROUPS, ShadowFeed } from './shadow-feed.js';

/** Records of one input partition the joiner buffers for event-time alignment before it pauses that partition. */
const JOINER_MAX_BUFFERED = 20_000;

/**
 * Input records per joiner batch in `run` (each batch one Kafka transaction):
 * a transaction costs five round trips to the broker (AddPartitionsToTxn,
 * Produce, AddOffsetsToTxn, TxnOffsetCommit, EndTxn) whatever its size. At
 * 500 (partition-tasks' default, which the replay keeps: its batches are not
 * transactions) a 95,539-event backlog took 260 transactions; at 2,000 it
 * takes 64 and drains 20-35% faster (5,000 was no faster: its sends grow).
 */
const JOINER_RUN_BATCH = 2_000;

export const PROCESSOR_NAMES = ['joiner', 'learner', 'promoter', 'evaluator', 'archive', 'registry'] as const;
export type ProcessorName = (typeof PROCESSOR_NAMES)[number];

/** What a driver provides: everything in which `run` and `replay` differ. */
export interface PipelineEnv {
  config: Config;
  transport: LogTransport;
  codecs: Codecs;
  clock: Clock;
  /** Consumer groups and transactional ids are `<name>-<processor>`; the promoter's actor names it too. */
  name: string;
  /**
   * `wall-clock` (run): snapshots are stamped with the clock and also
   * published every learner.snapshot_interval; the joiner refuses events
   * more than joiner.max_future ahead of the clock; shadow scores use each
   * snapshot as it arrives.
   * `event-time` (replay): the input's own time rules: snapshots are stamped
   * with the event time of their newest example and reach the shadow scorer
   * between input chunks (`feed.applyArrived()`); the evaluator's sliding
   * windows are closed at stop (the input has ended); the driver checks its
   * input against joiner.max_future on the stream's own time before it goes
   * in, so the joiner applies only joiner.min_timestamp.
   */
  time: 'wall-clock' | 'event-time';
  /** A fresh, empty store for one partition's join state. */
  joinStore: (partition: number) => JoinStore;
  /**
   * The joiner writes its changelog (default true; `run` always does). The
   * changelog exists only to restore a joiner task after a restart or a
   * rebalance; a driver may turn it off only if no joiner task is ever
   * restored with state to hand over (the replay: one process, one member,
   * no restart mid-run; a crash ends the replay).
   */
  joinerChangelog?: boolean;
  /** Where the evaluator's rows go, and when it flushes. */
  evaluator?: { sink: EvaluatorSink; flush: EvaluatorFlushPolicy };
  /** Dead letters of the processors without a transaction of their own (evaluator, archive, registry). */
  deadLetters: Sink<DeadLetter>;
  /** ClickHouse, for the archive and the registry. */
  clickhouse?: Pick<ClickHouseStore, 'insert'>;
  observer: PipelineObserver;
  /** A shadow-scoring feed record that could not be used (skipped). */
  onFeedSkipped?: (error: unknown, record: LogRecord, what: string) => void;
}

/**
 * What a processor does on Kafka besides reading `inputs` in its group
 * `<name>-<processor>`: runtime/acls.ts derives the ACLs it needs from this
 * (test/unit/acls.test.ts checks it against the built processors, and
 * test/integration/kafka-acls.test.ts runs `run` under exactly those ACLs).
 */
export interface KafkaAccess {
  /** Topics it produces to, its dead letters included. */
  outputs(config: Config): string[];
  /** Topics whose partitions it re-reads from their start to restore its state (readToEnd, in ephemeral groups). */
  restores(config: Config): string[];
  /** Topics it follows each in a consumer group of its own, `<name>-<processor>-<group>-<unique>`, that never commits. */
  feeds(config: Config): Array<{ group: string; topic: string }>;
  /** Exactly once: it writes through transactional producers `<name>-<processor>-<partition>`. */
  transactional: boolean;
}

const noFeeds = (): Array<{ group: string; topic: string }> => [];

interface ProcessorDefinition {
  /** The topics its consumer group reads. */
  inputs(config: Config): string[];
  kafka: KafkaAccess;
  /** Needs clickhouse.url: what it writes there, for the error when it is missing. */
  clickhouse?: string;
  build(env: PipelineEnv, shadow: ShadowScorer): Processor;
}

/** The processors, in the order they start (upstream first) and stop. */
export const PROCESSORS: Record<ProcessorName, ProcessorDefinition> = {
  joiner: {
    inputs: ({ topics: t }) => [t.predictions, t.feedback],
    kafka: {
      // And its inputs: a record on the wrong partition is forwarded to its own (processors/joiner.ts).
      outputs: (c) => {
        const t = c.topics;
        return [t.labelled_examples, ...shardedExamplesOf(c), t.unmatched_feedback, t.dead_letters, t.joiner_changelog, t.predictions, t.feedback];
      },
      restores: ({ topics: t }) => [t.joiner_changelog],
      // The shadow scorer's feeds (Pipeline builds them with the joiner).
      feeds: ({ topics: t }) => [
        { group: SHADOW_FEED_GROUPS.snapshots, topic: t.model_snapshots },
        { group: SHADOW_FEED_GROUPS.promotions, topic: t.model_promotions },
      ],
      transactional: true,
    },
    build: (env, shadow) => {
      const { config } = env;
      const j = config.joiner;
      return new JoinerProcessor({
        ...groupOf(env, 'joiner'),
        transport: env.transport,
        topics: { ...joinerTopics(config), ...(shardedEvaluation(env) ? { sharded: config.topics.sharded_examples } : {}) },
        codecs: env.codecs,
        joiner: {
          joinWindowMs: j.join_window,
          earlyFeedbackTtlMs: j.early_feedback_ttl,
          emitUnlabelled: j.emit_unlabelled,
          emitArrivals: j.emit_arrivals,
          ...joinerTasks(config),
          shadowScorer: shadow,
          // The floor in both drivers; the ceiling against the wall clock in run (replay checks
          // it against the stream's own time as it reads its input: runtime/replay.ts).
          timeBounds: joinerTimeBounds(config),
          ...(env.time === 'wall-clock' ? { eventClock: wallClock(() => env.clock.now()) } : {}),
          ...joinerModelBound(config),
        },
        limits: recordLimits(config),
        createStore: env.joinStore,
        changelog: env.joinerChangelog !== false,
        align: { maxWaitMs: j.input_wait, maxBuffered: JOINER_MAX_BUFFERED },
        ...(env.time === 'wall-clock' ? { maxBatch: JOINER_RUN_BATCH } : {}),
        clock: env.clock,
        observer: env.observer,
      });
    },
  },
  learner: {
    inputs: ({ topics: t }) => [t.labelled_examples],
    kafka: { outputs: ({ topics: t }) => [t.model_snapshots, t.dead_letters], restores: ({ topics: t }) => [t.model_snapshots], feeds: noFeeds, transactional: true },
    build: (env) => {
      return new LearnerProcessor({
        ...groupOf(env, 'learner'),
        ...learnerSettings(env.config),
        transport: env.transport,
        codecs: env.codecs,
        limits: recordLimits(env.config),
        snapshotEvery: env.config.learner.snapshot_every,
            keepPublished: env.time === 'event-time', // the replay writes them out; run would only pile them up
        snapshotIntervalMs: env.time === 'wall-clock' ? env.config.learner.snapshot_interval : Number.MAX_SAFE_INTEGER,
        createdAt: env.time === 'wall-clock' ? 'clock' : 'event-time',
        clock: env.clock,
        observer: env.observer,
      });
    },
  },
  promoter: {
    inputs: ({ topics: t }) => [t.labelled_examples],
    kafka: {
      outputs: ({ topics: t }) => [t.model_promotions, t.dead_letters, t.promoter_checkpoints],
      // Every manual decision so far, partition p's checkpoint, and partition p of its input after it up to where it resumes.
      restores: ({ topics: t }) => [t.model_promotions, t.promoter_checkpoints, t.labelled_examples],
      feeds: ({ topics: t }) => [{ group: REQUEST_FEED_GROUP, topic: t.model_promotions }],
      transactional: true,
    },
    build: (env) => {
      return new PromoterProcessor({
        ...groupOf(env, 'promoter'),
        transport: env.transport,
        topics: promoterTopics(env.config),
        codecs: env.codecs,
        policyOf: (model) => policyOptions(env.config, model),
        limits: recordLimits(env.config),
        actor: `feedbackloop-promoter (${env.name})`,
        checkpointEvery: env.config.promoter.checkpoint_every,
        keepPublished: env.time === 'event-time',
        clock: env.clock,
        observer: env.observer,
      });
    },
  },
  evaluator: {
    inputs: (c) => [evaluatorInput(c)],
    // Its dead letters go to the topic through run's shared (idempotent, not transactional) producer.
    // Partition p's checkpoint, then partition p of its input after it up to where it resumes.
    kafka: { outputs: ({ topics: t }) => [t.dead_letters, t.evaluator_checkpoints], restores: (c) => [c.topics.evaluator_checkpoints, evaluatorInput(c)], feeds: noFeeds, transactional: false },
    clickhouse: 'the evaluator writes its figures to ClickHouse: set clickhouse.url (replay writes them to files)',
    build: (env) => {
      const { sink, flush } = required(env.evaluator, 'evaluator');
      const sharded = shardedEvaluation(env);
      return new EvaluatorProcessor({
        groupId: groupOf(env, 'evaluator').groupId,
        transport: env.transport,
        topic: sharded ? env.config.topics.sharded_examples : env.config.topics.labelled_examples,
        codec: env.codecs.labelled,
        evaluator: evaluatorOptions(env.config),
        limits: recordLimits(env.config),
        sink,
        deadLetters: env.deadLetters,
        flush,
        // Partials are for ClickHouse's merged view: a replay to files computes none.
        writePartials: env.config.evaluator.write_partials && env.clickhouse !== undefined,
        sharded,
        finalAtStop: env.time === 'event-time',
        ...evaluatorCheckpoints(env),
        clock: env.clock,
        observer: env.observer,
      });
    },
  },
  archive: {
    inputs: ({ topics: t }) => [t.predictions],
    kafka: { outputs: ({ topics: t }) => [t.dead_letters], restores: () => [], feeds: noFeeds, transactional: false },
    clickhouse: 'the archive processor writes predictions to ClickHouse: set clickhouse.url',
    build: (env) =>
      new PredictionArchive({
        groupId: groupOf(env, 'archive').groupId,
        transport: env.transport,
        topic: env.config.topics.predictions,
        codec: env.codecs.prediction,
        limits: recordLimits(env.config),
        rows: new ClickHouseTableSink(required(env.clickhouse, 'archive'), 'predictions', {
          onRetry: (error, attempt, delay) => env.observer.sinkRetry?.('predictions', error, attempt, delay),
        }),
        deadLetters: env.deadLetters,
        clock: env.clock,
        observer: env.observer,
      }),
  },
  registry: {
    inputs: ({ topics: t }) => [t.model_snapshots, t.model_promotions],
    kafka: { outputs: ({ topics: t }) => [t.dead_letters], restores: () => [], feeds: noFeeds, transactional: false },
    clickhouse: 'the registry processor writes the model registry to ClickHouse: set clickhouse.url',
    build: (env) =>
      new RegistryProcessor({
        groupId: groupOf(env, 'registry').groupId,
        transport: env.transport,
        topics: { snapshots: env.config.topics.model_snapshots, promotions: env.config.topics.model_promotions },
        codecs: env.codecs,
        store: required(env.clickhouse, 'registry'),
        deadLetters: env.deadLetters,
        clock: env.clock,
        observer: env.observer,
      }),
  },
};

/**
 * evaluator.shard_by: prediction, in run: the joiner also writes the examples keyed by prediction and the
 * evaluator reads those, writing partials only. A replay (one process, one partition) evaluates unsharded.
 */
function shardedEvaluation(env: PipelineEnv): boolean {
  return env.time === 'wall-clock' && env.config.evaluator.shard_by === 'prediction';
}

/** A processor's consumer group, also the prefix of its transactional ids (`<group>-<partition>`) and its feeds' groups. */
export function processorGroupId(name: string, processor: string): string {
  return `${name}-${processor}`;
}

function groupOf(env: PipelineEnv, processor: ProcessorName): { groupId: string; transactionalIdPrefix: string } {
  const id = processorGroupId(env.name, processor);
  return { groupId: id, transactionalIdPrefix: id };
}

function required<T>(value: T | undefined, processor: ProcessorName): T {
  if (value === undefined) throw new ConfigError('clickhouse.url', PROCESSORS[processor].clickhouse ?? `${processor} is missing a sink`);
  return value;
}

/** segment.ms of the checkpoint topics: a restore reads at most about this long of checkpoints (plus the cleaner's lag). */
export const CHECKPOINT_SEGMENT_MS = 10 * 60_000;

/** labelled-examples (and its copy keyed by prediction, `name`): kept `labelled_examples_retention` after arrival (0: for ever). */
function labelledExamplesSpec(t: Config['topics'], name = t.labelled_examples): TopicSpec {
  const retention = t.labelled_examples_retention;
  return retention === 0
    ? { name, partitions: t.partitions, keepForever: true, reads: 'topics.labelled_examples_retention is 0: kept for ever' }
    : { name, partitions: t.partitions, retentionMs: retention };
}

/** Every topic of the pipeline, as it is created when missing (run, check, and the manual commands). */
export function topicSpecs(config: Config): TopicSpec[] {
  const t = config.topics;
  return [
    { name: t.predictions, partitions: t.partitions },
    { name: t.feedback, partitions: t.partitions },
    // Restores start from checkpoints; only a rebuild (no usable checkpoint) reads what is retained.
    labelledExamplesSpec(t),
    ...shardedExamplesOf(config).map((name) => labelledExamplesSpec(t, name)),
    { name: t.model_snapshots, partitions: t.partitions, compacted: true, reads: 'the latest snapshot of every model version, read by the scorers, the learner\'s restore and the shadow feed' },
    // The champion is the latest decision, however old: read from the start (status, scorers, the promoter's
    // restore), so never deleted by time (the broker's default, 7 days, would forget a champion a week after it won).
    { name: t.model_promotions, partitions: t.partitions, keepForever: true, reads: 'the champion is the latest decision: one that won longer ago than that is forgotten' },
    { name: t.dead_letters, partitions: t.partitions },
    { name: t.unmatched_feedback, partitions: t.partitions },
    { name: t.joiner_changelog, partitions: t.partitions, compacted: true, reads: "the joiner's join state, restored at start" },
    // A restore reads the checkpoints not compacted yet: roll segments often so that stays a few.
    { name: t.promoter_checkpoints, partitions: t.partitions, compacted: true, segmentMs: CHECKPOINT_SEGMENT_MS, reads: "the promoter's latest checkpoint" },
    { name: t.evaluator_checkpoints, partitions: t.partitions, compacted: true, segmentMs: CHECKPOINT_SEGMENT_MS, reads: "the evaluator's latest checkpoint" },
  ];
}

/**
 * The topics of topicSpecs that the selected processors use (inputs, outputs,
 * restores, feeds): what `run --only …` makes sure exist. A least-privilege
 * user for those processors may not even see the others.
 */
export function topicSpecsFor(config: Config, selected: readonly ProcessorName[]): TopicSpec[] {
  const used = new Set<string>();
  for (const name of selected) {
    const def = PROCESSORS[name];
    for (const topic of def.inputs(config)) used.add(topic);
    for (const topic of def.kafka.outputs(config)) used.add(topic);
    for (const topic of def.kafka.restores(config)) used.add(topic);
    for (const feed of def.kafka.feeds(config)) used.add(feed.topic);
  }
  return topicSpecs(config).filter((spec) => used.has(spec.name));
}

/** The evaluator's checkpoints: in run, every evaluator.checkpoint_interval (0: none); a replay never restarts, so none. */
function evaluatorCheckpoints(env: PipelineEnv): { checkpoints?: { topic: string; intervalMs: number } } {
  const intervalMs = env.config.evaluator.checkpoint_interval;
  if (env.time === 'event-time' || intervalMs <= 0) return {};
  return { checkpoints: { topic: env.config.topics.evaluator_checkpoints, intervalMs } };
}

/** Each processor's consumer group (`<name>-<processor>`) and the topics it reads: for the lag gauge and `status`. */
export function consumerGroups(config: Config, processors: readonly string[], name = config.kafka.client_id): Array<{ processor: string; groupId: string; topics: string[] }> {
  return processors.map((processor) => ({
    processor,
    groupId: processorGroupId(name, processor),
    topics: isProcessorName(processor) ? PROCESSORS[processor].inputs(config) : [],
  }));
}

export function isProcessorName(name: string): name is ProcessorName {
  return (PROCESSOR_NAMES as readonly string[]).includes(name);
}

/** The processors to run by default: every one whose servers are configured. */
export function defaultProcessors(config: Config): ProcessorName[] {
  return PROCESSOR_NAMES.filter((name) => PROCESSORS[name].clickhouse === undefined || config.clickhouse.url !== null);
}

/** The built pipeline: its processors (in PROCESSORS order) and the joiner's shadow scoring. */
export class Pipeline {
  readonly shadow: ShadowScorer;
  readonly processors: Processor[];
  /** The shadow scorer's feeds, when the joiner runs. */
  readonly feed: ShadowFeed | undefined;

  constructor(env: PipelineEnv, names: readonly ProcessorName[]) {
    this.shadow = new ShadowScorer({ retainMs: env.config.joiner.join_window, classesOf: (model) => modelClassesOf(env.config, model) });
    this.processors = PROCESSOR_NAMES.filter((name) => names.includes(name)).map((name) => PROCESSORS[name].build(env, this.shadow));
    const t = env.config.topics;
    this.feed = names.includes('joiner')
      ? new ShadowFeed({
          transport: env.transport,
          topics: { snapshots: t.model_snapshots, promotions: t.model_promotions },
          codecs: env.codecs,
          scorer: this.shadow,
          groupPrefix: processorGroupId(env.name, 'joiner'),
          mode: env.time === 'wall-clock' ? 'live' : 'held',
          ...(env.onFeedSkipped ? { onSkipped: env.onFeedSkipped } : {}),
        })
      : undefined;
  }

  /** The processor named `name`, if it runs here. */
  get<K extends keyof Built>(name: K): Built[K] | undefined {
    return this.processors.find((p) => p.name === name) as Built[K] | undefined;
  }

  /** Starts the shadow feeds, then the processors, upstream first. */
  async start(): Promise<void> {
    await this.feed?.start();
    for (const processor of this.processors) await processor.start();
  }

  /** Settles when any processor stops; rejects with the first that crashed. */
  get done(): Promise<void> {
    return Promise.race(this.processors.map((p) => p.done));
  }

  /**
   * Stops the processors upstream first, each gracefully (what is pending is
   * committed); `settle` runs after each (replay: until the in-process log is
   * idle, so the processors downstream have read everything before they
   * stop). Then the feeds. `at` hears each step as it begins (run's stop
   * deadline names the step it waited on).
   */
  async stop(settle: () => Promise<void> = async () => {}, at: (step: string) => void = () => {}): Promise<void> {
    const failures: unknown[] = [];
    for (const processor of this.processors) {
      at(`the ${processor.name}`);
      await processor.stop().catch((error: unknown) => failures.push(error));
      await settle();
    }
    at('the shadow feeds');
    await this.feed?.stop();
    if (failures.length > 0) throw failures[0];
  }
}

/** The processors' classes by name, for typed access to a driver's needs (counters, published decisions). */
interface Built {
  joiner: JoinerProcessor;
  learner: LearnerProcessor;
  promoter: PromoterProcessor;
  evaluator: EvaluatorProcessor;
  archive: PredictionArchive;
  registry: RegistryProcessor;
}
