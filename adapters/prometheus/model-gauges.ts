/**
 * The evaluator's Prometheus metrics: live gauges per model, role, version
 * and window (segments only when configured: their values become label
 * values), the estimated figures (from the scores of every prediction,
 * before labels come) with their trust flag, the inputs' data-quality and
 * categorical-drift figures of their latest window, the shards' partial counts
 * (partial-gauges.ts), counters of what was evaluated
 * and detected, and histograms of label delay and processing time. Fed through the processor's observer
 * hooks, so the processor itself imports no prom-client.
 */
import { isLabelled } from '../../core/contracts/labelled.js';
import type { ModelKind } from '../../core/events.js';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { Evaluator } from '../../core/evaluate/index.js';
import type { PipelineObserver } from '../../core/observer.js';
import { partialGauges } from './partial-gauges.js';

/** Figures exported as gauges (the others stay in ClickHouse). */
export const GAUGE_FIGURES = [
  'count', 'accuracy', 'precision', 'recall', 'f1', 'fpr', 'log_loss', 'brier', 'roc_auc', 'pr_auc', 'ece', 'mae', 'rmse', 'r2', 'mape',
] as const;

/**
 * Multi-class and multi-label models (issue 16): every scalar figure of their
 * windows is a gauge of feedbackloop_model_metric (a fixed set of names, the
 * numeric head's `<numeric_target>_mae` ... included), and the per-class
 * figures these name are gauges of feedbackloop_class_metric with a `class`
 * label (its values: the configured classes, at most limits.max_classes).
 */
export const CLASS_GAUGE_FIGURES = ['precision', 'recall', 'f1', 'support'] as const;

/** Estimated figures exported as gauges (feedbackloop_estimated_metric): the metric label's values. */
export const ESTIMATED_GAUGE_FIGURES = ['precision', 'recall', 'f1', 'accuracy', 'roc_auc'] as const;

/**
 * Data-quality and categorical-drift figures of the inputs exported as gauges
 * (feedbackloop_feature_quality): the `figure` label's values.
 */
export const FEATURE_QUALITY_FIGURES = [
  'dq_missing_rate', 'dq_missing_rate_ref', 'dq_out_of_range_rate', 'dq_unseen_rate', 'cat_chi2', 'cat_chi2_p', 'cat_js', 'cat_new_rate',
] as const;
const FEATURE_QUALITY = new Set<string>(FEATURE_QUALITY_FIGURES);

export type EvaluatorHooks = Required<Pick<PipelineObserver, 'evaluated' | 'flushed' | 'shardOpened' | 'sinkRetry'>>;

