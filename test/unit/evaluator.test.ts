/**
 * The evaluator core on hand-computed streams: windows by prediction time,
 * corrections, segments and fairness, shadow roles, sliding windows, label
 * coverage and delay, drift, and the property the exactly-once design rests
 * on: the final figures do not depend on how the stream was cut into drains.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_EVALUATOR_OPTIONS, Evaluator, shadowRole, type EvaluatorOptions, type MetricPoint } from '../../core/evaluate/index.js';
import { psi, histogram, quantileEdges } from '../../core/drift/index.js';
import { type LabelledExample, noExampleClasses, type ReplacedLabel } from '../../core/events.js';
import { seededRandom as mulberry32 } from '../support/random.js';

const HOUR = 3_600_000;
const T0 = 1_763_942_400_000; // 2025-11-24T00:00:00Z, a day start

let ids = 0;
function example(overrides: Partial<LabelledExample> = {}): LabelledExample {
  const id = `e-${++ids}`;
  const timestamp = overrides.timestamp ?? T0;
  const delay = overrides.label_delay_ms ?? 60_000;
  return {
    ...noExampleClasses(),
    example_id: id,
    prediction_id: `p-${id}`,
    model: 'm',
    model_version: 'v1',
    timestamp,
    features: {},
    categorical: {},
    segments: {},
    score: 0.5,
    threshold: 0.5,
    label: 1,
    feedback_type: 'USER_CONFIRMED',
    source: 'u1',
    feedback_timestamp: timestamp + delay,
    label_delay_ms: delay,
    correction_of: null,
    shadow_scores: {},
    replaces: null, arrival: false,
    ...overrides,
  };
}

/** What a joiner's correction of `x` carries: the label x was counted with. */
function replacedOf(x: LabelledExample): ReplacedLabel {
  return { label_class: null, rejected_class: null, labels: null, label: x.label!, feedback_type: x.feedback_type!, source: x.source, feedback_timestamp: x.feedback_timestamp! };
}

const noDrift: Partial<EvaluatorOptions> = { drift: { ...DEFAULT_EVALUATOR_OPTIONS.drift, referenceSize: 0, windowSize: 1, bins: 10, psiThreshold: 0.2, ksAlpha: 0.01, detectors: false, detectorOrder: 'arrival' } };

/** The last value per point key, as a store that keeps the latest row per key would hold. */
function latest(points: MetricPoint[]): Map<string, MetricPoint> {
  const out = new Map<string, MetricPoint>();
  for (const p of points) out.set([p.model, p.model_version, p.role, p.segment, p.window, p.window_start, p.metric].join('|'), p);
  return out;
}

function value(points: Map<string, MetricPoint>, where: { role?: string; version?: string; segment?: string; window?: string; start?: number; metric: string }): number | null | undefined {
  const key = ['m', where.version ?? 'v1', where.role ?? 'champion', where.segment ?? '*', where.window ?? 'total', where.start ?? 0, where.metric].join('|');
  return points.get(key)?.value;
}

/** 3,000 examples over 30 hours with corrections, expired predictions, a segment, a feature and shadow scores, in label order. */
function cutStream(): LabelledExample[] {
  const random = mulberry32(7);
  const stream: LabelledExample[] = [];
  for (let i = 0; i < 3000; i++) {
    const timestamp = T0 + Math.floor(random() * 30 * HOUR);
    const x = example({
      timestamp,
      score: random(),
      label: random() < 0.3 ? 1 : 0,
      segments: { region: random() < 0.5 ? 'eu' : 'us' },
      features: { amount: random() * 100 },
      shadow_scores: { 'm/lr@1': random(), 'previous:v0': random() },
      feedback_timestamp: timestamp + Math.floor(random() * 10 * HOUR),
    });
    stream.push(x);
    if (i % 10 === 9) stream.push({ ...x, example_id: `${x.example_id}-fix`, label: 1 - x.label!, correction_of: x.example_id, feedback_type: 'EXPERT_REVIEW', replaces: replacedOf(x) });
    if (i % 17 === 0) stream.push({ ...x, example_id: `${x.example_id}-exp`, prediction_id: `${x.prediction_id}-exp`, label: null, feedback_timestamp: null, label_delay_ms: null });
  }
  stream.sort((a, b) => (a.feedback_timestamp ?? a.timestamp + 7 * 24 * HOUR) - (b.feedback_timestamp ?? b.timestamp + 7 * 24 * HOUR));
  return stream;
}

