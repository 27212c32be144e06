/**
 * Our metrics against scikit-learn on fixed, seeded streams: every figure
 * within 1e-9. bench/reference/metrics_reference.py (binary, regression) and
 * class_metrics_reference.py (multi-class, multi-label) compute the reference
 * in a Python venv (.venv, created by scripts/python-env.sh with
 * scikit-learn from PyPI).
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  BinaryMetrics,
  MulticlassMetrics,
  MultilabelMetrics,
  RegressionMetrics,
  Rolling,
  type BinaryObservation,
  type MulticlassObservation,
  type MultilabelObservation,
  type RegressionObservation,
} from '../../core/metrics/index.js';
import { multiclassStream, multilabelStream } from '../support/class-streams.js';
import { seededRandom } from '../support/random.js';

const ROOT = join(import.meta.dirname, '..', '..');
const PYTHON = join(ROOT, '.venv', 'bin', 'python');

function binaryStream(seed: number, n: number): BinaryObservation[] {
  const random = seededRandom(seed);
  return Array.from({ length: n }, () => {
    const score = Math.round(random() * 100) / 100; // two decimals: many ties
    const label = random() < 0.15 + 0.7 * score ? 1 : 0;
    return { label, score, threshold: random() < 0.8 ? 0.5 : 0.3 };
  });
}

function regressionStream(seed: number, n: number): RegressionObservation[] {
  const random = seededRandom(seed);
  return Array.from({ length: n }, () => {
    const label = 5 + random() * 40;
    return { label, score: label + (random() - 0.5) * 8 };
  });
}

function reference(input: unknown, script = 'metrics_reference.py'): Record<string, Record<string, number | null>> {
  const out = execFileSync(PYTHON, [join(ROOT, 'bench/reference', script)], { input: JSON.stringify(input), maxBuffer: 64 << 20 });
  return JSON.parse(out.toString('utf8'));
}

type Reference = Record<string, Record<string, number | null | (number | null)[]>>;

/** The multi-class and multi-label references (class_metrics_reference.py): observations as JSON, typed arrays as lists. */
function classReference(input: { multiclass?: Record<string, { classes: number; top_k: number; rows: MulticlassObservation[] }>; multilabel?: Record<string, { labels: number; rows: MultilabelObservation[] }> }): Reference {
  const rows = (list: MultilabelObservation[]) => list.map((o) => ({ ...o, labels: Array.from(o.labels), predicted: Array.from(o.predicted) }));
  const multilabel = Object.fromEntries(Object.entries(input.multilabel ?? {}).map(([name, spec]) => [name, { ...spec, rows: rows(spec.rows) }]));
  return reference({ multiclass: input.multiclass ?? {}, multilabel }, 'class_metrics_reference.py') as unknown as Reference;
}

/** Every key of `keys` within 1e-9 of the reference, element by element for per-class arrays; null only where the reference is null. */
function expectCloseAll(ours: object, theirs: Record<string, number | null | (number | null)[]>, keys: readonly string[]) {
  for (const key of keys) {
    const a = (ours as Record<string, unknown>)[key];
    const b = theirs[key];
    expect(b, `${key} in the reference`).toBeDefined();
    const xs = (Array.isArray(a) || ArrayBuffer.isView(a) ? Array.from(a as ArrayLike<number | null>) : [a]) as (number | null)[];
    const ys = Array.isArray(b) ? b : [b!];
    expect(xs.length, key).toBe(ys.length);
    xs.forEach((x, i) => {
      const y = ys[i]!;
      if (x === null || y === null) expect({ key, i, value: x }).toEqual({ key, i, value: y });
      else expect(Math.abs(x - y), `${key}[${i}]: ours ${x}, scikit-learn ${y}`).toBeLessThanOrEqual(1e-9);
    });
  }
}

function expectClose(ours: Record<string, unknown>, theirs: Record<string, number | null>, keys: string[]) {
  for (const key of keys) {
    const a = ours[key] as number | null;
    const b = theirs[key]!;
    if (a === null || b === null) {
      expect({ key, value: a }).toEqual({ key, value: b });
      continue;
    }
    expect(Math.abs(a - b), `${key}: ours ${a}, scikit-learn ${b}`).toBeLessThanOrEqual(1e-9);
  }
}

