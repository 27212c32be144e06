/**
 * The report's data-scientist sections on a hand-computed data set: the
 * total window's ROC and PR curves (drawn from the chart rows, their AUCs
 * the figures), the reliability diagram from the calibration bins, the
 * confusion matrix with its rates, the per-feature drift table with its
 * histograms, and the challengers' standardised coefficients over time.
 */
import { describe, expect, it } from 'vitest';
import type { ChartRow, DriftRecord, MetricPoint } from '../../core/evaluate/index.js';
import { renderReport, type ReportInput, type ReportSnapshot } from '../../report/index.js';

const T0 = Date.UTC(2025, 5, 2);
const EVIL = '<b>"x"</b>&';

const total = (metric: string, value: number | null, count = 6, role = 'champion', version = 'v1'): MetricPoint => ({
  model: 'm', model_version: version, role, segment: '*', window: 'total', window_start: 0, window_end: T0, metric, value, count,
});
const hourly = (metric: string, value: number): MetricPoint => ({ ...total(metric, value), window: '1h', window_start: T0 - 3_600_000, window_end: T0 });

/**
 * Six examples at threshold 0.5: (0.9, 1) (0.8, 0) (0.7, 1) (0.4, 0) (0.2, 1) (0.1, 0).
 * Descending thresholds: tp 1 1 2 2 3 3, fp 0 1 1 2 2 3; ROC AUC 6/9 (each positive
 * against the negatives below it: 3 + 2 + 1); confusion at 0.5: tn 2, fp 1, fn 1, tp 2.
 */
const where = { model: 'm', model_version: 'v1', role: 'champion', segment: '*', window: 'total', window_start: 0, window_end: T0 };
const CURVE: ChartRow = { ...where, chart: 'score_curve', subject: '', labels: [], series: ['threshold', 'tp', 'fp'], values: [0.9, 0.8, 0.7, 0.4, 0.2, 0.1, 1, 1, 2, 2, 3, 3, 0, 1, 1, 2, 2, 3], n: 6 };
const CONFUSION: ChartRow = { ...where, chart: 'confusion', subject: '', labels: ['0', '1'], series: ['0', '1'], values: [2, 1, 1, 2], n: 6 };
const inputs = { model: 'm', model_version: '*', role: '*', segment: '*', window: 'last_10', window_start: T0 - 1000, window_end: T0 };
const HISTOGRAM: ChartRow = { ...inputs, chart: 'numeric_histogram', subject: 'amount', labels: ['< 10', '10 – 20', '≥ 20'], series: ['reference', 'current'], values: [5, 3, 2, 1, 3, 6], n: 10 };
const CATEGORIES: ChartRow = { ...inputs, chart: 'category_counts', subject: EVIL, labels: ['DE', '(other)'], series: ['reference', 'current'], values: [8, 2, 4, 6], n: 10 };

const drift = (feature: string, statistic: string, value: number, threshold: number, detected: boolean, n: number): DriftRecord => ({
  model: 'm', model_version: '*', role: '*', feature, statistic, value, threshold, detected, window: 'last_10', window_start: T0 - 1000, window_end: T0, at: T0 - 1000 + n, n,
});

const snapshot = (version: string, challenger: string, importance: ReportSnapshot['importance']): ReportSnapshot => ({
  model: 'm', version, challenger, algorithm: challenger === 'ftrl' ? 'ftrl_logistic_regression' : 'logistic_regression', training_count: 100, created_at: T0, importance,
});

function input(): ReportInput {
  return {
    summary: { predictions_read: 6, feedback_read: 6, labelled: 6, corrections: 0, duplicates_ignored: 0, uncertain: 0, unmatched: 0, expired_unlabelled: 0, pending_at_end: 0, dead_letters: 0, by_model: {} },
    points: [
      hourly('roc_auc', 6 / 9), total('count', 6), total('roc_auc', 6 / 9), total('pr_auc', 0.7555555555555555), total('ece', 0.25),
      // Two calibration bins with examples (and one empty): bin 1 (0.1, 0.2), bin 7 (0.7, 0.8, 0.9 pooled as an example).
      total('calibration_bin_00_mean_score', null, 0), total('calibration_bin_00_fraction_positive', null, 0),
      total('calibration_bin_01_mean_score', 0.15, 2), total('calibration_bin_01_fraction_positive', 0.5, 2),
      total('calibration_bin_02_mean_score', 0.8, 3), total('calibration_bin_02_fraction_positive', 2 / 3, 3),
    ],
    drift: [
      drift('amount', 'psi', 0.05, 0.2, false, 1000), drift('amount', 'psi', 0.31, 0.2, true, 2000), drift('amount', 'ks', 0.1, 0.3, false, 2000),
      drift('amount', 'dq_missing_rate', 0.02, 0.1, false, 2000), drift(EVIL, 'cat_chi2_p', 0.0004, 0.001, true, 2000), drift(EVIL, 'cat_js', 0.05, 0.1, false, 2000),
    ],
    feedback: [],
    decisions: [],
    charts: [CURVE, CONFUSION, HISTOGRAM, CATEGORIES],
    snapshots: [
      snapshot('m/logreg@1', 'logreg', [{ feature: 'amount', coefficient: 0.5 }, { feature: 'age', coefficient: -0.2 }]),
      snapshot('m/ftrl@1', 'ftrl', null),
      snapshot('m/logreg@2', 'logreg', [{ feature: 'amount', coefficient: 0.8 }, { feature: 'age', coefficient: -0.1 }]),
    ],
  };
}

/** An svg of the page by its data-chart. */
const svgOf = (html: string, chart: string) => html.match(new RegExp(`<svg class="xy"[^>]*data-chart="${chart}"[\\s\\S]*?</svg>`))![0];