const CUT_OPTIONS: Partial<EvaluatorOptions> = { rollingSize: 200, rollingEmitEvery: 50, fairnessAttributes: ['region'], drift: { ...DEFAULT_EVALUATOR_OPTIONS.drift, referenceSize: 500, windowSize: 500, bins: 10, psiThreshold: 0.2, ksAlpha: 0.01, detectors: true, detectorOrder: 'arrival' } };

describe('evaluator', () => {
  it('total and hourly windows by prediction time, with the null rule', () => {
    const e = new Evaluator(noDrift);
    // Hour 0: (1, 0.9) tp, (0, 0.8) fp, (1, 0.3) fn. Hour 1: (0, 0.2) tn, labelled much later.
    e.onExample(example({ label: 1, score: 0.9 }));
    e.onExample(example({ label: 0, score: 0.8, timestamp: T0 + 10 }));
    e.onExample(example({ label: 1, score: 0.3, timestamp: T0 + 20 }));
    e.onExample(example({ label: 0, score: 0.2, timestamp: T0 + HOUR + 5, label_delay_ms: 5 * HOUR }));
    const p = latest(e.drain().points);
    expect(value(p, { metric: 'count' })).toBe(4);
    expect(value(p, { metric: 'precision' })).toBe(1 / 2);
    expect(value(p, { metric: 'recall' })).toBe(1 / 2);
    expect(value(p, { metric: 'accuracy' })).toBe(2 / 4);
    expect(value(p, { window: '1h', start: T0, metric: 'count' })).toBe(3);
    expect(value(p, { window: '1h', start: T0, metric: 'specificity' })).toBe(0);
    expect(value(p, { window: '1h', start: T0 + HOUR, metric: 'count' })).toBe(1);
    // One negative, no predicted positive: precision and recall have zero denominators.
    expect(value(p, { window: '1h', start: T0 + HOUR, metric: 'precision' })).toBeNull();
    expect(value(p, { window: '1h', start: T0 + HOUR, metric: 'recall' })).toBeNull();
    expect(value(p, { window: '1d', start: T0, metric: 'count' })).toBe(4);
    const hour = [...p.values()].find((x) => x.window === '1h' && x.window_start === T0)!;
    expect(hour.window_end).toBe(T0 + HOUR);
  });

  it('a correction reverts the old label everywhere: the figures equal those of the corrected stream', () => {
    const first = example({ label: 1, score: 0.7, segments: { region: 'eu' }, feedback_type: 'USER_CONFIRMED', source: 'alice' });
    const other = example({ label: 0, score: 0.6, segments: { region: 'us' }, timestamp: T0 + 5 });
    const correction = {
      ...first,
      example_id: 'fix-1',
      label: 0,
      feedback_type: 'EXPERT_REVIEW' as const,
      source: 'bob',
      feedback_timestamp: first.feedback_timestamp! + HOUR,
      label_delay_ms: first.label_delay_ms! + HOUR,
      correction_of: first.example_id,
      replaces: replacedOf(first),
    };
    const corrected = new Evaluator(noDrift);
    for (const x of [first, other, correction]) corrected.onExample(x);
    const out = corrected.drain();
    const direct = new Evaluator(noDrift);
    for (const x of [{ ...first, label: 0 }, other]) direct.onExample(x);
    const a = latest(out.points);
    const b = latest(direct.drain().points);
    for (const metric of ['count', 'tp', 'fp', 'tn', 'fn', 'accuracy', 'log_loss', 'brier', 'roc_auc', 'ece', 'labelled', 'label_delay_p50']) {
      for (const segment of ['*', 'region=eu', 'region=us']) {
        for (const [window, start] of [['total', 0], ['1h', T0], ['1d', T0]] as const) {
          expect(value(a, { metric, segment, window, start }), `${metric} ${segment} ${window}`).toEqual(value(b, { metric, segment, window, start }));
        }
      }
    }
    // Labelled counts first labels only: the correction changed a label, not the coverage.
    expect(value(a, { metric: 'labelled' })).toBe(2);
    const stats = new Map(out.feedback.map((s) => [`${s.feedback_type}/${s.source}`, s]));
    expect(stats.get('USER_CONFIRMED/alice')).toMatchObject({ labels: 1, corrections: 0, overturned: 1, overturned_by_expert: 1 });
    expect(stats.get('EXPERT_REVIEW/bob')).toMatchObject({ labels: 0, corrections: 1, overturned: 0 });
  });

  it('a correction without `replaces` (an older joiner) or replacing a label never counted here is an orphan: nothing is reverted', () => {
    const first = example({ label: 1, score: 0.7 });
    const fix = { ...first, example_id: 'fix-1', label: 0, feedback_type: 'EXPERT_REVIEW' as const, correction_of: first.example_id };
    const e = new Evaluator(noDrift);
    e.onExample(first);
    // Claims to replace a label 0 with score 0.7 (a false positive) that was never counted: reverting it would make fp -1.
    e.onExample({ ...fix, replaces: { ...replacedOf(first), label: 0 } });
    e.onExample({ ...fix, example_id: 'fix-2', replaces: null });
    const p = latest(e.drain().points);
    expect(value(p, { metric: 'count' })).toBe(3);
    expect(value(p, { metric: 'tp' })).toBe(1);
    expect(value(p, { metric: 'fp' })).toBe(2);
    expect(e.health().m).toMatchObject({ orphan_corrections: 2 });
  });

  it('no example is remembered: a correction past the horizon is an orphan, as when examples were remembered and freed', () => {
    const options = { ...noDrift, joinWindowMs: HOUR, graceMs: 0 };
    const first = example({ label: 1, score: 0.7 });
    const e = new Evaluator(options);
    e.onExample(first);
    // A later example moves the model's event time past the first one's horizon.
    e.onExample(example({ timestamp: T0 + 240 * HOUR, label: 0, score: 0.1 }));
    e.onExample({ ...first, example_id: 'fix', label: 0, correction_of: first.example_id, feedback_timestamp: T0 + 240 * HOUR, replaces: replacedOf(first) });
    expect(e.health().m).toMatchObject({ orphan_corrections: 1 });
    expect(value(latest(e.drain().points), { metric: 'tp' })).toBe(1);
  });

  it('the final figures do not depend on where the stream was cut (drain at random cuts vs once)', () => {
    const stream = cutStream();
    const options = CUT_OPTIONS;
    const often = new Evaluator(options);
    const once = new Evaluator(options);
    const oftenRows = { points: [] as MetricPoint[], drift: [] as unknown[], feedback: [] as unknown[] };
    const cut = mulberry32(99);
    for (const x of stream) {
      often.onExample(x);
      // Cut at random places (as consumer batches would), about every 20 examples.
      if (cut() > 0.05 && x !== stream[stream.length - 1]) continue;
      const out = often.drain();
      oftenRows.points.push(...out.points);
      oftenRows.drift.push(...out.drift);
      oftenRows.feedback.push(...out.feedback);
    }
    for (const x of stream) once.onExample(x);
    const onceOut = once.drain();
    expect(latest(oftenRows.points)).toEqual(latest(onceOut.points));
    expect(oftenRows.drift).toEqual(onceOut.drift);
    const lastStat = (rows: any[]) => new Map(rows.map((s) => [`${s.day}|${s.feedback_type}|${s.source}`, s]));
    expect(lastStat(oftenRows.feedback)).toEqual(lastStat(onceOut.feedback));
    expect(latest(onceOut.points).size).toBeGreaterThan(1000);
  });

  it('restore() and discard() leave the state that onExample() and drain() leave (a rebuild relies on it)', () => {
    const stream = cutStream();
    const half = Math.floor(stream.length / 2);
    const live = new Evaluator(CUT_OPTIONS);
    const rebuilt = new Evaluator(CUT_OPTIONS);
    const cut = mulberry32(5);
    for (const x of stream.slice(0, half)) {
      live.onExample(x);
      rebuilt.restore(x);
      if (cut() < 0.05) rebuilt.discard();
    }
    const written = live.drain();
    rebuilt.discard();
    for (const x of stream.slice(half)) {
      live.onExample(x);
      rebuilt.onExample(x);
    }
    const a = live.finish();
    const b = rebuilt.finish();
    expect(b).toEqual(a);
    expect(written.points.some((p) => p.window.startsWith('last_'))).toBe(true);
    expect(a.points.length).toBeGreaterThan(1000);
    expect(a.drift.length).toBeGreaterThan(0);
  });

  it('shadow scores become challenger (per challenger, across snapshots) and previous roles', () => {
    expect(shadowRole('fraud/lr@12')).toEqual({ role: 'challenger', version: 'fraud/lr' });
    expect(shadowRole('previous:v6')).toEqual({ role: 'previous', version: 'v6' });
    const e = new Evaluator(noDrift);
    e.onExample(example({ label: 1, score: 0.9, shadow_scores: { 'm/lr@1': 0.2, 'previous:v0': 0.6 } }));
    e.onExample(example({ label: 1, score: 0.9, shadow_scores: { 'm/lr@2': 0.8 } }));
    const p = latest(e.drain().points);
    expect(value(p, { role: 'challenger', version: 'm/lr', metric: 'count' })).toBe(2);
    expect(value(p, { role: 'challenger', version: 'm/lr', metric: 'recall' })).toBe(1 / 2);
    expect(value(p, { role: 'previous', version: 'v0', metric: 'recall' })).toBe(1);
    // Coverage and delay belong to the champion (the served prediction) only.
    expect(value(p, { role: 'challenger', version: 'm/lr', metric: 'labelled' })).toBeUndefined();
  });

  it('label coverage and delay quantiles', () => {
    const e = new Evaluator(noDrift);
    for (const delay of [1000, 2000, 3000]) e.onExample(example({ label_delay_ms: delay }));
    e.onExample(example({ label: null, feedback_type: null, feedback_timestamp: null, label_delay_ms: null }));
    const p = latest(e.drain().points);
    expect(value(p, { metric: 'labelled' })).toBe(3);
    expect(value(p, { metric: 'expired' })).toBe(1);
    expect(value(p, { metric: 'label_coverage' })).toBe(3 / 4);
    expect(Math.abs(value(p, { metric: 'label_delay_p50' })! - 2000)).toBeLessThanOrEqual(20);
    expect(Math.abs(value(p, { metric: 'label_delay_p95' })! - 3000)).toBeLessThanOrEqual(30);
  });

  it('fairness gaps across an attribute, with the smallest group', () => {
    const e = new Evaluator({ ...noDrift, fairnessAttributes: ['group'] });
    // Group a: 4 examples, 3 predicted positive, positives 2 of which 2 caught (TPR 1).
    for (const [label, score] of [[1, 0.9], [1, 0.8], [0, 0.7], [0, 0.1]]) e.onExample(example({ label, score, segments: { group: 'a' } }));
    // Group b: 2 examples, 1 predicted positive, positives 2 of which 1 caught (TPR 0.5).
    for (const [label, score] of [[1, 0.9], [1, 0.2]]) e.onExample(example({ label, score, segments: { group: 'b' } }));
    const p = latest(e.drain().points);
    expect(value(p, { segment: 'group=*', metric: 'demographic_parity_difference' })).toBeCloseTo(3 / 4 - 1 / 2, 15);
    expect(value(p, { segment: 'group=*', metric: 'equal_opportunity_difference' })).toBe(0.5);
    expect(value(p, { segment: 'group=*', metric: 'smallest_group_count' })).toBe(2);
    expect(value(p, { segment: 'group=a', metric: 'count' })).toBe(4);
  });

  it('sliding count window: the last N in label order, a correction inside it replaced', () => {
    const e = new Evaluator({ ...noDrift, rollingSize: 3, rollingEmitEvery: 1 });
    const xs = [1, 1, 0, 0, 0].map((label, i) => example({ label, score: 0.9, feedback_timestamp: T0 + i }));
    for (const x of xs) e.onExample(x);
    let points = e.drain().points.filter((x) => x.window === 'last_3' && x.segment === '*');
    const last = latest(points);
    expect(value(last, { window: 'last_3', start: T0 + 2, metric: 'fp' })).toBe(3);
    expect(value(last, { window: 'last_3', start: T0 + 2, metric: 'count' })).toBe(3);
    // Correct the newest: it leaves the window and its correction enters as the newest.
    e.onExample({ ...xs[4]!, example_id: 'fix', label: 1, correction_of: xs[4]!.example_id, feedback_timestamp: T0 + 10, replaces: replacedOf(xs[4]!) });
    points = e.drain().points.filter((x) => x.window === 'last_3' && x.segment === '*');
    const after = latest(points);
    expect(value(after, { window: 'last_3', start: T0 + 2, metric: 'tp' })).toBe(1);
    expect(value(after, { window: 'last_3', start: T0 + 2, metric: 'fp' })).toBe(2);
    expect([...after.values()][0]!.window_end).toBe(T0 + 10);
  });

  it('a tumbling window closes after the join window plus grace; later examples for it are late, not applied', () => {
    const e = new Evaluator({ ...noDrift, joinWindowMs: HOUR, graceMs: 0 });
    e.onExample(example({ timestamp: T0, label: 1, score: 0.9 }));
    // Event time moves 3 hours on: hour 0 closed (end T0+1h, + join window 1h < T0+3h).
    e.onExample(example({ timestamp: T0 + 3 * HOUR, feedback_timestamp: T0 + 3 * HOUR }));
    e.onExample(example({ timestamp: T0 + 5, label: 0, score: 0.9, feedback_timestamp: T0 + 3 * HOUR }));
    const p = latest(e.drain().points);
    expect(value(p, { window: '1h', start: T0, metric: 'count' })).toBe(1);
    expect(value(p, { metric: 'count' })).toBe(3);
    expect(e.health().m!.late).toBe(1);
  });

  it('PSI and KS per feature against the first N examples; a shifted feature is detected, a stationary one is not', () => {
    const random = mulberry32(3);
    const e = new Evaluator({ drift: { ...DEFAULT_EVALUATOR_OPTIONS.drift, referenceSize: 1000, windowSize: 1000, bins: 10, psiThreshold: 0.2, ksAlpha: 0.01, detectors: false, detectorOrder: 'arrival' } });
    const reference: number[] = [];
    const current: number[] = [];
    for (let i = 0; i < 2000; i++) {
      const stable = random();
      const shifting = i < 1000 ? random() : 0.3 + random();
      if (i < 1000) reference.push(shifting);
      else current.push(shifting);
      e.onExample(example({ features: { stable, shifting } }));
    }
    const drift = e.drain().drift.filter((d) => d.role === '*');
    const of = (feature: string, statistic: string) => drift.find((d) => d.feature === feature && d.statistic === statistic)!;
    const edges = quantileEdges(reference, 10);
    expect(of('shifting', 'psi').value).toBeCloseTo(psi(histogram(edges, reference), histogram(edges, current))!, 12);
    expect(of('shifting', 'psi').detected).toBe(true);
    expect(of('shifting', 'ks').detected).toBe(true);
    expect(of('stable', 'psi').detected).toBe(false);
    expect(of('stable', 'ks').detected).toBe(false);
    expect(of('shifting', 'psi')).toMatchObject({ model: 'm', window: 'last_1000', n: 2000 });
  });

  it('error-stream detectors fire after a concept change', () => {
    const random = mulberry32(11);
    const e = new Evaluator({ drift: { ...DEFAULT_EVALUATOR_OPTIONS.drift, referenceSize: 0, windowSize: 1, bins: 10, psiThreshold: 0.2, ksAlpha: 0.01, detectors: true, detectorOrder: 'arrival' } });
    for (let i = 0; i < 4000; i++) {
      const label = random() < 0.5 ? 1 : 0;
      const wrong = random() < (i < 2000 ? 0.1 : 0.5);
      e.onExample(example({ label, score: (label === 1) !== wrong ? 0.9 : 0.1 }));
    }
    const fired = e.drain().drift.filter((d) => d.detected && d.feature === 'error');
    for (const statistic of ['adwin', 'page_hinkley', 'ddm']) {
      const first = fired.find((d) => d.statistic === statistic && d.n > 2000);
      expect(first, statistic).toBeDefined();
      expect(first!.n - 2000, statistic).toBeLessThan(1000);
    }
  });
});