const BINARY_KEYS = ['count', 'tp', 'fp', 'tn', 'fn', 'accuracy', 'precision', 'recall', 'f1', 'specificity', 'fpr', 'fnr', 'mcc', 'log_loss', 'brier', 'roc_auc', 'pr_auc', 'ece'];
const REGRESSION_KEYS = ['count', 'mae', 'rmse', 'r2', 'mape'];
const AVERAGE_KEYS = ['precision', 'recall', 'f1', 'support', ...['macro', 'micro', 'weighted'].flatMap((a) => [`${a}_precision`, `${a}_recall`, `${a}_f1`])];
const MULTICLASS_KEYS = ['count', 'rejected', 'accuracy', ...AVERAGE_KEYS, 'log_loss', 'brier', 'top_k_accuracy', 'cohen_kappa'];
const MULTILABEL_KEYS = ['count', ...AVERAGE_KEYS, 'samples_precision', 'samples_recall', 'samples_f1', 'hamming_loss', 'subset_accuracy', 'jaccard', 'log_loss'];

function multiclassMetrics(classes: number, topK: number, stream: readonly MulticlassObservation[]): MulticlassMetrics {
  const m = new MulticlassMetrics(Array.from({ length: classes }, (_, i) => `class ${i}`), { topK });
  for (const o of stream) m.update(o);
  return m;
}

function multilabelMetrics(labels: number, stream: readonly MultilabelObservation[]): MultilabelMetrics {
  const m = new MultilabelMetrics(Array.from({ length: labels }, (_, i) => `label ${i}`));
  for (const o of stream) m.update(o);
  return m;
}

/** Our multi-class figures and matrix against the reference's. */
function expectMulticlass(m: MulticlassMetrics, ref: Reference[string]) {
  expectCloseAll(m.get(), ref, MULTICLASS_KEYS);
  const { counts, rejected } = m.confusion();
  expectCloseAll({ confusion: counts, rejections: rejected }, ref, ['confusion', 'rejections']);
}