describe('the report: curves, confusion matrix, drift table and feature importance', () => {
  const html = renderReport(input());

  it('draws the ROC and PR curves from the curve points, with the reported AUCs', () => {
    // Plot: x 48..328, y 260..12. ROC vertices (0,0) (0,1/3) (1/3,1/3) (1/3,2/3) (2/3,2/3) (2/3,1) (1,1).
    const roc = svgOf(html, 'roc');
    expect(roc).toContain('d="M48 260L48 177.3L141.3 177.3L141.3 94.7L234.7 94.7L234.7 12L328 12" stroke="#1a3a8f" data-points="7" data-role="champion" data-version="v1"><title>champion v1: ROC AUC 0.667</title>');
    // PR: (recall, precision) = (1/3, 1) (1/3, 1/2) (2/3, 2/3) (2/3, 1/2) (1, 3/5) (1, 1/2); the prevalence line at 1/2.
    const pr = svgOf(html, 'pr');
    expect(pr).toContain('d="M141.3 12L141.3 136L234.7 94.7L234.7 136L328 111.2L328 136"');
    expect(pr).toContain('<title>champion v1: average precision 0.756</title>');
    expect(pr).toContain('<line class="diagonal" x1="48" x2="328" y1="136" y2="136"><title>share of positives 50.0% (a random model&#39;s precision)</title>');
    expect(html).toContain('data-metric="roc_auc">0.667</b>');
    expect(html).toContain('data-metric="pr_auc">0.756</b>');
  });

  it('draws the reliability diagram from the non-empty calibration bins, with their counts', () => {
    const reliability = svgOf(html, 'reliability');
    // (0.15, 0.5) and (0.8, 2/3).
    expect(reliability).toContain('d="M90 136L272 94.7"');
    expect(reliability).toContain('<title>champion v1, bin 2: mean score 0.150, fraction positive 0.500 (n 2)</title>');
    expect(reliability).toContain('<title>champion v1, bin 3: mean score 0.800, fraction positive 0.667 (n 3)</title>');
    expect(reliability.match(/<circle class="point"/g)).toHaveLength(2);
  });

  it('shows the confusion matrix with counts, row shares and precision', () => {
    const table = html.match(/<table class="confusion" data-role="champion" data-version="v1">[\s\S]*?<\/table>/)![0];
    expect(table).toContain('data-true="0" data-predicted="0" data-count="2">2<small>66.7%</small>');
    expect(table).toContain('data-true="0" data-predicted="1" data-count="1">1<small>33.3%</small>');
    expect(table).toContain('data-true="1" data-predicted="0" data-count="1">1<small>33.3%</small>');
    expect(table).toContain('data-true="1" data-predicted="1" data-count="2">2<small>66.7%</small>');
    expect(table).toContain('data-precision="0.6666666666666666">0.667');
  });

  it('lists each input feature with its latest statistics, thresholds, alarms in the run and reference vs current shares', () => {
    const amount = html.match(/<tr data-feature="amount"[\s\S]*?<\/tr>/)![0];
    expect(amount).toContain('class="alarm"');
    expect(amount).toContain('data-statistic="psi" data-value="0.31" data-threshold="0.2" data-detected="true">0.310<small>&gt; 0.200</small><small class="alarms">1 alarm in the run</small>');
    expect(amount).toContain('data-statistic="ks" data-value="0.1" data-threshold="0.3" data-detected="false">0.100<small>&gt; 0.300</small></td>');
    expect(amount).toContain('data-statistic="dq_missing_rate" data-value="0.02" data-threshold="0.1" data-detected="false">2.0%<small>&gt; 10.0%</small>');
    expect([...amount.matchAll(/data-series="(\w+)" data-share="([\d.]+)"/g)].map((m) => `${m[1]} ${m[2]}`)).toEqual([
      'reference 0.5', 'current 0.1', 'reference 0.3', 'current 0.3', 'reference 0.2', 'current 0.6',
    ]);
    const evil = html.match(/<tr data-feature="&lt;b&gt;&quot;x&quot;&lt;\/b&gt;&amp;"[\s\S]*?<\/tr>/)![0];
    expect(evil).toContain('data-statistic="cat_chi2_p" data-value="0.0004" data-threshold="0.001" data-detected="true">0.000<small>&lt; 0.001</small>');
    expect([...evil.matchAll(/data-series="(\w+)" data-share="([\d.]+)"/g)].map((m) => `${m[1]} ${m[2]}`)).toEqual(['reference 0.8', 'current 0.4', 'reference 0.2', 'current 0.6']);
    expect(html).not.toContain(EVIL);
  });

  it("ranks the challengers' standardised coefficients of the latest snapshot, with how they moved", () => {
    const logreg = html.match(/<table class="importance" data-challenger="logreg">[\s\S]*?<\/table>/)![0];
    expect([...logreg.matchAll(/<tr data-feature="(\w+)" data-coefficient="([-\d.]+)">/g)].map((m) => `${m[1]} ${m[2]}`)).toEqual(['amount 0.8', 'age -0.1']);
    expect(logreg).toContain('<svg class="spark" viewBox="0 0 120 24" role="img" aria-label="amount: 0.500 at the first snapshot drawn, 0.800 at the latest" data-model="m" data-challenger="logreg" data-feature="amount" data-points="2">');
    expect(html).toContain('latest snapshot m/logreg@2 after 100 examples · 2 snapshots drawn');
    expect(html).toMatch(/ftrl <span class="meta">ftrl_logistic_regression[^<]*<\/span><\/h4><p class="none">No standardised coefficients/);
  });
});
