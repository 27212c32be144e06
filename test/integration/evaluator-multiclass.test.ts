/**
 * The evaluator on a multi-class stream (issue 16): three classes, a numeric
 * head, a challenger's `<key>#<i>` shadow scores, rejections without the right
 * class, corrections between classes and of a rejection, a concept change
 * half-way. Its final `total` figures of the champion and the challenger
 * equal scikit-learn's on the final labels (class_metrics_reference.py, to
 * 1e-9), the per-class figures and confusion matrix included; the numeric
 * head's MAE and RMSE equal the hand-computed ones.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Evaluator, type ChartRow, type EvaluatorOptions, type MetricPoint } from '../../core/evaluate/index.js';
import { CHALLENGER_KEY, CLASSES, MODEL, multiclassExamples, type FinalRow } from '../support/class-examples.js';

const ROOT = join(import.meta.dirname, '..', '..');
const PYTHON = join(ROOT, '.venv', 'bin', 'python');

const OPTIONS: Partial<EvaluatorOptions> = {
  kindOf: () => 'multiclass',
  classesOf: () => CLASSES,
  numericTargetOf: () => 'severity',
  windows: [{ name: '1h', ms: 3_600_000 }],
  rollingSize: 50,
  rollingEmitEvery: 10,
  joinWindowMs: 3_600_000,
};

type Reference = Record<string, number | null | (number | null)[]>;

function sklearn(rows: Array<{ label: number; predicted: number; probabilities: number[] }>): Reference {
  const input = { multiclass: { it: { classes: CLASSES.length, top_k: 3, rows } } };
  const out = execFileSync(PYTHON, [join(ROOT, 'bench/reference/class_metrics_reference.py')], { input: JSON.stringify(input) });
  return (JSON.parse(out.toString('utf8')) as Record<string, Reference>).it!;
}

/** The last value of each metric of a role's `total` window of segment `*`. */
function totals(points: MetricPoint[], role: string): Map<string, number | null> {
  const out = new Map<string, number | null>();
  for (const p of points) if (p.role === role && p.window === 'total' && p.segment === '*') out.set(p.metric, p.value);
  return out;
}

function expectClose(ours: number | null | undefined, theirs: number | null, what: string): void {
  if (theirs === null) return expect(ours, what).toBeNull();
  expect(ours, what).not.toBeNull();
  expect(Math.abs(ours! - theirs), `${what}: ${ours} vs ${theirs}`).toBeLessThanOrEqual(1e-9);
}

function compare(ours: Map<string, number | null>, ref: Reference): void {
  for (const name of ['count', 'accuracy', 'rejected', 'macro_precision', 'macro_recall', 'macro_f1', 'micro_precision', 'micro_recall', 'micro_f1', 'weighted_precision', 'weighted_recall', 'weighted_f1', 'log_loss', 'brier', 'top_k_accuracy', 'cohen_kappa']) {
    expectClose(ours.get(name), ref[name] as number | null, name);
  }
  CLASSES.forEach((c, i) => {
    for (const name of ['precision', 'recall', 'f1', 'support']) expectClose(ours.get(`${name}[${c}]`), (ref[name] as (number | null)[])[i]!, `${name}[${c}]`);
    CLASSES.forEach((d, j) => expectClose(ours.get(`confusion[${c}|${d}]`), (ref.confusion as number[])[i * CLASSES.length + j]!, `confusion[${c}|${d}]`));
  });
}

describe('the evaluator on a multi-class stream, against scikit-learn on the final labels', () => {
  const { examples, final } = multiclassExamples(400, 16);
  const evaluator = new Evaluator(OPTIONS);
  const points: MetricPoint[] = [];
  const charts: ChartRow[] = [];
  const take = (out: { points: MetricPoint[]; charts: ChartRow[] }) => {
    for (const p of out.points) points.push(p);
    for (const c of out.charts) charts.push(c);
  };
  examples.forEach((example, i) => {
    evaluator.onExample(example);
    if (i % 37 === 0) take(evaluator.drain());
  });
  take(evaluator.finish());

  it('has rejections, corrections between classes, a corrected rejection and a concept change in its stream', () => {
    expect(examples.filter((e) => e.rejected_class !== null).length).toBe(40);
    const corrections = examples.filter((e) => e.correction_of !== null);
    expect(corrections.length).toBe(74);
    expect(corrections.filter((e) => e.replaces!.rejected_class !== null).length).toBe(23);
    // After the change no true spike: only spikes corrected in from another class.
    expect(final.slice(200).filter((r) => r.label === 0).length).toBeLessThan(final.slice(0, 200).filter((r) => r.label === 0).length / 2);
  });

  it("gives the champion's figures scikit-learn gives on the final labels", () => {
    const rows = final.map((r) => ({ label: r.label, predicted: r.champion.predicted, probabilities: r.champion.probabilities }));
    const ours = totals(points, 'champion');
    expect(ours.get('count')).toBe(400);
    const ref = sklearn(rows);
    compare(ours, ref);
    // The chart row of the champion's total window (for the report): the same matrix, row-major.
    const chart = charts.filter((c) => c.role === 'champion' && c.chart === 'confusion').at(-1)!;
    expect({ labels: chart.labels, series: chart.series, values: chart.values, n: chart.n }).toEqual({ labels: [...CLASSES], series: [...CLASSES], values: ref.confusion, n: 400 });
  });

  it("gives the challenger's figures (a rejection counted only where it decided the rejected class)", () => {
    const rows = final
      .filter((r) => r.label >= 0 || r.challenger.predicted === r.champion.predicted)
      .map((r) => ({ label: r.label, predicted: r.challenger.predicted, probabilities: r.challenger.probabilities }));
    const ours = totals(points, 'challenger');
    expect(points.some((p) => p.role === 'challenger' && p.model_version === CHALLENGER_KEY.replace(/@\d+$/, ''))).toBe(true);
    expect(ours.get('count')).toBe(rows.length);
    compare(ours, sklearn(rows));
  });

  it("gives the numeric head's figures as severity_*", () => {
    const known = final.filter((r): r is FinalRow & { severity: number } => r.severity !== null);
    const mae = known.reduce((s, r) => s + Math.abs(r.severity - r.score), 0) / known.length;
    const rmse = Math.sqrt(known.reduce((s, r) => s + (r.severity - r.score) ** 2, 0) / known.length);
    const ours = totals(points, 'champion');
    expect(ours.get('severity_count')).toBe(known.length);
    expectClose(ours.get('severity_mae'), mae, 'severity_mae');
    expectClose(ours.get('severity_rmse'), rmse, 'severity_rmse');
    expect(totals(points, 'challenger').has('severity_mae')).toBe(false);
  });

  it('writes the figures of the tumbling and sliding windows too, and the confusion matrix of total only', () => {
    const windows = new Set(points.filter((p) => p.metric === 'macro_f1').map((p) => p.window));
    expect(windows).toEqual(new Set(['total', '1h', 'last_50']));
    expect(new Set(points.filter((p) => p.metric.startsWith('confusion[')).map((p) => p.window))).toEqual(new Set(['total']));
    expect(points.filter((p) => p.model !== MODEL)).toEqual([]);
  });
});
