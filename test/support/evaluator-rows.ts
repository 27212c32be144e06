/**
 * The evaluator's figures in the integration tests: what an uninterrupted
 * EvaluatorProcessor writes for a stream (on the in-process log, one drain
 * at the end), and the figures a `feedbackloop run --only evaluator` child
 * left in ClickHouse (FINAL: the latest version per key), compared key for
 * key (values within 1e-12 relative).
 */
import { LocalCodec } from '../../adapters/codec/codec.js';
import { buildConfig } from '../../adapters/config/index.js';
import type { ClickHouseStore } from '../../adapters/clickhouse/index.js';
import { MemoryTransport } from '../../adapters/transport/memory.js';
import { ManualClock } from '../../core/clock.js';
import type { LabelledExample } from '../../core/events.js';
import type { DriftRecord, FeedbackStat, MetricPoint } from '../../core/evaluate/index.js';
import { EvaluatorProcessor } from '../../processors/evaluator.js';
import { evaluatorOptions } from '../../runtime/settings.js';
import { FileEvaluatorSink, driftKey, feedbackKey, pointKey } from '../../sinks/evaluator-rows.js';
import { T0 } from './labelled.js';

/** Evaluator settings (environment) of the integration tests' children and of their reference runs: small windows, 1 s flushes. */
export const EVALUATOR_TEST_ENV = {
  FEEDBACKLOOP_EVALUATOR_FLUSH_INTERVAL: '1s',
  FEEDBACKLOOP_EVALUATOR_FLUSH_ROWS: '2000',
  FEEDBACKLOOP_EVALUATOR_FAIRNESS_ATTRIBUTES: 'region',
  FEEDBACKLOOP_EVALUATOR_ROLLING_SIZE: '500',
  FEEDBACKLOOP_EVALUATOR_ROLLING_EMIT_EVERY: '50',
  FEEDBACKLOOP_EVALUATOR_DRIFT_REFERENCE_SIZE: '500',
  FEEDBACKLOOP_EVALUATOR_DRIFT_WINDOW_SIZE: '500',
  FEEDBACKLOOP_CLICKHOUSE_REQUEST_TIMEOUT: '5s',
};

export interface EvaluatorFigures {
  points: MetricPoint[];
  drift: DriftRecord[];
  feedback: FeedbackStat[];
}

/** What an uninterrupted evaluator (the settings of `env`) writes for these examples over `partitions` partitions keyed by model, per key. */
export async function expectedEvaluatorRows(examples: LabelledExample[], env: Record<string, string>, partitions: number): Promise<EvaluatorFigures> {
  const config = buildConfig({}, env);
  const log = new MemoryTransport();
  await log.ensureTopics([{ name: 'labelled', partitions }]);
  const codec = new LocalCodec<LabelledExample>('LabelledExample');
  const producer = await log.producer();
  for (let at = 0; at < examples.length; at += 5000) {
    await producer.send(await Promise.all(examples.slice(at, at + 5000).map(async (e) => ({ topic: 'labelled', key: Buffer.from(e.model), value: await codec.encode(e) }))));
  }
  const sink = new FileEvaluatorSink('/nonexistent');
  const processor = new EvaluatorProcessor({
    transport: log, topic: 'labelled', groupId: 'expected', codec, evaluator: evaluatorOptions(config), sink,
    deadLetters: { connect: async () => {}, writeBatch: async () => {}, close: async () => {} },
    flush: { maxRows: 1e9, maxBytes: 1e12, intervalMs: 1e12 }, clock: new ManualClock(T0),
  });
  await processor.start();
  await log.whenIdle();
  await processor.stop();
  return sink.final();
}

const num = (v: unknown) => (v === null ? null : Number(v));

