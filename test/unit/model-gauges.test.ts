/**
 * The evaluator's Prometheus gauges of estimated performance:
 * feedbackloop_estimated_metric per cell and metric, and
 * feedbackloop_estimate_trusted, read from the evaluators' live figures at
 * scrape time; nothing for a cell without an estimate or a figure without a
 * value; arrival records counted as their own kind, not as expired; and
 * feedbackloop_feature_quality, the inputs' latest figures from the drift rows flushed.
 */
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { ESTIMATED_GAUGE_FIGURES, evaluatorMetrics } from '../../adapters/prometheus/model-gauges.js';
import type { DriftRecord, EvaluatorRows } from '../../core/evaluate/index.js';
import type { Evaluator } from '../../core/evaluate/index.js';
import type { LiveFigures } from '../../core/evaluate/live.js';
import { type LabelledExample, noExampleClasses } from '../../core/events.js';

const cell = (role: string, version: string, estimated?: LiveFigures['estimated']): LiveFigures => ({
  model: 'fraud', role, version, segment: '*', window: 'total',
  figures: { count: 900, f1: 0.7, accuracy: 0.9 } as unknown as LiveFigures['figures'],
  ...(estimated ? { estimated } : {}),
});

/** An evaluator as the gauges see it: its live figures and health. */
const evaluator = (live: LiveFigures[]) => ({ live: () => live, health: () => ({}) }) as unknown as Evaluator;

const example = (id: string, over: Partial<LabelledExample>): LabelledExample => ({
  ...noExampleClasses(),
  example_id: id, prediction_id: id, model: 'fraud', model_version: 'v1', timestamp: 0, features: {}, categorical: {}, segments: {},
  score: 0.4, threshold: 0.5, label: null, feedback_type: null, source: null, feedback_timestamp: null, label_delay_ms: null,
  correction_of: null, shadow_scores: {}, replaces: null, arrival: false, ...over,
});

async function values(registry: Registry, name: string): Promise<Array<{ labels: Record<string, string | number>; value: number }>> {
  return (await registry.getSingleMetric(name)!.get()).values.map((v) => ({ labels: v.labels as Record<string, string | number>, value: v.value }));
}

describe('Prometheus gauges of estimated performance', () => {
  it('exports each estimated figure with a value and the trust flag of each estimated cell', async () => {
    const registry = new Registry();
    const hooks = evaluatorMetrics(registry, { segments: false });
    hooks.evaluated(0, [], 0.001, [
      evaluator([
        cell('champion', 'v1', { precision: 0.62, recall: 0.55, f1: 0.583, accuracy: 0.91, roc_auc: 0.84, trusted: true }),
        cell('challenger', 'fraud/lr', { precision: null, recall: 0.4, f1: null, accuracy: 0.88, roc_auc: 0.8, trusted: false }),
        cell('previous', 'v0'), // no estimate (a regression model, or arrivals off)
      ]),
    ]);
    const estimated = await values(registry, 'feedbackloop_estimated_metric');
    const at = (role: string) => Object.fromEntries(estimated.filter((v) => v.labels.role === role).map((v) => [v.labels.metric, v.value]));
    expect(at('champion')).toEqual({ precision: 0.62, recall: 0.55, f1: 0.583, accuracy: 0.91, roc_auc: 0.84 });
    expect(at('challenger')).toEqual({ recall: 0.4, accuracy: 0.88, roc_auc: 0.8 });
    expect(at('previous')).toEqual({});
    expect(estimated).toHaveLength(8);
    expect(estimated[0]!.labels).toEqual({ model: 'fraud', role: 'champion', version: 'v1', segment: '*', window: 'total', metric: 'precision' });
    expect(new Set(estimated.map((v) => v.labels.metric))).toEqual(new Set(ESTIMATED_GAUGE_FIGURES));

    const trusted = await values(registry, 'feedbackloop_estimate_trusted');
    expect(trusted).toEqual([
      { labels: { model: 'fraud', role: 'champion', version: 'v1', segment: '*', window: 'total' }, value: 1 },
      { labels: { model: 'fraud', role: 'challenger', version: 'fraud/lr', segment: '*', window: 'total' }, value: 0 },
    ]);
    // The realised figures are still there, beside.
    const realised = await values(registry, 'feedbackloop_model_metric');
    expect(realised.filter((v) => v.labels.role === 'champion').map((v) => [v.labels.metric, v.value])).toEqual([['count', 900], ['accuracy', 0.9], ['f1', 0.7]]);
  });

  it('drops a cell whose estimate is gone at the next scrape', async () => {
    const registry = new Registry();
    const hooks = evaluatorMetrics(registry, { segments: false });
    hooks.evaluated(0, [], 0.001, [evaluator([cell('champion', 'v1', { precision: 0.6, recall: 0.5, f1: 0.5, accuracy: 0.9, roc_auc: 0.8, trusted: true })])]);
    expect(await values(registry, 'feedbackloop_estimate_trusted')).toHaveLength(1);
    hooks.evaluated(0, [], 0.001, [evaluator([cell('champion', 'v2')])]);
    expect(await values(registry, 'feedbackloop_estimated_metric')).toEqual([]);
    expect(await values(registry, 'feedbackloop_estimate_trusted')).toEqual([]);
  });

  it('counts arrival records as kind arrival, never as expired', async () => {
    const registry = new Registry();
    const hooks = evaluatorMetrics(registry, { segments: false });
    hooks.evaluated(0, [
      example('a@arrival', { arrival: true }),
      example('b@arrival', { arrival: true }),
      example('c', {}), // expired unlabelled
      example('d', { label: 1, feedback_type: 'USER_CONFIRMED', feedback_timestamp: 60_000, label_delay_ms: 60_000 }),
    ], 0.001, []);
    const counts = Object.fromEntries((await values(registry, 'feedbackloop_examples_evaluated_total')).map((v) => [v.labels.kind, v.value]));
    expect(counts).toEqual({ arrival: 2, expired: 1, label: 1 });
  });
});

