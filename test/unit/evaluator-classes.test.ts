/**
 * The evaluator's multi-class and multi-label models (issue 16): a
 * multi-label stream with a correction by hand, the checkpoint round trip of
 * a multi-class stream (and its refusal under other classes or another
 * numeric head), arrival records, the decided class's drift as `__class__`
 * and the error detectors on a multi-class error stream. Figures against
 * scikit-learn: test/integration/evaluator-multiclass.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { decodeEvaluatorState, encodeEvaluatorState } from '../../adapters/state/evaluator-checkpoint.js';
import { DEFAULT_EVALUATOR_OPTIONS, Evaluator, type EvaluatorOptions, type EvaluatorOutput, type MetricPoint } from '../../core/evaluate/index.js';
import { noExampleClasses, type LabelledExample } from '../../core/events.js';
import { CLASSES, multiclassExamples, T0 } from '../support/class-examples.js';

const MULTICLASS: Partial<EvaluatorOptions> = {
  kindOf: () => 'multiclass',
  classesOf: () => CLASSES,
  numericTargetOf: () => 'severity',
  windows: [{ name: '1h', ms: 3_600_000 }],
  rollingSize: 40,
  rollingEmitEvery: 7,
  joinWindowMs: 3_600_000,
  drift: { ...DEFAULT_EVALUATOR_OPTIONS.drift, referenceSize: 50, windowSize: 50, detectorOrder: 'arrival' },
};

function totals(points: MetricPoint[], role = 'champion'): Map<string, number | null> {
  const out = new Map<string, number | null>();
  for (const p of points) if (p.role === role && p.window === 'total' && p.segment === '*') out.set(p.metric, p.value);
  return out;
}

function run(evaluator: Evaluator, examples: LabelledExample[]): EvaluatorOutput[] {
  const out: EvaluatorOutput[] = [];
  examples.forEach((e, i) => {
    evaluator.onExample(e);
    if (i % 23 === 22) out.push(evaluator.drain());
  });
  out.push(evaluator.finish());
  return out;
}

describe('a multi-label model', () => {
  const labels = ['a', 'b', 'c'];
  const options: Partial<EvaluatorOptions> = { kindOf: () => 'multilabel', classesOf: () => labels, windows: [], rollingSize: 0, drift: { ...DEFAULT_EVALUATOR_OPTIONS.drift, referenceSize: 0, detectors: false } };
  const example = (i: number, scores: number[], predicted: string[], truth: string[], extra: Partial<LabelledExample> = {}): LabelledExample => ({
    example_id: `${i}#1`, prediction_id: String(i), model: 'pii', model_version: 'v1', timestamp: T0 + i * 1000, features: {}, categorical: {}, segments: {},
    score: 0, threshold: 0.5, label: null, feedback_type: 'EXPERT_REVIEW', source: null, feedback_timestamp: T0 + i * 1000 + 10, label_delay_ms: 10,
    correction_of: null, replaces: null, arrival: false, shadow_scores: {}, ...noExampleClasses(),
    class_scores: { a: scores[0]!, b: scores[1]!, c: scores[2]! }, predicted_labels: predicted, labels: truth, ...extra,
  });

  it('counts its labels per label, and a correction of the set reverts the old one (hand-computed)', () => {
    const evaluator = new Evaluator(options);
    evaluator.onExample(example(1, [0.9, 0.2, 0.1], ['a'], ['a']));
    evaluator.onExample(example(2, [0.8, 0.4, 0.3], ['a'], ['a', 'b']));
    evaluator.onExample(example(3, [0.1, 0.3, 0.7], ['c'], []));
    evaluator.onExample(example(4, [0.2, 0.6, 0.6], ['b', 'c'], ['b', 'c']));
    evaluator.onExample(example(4, [0.2, 0.6, 0.6], ['b', 'c'], ['b'], {
      example_id: '4#2', correction_of: '4#1', feedback_timestamp: T0 + 5000,
      replaces: { label: null, feedback_type: 'EXPERT_REVIEW', source: null, feedback_timestamp: T0 + 4010, label_class: null, rejected_class: null, labels: ['b', 'c'] },
    }));
    const t = totals(evaluator.finish().points);
    expect(t.get('count')).toBe(4);
    expect(t.get('subset_accuracy')).toBe(0.25);
    expect(t.get('hamming_loss')).toBe(0.25);
    expect(t.get('jaccard')).toBe(0.5);
    expect([t.get('f1[a]'), t.get('f1[b]'), t.get('f1[c]')]).toEqual([1, 2 / 3, 0]);
    expect([t.get('precision[c]'), t.get('recall[c]'), t.get('support[a]'), t.get('support[b]'), t.get('support[c]')]).toEqual([0, null, 2, 2, 0]);
    expect([t.get('micro_precision'), t.get('micro_recall')]).toEqual([0.6, 0.75]);
    expect(t.get('macro_f1')).toBeCloseTo(5 / 9, 15);
    expect([...t.keys()].some((k) => k.startsWith('confusion['))).toBe(false);
    expect(evaluator.health().pii!.orphan_corrections).toBe(0);
  });
});

describe('a multi-class model', () => {
  const { examples } = multiclassExamples(300, 7);

  it('restores from its checkpoint: the restored evaluator goes on exactly as the uninterrupted one', () => {
    const original = new Evaluator(MULTICLASS);
    run(original, examples.slice(0, 170));
    const bytes = encodeEvaluatorState(original);
    const restored = decodeEvaluatorState(bytes, MULTICLASS);
    const rest = run(restored, examples.slice(170));
    expect(rest).toEqual(run(original, examples.slice(170)));
    expect(rest.flatMap((o) => o.points).some((p) => p.metric === 'confusion[spike|drift]')).toBe(true);
    expect(() => decodeEvaluatorState(bytes, { ...MULTICLASS, classesOf: () => ['spike', 'drift', 'outage', 'noise'] })).toThrowError(/classes/);
    expect(() => decodeEvaluatorState(bytes, { ...MULTICLASS, numericTargetOf: () => null })).toThrowError(/numeric_target/);
    expect(() => decodeEvaluatorState(bytes, { ...MULTICLASS, kindOf: () => 'multilabel' })).toThrowError(/model task/);
  });

  it('counts predictions and pending from arrival records, no estimate', () => {
    const evaluator = new Evaluator({ ...MULTICLASS, arrivals: true });
    const arrival = (e: LabelledExample): LabelledExample => ({ ...e, arrival: true, example_id: `${e.prediction_id}#0`, label: null, label_class: null, rejected_class: null, feedback_type: null, feedback_timestamp: null, label_delay_ms: null });
    for (const e of examples.slice(0, 20)) if (e.correction_of === null) evaluator.onExample(arrival(e));
    const labelled = examples.slice(0, 20).filter((e) => e.correction_of === null);
    for (const e of labelled.slice(0, 5)) evaluator.onExample(e);
    const t = totals(evaluator.finish().points);
    expect(t.get('predictions')).toBe(labelled.length);
    expect(t.get('pending')).toBe(labelled.length - 5);
    expect([...t.keys()].some((k) => k.startsWith('estimate'))).toBe(false);
  });

  it('follows the decided class shares as the categorical feature __class__, and the champion score', () => {
    const evaluator = new Evaluator(MULTICLASS);
    const drift = run(evaluator, examples).flatMap((o) => o.drift);
    expect(drift.filter((d) => d.feature === '__class__').map((d) => d.statistic)).toContain('cat_js');
    // No score drift for the shadow roles (no numeric head there); the champion's severity score is followed.
    expect(new Set(drift.filter((d) => d.feature === 'score').map((d) => d.role))).toEqual(new Set(['champion']));
  });

  it("alarms on the champion's error stream (decided class ≠ true class) after the concept change, not before", () => {
    const n = 2000;
    const change = T0 + (n / 2) * 60_000;
    const evaluator = new Evaluator({ ...MULTICLASS, drift: { ...MULTICLASS.drift!, detectorOrder: 'matured' } });
    const alarms = run(evaluator, multiclassExamples(n, 7).examples).flatMap((o) => o.drift).filter((d) => d.feature === 'error' && d.role === 'champion');
    expect(alarms.map((a) => a.statistic).sort()).toEqual(['adwin', 'ddm', 'page_hinkley']);
    // The change at T0 + 16h40; the first alarm (ADWIN's) for the 1h window from T0 + 20h.
    expect(alarms.every((a) => a.window_start >= change)).toBe(true);
    expect(Math.min(...alarms.map((a) => a.window_start))).toBe(T0 + 20 * 3_600_000);
  });
});
