/**
 * `feedbackloop demo`: the seeded synthetic world through the replay. The
 * fraud model's concept changes at the midpoint: drift is detected after it,
 * a challenger is promoted after it, the estimated F1 parts from the realised
 * one and loses its trust; the stationary churn model keeps its champion.
 * The multi-class anomaly-type (reviewers correct its type and severity on
 * one feedback) changes concept at the midpoint too: its softmax challenger
 * is promoted after it, and the report shows its class figures.
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
  it('generates the three models, detects the change, promotes a fraud and an anomaly-type challenger after it and keeps the churn champion', async () => {
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

    // anomaly-type: 4,000 predictions, 3,609 labelled (681 of them a rejection without the right type), 640 corrections
    // (an automatic rule's wrong type, corrected with the type and the severity by an expert).
    expect(s.by_model['anomaly-type']).toEqual({ predictions: 4000, labelled: 3609, corrections: 640, expired_labelled: 3228, expired_unlabelled: 354 });
    const anomaly = (role: string, metric: string) => metrics.find((m) => m.model === 'anomaly-type' && m.role === role && m.window === 'total' && m.segment === '*' && m.metric === metric)?.value;
    expect(['count', 'accuracy', 'macro_f1', 'log_loss', 'cohen_kappa', 'rejected', 'severity_count', 'severity_mae'].map((m) => anomaly('champion', m))).toEqual([
      3609, 0.41895261845386533, 0.4570624346594932, 1.2908559616910456, 0.27124863053102444, 681, 2448, 0.7888480392156857,
    ]);
    expect(['count', 'accuracy', 'macro_f1', 'log_loss'].map((m) => anomaly('challenger', m))).toEqual([3094, 0.5966386554621849, 0.6193120477028221, 0.8564512322108633]);
    // The champion's matrix (row: true type): its diagonal over all labelled (a rejection is never right) is the accuracy.
    const matrix = charts.find((c) => c.model === 'anomaly-type' && c.chart === 'confusion' && c.role === 'champion')!;
    expect([matrix.labels, matrix.values]).toEqual([['spike', 'drift', 'outage'], [605, 149, 245, 350, 554, 115, 144, 413, 353]]);
    expect((605 + 554 + 353) / 3609).toBe(anomaly('champion', 'accuracy'));
    // The change is at 2025-06-04T00:00Z: the softmax challenger is promoted 3 h 37 min after it, on multi-class log loss.
    const anomalyDecisions = readJsonl<{ model: string; decision: string; to_version: string; at: number; n: number; statistic: number }>(s.files.promotions).filter((p) => p.model === 'anomaly-type');
    expect(anomalyDecisions.map((d) => `${d.decision} ${d.to_version} at ${new Date(d.at).toISOString()}, n ${d.n}, statistic ${d.statistic}`)).toEqual([
      'promote anomaly-type/softmax@51 at 2025-06-04T03:37:11.649Z, n 1971, statistic 0.04170864269284571',
    ]);
    expect(result.report).toContain('  promote: a2 → anomaly-type/softmax@51 at 2025-06-04T03:37Z (n 1971)');
    expect(result.report).toContain('    champion, total                  3609   0.419   0.457   0.459   1.291   0.690   0.271   0.789\n');
    // The report: its class figures over time, per-class F1 and both confusion matrices; no ROC curve for it.
    const section = html.match(/<section class="model" id="model-\d" data-model="anomaly-type">[\s\S]*?<\/section>/)![0];
    for (const metric of ['accuracy', 'macro_f1', 'log_loss', 'cohen_kappa']) expect(section).toContain(`data-model="anomaly-type" data-metric="${metric}"`);
    expect(section.match(/<table class="per-class">/g)).toHaveLength(2);
    expect(section).toMatch(/<table class="confusion" data-role="champion" data-version="a2">/);
    expect(section).toMatch(/<table class="confusion" data-role="challenger" data-version="anomaly-type\/softmax">/);
    expect(section).not.toContain('data-chart="roc"');
  }, 120_000);
});