describe('Prometheus gauges of the inputs\' data quality and categorical drift', () => {
  const row = (feature: string, statistic: string, value: number | null, n: number, detected = false): DriftRecord => ({
    model: 'fraud', model_version: '*', role: '*', feature, statistic, value, threshold: 0, detected, window: 'last_1000', window_start: 0, window_end: 1, at: 1, n,
  });
  const flush = (drift: DriftRecord[]): EvaluatorRows => ({ points: [], drift: drift.map((value, version) => ({ value, version })), feedback: [], examples: [] });

  it('holds the latest window\'s figure per model, feature and figure; drops a figure with no value; PSI and KS are not among them', async () => {
    const registry = new Registry();
    const hooks = evaluatorMetrics(registry, { segments: false });
    hooks.flushed([], flush([
      row('age', 'dq_missing_rate', 0.05, 2000), row('age', 'dq_missing_rate_ref', 0.04, 2000), row('channel', 'cat_js', 0.03, 2000), row('channel', 'cat_chi2_p', 0.5, 2000),
      row('age', 'dq_missing_rate', 0.5, 3000, true), row('channel', 'cat_js', null, 3000), row('amount', 'psi', 0.3, 3000, true),
    ]), 0.01);
    const gauges = (await values(registry, 'feedbackloop_feature_quality')).map((v) => [v.labels.feature, v.labels.figure, v.value]);
    expect(gauges).toEqual([['age', 'dq_missing_rate', 0.5], ['age', 'dq_missing_rate_ref', 0.04], ['channel', 'cat_chi2_p', 0.5]]);
    expect((await values(registry, 'feedbackloop_feature_quality'))[0]!.labels).toEqual({ model: 'fraud', feature: 'age', figure: 'dq_missing_rate' });
    // The alarms count in the drift counter, as PSI's do.
    const alarms = (await values(registry, 'feedbackloop_drift_detected_total')).map((v) => [v.labels.feature, v.labels.statistic, v.value]);
    expect(alarms).toEqual([['age', 'dq_missing_rate', 1], ['amount', 'psi', 1]]);
  });
});

describe('Prometheus gauges of a multi-class model', () => {
  it('exports its scalar figures as metrics and its per-class figures with a class label, from a real evaluator', async () => {
    const { Evaluator: RealEvaluator } = await import('../../core/evaluate/index.js');
    const real = new RealEvaluator({ kindOf: () => 'multiclass', classesOf: () => ['a', 'b', 'c'], numericTargetOf: () => 'severity', windows: [], rollingSize: 0 });
    const labelled = (id: string, predicted: string, truth: string, severity: number) => example(id, {
      model: 'kind', score: 2, label: severity, feedback_type: 'EXPERT_REVIEW', feedback_timestamp: 10, label_class: truth, predicted_class: predicted,
      class_scores: { a: predicted === 'a' ? 0.6 : 0.2, b: predicted === 'b' ? 0.6 : 0.2, c: predicted === 'c' ? 0.6 : 0.2 },
    });
    real.onExample(labelled('1', 'a', 'a', 3));
    real.onExample(labelled('2', 'a', 'b', 1));
    real.onExample(labelled('3', 'b', 'b', 2));
    real.onExample(labelled('4', 'c', 'b', 2));
    real.finish();
    const registry = new Registry();
    evaluatorMetrics(registry, { segments: false, kindOf: () => 'multiclass' }).evaluated(0, [], 0.001, [real]);
    const scalar = Object.fromEntries((await values(registry, 'feedbackloop_model_metric')).map((v) => [v.labels.metric, v.value]));
    expect([scalar.count, scalar.accuracy, scalar.severity_count, scalar.severity_mae]).toEqual([4, 0.5, 4, 0.5]);
    // f1[a] = 2·1/(1 + 2), f1[b] = 2·1/(3 + 1), f1[c] = 0 (predicted once, never true): macro (2/3 + 1/2 + 0)/3.
    expect(scalar.macro_f1).toBeCloseTo(7 / 18, 15);
    const perClass = await values(registry, 'feedbackloop_class_metric');
    const f1 = Object.fromEntries(perClass.filter((v) => v.labels.metric === 'f1').map((v) => [v.labels.class, v.value]));
    expect(f1).toEqual({ a: 2 / 3, b: 0.5, c: 0 });
    // recall[c] has no value (no true c): not exported.
    expect(perClass.filter((v) => v.labels.metric === 'recall').map((v) => v.labels.class)).toEqual(['a', 'b']);
    expect(perClass[0]!.labels).toEqual({ model: 'kind', role: 'champion', version: 'v1', segment: '*', window: 'total', metric: 'precision', class: 'a' });
  });
});
