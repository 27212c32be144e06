/**
 * `feedbackloop demo`: the seeded synthetic world through the replay. The
 * fraud model's concept changes at the midpoint: drift is detected after it,
 * a challenger is promoted after it, the estimated F1 parts from the realised
 * one and loses its trust; the stationary churn model keeps its champion.
 */
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ChartRow, DriftRecord, MetricPoint } from '../../core/evaluate/index.js';
import { demo } from '../../demo/run-demo.js';
import { DEMO_CHANGE, DEMO_COUNTS } from '../../demo/scenario.js';

const readJsonl = <T>(path: string): T[] => readFileSync(path, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as T);

describe('feedbackloop demo', () => {
  it('generates both models, detects the change, promotes a fraud challenger after it and keeps the churn champion', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'demo-')), 'out');
    const result = await demo({ out, seed: 7, progress: null });
    console.log(`demo took ${result.seconds.toFixed(1)} s`);
    expect(result.seconds).toBeLessThan(120);

    const predictions = readJsonl<{ model: string }>(join(out, 'input', 'predictions.jsonl'));
    const feedback = readJsonl<unknown>(join(out, 'input', 'feedback.jsonl'));
    for (const [model, n] of Object.entries(DEMO_COUNTS)) expect(predictions.filter((p) => p.model === model)).toHaveLength(n);
    expect(feedback.length).toBe(result.inputs.feedbackCount);
    expect(feedback.length).toBeGreaterThan(predictions.length);
    const s = result.summary;
    expect(s.predictions_read).toBe(predictions.length);
    expect(s.feedback_read).toBe(feedback.length);
    expect(s.dead_letters).toBe(0);
    for (const count of [s.corrections, s.duplicates_ignored, s.uncertain, s.expired_unlabelled]) expect(count).toBeGreaterThan(0);

    expect(result.report).toContain('fraud-detector');
    expect(result.report).toContain('churn-predictor');
    expect(result.report).toContain(out);

    const metrics = readJsonl<MetricPoint>(s.files.metrics);
    const total = (model: string, role: string) => metrics.filter((m) => m.model === model && m.role === role && m.window === 'total' && m.segment === '*' && m.metric === 'roc_auc');
    expect(total('fraud-detector', 'champion')).toHaveLength(1);
    expect(total('fraud-detector', 'challenger').map((m) => m.model_version).sort()).toEqual(['fraud-detector/ftrl', 'fraud-detector/logreg']);
    expect(total('churn-predictor', 'champion')).toHaveLength(1);
    // The champion degrades after the change.
    const day = (start: number) => metrics.find((m) => m.model === 'fraud-detector' && m.role === 'champion' && m.window === '1d' && m.segment === '*' && m.metric === 'roc_auc' && m.window_start === start)!.value!;
    expect(day(DEMO_CHANGE)).toBeLessThan(day(DEMO_CHANGE - 86_400_000) - 0.15);

    // The F1 estimated from the scores before labels agrees with the realised one before the change
    // (within 3 of its standard errors) and parts from it after (the scores no longer mean what they did),
    // where the trust check on matured labels says not to believe it.
    const fig = (start: number, metric: string) => metrics.find((m) => m.model === 'fraud-detector' && m.role === 'champion' && m.window === '1d' && m.segment === '*' && m.metric === metric && m.window_start === start)?.value;
    for (const start of [DEMO_CHANGE - 2 * 86_400_000, DEMO_CHANGE - 86_400_000]) {
      expect(Math.abs(fig(start, 'estimated_f1')! - fig(start, 'f1')!)).toBeLessThan(3 * fig(start, 'estimated_f1_stderr')!);
      expect(fig(start, 'estimate_trusted')).toBe(1);
    }
    for (const start of [DEMO_CHANGE, DEMO_CHANGE + 86_400_000]) {
      expect(fig(start, 'estimated_f1')! - fig(start, 'f1')!).toBeGreaterThan(0.3);
      expect(fig(start, 'estimate_trusted')).toBe(0);
    }
    expect(result.report).toMatch(/est\.f1 {2}trusted/);

    const drift = readJsonl<DriftRecord>(s.files.drift);
    expect(drift.some((d) => d.model === 'fraud-detector' && d.detected && d.feature === 'amount' && d.window_end > DEMO_CHANGE)).toBe(true);
    // country and channel keep their shares and no feature goes missing: their figures are written (19 windows
    // of 1,000 fraud predictions after the reference), no data-quality or categorical alarm.
    const inputs = drift.filter((d) => d.model === 'fraud-detector' && (d.statistic.startsWith('cat_') || d.statistic.startsWith('dq_')));
    expect(inputs.filter((d) => d.statistic === 'cat_js').map((d) => d.feature).sort()).toEqual([...Array(19).fill('channel'), ...Array(19).fill('country')]);
    expect(inputs.filter((d) => d.detected)).toEqual([]);
    expect(inputs.filter((d) => d.statistic === 'dq_missing_rate').every((d) => d.value === 0)).toBe(true);

    const promotions = readJsonl<{ model: string; decision: string; at: number }>(s.files.promotions);
    expect(promotions.some((p) => p.model === 'fraud-detector' && p.decision === 'promote' && p.at > DEMO_CHANGE)).toBe(true);
    expect(promotions.filter((p) => p.model === 'churn-predictor')).toEqual([]);
    expect(existsSync(s.files.snapshots)).toBe(true);

    // The report (report.html) shows each fraud role's total-window curves, confusion matrix, the drift
    // table and the challengers' standardised coefficients, from charts.jsonl and snapshots.jsonl.
    const html = readFileSync(s.files.report, 'utf8');
    const charts = readJsonl<ChartRow>(s.files.charts);
    const fraud = (chart: string) => charts.filter((c) => c.model === 'fraud-detector' && c.chart === chart);
    expect(fraud('score_curve').map((c) => `${c.role} ${c.model_version}`).sort()).toEqual(['challenger fraud-detector/ftrl', 'challenger fraud-detector/logreg', 'champion v7']);
    for (const c of fraud('score_curve')) {
      const points = c.values.length / 3;
      expect(points).toBeGreaterThan(50);
      expect(points).toBeLessThanOrEqual(101);
      // Its last point counts every labelled example: the confusion matrix's total.
      const confusion = fraud('confusion').find((m) => m.model_version === c.model_version)!;
      expect(c.values[2 * points - 1]! + c.values[3 * points - 1]!).toBe(confusion.values.reduce((a, b) => a + b, 0));
      const auc = metrics.find((m) => m.model === 'fraud-detector' && m.role === c.role && m.model_version === c.model_version && m.window === 'total' && m.segment === '*' && m.metric === 'roc_auc')!;
      expect(html).toContain(`data-role="${c.role}" data-version="${c.model_version}" data-metric="roc_auc">${auc.value!.toFixed(3)}</b>`);
    }
    for (const chart of ['roc', 'pr', 'reliability']) expect(html).toMatch(new RegExp(`<svg class="xy"[^>]*data-model="fraud-detector" data-chart="${chart}" data-lines="3">`));
    expect(html.match(/<table class="confusion" data-role="\w+" data-version="[^"]+">/g)!.length).toBeGreaterThanOrEqual(5);
    // The drift table: amount alarms on PSI (the change), country and channel show their category shares.
    expect(html).toMatch(/<tr data-feature="amount" class="alarm">[\s\S]*?data-statistic="psi" data-value="[\d.]+" data-threshold="0.2" data-detected="true"/);
    for (const feature of ['country', 'channel']) expect(html).toMatch(new RegExp(`<tr data-feature="${feature}">[\\s\\S]*?data-model="fraud-detector" data-feature="${feature}" data-chart="category_counts"`));
    expect(fraud('numeric_histogram').map((c) => c.subject).sort()).toEqual(['account_age_days', 'amount', 'txn_per_day']);
    // Feature importance: the logreg challenger's standardised coefficients of its latest snapshot, over its snapshots.
    const snapshots = readJsonl<{ model: string; challenger: string; importance: Array<{ feature: string; coefficient: number }> | null }>(s.files.snapshots);
    const logreg = snapshots.filter((x) => x.model === 'fraud-detector' && x.challenger === 'logreg');
    const latest = logreg[logreg.length - 1]!.importance!;
    expect(latest.map((i) => i.feature).sort()).toEqual(['account_age_days', 'amount', 'txn_per_day']);
    const table = html.match(/<table class="importance" data-challenger="logreg">[\s\S]*?<\/table>/)![0];
    expect([...table.matchAll(/<tr data-feature="(\w+)" data-coefficient="([-\d.e]+)">/g)].map((m) => [m[1], Number(m[2])])).toEqual(latest.map((i) => [i.feature, i.coefficient]));
    expect(snapshots.filter((x) => x.challenger === 'ftrl').every((x) => x.importance === null)).toBe(true);
  }, 120_000);
});
