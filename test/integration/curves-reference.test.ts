/**
 * The report's curves against scikit-learn on seeded streams: every point
 * of our bounded ROC and precision–recall curves (core/metrics/curve.ts) is
 * the point of scikit-learn's full curve (roc_curve with
 * drop_intermediate=False, precision_recall_curve) at the same threshold,
 * within 1e-9; the reliability bins are calibration_curve's. Through the
 * evaluator too: the chart rows of a stream with corrections are the curves
 * of the final labels. bench/reference/curves_reference.py computes the
 * reference in the Python venv (.venv, scripts/python-env.sh).
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Evaluator, type ChartRow } from '../../core/evaluate/index.js';
import { BinaryMetrics, MAX_CURVE_POINTS, scoreCurve, type BinaryObservation, type ScoreCurve } from '../../core/metrics/index.js';
import { labelledStream } from '../support/labelled.js';
import { seededRandom } from '../support/random.js';

const ROOT = join(import.meta.dirname, '..', '..');
const PYTHON = join(ROOT, '.venv', 'bin', 'python');

interface Spec {
  labels: number[];
  scores: number[];
  weights?: number[] | null;
  bins?: number;
}
interface Reference {
  roc: { fpr: number[]; tpr: number[]; thresholds: Array<number | null> };
  pr: { precision: number[]; recall: number[]; thresholds: number[] };
  calibration: { prob_true: number[]; prob_pred: number[]; counts: number[] };
}

function reference(specs: Record<string, Spec>): Record<string, Reference> {
  const out = execFileSync(PYTHON, [join(ROOT, 'bench/reference/curves_reference.py')], { input: JSON.stringify(specs), maxBuffer: 64 << 20 });
  return JSON.parse(out.toString('utf8'));
}

function stream(seed: number, n: number, round: boolean): BinaryObservation[] {
  const random = seededRandom(seed);
  return Array.from({ length: n }, () => {
    const raw = random();
    const score = round ? Math.round(raw * 100) / 100 : raw;
    return { label: random() < 0.1 + 0.8 * score ? 1 : 0, score, threshold: 0.5 };
  });
}

const close = (a: number, b: number, what: string) => expect(Math.abs(a - b), `${what}: ours ${a}, scikit-learn ${b}`).toBeLessThanOrEqual(1e-9);

/**
 * Every point of ours is scikit-learn's at the lowest of its thresholds at or above ours
 * (our threshold itself for exact scores; in binned mode the bin's lower edge, where
 * the lowest score of the bin is scikit-learn's threshold). Returns how many points.
 */
function expectOnCurve(curve: ScoreCurve, ref: Reference, name: string): number {
  const n = curve.thresholds.length;
  expect(n, `${name}: points`).toBeGreaterThan(0);
  expect(n).toBeLessThanOrEqual(MAX_CURVE_POINTS);
  const roc = ref.roc.thresholds;
  for (let i = 0; i < n; i++) {
    const t = curve.thresholds[i]!;
    if (i > 0) expect(t, `${name}: descending`).toBeLessThan(curve.thresholds[i - 1]!);
    // roc thresholds descend (the first is +inf): the last at or above t.
    let r = -1;
    for (let k = 0; k < roc.length; k++) if (roc[k] === null || roc[k]! >= t) r = k;
    const tpr = curve.tp[i]! / curve.positives;
    const fpr = curve.fp[i]! / curve.negatives;
    close(fpr, ref.roc.fpr[r]!, `${name} fpr at ${t}`);
    close(tpr, ref.roc.tpr[r]!, `${name} tpr at ${t}`);
    // pr thresholds ascend: the first at or above t.
    const p = ref.pr.thresholds.findIndex((x) => x >= t);
    close(curve.tp[i]! / (curve.tp[i]! + curve.fp[i]!), ref.pr.precision[p]!, `${name} precision at ${t}`);
    close(tpr, ref.pr.recall[p]!, `${name} recall at ${t}`);
  }
  // The last point predicts every example positive.
  close(curve.tp[n - 1]!, curve.positives, `${name} last tp`);
  close(curve.fp[n - 1]!, curve.negatives, `${name} last fp`);
  return n;
}

function metricsOf(observations: BinaryObservation[], options = {}): BinaryMetrics {
  const metrics = new BinaryMetrics(10, options);
  for (const o of observations) metrics.update(o);
  return metrics;
}

const specOf = (observations: BinaryObservation[]): Spec => ({
  labels: observations.map((o) => o.label), scores: observations.map((o) => o.score), weights: observations.map((o) => o.weight ?? 1),
});

