import { loadConfig } from '../../adapters/config/index.js';
import { startHttpEndpoint } from '../../adapters/http/index.js';
import { createLogger } from '../../adapters/logging/index.js';
import type { LogConsumer } from '../../adapters/log/transport.js';
import type { Codec } from '../../adapters/codec/codec.js';
import { systemClock } from '../../core/clock.js';
import { ConfigError } from '../../core/errors.js';
import { startPredictionArchive } from '../../processors/prediction-archive.js';
import { JoinerProcessor } from '../../processors/joiner.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LmdbJoinStore } from '../../adapters/state/lmdb-join-store.js';
import { prepareStateRoot } from '../../adapters/state/state-root.js';
import { Counter, Gauge } from 'prom-client';
import { ClickHouseDeadLetterSink, ClickHouseEvaluatorSink, ClickHouseTableSink, FanOutSink, TopicDeadLetterSink } from '../../sinks/index.js';
import { EvaluatorProcessor } from '../../processors/evaluator.js';
import { LearnerProcessor } from '../../processors/learner.js';
import { PromoterProcessor } from '../../processors/promoter.js';
import { RegistryProcessor } from '../../processors/registry.js';
import { ShadowScorer } from '../../core/learn/index.js';
import { createEvaluatorMetrics, registerConsumerLag } from '../../adapters/http/index.js';
import { consumerGroups, evaluatorOptions, joinerTopics, learnerSettings, openRuntime, policyOptions, promoterTopics, topicSpecs } from '../runtime.js';

export const PROCESSORS = ['joiner', 'learner', 'promoter', 'evaluator', 'archive', 'registry'] as const;
/** Processors that write to ClickHouse: started by default only when clickhouse.url is set. */
const NEEDS_CLICKHOUSE: readonly string[] = ['evaluator', 'archive', 'registry'];

