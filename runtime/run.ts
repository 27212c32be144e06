/**
 * The production driver of the pipeline: its processors against Kafka (and
 * ClickHouse), with the join state on disk, Prometheus metrics and
 * /metrics, /healthz, /readyz and (http.api) the /v1 API served, until
 * SIGINT or SIGTERM, or until a processor fails in a way a retry cannot mend.
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Config } from '../adapters/config/index.js';
import { challenges, httpSecurity, startHttpEndpoint } from '../adapters/http/index.js';
import { requireReachableBrokers } from '../adapters/kafka/reachable.js';
import type { Logger } from '../adapters/logging/index.js';
import type { LogProducer } from '../adapters/transport/transport.js';
import { LmdbJoinStore } from '../adapters/state/lmdb-join-store.js';
import { prepareStateRoot } from '../adapters/state/state-root.js';
import { systemClock } from '../core/clock.js';
import { ConfigError, type FeedbackloopError } from '../core/errors.js';
import type { DeadLetter } from '../core/events.js';
import type { PipelineObserver } from '../core/observer.js';
import { serverErrorCode } from '../adapters/clickhouse/store.js';
import { rejectedRowLetter } from '../sinks/clickhouse-table.js';
import { ClickHouseDeadLetterSink, ClickHouseEvaluatorSink, FanOutSink, TopicDeadLetterSink } from '../sinks/index.js';
import type { Sink } from '../sinks/sink.js';
import { apiServices } from './api/index.js';
import { openRuntime, type Runtime } from './connect.js';
import { ProcessorHealth } from './health.js';
import { consumerGroups, Pipeline, PROCESSORS, topicSpecsFor, type PipelineEnv, type ProcessorName } from './pipeline.js';
import { StopDeadline } from './stop-deadline.js';

export async function runPipeline(config: Config, logger: Logger, selected: ProcessorName[]): Promise<void> {
  if (config.kafka.brokers.length === 0) {
    throw new ConfigError('kafka.brokers', 'run needs Kafka (set kafka.brokers or FEEDBACKLOOP_KAFKA_BROKERS); to process files without servers use replay');
  }
  // Before any connection: an unreadable certificate is a config error, not a failure after start-up.
  const security = httpSecurity(config.http);
  for (const name of selected) {
    const needs = PROCESSORS[name].clickhouse;
    if (needs && config.clickhouse.url === null) throw new ConfigError('clickhouse.url', needs);
  }
  // With no broker there the clients would retry for 5-10 s before failing: fail at once, naming them.
  await requireReachableBrokers(config.kafka.brokers);
  const runtime = await openRuntime(config, logger);
  // Open clients would keep the process from exiting on a failure at start (a topic it may not create).
  const producer = await closeOnFailure(runtime, async () => {
    await runtime.transport.ensureTopics(topicSpecsFor(config, selected));
    return runtime.transport.producer();
  });
  // The evaluator's ClickHouse writes heartbeat its group while ClickHouse is down.
  const heartbeat = () => pipeline.get('evaluator')?.heartbeat() ?? Promise.resolve();
  const health = new ProcessorHealth(config.http.unhealthy_after);
  const pipeline: Pipeline = new Pipeline(environment(runtime, producer, heartbeat, health), selected);
  runtime.metrics.watch({
    pendingJoins: () => pipeline.get('joiner')?.pending() ?? new Map(),
    shadowStaleness: () => pipeline.shadow.stats(),
    consumerLag: {
      transport: runtime.transport,
      groups: () => consumerGroups(config, selected),
      onError: (error) => logger.debug({ err: error }, 'consumer lag not available'),
      cacheMs: config.http.lag_cache,
    },
  });
  const api = config.http.api ? apiServices(runtime, producer) : undefined;
  const endpoint = await startHttpEndpoint({
    host: config.http.host,
    port: config.http.port,
    registry: runtime.metrics.registry,
    ...security,
    readiness: [
      ...(runtime.clickhouse ? [{ name: 'clickhouse', check: () => runtime.clickhouse!.ping() }] : []),
      { name: 'processors', check: async () => health.ready() },
    ],
    ...(api
      ? {
          bodyLimit: config.http.api_max_body,
          // The API's routes and OpenAPI plugin load only when served.
          routes: async (app) => {
            const { registerApi } = await import('../adapters/http/api/index.js');
            await registerApi(app, api, { maxBody: config.http.api_max_body, onError: (error, request) => logger.error({ err: error, ...request }, 'the API failed to answer a request') });
          },
        }
      : {}),
  });
  const deadline = new StopDeadline({
    timeoutMs: config.run.stop_timeout,
    logger,
    exit: (code) => process.exit(code),
    resources: () => process.getActiveResourcesInfo(),
  });
  try {
    await pipeline.start();
    logger.info({ processors: selected, address: endpoint.address, port: endpoint.port, tls: security.tls !== undefined, auth: challenges(security.credentials).length > 0, api: api !== undefined }, 'feedbackloop running');
    const failed = pipeline.done.then(
      () => new Promise<never>(() => {}),
      (error: unknown) => {
        // The whole error (causes, a client's aggregated attempts) in the log; stderr gets its message.
        logger.error({ err: error }, 'a processor failed in a way a retry cannot mend; stopping');
        throw error;
      },
    );
    const signal = await Promise.race([stopSignal(), failed]);
    logger.info({ signal, stop_timeout_ms: config.run.stop_timeout }, 'stopping');
    // A second signal while stopping exits at once.
    void stopSignal().then((again) => deadline.force(again));
  } finally {
    deadline.arm();
    // The endpoint first: no API request sends through the producer once it closes.
    deadline.at('the HTTP endpoint');
    await endpoint.close();
    await api?.close().catch(() => {});
    await pipeline.stop(undefined, (step) => deadline.at(step)).catch((error: unknown) => logger.warn({ err: error }, 'a processor did not stop cleanly'));
    deadline.at('the producer');
    await producer.close().catch(() => {});
    deadline.at('the clients (Kafka admin, ClickHouse)');
    await runtime.close();
    deadline.finished();
  }
}

async function closeOnFailure<T>(runtime: Runtime, start: () => Promise<T>): Promise<T> {
  try {
    return await start();
  } catch (error) {
    await runtime.close().catch(() => {});
    throw error;
  }
}

/** What `run` gives the pipeline: Kafka, the disk join state, ClickHouse sinks, the wall clock, metrics and logs. */
function environment(runtime: Runtime, producer: LogProducer, evaluatorHeartbeat: () => Promise<void>, health: ProcessorHealth): PipelineEnv {
  const { config, logger } = runtime;
  const state = prepareStateRoot(config.joiner.state_dir ?? join(tmpdir(), 'feedbackloop-state'));
  if (state.removed.length > 0) logger.info({ removed: state.removed }, 'removed the join state left by stopped processes');
  const store = runtime.clickhouse;
  const deadLetters = new TopicDeadLetterSink(producer, runtime.codecs.deadLetter, config.topics.dead_letters);
  const observer = loggingObserver(runtime.metrics.observer, logger, health);
  const e = config.evaluator;
  return {
    config,
    transport: runtime.transport,
    codecs: runtime.codecs,
    clock: systemClock,
    name: config.kafka.client_id,
    time: 'wall-clock',
    // Off the heap, rebuilt from the changelog at every assignment.
    joinStore: (partition) => new LmdbJoinStore({ dir: state.root, partition }),
    ...(store
      ? {
          evaluator: {
            sink: new ClickHouseEvaluatorSink(store, systemClock, {
              maxRows: e.flush_rows,
              maxBytes: e.flush_bytes,
              table: (table) => ({
                onRetry: (error, attempt, delay) => observer.sinkRetry(table, error, attempt, delay),
                // Stay in the consumer group while ClickHouse is down.
                heartbeat: evaluatorHeartbeat,
                onRejected: rejectedRows(table, deadLetters, observer, logger),
              }),
            }),
            flush: { maxRows: e.flush_rows, maxBytes: e.flush_bytes, intervalMs: e.flush_interval },
          },
          clickhouse: store,
        }
      : {}),
    deadLetters: store ? new FanOutSink([deadLetters, new ClickHouseDeadLetterSink(store)]) : deadLetters,
    observer,
    onFeedSkipped: (error, record, what) =>
      logger.warn({ err: error, topic: record.topic, partition: record.partition, offset: record.offset }, `${what} cannot be used for shadow scoring; skipped`),
  };
}