export function evaluatorMetrics(registry: Registry, options: { segments: boolean; kindOf?: (model: string) => ModelKind }): EvaluatorHooks {
  const kindOf = options.kindOf ?? (() => 'binary');
  const figure = new Gauge({
    name: 'feedbackloop_model_metric',
    help: 'Live figure of a model per role (champion, challenger, previous), version, segment (* unless evaluator.prometheus_segments) and window (total, last_<n>). NaN-free: a figure with no value (zero denominator) is not exported.',
    labelNames: ['model', 'role', 'version', 'segment', 'window', 'metric'],
    registers: [registry],
    collect: () => refreshIfStale(),
  });
  const perClass = new Gauge({
    name: 'feedbackloop_class_metric',
    help: `Live per-class figure of a multi-class or multi-label model (metric ${CLASS_GAUGE_FIGURES.join(', ')}; class: one of models.<name>.classes), per role, version, segment and window as feedbackloop_model_metric. Not exported when it has no value.`,
    labelNames: ['model', 'role', 'version', 'segment', 'window', 'metric', 'class'],
    registers: [registry],
    collect: () => refreshIfStale(),
  });
  const estimated = new Gauge({
    name: 'feedbackloop_estimated_metric',
    help: 'Estimated figure of a binary model (CBPE: expected confusion counts from the scores of every prediction, labelled or not), per role, version, segment and window (total), for metric precision, recall, f1, accuracy, roc_auc. Comes before the labels; trust it only where feedbackloop_estimate_trusted is 1. Not exported when it has no value.',
    labelNames: ['model', 'role', 'version', 'segment', 'window', 'metric'],
    registers: [registry],
    collect: () => refreshIfStale(),
  });
  const trusted = new Gauge({
    name: 'feedbackloop_estimate_trusted',
    help: "1 when the cell's scores were calibrated on its matured labels (expected calibration error at most evaluator.estimate_max_calibration_error over at least evaluator.estimate_min_labels labels of its last evaluator.estimate_trust_windows matured windows), so its feedbackloop_estimated_metric can be believed; else 0.",
    labelNames: ['model', 'role', 'version', 'segment', 'window'],
    registers: [registry],
    collect: () => refreshIfStale(),
  });
  const examples = new Counter({
    name: 'feedbackloop_examples_evaluated_total',
    help: "Labelled examples the evaluator applied, by model and kind (label, correction, expired, and arrival: the joiner's arrival records, one per prediction, joiner.emit_arrivals).",
    labelNames: ['model', 'kind'],
    registers: [registry],
  });
  const drift = new Counter({
    name: 'feedbackloop_drift_detected_total',
    help: 'Drift alarms: PSI/KS over their threshold for a feature or score, or a detector (adwin, page_hinkley, ddm) on the error stream.',
    labelNames: ['model', 'role', 'feature', 'statistic'],
    registers: [registry],
  });
  const featureQuality = new Gauge({
    name: 'feedbackloop_feature_quality',
    help: `An input feature's figure over the model's latest window of records (evaluator.drift_window_size predictions) against its drift reference, as the evaluator last wrote it (kept until the next window; none before the first window since the evaluator started): figure ${FEATURE_QUALITY_FIGURES.join(', ')}. Features: the first limits.max_features of each model. Not exported when it has no value.`,
    labelNames: ['model', 'feature', 'figure'],
    registers: [registry],
  });
  const delay = new Histogram({
    name: 'feedbackloop_label_delay_seconds',
    help: "Time from a prediction to its first usable label (the feedback's timestamp minus the prediction's).",
    labelNames: ['model'],
    buckets: [60, 300, 900, 3600, 3 * 3600, 6 * 3600, 12 * 3600, 86_400, 2 * 86_400, 4 * 86_400, 7 * 86_400],
    registers: [registry],
  });
  const batchSeconds = new Histogram({
    name: 'feedbackloop_evaluator_batch_seconds',
    help: 'Time to decode and apply one consumer batch of labelled examples.',
    buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
    registers: [registry],
  });
  const flushSeconds = new Histogram({
    name: 'feedbackloop_evaluator_flush_seconds',
    help: 'Time from draining the figures to their offsets committed (includes waiting for ClickHouse; written in the background while the next batches are applied).',
    buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 30, 120],
    registers: [registry],
  });
  const retries = new Counter({
    name: 'feedbackloop_sink_retries_total',
    help: 'Failed writes to a sink that are being retried (ClickHouse down or slow); consumption waits meanwhile.',
    labelNames: ['table'],
    registers: [registry],
  });

  const partials = partialGauges(registry, { segments: options.segments });

  const pooled = new Gauge({
    name: 'feedbackloop_segment_overflow',
    help: 'Segment cardinality past its bound, per model since the evaluator (re)built its state: kind values_pooled (examples counted in <attribute>=other, past evaluator.max_segment_values) and attributes_dropped (attributes not segmented, past evaluator.max_segment_attributes).',
    labelNames: ['model', 'kind'],
    registers: [registry],
    collect: () => refreshIfStale(),
  });

  const refresh = (evaluators: Evaluator[]) => {
    pooled.reset();
    for (const evaluator of evaluators) {
      for (const [model, health] of Object.entries(evaluator.health())) {
        pooled.inc({ model, kind: 'values_pooled' }, health.segment_values_pooled);
        pooled.inc({ model, kind: 'attributes_dropped' }, health.segment_attributes_dropped);
      }
    }
    figure.reset();
    perClass.reset();
    estimated.reset();
    trusted.reset();
    for (const evaluator of evaluators) {
      for (const live of evaluator.live(options.segments)) {
        const cell = { model: live.model, role: live.role, version: live.version, segment: live.segment, window: live.window };
        if ('scalars' in live.figures) {
          const f = live.figures;
          for (const [name, value] of f.scalars) if (typeof value === 'number' && Number.isFinite(value)) figure.set({ ...cell, metric: name }, value);
          f.classes.forEach((c, i) => {
            for (const name of CLASS_GAUGE_FIGURES) {
              const value = f[name][i];
              if (typeof value === 'number' && Number.isFinite(value)) perClass.set({ ...cell, metric: name, class: c }, value);
            }
          });
          continue;
        }
        const figures = live.figures as unknown as Record<string, number | null>;
        for (const name of GAUGE_FIGURES) {
          const value = figures[name];
          if (typeof value !== 'number') continue;
          figure.set({ ...cell, metric: name }, value);
        }
        if (!live.estimated) continue;
        trusted.set(cell, live.estimated.trusted ? 1 : 0);
        for (const name of ESTIMATED_GAUGE_FIGURES) {
          const value = live.estimated[name];
          if (typeof value === 'number' && Number.isFinite(value)) estimated.set({ ...cell, metric: name }, value);
        }
      }
    }
  };

  // The gauges are computed when scraped, from the evaluators as the last batch left them:
  // a label reaches /metrics as soon as its batch is applied, not at the next flush.
  let current: Evaluator[] = [];
  let stale = false;
  const refreshIfStale = () => {
    if (!stale) return;
    stale = false;
    refresh(current);
  };
  const later = (evaluators: Evaluator[]) => {
    current = evaluators;
    stale = true;
  };

  return {
    evaluated(_partition, applied, seconds, evaluators) {
      batchSeconds.observe(seconds);
      later(evaluators);
      partials.held(evaluators);
      for (const example of applied) {
        const kind = example.arrival ? 'arrival' : !isLabelled(example, kindOf(example.model)) ? 'expired' : example.correction_of === null ? 'label' : 'correction';
        examples.inc({ model: example.model, kind });
        if (kind === 'label' && example.label_delay_ms !== null) delay.observe({ model: example.model }, Math.max(0, example.label_delay_ms) / 1000);
      }
    },
    shardOpened(partition, evaluator, totals) {
      partials.opened(partition, evaluator, totals);
    },
    flushed(evaluators, rows, seconds, partitions) {
      flushSeconds.observe(seconds);
      if (partitions) partials.flushed(rows, partitions.map((shard, i) => ({ shard, evaluator: evaluators[i]! })));
      for (const { value: d } of rows.drift) {
        if (d.detected) drift.inc({ model: d.model, role: d.role, feature: d.feature, statistic: d.statistic });
        if (!FEATURE_QUALITY.has(d.statistic)) continue;
        // Rows come in the order they were made: the last of a feature's figure is its latest window.
        const labels = { model: d.model, feature: d.feature, figure: d.statistic };
        if (d.value === null) featureQuality.remove(labels);
        else featureQuality.set(labels, d.value);
      }
      later(evaluators);
    },
    sinkRetry(table) {
      retries.inc({ table });
    },
  };
}