describe('report curves against scikit-learn', () => {
  it('exact and binned scores, ties, weights and reverts: every point on scikit-learn\'s curves, at most 101, spread along them', () => {
    const ties = stream(11, 5000, true);
    const continuous = stream(12, 4000, false);
    // Weighted, and 500 observations reverted and added back with the other label (corrections).
    const weighted = stream(13, 3000, false).map((o, i) => ({ ...o, weight: 1 + (i % 3) }));
    const corrected = metricsOf(weighted);
    for (let i = 0; i < 3000; i += 6) {
      corrected.revert(weighted[i]!);
      weighted[i] = { ...weighted[i]!, label: 1 - weighted[i]!.label };
      corrected.update(weighted[i]!);
    }
    const refs = reference({ ties: specOf(ties), continuous: specOf(continuous), weighted: specOf(weighted) });

    // 101 distinct scores (0.00 … 1.00): the whole curve, point for point.
    const full = scoreCurve(metricsOf(ties).scoreTable());
    expect(expectOnCurve(full, refs.ties!, 'ties')).toBe(101);
    expect(full.thresholds).toEqual(refs.ties!.roc.thresholds.slice(1));

    const bounded = scoreCurve(metricsOf(continuous).scoreTable());
    const points = expectOnCurve(bounded, refs.continuous!, 'continuous');
    console.log(`continuous scores: ${continuous.length} distinct, ${points} curve points kept`);
    expect(points).toBeGreaterThanOrEqual(90);
    // Spread: no step of TPR + FPR between kept points above 2/100 plus one example's share.
    const step = (i: number) => bounded.tp[i]! / bounded.positives + bounded.fp[i]! / bounded.negatives - (i === 0 ? 0 : bounded.tp[i - 1]! / bounded.positives + bounded.fp[i - 1]! / bounded.negatives);
    for (let i = 0; i < points; i++) expect(step(i)).toBeLessThanOrEqual(0.02 + 1 / bounded.negatives + 1 / bounded.positives);

    expectOnCurve(scoreCurve(corrected.scoreTable()), refs.weighted!, 'weighted and corrected');

    // Binned mode (past 200 distinct scores, 1,000 bins): thresholds at the bins' lower edges, still exact there.
    const binned = metricsOf(continuous, { maxDistinctScores: 200, scoreBins: 1000 });
    expect(binned.approximate).toBe(true);
    const curve = scoreCurve(binned.scoreTable());
    for (const t of curve.thresholds) expect(Math.round(t * 1000)).toBeCloseTo(t * 1000, 9);
    expectOnCurve(curve, refs.continuous!, 'binned');
  });

  it('reliability bins: calibration_curve\'s fraction of positives and mean predicted probability, with the bins\' counts', () => {
    const continuous = stream(21, 6000, false);
    const ref = reference({ c: specOf(continuous) }).c!;
    const bins = metricsOf(continuous).reliability().filter((b) => b.count > 0);
    expect(bins.map((b) => b.count)).toEqual(ref.calibration.counts);
    bins.forEach((b, i) => {
      close(b.mean_score!, ref.calibration.prob_pred[i]!, `bin ${i} mean score`);
      close(b.fraction_positive!, ref.calibration.prob_true[i]!, `bin ${i} fraction positive`);
    });
  });

  it('through the evaluator: the chart rows of a stream with corrections are the curves and confusion matrix of the final labels', () => {
    const examples = labelledStream(6000, 5);
    const evaluator = new Evaluator();
    const charts: ChartRow[] = [];
    examples.forEach((e, i) => {
      evaluator.onExample(e);
      if (i % 700 === 0) for (const c of evaluator.drain().charts) charts.push(c);
    });
    for (const c of evaluator.finish().charts) charts.push(c);
    // The latest row per chart, as charts.jsonl and ClickHouse keep.
    const latest = new Map<string, ChartRow>();
    for (const c of charts) latest.set(JSON.stringify([c.model, c.role, c.model_version, c.chart, c.subject]), c);
    // The final label of each fraud prediction (a correction replaces the first).
    const final = new Map<string, (typeof examples)[number]>();
    for (const e of examples) if (e.model === 'fraud' && e.label !== null) final.set(e.prediction_id, e);
    const finals = [...final.values()];
    const champion = finals.map((e) => ({ label: e.label!, score: e.score, threshold: e.threshold }));
    const challenger = finals.map((e) => ({ label: e.label!, score: Object.values(e.shadow_scores)[0]!, threshold: e.threshold }));
    const refs = reference({ champion: specOf(champion), challenger: specOf(challenger) });
    const curveOf = (role: string, version: string): ScoreCurve => {
      const c = latest.get(JSON.stringify(['fraud', role, version, 'score_curve', '']))!;
      expect(c.series).toEqual(['threshold', 'tp', 'fp']);
      const k = c.values.length / 3;
      const tp = c.values.slice(k, 2 * k);
      const fp = c.values.slice(2 * k);
      return { thresholds: c.values.slice(0, k), tp, fp, positives: tp[k - 1]!, negatives: fp[k - 1]! };
    };
    expectOnCurve(curveOf('champion', 'v1'), refs.champion!, 'evaluator champion');
    expect(expectOnCurve(curveOf('challenger', 'fraud/lr'), refs.challenger!, 'evaluator challenger')).toBeLessThanOrEqual(101);
    const confusion = latest.get(JSON.stringify(['fraud', 'champion', 'v1', 'confusion', '']))!;
    const count = (label: number, predicted: number) => champion.filter((o) => o.label === label && (o.score >= o.threshold ? 1 : 0) === predicted).length;
    expect(confusion.values).toEqual([count(0, 0), count(0, 1), count(1, 0), count(1, 1)]);
    expect(confusion.n).toBe(finals.length);
  });
});