/**
 * A row ClickHouse refused for its content (the rest of its batch is
 * written): a dead letter on the topic, a warn line. Only the topic: the
 * dead_letters table cannot hold it (its partition and offset columns are
 * unsigned, and its key (topic, partition, offset, stage) would keep one
 * refused row per table), and a refusal there must never come back here.
 */
function rejectedRows(table: string, topic: Sink<DeadLetter>, observer: PipelineObserver, logger: Logger) {
  return async (row: object, error: FeedbackloopError): Promise<void> => {
    const letter = rejectedRowLetter(table, row, error, systemClock.now());
    logger.warn({ err: error, table, code: serverErrorCode(error) }, 'clickhouse refused a row; dead-lettered, the rest of its batch written');
    await topic.writeBatch([letter]);
    observer.deadLetter?.(letter);
  };
}

/** The metrics' hooks, plus the log lines an operator reads: decisions, retries, failed commits. */
function loggingObserver(metrics: Required<PipelineObserver>, logger: Logger, health: ProcessorHealth): Required<PipelineObserver> {
  const readiness = health.hooks();
  return {
    ...metrics,
    poisoned: (letter) => {
      metrics.poisoned(letter);
      const { stage, topic, partition, offset, error_message: error } = letter;
      logger.warn({ stage, topic, partition, offset, error }, 'a record made the processor fail; it was dead-lettered and skipped (the rest goes on)');
    },
    retrying: (processor, error) => {
      metrics.retrying(processor, error);
      readiness.retrying(processor, error);
      logger.warn({ err: error, processor }, 'a batch failed in a way a retry can mend; it is processed again');
    },
    recovered: (processor) => {
      metrics.recovered(processor);
      readiness.recovered(processor);
    },
    decided: (decisions) => {
      metrics.decided(decisions);
      for (const d of decisions) {
        logger.info({ model: d.model, decision: d.decision, from: d.from_version, to: d.to_version, n: d.sample_size, reason: d.reason }, 'promotion decision');
      }
    },
    manual: (d) => {
      metrics.manual(d);
      logger.info({ model: d.model, decision: d.decision, from: d.from_version, to: d.to_version, actor: d.actor, reason: d.reason }, 'manual promotion decision');
    },
    restored: (report) => {
      metrics.restored(report);
      const { processor, partition, from, reason, reread, ms, skipped } = report;
      const fields = { processor, partition, from, reread, ms, ...(reason === undefined ? {} : { reason }), ...(skipped === undefined ? {} : { skipped }) };
      if (from === 'checkpoint') logger.info(fields, 'partition state restored from its checkpoint and the input after it');
      else logger.info(fields, 'partition state rebuilt from the start of its input (no usable checkpoint)');
    },
    taskOpened: ({ processor, partition, generation, kept, ms }) => {
      const fields = { processor, partition, generation, ms: Math.round(ms) };
      if (kept) logger.info(fields, 'partition task kept across the rebalance (nothing restored)');
      else logger.info(fields, 'partition task opened (state restored)');
    },
    sinkRetry: (table, error, attempt, delay) => {
      metrics.sinkRetry(table, error, attempt, delay);
      logger.warn({ err: error, table, attempt, delay_ms: delay }, 'clickhouse insert failed; retrying (consumption paused)');
    },
    commitFailed: (processor, error) => {
      metrics.commitFailed(processor, error);
      logger.warn({ err: error, processor }, 'heartbeat or offset commit failed; the records will be processed again (same results)');
    },
  };
}

function stopSignal(): Promise<string> {
  return new Promise<string>((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'));
    process.once('SIGTERM', () => resolve('SIGTERM'));
  });
}
