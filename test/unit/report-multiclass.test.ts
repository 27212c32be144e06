/**
 * The report on a multi-class model (issue 16): its charts are the class
 * figures (no precision/recall/ROC AUC of a positive class), its totals table
 * the accuracy, F1 averages, log loss, Brier, kappa, rejections and the
 * numeric head's MAE/RMSE, its total window the per-class figures in the
 * model's class order and the confusion matrix with its rates; the binary
 * curves are not drawn; fairness by segment shows the class figures; the
 * feature importance says why a multi-class challenger has none.
 */
import { describe, expect, it } from 'vitest';
import type { ChartRow, MetricPoint } from '../../core/evaluate/index.js';
import { renderReport, type ReportInput } from '../../report/index.js';

const T0 = Date.UTC(2025, 5, 2);
const CLASSES = ['spike', 'drift', '<outage>'];

const point = (metric: string, value: number | null, extra: Partial<MetricPoint> = {}): MetricPoint => ({
  model: 'anomaly', model_version: 'a1', role: 'champion', segment: '*', window: 'total', window_start: 0, window_end: T0, metric, value, count: 10, ...extra,
});

/**
 * Ten examples, true (row) × predicted (column): spike 3 1 0 / drift 0 2 1 / <outage> 1 0 2.
 * Accuracy 7/10; precision spike 3/4, drift 2/3, <outage> 2/3; recall 3/4, 2/3, 2/3.
 */
const CONFUSION: ChartRow = {
  model: 'anomaly', model_version: 'a1', role: 'champion', segment: '*', window: 'total', window_start: 0, window_end: T0,
  chart: 'confusion', subject: '', labels: CLASSES, series: CLASSES, values: [3, 1, 0, 0, 2, 1, 1, 0, 2], n: 10,
};

function input(): ReportInput {
  const perClass = [[3, 0.75, 0.75], [3, 2 / 3, 2 / 3], [3, 2 / 3, 2 / 3]] as const;
  // Figures in an order other than the classes' (the table follows the matrix's order).
  const classPoints = [2, 0, 1].flatMap((i) => [
    point(`support[${CLASSES[i]}]`, i === 0 ? 4 : perClass[i]![0]), point(`precision[${CLASSES[i]}]`, perClass[i]![1]), point(`recall[${CLASSES[i]}]`, perClass[i]![2]), point(`f1[${CLASSES[i]}]`, perClass[i]![1]),
  ]);
  return {
    summary: { predictions_read: 10, feedback_read: 10, labelled: 10, corrections: 0, duplicates_ignored: 0, uncertain: 0, unmatched: 0, expired_unlabelled: 0, pending_at_end: 0, dead_letters: 0, by_model: {} },
    points: [
      point('count', 10), point('accuracy', 0.7), point('macro_f1', 0.6944444444444445), point('weighted_f1', 0.7), point('micro_f1', 0.7), point('log_loss', 0.81234),
      point('brier', 0.4321), point('top_k_accuracy', 1), point('cohen_kappa', 0.55), point('rejected', 2), point('severity_mae', 0.75), point('severity_rmse', 1.25),
      ...classPoints,
      point('accuracy', 0.6, { window: '1h', window_start: T0 - 3_600_000 }), point('macro_f1', 0.5, { window: '1h', window_start: T0 - 3_600_000 }),
      point('count', 10, { segment: 'region=eu' }), point('accuracy', 0.7, { segment: 'region=eu' }), point('macro_f1', 0.6944444444444445, { segment: 'region=eu' }),
    ],
    drift: [],
    feedback: [],
    decisions: [],
    charts: [CONFUSION],
    snapshots: [{ model: 'anomaly', version: 'anomaly/softmax@1', challenger: 'softmax', algorithm: 'softmax_regression', training_count: 100, created_at: T0, importance: null }],
    kinds: new Map([['anomaly', 'multiclass']]),
  };
}

const text = (html: string) => html.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ');

describe('report: a multi-class model', () => {
  const html = renderReport(input());

  it('charts the class figures over time, not the binary ones', () => {
    const charted = [...html.matchAll(/data-model="anomaly" data-metric="(\w+)"/g)].map((m) => m[1]);
    // The figures' charts, then the labels section's.
    expect([...new Set(charted)]).toEqual(['accuracy', 'macro_f1', 'weighted_f1', 'log_loss', 'brier', 'cohen_kappa', 'label_delay', 'label_coverage']);
    expect(html).toContain('accuracy (right class / n)');
  });

  it("totals: the class figures, rejections and the numeric head's MAE and RMSE", () => {
    const totals = text(html.match(/<table class="totals">[\s\S]*?<\/table>/)![0]);
    expect(totals).toContain("model n accuracy macro F1 weighted F1 micro F1 log loss Brier top-k accuracy Cohen's kappa rejections severity MAE severity RMSE");
    expect(totals).toContain('champion a1 10 0.700 0.694 0.700 0.700 0.812 0.432 1.000 0.550 2 0.750 1.250');
  });

  it('the total window: per-class figures in the classes\' order and the confusion matrix with its rates; no binary curves', () => {
    const perClass = text(html.match(/<table class="per-class">[\s\S]*?<\/table>/)![0]);
    expect(perClass).toBe(' class support precision recall F1 spike 4 0.750 0.750 0.750 drift 3 0.667 0.667 0.667 &lt;outage&gt; 3 0.667 0.667 0.667 ');
    const matrix = html.match(/<table class="confusion" data-role="champion" data-version="a1">[\s\S]*?<\/table>/)![0];
    expect([...matrix.matchAll(/data-true="([^"]+)" data-predicted="([^"]+)" data-count="(\d+)"/g)].map((m) => `${m[1]}>${m[2]}:${m[3]}`)).toEqual([
      'spike>spike:3', 'spike>drift:1', 'spike>&lt;outage&gt;:0', 'drift>spike:0', 'drift>drift:2', 'drift>&lt;outage&gt;:1', '&lt;outage&gt;>spike:1', '&lt;outage&gt;>drift:0', '&lt;outage&gt;>&lt;outage&gt;:2',
    ]);
    expect(text(matrix)).toContain('spike 3 75.0% 1 25.0% 0 0.0% 4');
    expect(html).toContain('Total window: per-class figures and confusion matrices');
    expect(html).not.toContain('data-chart="roc"');
    expect(html).not.toContain('ROC AUC');
  });

  it('fairness by segment shows the class figures; the importance says why a multi-class challenger has none', () => {
    expect(text(html.match(/<table class="fairness">[\s\S]*?<\/table>/)![0])).toBe(" segment n accuracy macro F1 log loss Cohen's kappa region=eu 10 0.700 0.694 – – ");
    expect(html).toContain('Standardised coefficients are computed for binary and regression challengers only');
  });
});