/** The figures in the evaluator's ClickHouse tables (FINAL), per key, and the number of audit rows. */
export async function clickhouseEvaluatorRows(store: ClickHouseStore): Promise<{
  points: Map<string, MetricPoint>;
  drift: Map<string, DriftRecord>;
  feedback: Map<string, FeedbackStat>;
  auditRows: number;
}> {
  const points = new Map<string, MetricPoint>();
  for (const r of await store.select<Record<string, unknown>>(
    'SELECT model, model_version, role, segment, window, window_start_ms, window_end_ms, metric, value, count FROM metric_points FINAL',
  )) {
    const p: MetricPoint = {
      model: String(r.model), model_version: String(r.model_version), role: String(r.role), segment: String(r.segment), window: String(r.window),
      window_start: Number(r.window_start_ms), window_end: Number(r.window_end_ms), metric: String(r.metric), value: num(r.value), count: Number(r.count),
    };
    points.set(pointKey(p), p);
  }
  const drift = new Map<string, DriftRecord>();
  for (const r of await store.select<Record<string, unknown>>(
    'SELECT model, model_version, role, feature, statistic, value, threshold, detected, window, window_start_ms, window_end_ms, at_ms, n FROM drift_events FINAL',
  )) {
    const d: DriftRecord = {
      model: String(r.model), model_version: String(r.model_version), role: String(r.role), feature: String(r.feature), statistic: String(r.statistic),
      value: num(r.value), threshold: Number(r.threshold), detected: Number(r.detected) === 1, window: String(r.window),
      window_start: Number(r.window_start_ms), window_end: Number(r.window_end_ms), at: Number(r.at_ms), n: Number(r.n),
    };
    drift.set(driftKey(d), d);
  }
  const feedback = new Map<string, FeedbackStat>();
  for (const r of await store.select<Record<string, unknown>>('SELECT model, day_ms, feedback_type, source, labels, corrections, overturned, overturned_by_expert FROM feedback_stats FINAL')) {
    const s: FeedbackStat = {
      model: String(r.model), day: Number(r.day_ms), feedback_type: String(r.feedback_type), source: String(r.source),
      labels: Number(r.labels), corrections: Number(r.corrections), overturned: Number(r.overturned), overturned_by_expert: Number(r.overturned_by_expert),
    };
    feedback.set(feedbackKey(s), s);
  }
  const audit = await store.select<{ n: string }>('SELECT count() AS n FROM labelled_examples FINAL');
  return { points, drift, feedback, auditRows: Number(audit[0]!.n) };
}

/** Differences between the expected figures and those in ClickHouse (the first `show` of each table), and the counts compared. */
export function compareEvaluatorRows(expected: EvaluatorFigures, actual: Awaited<ReturnType<typeof clickhouseEvaluatorRows>>, show = 10) {
  const close = (a: number | null, b: number | null) => (a === null || b === null ? a === b : Math.abs(a - b) <= 1e-12 * Math.max(1, Math.abs(b)));
  const label = (key: string) => key.replace(/\u0000/g, '|');
  const points: string[] = [];
  for (const e of expected.points) {
    const a = actual.points.get(pointKey(e));
    if (!a) points.push(`missing ${label(pointKey(e))}`);
    else if (!close(a.value, e.value) || !close(a.count, e.count) || a.window_end !== e.window_end) {
      points.push(`${label(pointKey(e))}: ${JSON.stringify([a.value, a.count, a.window_end])} != ${JSON.stringify([e.value, e.count, e.window_end])}`);
    }
  }
  const drift = expected.drift
    .filter((e) => {
      const a = actual.drift.get(driftKey(e));
      return !a || !close(a.value, e.value) || !close(a.threshold, e.threshold) || a.detected !== e.detected || a.at !== e.at;
    })
    .map((e) => label(driftKey(e)));
  const feedback = expected.feedback.filter((e) => JSON.stringify(actual.feedback.get(feedbackKey(e))) !== JSON.stringify(e)).map((e) => label(feedbackKey(e)));
  return {
    problems: { points: points.slice(0, show), drift: drift.slice(0, show), feedback: feedback.slice(0, show) },
    mismatched: { points: points.length, drift: drift.length, feedback: feedback.length },
    compared: { points: expected.points.length, drift: expected.drift.length, feedback: expected.feedback.length },
    extra: { points: actual.points.size - expected.points.length, drift: actual.drift.size - expected.drift.length, feedback: actual.feedback.size - expected.feedback.length },
  };
}