describe('metrics against scikit-learn', () => {
  beforeAll(() => {
    execFileSync('bash', [join(ROOT, 'scripts/python-env.sh')], { stdio: 'inherit' });
  }, 600_000);

  it('binary: every figure over a 2,000-example stream with tied scores and two thresholds', () => {
    const stream = binaryStream(1, 2000);
    const ours = new BinaryMetrics(10);
    for (const o of stream) ours.update(o);
    const ref = reference({ binary: { all: stream }, bins: 10 });
    expectClose(ours.get() as unknown as Record<string, unknown>, ref.all!, BINARY_KEYS);
    // This stream has scores of exactly 0 and 1 with the wrong label: there the clip decides, and ours
    // (1e-15, as our definition says) differs from sklearn.metrics.log_loss's (machine epsilon) on purpose.
    expect(stream.some((o) => (o.score === 0 && o.label === 1) || (o.score === 1 && o.label === 0))).toBe(true);
  });

  it('binary: log loss equals sklearn.metrics.log_loss itself where no clip applies', () => {
    const stream = binaryStream(5, 2000).map((o) => ({ ...o, score: Math.min(0.99, Math.max(0.01, o.score)) }));
    const ours = new BinaryMetrics(10);
    for (const o of stream) ours.update(o);
    const ref = reference({ binary: { all: stream }, bins: 10 });
    expect(Math.abs(ours.get().log_loss! - ref.all!.log_loss_sklearn!)).toBeLessThanOrEqual(1e-9);
  });

  it('binary: corrections reverted and re-applied give the figures of the final labels', () => {
    const stream = binaryStream(2, 1500);
    const random = seededRandom(99);
    const ours = new BinaryMetrics(10);
    const final: BinaryObservation[] = [];
    for (const o of stream) {
      if (random() < 0.1) {
        // First a wrong label, later corrected: revert the old contribution, add the new one.
        const wrong = { ...o, label: 1 - o.label };
        ours.update(wrong);
        ours.revert(wrong);
      }
      ours.update(o);
      final.push(o);
    }
    const ref = reference({ binary: { final }, bins: 10 });
    expectClose(ours.get() as unknown as Record<string, unknown>, ref.final!, BINARY_KEYS);
  });

  it('binary: a sliding window of the last 1,000 equals the reference over those 1,000', () => {
    const stream = binaryStream(3, 3456);
    const rolling = new Rolling(new BinaryMetrics(10), 1000);
    for (const o of stream) rolling.update(o);
    const ref = reference({ binary: { last: stream.slice(-1000) }, bins: 10 });
    expect(rolling.count()).toBe(1000);
    expectClose(rolling.get() as unknown as Record<string, unknown>, ref.last!, BINARY_KEYS);
  });

  it('regression: MAE, RMSE, R² and MAPE, in total and over a sliding window of 500', () => {
    const stream = regressionStream(4, 2000);
    const total = new RegressionMetrics();
    const rolling = new Rolling(new RegressionMetrics(), 500);
    for (const o of stream) {
      total.update(o);
      rolling.update(o);
    }
    const ref = reference({ regression: { total: stream, last: stream.slice(-500) } });
    expectClose(total.get() as unknown as Record<string, unknown>, ref.total!, REGRESSION_KEYS);
    expectClose(rolling.get() as unknown as Record<string, unknown>, ref.last!, REGRESSION_KEYS);
  });

  it('regression: R² of 200,000 labels around 1e5 within 1e-9 relative of r2_score, in total, with corrections reverted, and over a sliding window of 50,000', () => {
    const random = seededRandom(6);
    const stream: RegressionObservation[] = Array.from({ length: 200_000 }, () => {
      const label = 1e5 + random() * 10;
      return { label, score: label + (random() - 0.5) * 6 };
    });
    const total = new RegressionMetrics();
    const corrected = new RegressionMetrics();
    const rolling = new Rolling(new RegressionMetrics(), 50_000);
    for (const o of stream) {
      total.update(o);
      rolling.update(o);
      if (random() < 0.1) {
        const wrong = { ...o, label: o.label + 3 };
        corrected.update(wrong);
        corrected.revert(wrong);
      }
      corrected.update(o);
    }
    const ref = reference({ regression: { total: stream, last: stream.slice(-50_000) } });
    const relative = (ours: number | null, theirs: number) => Math.abs(ours! - theirs) / Math.abs(theirs);
    // The uncentred formula this replaced, for scale: Σy² − (Σy)²/n cancels.
    const sum = stream.reduce((s, o) => s + o.label, 0);
    const naiveTotalSquares = stream.reduce((s, o) => s + o.label * o.label, 0) - (sum * sum) / stream.length;
    const sse = stream.reduce((s, o) => s + (o.score - o.label) ** 2, 0);
    console.log(`R² at 1e5: r2_score ${ref.total!.r2}; centred off by ${relative(total.get().r2, ref.total!.r2!)}, Σy² − (Σy)²/n off by ${relative(1 - sse / naiveTotalSquares, ref.total!.r2!)}`);
    expect(relative(total.get().r2, ref.total!.r2!)).toBeLessThanOrEqual(1e-9);
    expect(relative(corrected.get().r2, ref.total!.r2!)).toBeLessThanOrEqual(1e-9);
    expect(relative(rolling.get().r2, ref.last!.r2!)).toBeLessThanOrEqual(1e-9);
  });

  it('multi-class: every figure over 3 and 7 classes, a class never decided, one never true, rejections; two halves merged', () => {
    const three = multiclassStream(11, 2400, 3, { neverPredicted: 1, rejectRate: 0.15 });
    const seven = multiclassStream(12, 3000, 7, { neverTrue: 5, neverPredicted: 6, rejectRate: 0.1 });
    const ref = classReference({ multiclass: { three: { classes: 3, top_k: 2, rows: three }, seven: { classes: 7, top_k: 3, rows: seven } } });
    const ours3 = multiclassMetrics(3, 2, three);
    const ours7 = multiclassMetrics(7, 3, seven);
    expectMulticlass(ours3, ref.three!);
    expectMulticlass(ours7, ref.seven!);
    const merged = multiclassMetrics(7, 3, seven.slice(0, 1234));
    merged.merge(multiclassMetrics(7, 3, seven.slice(1234)));
    expectMulticlass(merged, ref.seven!);
    // The streams reach what they are here for: zero divisions, the log-loss clip, top-k ties, rejections.
    const f = ours7.get();
    expect([f.precision[6], f.recall[5], f.support[5]]).toEqual([null, null, 0]);
    expect(ours3.get().precision[1]).toBeNull();
    expect(seven.some((o) => o.label >= 0 && o.probabilities[o.label] === 0)).toBe(true);
    expect(three.some((o) => o.label >= 0 && o.probabilities[(o.label + 1) % 3] === o.probabilities[o.label])).toBe(true);
    expect(f.rejected).toBe(47);
  });

  it('multi-class: weights, 7 classes', () => {
    const stream = multiclassStream(13, 2000, 7, { neverTrue: 0, neverPredicted: 3, rejectRate: 0.1, weighted: true });
    const ref = classReference({ multiclass: { weighted: { classes: 7, top_k: 2, rows: stream } } });
    expectMulticlass(multiclassMetrics(7, 2, stream), ref.weighted!);
  });

  it('multi-class: update all, revert a subset = the figures of the rest', () => {
    const stream = multiclassStream(14, 3000, 3, { rejectRate: 0.1, weighted: true });
    const random = seededRandom(15);
    const gone = stream.map(() => random() < 0.3);
    const ours = multiclassMetrics(3, 2, stream);
    stream.forEach((o, i) => gone[i] && ours.revert(o));
    const rest = stream.filter((_, i) => !gone[i]);
    const ref = classReference({ multiclass: { rest: { classes: 3, top_k: 2, rows: rest } } });
    expectMulticlass(ours, ref.rest!);
  });

  it('multi-label: every figure over 3 and 7 labels, a label never true, one never decided; weights; two halves merged', () => {
    const three = multilabelStream(21, 2400, 3, { neverPredicted: 2 });
    const seven = multilabelStream(22, 3000, 7, { neverTrue: 1, neverPredicted: 4 });
    const weighted = multilabelStream(23, 2000, 7, { neverTrue: 6, weighted: true });
    const ref = classReference({ multilabel: { three: { labels: 3, rows: three }, seven: { labels: 7, rows: seven }, weighted: { labels: 7, rows: weighted } } });
    expectCloseAll(multilabelMetrics(3, three).get(), ref.three!, MULTILABEL_KEYS);
    const ours7 = multilabelMetrics(7, seven);
    expectCloseAll(ours7.get(), ref.seven!, MULTILABEL_KEYS);
    expectCloseAll(multilabelMetrics(7, weighted).get(), ref.weighted!, MULTILABEL_KEYS);
    const merged = multilabelMetrics(7, seven.slice(0, 1500));
    merged.merge(multilabelMetrics(7, seven.slice(1500)));
    expectCloseAll(merged.get(), ref.seven!, MULTILABEL_KEYS);
    const f = ours7.get();
    expect([f.precision[4], f.recall[1], f.support[1]]).toEqual([null, null, 0]);
    // Examples with no decided label (no sample precision) and with both sets empty (jaccard 1).
    expect(seven.some((o) => o.predicted.every((d) => d === 0) && o.labels.every((t) => t === 0))).toBe(true);
    // A label that applies at probability 0 and one that does not at probability 1: the log-loss clip decides.
    expect(seven.some((o) => o.labels.some((t, l) => o.probabilities[l] === 1 - t))).toBe(true);
  });

  it('multi-label: update all, revert a subset = the figures of the rest', () => {
    const stream = multilabelStream(24, 3000, 7, { neverTrue: 2, weighted: true });
    const random = seededRandom(25);
    const gone = stream.map(() => random() < 0.3);
    const ours = multilabelMetrics(7, stream);
    stream.forEach((o, i) => gone[i] && ours.revert(o));
    const ref = classReference({ multilabel: { rest: { labels: 7, rows: stream.filter((_, i) => !gone[i]) } } });
    expectCloseAll(ours.get(), ref.rest!, MULTILABEL_KEYS);
  });
});
