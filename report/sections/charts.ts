/**
 * The metric charts of a model: one per metric, a line per series (and its
 * estimated line, dashed, where the metric is estimated), with the markers
 * and the windows whose labels are still arriving shaded.
 */
import { estimateSeries } from '../estimates.js';
import { figure } from '../html.js';
import type { ModelData } from '../input.js';
import type { chooseWindows, Figures, SeriesKey } from '../series.js';
import { lineChart, type LineChart, type Marker, type Series } from '../svg.js';

export const BINARY_CHARTS = ['precision', 'recall', 'f1', 'accuracy', 'log_loss', 'roc_auc'] as const;
export const REGRESSION_CHARTS = ['mae', 'rmse', 'r2'] as const;
export const MULTICLASS_CHARTS = ['accuracy', 'macro_f1', 'weighted_f1', 'log_loss', 'brier', 'cohen_kappa'] as const;

interface MetricInfo {
  title: string;
  axis: string;
  digits: number;
  lo?: number;
  hi?: number;
  bounds?: [number, number];
}

const SHARE: Pick<MetricInfo, 'digits' | 'bounds'> = { digits: 2, bounds: [0, 1] };
const METRICS: Record<string, MetricInfo> = {
  precision: { title: 'Precision', axis: 'precision (TP / predicted positive)', ...SHARE },
  recall: { title: 'Recall', axis: 'recall (TP / positive)', ...SHARE },
  f1: { title: 'F1', axis: 'F1', ...SHARE },
  accuracy: { title: 'Accuracy', axis: 'accuracy ((TP + TN) / n)', ...SHARE },
  log_loss: { title: 'Log loss (lower is better)', axis: 'log loss (nats per example)', digits: 3, lo: 0 },
  roc_auc: { title: 'ROC AUC', axis: 'ROC AUC', ...SHARE },
  mae: { title: 'MAE (lower is better)', axis: 'mean absolute error (label units)', digits: 3, lo: 0 },
  rmse: { title: 'RMSE (lower is better)', axis: 'root mean squared error (label units)', digits: 3, lo: 0 },
  r2: { title: 'R²', axis: 'R² (1 is perfect)', digits: 3, bounds: [Number.NEGATIVE_INFINITY, 1] },
  macro_f1: { title: 'Macro F1', axis: 'F1 averaged over the classes', ...SHARE },
  weighted_f1: { title: 'Weighted F1', axis: 'F1 averaged by class support', ...SHARE },
  brier: { title: 'Brier score (lower is better)', axis: 'Brier (sum over the classes, 0 to 2)', digits: 3, lo: 0 },
  cohen_kappa: { title: "Cohen's kappa", axis: 'kappa (1 is perfect)', digits: 2, bounds: [-1, 1] },
};

/** A multi-class model's accuracy is the share of right classes (the binary axis names TP and TN). */
const MULTICLASS_METRICS: Record<string, MetricInfo> = {
  accuracy: { title: 'Accuracy', axis: 'accuracy (right class / n)', ...SHARE },
  log_loss: { title: 'Log loss (lower is better)', axis: 'multi-class log loss (nats per example)', digits: 3, lo: 0 },
};

const chartsOf = (m: ModelData) => (m.kind === 'regression' ? REGRESSION_CHARTS : m.kind === 'multiclass' ? MULTICLASS_CHARTS : BINARY_CHARTS);

export function metricCharts(
  m: ModelData, figures: Figures, keys: SeriesKey[], windows: ReturnType<typeof chooseWindows>, domain: [number, number], markers: Marker[], shade: LineChart['shade'],
): string {
  return chartsOf(m)
    .map((metric) => {
      const info = (m.kind === 'multiclass' ? MULTICLASS_METRICS[metric] : undefined) ?? METRICS[metric]!;
      const series: Series[] = keys.map((k) => ({
        label: k.label,
        color: k.color,
        attrs: { role: k.role, version: k.version },
        lines: windows.map((w) => ({ window: w.window, style: w.style, points: figures.series(k.role, k.version, w.window, metric) })),
      }));
      for (const k of keys) {
        const estimate = estimateSeries(figures, k, windows, metric);
        if (estimate) series.push(estimate);
      }
      const chart = lineChart({
        attrs: { model: m.model, metric },
        title: `${m.model}: ${info.title}`,
        domain,
        y: { label: info.axis, format: (v) => v.toFixed(info.digits), ...(info.lo === undefined ? {} : { lo: info.lo }), ...(info.hi === undefined ? {} : { hi: info.hi }), ...(info.bounds ? { bounds: info.bounds } : {}) },
        series,
        markers,
        empty: 'no labelled examples',
        ...(shade ? { shade } : {}),
      });
      return figure(chart, info.title);
    })
    .join('\n');
}