export async function commandRun(options: { config?: string; only?: string[] }): Promise<void> {
  const config = loadConfig(options.config);
  // By default every processor whose servers are configured (the evaluator, the archive and the registry need ClickHouse).
  const selected = options.only ?? PROCESSORS.filter((name) => !NEEDS_CLICKHOUSE.includes(name) || config.clickhouse.url !== null);
  for (const name of selected) {
    if (!(PROCESSORS as readonly string[]).includes(name)) {
      throw new ConfigError('--only', `unknown processor ${JSON.stringify(name)}; available: ${PROCESSORS.join(', ')}`);
    }
  }
  if (config.kafka.brokers.length === 0) {
    throw new ConfigError('kafka.brokers', 'run needs Kafka (set kafka.brokers or FEEDBACKLOOP_KAFKA_BROKERS); to process files without servers use replay');
  }
  const logger = createLogger(config.log.level);
  const runtime = await openRuntime(config, logger);
  await runtime.transport.ensureTopics(topicSpecs(config));
  const producer = await runtime.transport.producer();
  const deadLetterSinks = [new TopicDeadLetterSink(producer, runtime.codecs.deadLetter, config.topics.dead_letters)];
  const consumers: LogConsumer[] = [];
  const stoppers: Array<() => Promise<void>> = [];

  if (selected.includes('joiner')) {
    const t = config.topics;
    const joinEvents = new Counter({
      name: 'feedbackloop_join_events_total',
      help: 'Joiner outcomes: labelled, corrections, duplicates, uncertain, superseded, confirmations, unmatched, rejected, expired_labelled, expired_unlabelled.',
      labelNames: ['event'],
      registers: [runtime.metrics.registry],
    });
    // Shadow scoring: every snapshot the learners publish, from the start of the topic (each
    // joiner instance reads all of them: its own consumer group, never committed).
    const scorer = new ShadowScorer({ retainMs: config.joiner.join_window });
    /** Reads a whole topic from its start in a group of its own (never committed), handing on each value. */
    const follow = async <T>(topic: string, name: string, codec: Codec<T>, apply: (value: T) => void, what: string) => {
      const feed = await runtime.transport.consumer({
        groupId: `${config.kafka.client_id}-joiner-${name}-${process.pid}-${Date.now().toString(36)}`,
        topics: [topic],
        fromBeginning: true,
      });
      await feed.run(async (batch) => {
        for (const record of batch.records) {
          try {
            apply(await codec.decode(record.value));
          } catch (error) {
            logger.warn({ err: error, topic: batch.topic, partition: batch.partition, offset: record.offset }, `${what} cannot be used for shadow scoring; skipped`);
          }
        }
      });
      consumers.push(feed);
    };
    await follow(t.model_snapshots, 'scorer', runtime.codecs.snapshot, (s) => scorer.add(s), 'a model snapshot');
    // And every decision: after a promotion, the replaced champion (when it is one of our
    // snapshots) is shadow-scored as `previous:<version>`.
    await follow(t.model_promotions, 'decisions', runtime.codecs.promotion, (d) => scorer.decide(d), 'a promotion decision');
    new Gauge({
      name: 'feedbackloop_shadow_staleness_seconds',
      help: 'Age of the snapshots used for shadow scoring at prediction time (prediction timestamp minus snapshot created_at): max and mean since start.',
      labelNames: ['stat'],
      registers: [runtime.metrics.registry],
      collect() {
        const stats = scorer.stats();
        this.set({ stat: 'max' }, stats.maxStalenessMs / 1000);
        this.set({ stat: 'mean' }, stats.meanStalenessMs / 1000);
      },
    });
    const state = prepareStateRoot(config.joiner.state_dir ?? join(tmpdir(), 'feedbackloop-state'));
    if (state.removed.length > 0) logger.info({ removed: state.removed }, 'removed the join state left by stopped processes');
    const joiner = new JoinerProcessor({
      transport: runtime.transport,
      topics: joinerTopics(config),
      groupId: `${config.kafka.client_id}-joiner`,
      transactionalIdPrefix: `${config.kafka.client_id}-joiner`,
      codecs: runtime.codecs,
      joiner: {
        joinWindowMs: config.joiner.join_window,
        earlyFeedbackTtlMs: config.joiner.early_feedback_ttl,
        emitUnlabelled: config.joiner.emit_unlabelled,
        kindOf: (model) => config.models[model]?.task ?? 'binary',
        maxEventTime: () => systemClock.now() + config.joiner.max_future,
        shadowScorer: scorer,
      },
      // Off the heap, rebuilt from the changelog at every assignment.
      createStore: (partition) => new LmdbJoinStore({ dir: state.root, partition }),
      clock: systemClock,
      onCommitted: (delta) => {
        for (const [event, value] of Object.entries(delta)) {
          if (typeof value === 'number' && value > 0) joinEvents.inc({ event }, value);
        }
      },
    });
    new Gauge({
      name: 'feedbackloop_joiner_pending_predictions',
      help: "Entries in the joiner's state by input partition of this instance: predictions within their join window (labelled ones too, a later label may still correct them) and feedback waiting for its prediction.",
      labelNames: ['partition'],
      registers: [runtime.metrics.registry],
      collect() {
        this.reset();
        for (const [partition, count] of joiner.pending()) this.set({ partition: String(partition) }, count);
      },
    });
    consumers.push(await joiner.start());
    stoppers.push(() => joiner.stop());
  }

  if (selected.includes('learner')) {
    const snapshots = new Counter({
      name: 'feedbackloop_snapshots_published_total',
      help: 'Model snapshots the learner published, by model and challenger.',
      labelNames: ['model', 'challenger'],
      registers: [runtime.metrics.registry],
    });
    const learner = new LearnerProcessor({
      transport: runtime.transport,
      ...learnerSettings(config),
      groupId: `${config.kafka.client_id}-learner`,
      transactionalIdPrefix: `${config.kafka.client_id}-learner`,
      codecs: runtime.codecs,
      snapshotEvery: config.learner.snapshot_every,
      snapshotIntervalMs: config.learner.snapshot_interval,
      createdAt: 'clock',
      clock: systemClock,
      onPublished: (_partition, published) => {
        for (const s of published) snapshots.inc({ model: s.model, challenger: s.challenger });
      },
    });
    consumers.push(await learner.start());
    stoppers.push(() => learner.stop());
  }

  if (selected.includes('promoter')) {
    const startedAt = systemClock.now();
    const decisions = new Counter({
      name: 'feedbackloop_promotion_decisions_total',
      help: 'Promotion decisions by model and decision (PROMOTE, ROLLBACK, PIN, UNPIN): those this promoter published, and manual ones (feedbackloop promote | rollback | pin | unpin) made while it runs.',
      labelNames: ['model', 'decision'],
      registers: [runtime.metrics.registry],
    });
    const promoter = new PromoterProcessor({
      transport: runtime.transport,
      topics: promoterTopics(config),
      groupId: `${config.kafka.client_id}-promoter`,
      transactionalIdPrefix: `${config.kafka.client_id}-promoter`,
      codecs: runtime.codecs,
      policyOf: (model) => policyOptions(config, model),
      actor: `feedbackloop-promoter (${config.kafka.client_id})`,
      clock: systemClock,
      onDecided: (published) => {
        for (const d of published) {
          decisions.inc({ model: d.model, decision: d.decision });
          logger.info({ model: d.model, decision: d.decision, from: d.from_version, to: d.to_version, n: d.sample_size, reason: d.reason }, 'promotion decision');
        }
      },
      // Manual decisions count too (the ChampionChanged alert), those made while this promoter
      // runs: the feed re-reads the whole topic at every start, older ones were counted before.
      onManual: (d) => {
        if (d.decided_at < startedAt) return;
        decisions.inc({ model: d.model, decision: d.decision });
        logger.info({ model: d.model, decision: d.decision, from: d.from_version, to: d.to_version, actor: d.actor, reason: d.reason }, 'manual promotion decision');
      },
    });
    consumers.push(await promoter.start());
    stoppers.push(() => promoter.stop());
  }

  if (selected.includes('evaluator')) {
    if (!runtime.clickhouse) throw new ConfigError('clickhouse.url', 'the evaluator writes its figures to ClickHouse: set clickhouse.url (replay writes them to files)');
    const store = runtime.clickhouse;
    const e = config.evaluator;
    const observer = createEvaluatorMetrics(runtime.metrics.registry, { segments: e.prometheus_segments });
    let evaluator: EvaluatorProcessor | undefined;
    const sink = new ClickHouseEvaluatorSink(store, systemClock, {
      maxRows: e.flush_rows,
      maxBytes: e.flush_bytes,
      table: (table) => ({
        onRetry: (error, attempt, delay) => {
          observer.sinkRetry(table);
          logger.warn({ err: error, table, attempt, delay_ms: delay }, 'clickhouse insert failed; retrying (evaluator consumption paused)');
        },
        // Stay in the consumer group while ClickHouse is down.
        heartbeat: () => evaluator?.heartbeat() ?? Promise.resolve(),
      }),
    });
    evaluator = new EvaluatorProcessor({
      transport: runtime.transport,
      topic: config.topics.labelled_examples,
      groupId: `${config.kafka.client_id}-evaluator`,
      codec: runtime.codecs.labelled,
      evaluator: evaluatorOptions(config),
      sink,
      deadLetters: new FanOutSink([...deadLetterSinks, new ClickHouseDeadLetterSink(store)]),
      flush: { maxRows: e.flush_rows, maxBytes: e.flush_bytes, intervalMs: e.flush_interval },
      clock: systemClock,
      observer: {
        ...observer,
        deadLetter: (letter) => runtime.metrics.deadLetters.inc({ stage: letter.stage, error_class: letter.error_class }),
      },
      onCommitFailed: (error) => logger.warn({ err: error }, 'evaluator offset commit failed; the records will be evaluated again (same figures)'),
    });
    const processor = evaluator;
    consumers.push(await processor.start());
    stoppers.push(() => processor.stop());
  }

  if (selected.includes('archive')) {
    if (!runtime.clickhouse) throw new ConfigError('clickhouse.url', 'the archive processor writes to ClickHouse: set clickhouse.url');
    const store = runtime.clickhouse;
    consumers.push(
      await startPredictionArchive({
        transport: runtime.transport,
        topic: config.topics.predictions,
        groupId: `${config.kafka.client_id}-archive`,
        codec: runtime.codecs.prediction,
        rows: new ClickHouseTableSink(store, 'predictions', (error, attempt, delay) =>
          logger.warn({ err: error, attempt, delay_ms: delay }, 'clickhouse insert failed; retrying (consumption paused)'),
        ),
        deadLetters: new FanOutSink([...deadLetterSinks, new ClickHouseDeadLetterSink(store)]),
        clock: systemClock,
        metrics: runtime.metrics,
      }),
    );
  }

  if (selected.includes('registry')) {
    if (!runtime.clickhouse) throw new ConfigError('clickhouse.url', 'the registry processor writes the model registry to ClickHouse: set clickhouse.url');
    const t = config.topics;
    const registry = new RegistryProcessor({
      transport: runtime.transport,
      topics: { snapshots: t.model_snapshots, promotions: t.model_promotions },
      groupId: `${config.kafka.client_id}-registry`,
      codecs: runtime.codecs,
      store: runtime.clickhouse,
      deadLetters: new FanOutSink([...deadLetterSinks, new ClickHouseDeadLetterSink(runtime.clickhouse)]),
      clock: systemClock,
      metrics: runtime.metrics,
      onRetry: (table, error, attempt, delay) =>
        logger.warn({ err: error, table, attempt, delay_ms: delay }, 'clickhouse insert failed; retrying (registry consumption paused)'),
      onCommitFailed: (error) => logger.warn({ err: error }, 'registry heartbeat or offset commit failed; the records will be written again (same rows)'),
    });
    consumers.push(await registry.start());
    stoppers.push(() => registry.stop());
  }

  registerConsumerLag(
    runtime.metrics.registry,
    runtime.transport,
    () => consumerGroups(config, selected),
    (error) => logger.debug({ err: error }, 'consumer lag not available'),
  );

  const endpoint = await startHttpEndpoint({
    host: config.http.host,
    port: config.http.port,
    registry: runtime.metrics.registry,
    readiness: runtime.clickhouse ? [{ name: 'clickhouse', check: () => runtime.clickhouse!.ping() }] : [],
  });
  logger.info({ processors: selected, port: endpoint.port }, 'feedbackloop running');

  const stop = new Promise<string>((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'));
    process.once('SIGTERM', () => resolve('SIGTERM'));
  });
  const crashed = Promise.race(consumers.map((c) => c.done.then(() => new Promise<never>(() => {}))));
  try {
    const signal = await Promise.race([stop, crashed]);
    logger.info({ signal }, 'stopping');
  } finally {
    for (const stop of stoppers) await stop().catch(() => {});
    for (const consumer of consumers) await consumer.stop().catch(() => {});
    await producer.close().catch(() => {});
    await endpoint.close();
    await runtime.close();
  }
}
