/**
 * Checkpoints of the whole Evaluator: a stream of labelled examples (a binary
 * and a regression model, segments, a challenger's and the previous
 * champion's shadow scores, expired examples, drift on features, three
 * tumbling windows that close along the stream) is evaluated with drains at
 * random points; after one of them the evaluator's state goes through V8
 * serialization into a restored evaluator, and both go on with the rest: every
 * drain (and the final finish) is deep-equal, numbers exact. No corrections
 * in the stream (written while their handling was changing).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeEvaluatorState, encodeEvaluatorState, UnusableCheckpointError } from '../../adapters/state/evaluator-checkpoint.js';
import { DEFAULT_EVALUATOR_OPTIONS, Evaluator, type EvaluatorOptions, type EvaluatorOutput } from '../../core/evaluate/index.js';
import { type LabelledExample, noExampleClasses } from '../../core/events.js';
import { mulberry32 } from '../../demo/random.js';
import { propertyTimeout, runs } from '../support/properties.js';
import { throughV8 } from '../support/resume.js';

const T0 = 1_763_942_400_000;
const HOUR = 3_600_000;

const OPTIONS: Partial<EvaluatorOptions> = {
  kindOf: (model) => (model === 'eta' ? 'regression' : 'binary'),
  windows: [{ name: '1h', ms: HOUR }, { name: '3h', ms: 3 * HOUR }, { name: '1d', ms: 24 * HOUR }],
  rollingSize: 15,
  rollingEmitEvery: 4,
  joinWindowMs: 2 * HOUR,
  graceMs: HOUR,
  maxSegmentValues: 3,
  fairnessAttributes: ['region'],
  aucExactLimit: 6,
  aucBins: 20,
  calibrationBins: 5,
  drift: { ...DEFAULT_EVALUATOR_OPTIONS.drift, referenceSize: 20, windowSize: 15, bins: 4, psiThreshold: 0.2, ksAlpha: 0.05, detectors: true, detectorOrder: 'arrival' },
};

/** n examples in label-arrival order over about n minutes: predictions a minute apart, labels 0 to 3 hours later, one in seven expired. */
function stream(n: number, seed: number): LabelledExample[] {
  const random = mulberry32(seed);
  const out: LabelledExample[] = [];
  for (let i = 0; i < n; i++) {
    const model = random() < 0.7 ? 'fraud' : 'eta';
    const timestamp = T0 + i * 60_000;
    const shift = i > n / 2 ? 0.3 : 0;
    const label = model === 'eta' ? Math.round(random() * 40) : random() < 0.3 + shift ? 1 : 0;
    const score = model === 'eta' ? label + (random() - 0.5) * 10 : Math.min(1, Math.max(0, (label ? 0.6 : 0.3) + (random() - 0.5) * 0.6));
    const expired = random() < 1 / 7;
    const delay = Math.floor(random() * 3 * HOUR);
    out.push({
      example_id: `${i}#1`, prediction_id: String(i), model, model_version: i < n / 3 ? 'v1' : 'v2', timestamp,
      features: { amount: random() * 100 + shift * 50, age: Math.floor(random() * 5) },
      // A categorical feature missing in every ninth record, a fifth category from half-way (data quality, categorical drift).
      categorical: i % 9 === 0 ? {} : { channel: ['web', 'app', 'shop', 'call', 'mail'][(i * 7) % (shift ? 5 : 4)]! },
      segments: { region: ['eu', 'us', 'apac', 'latam', 'mena'][Math.floor(random() * 5)]!, plan: random() < 0.5 ? 'free' : 'pro' },
      score, threshold: 0.5, label: expired ? null : label,
      feedback_type: expired ? null : random() < 0.2 ? 'EXPERT_REVIEW' : 'USER_CONFIRMED', source: expired ? null : `u${i % 3}`,
      feedback_timestamp: expired ? null : timestamp + delay, label_delay_ms: expired ? null : delay, correction_of: null, replaces: null, arrival: false,
      shadow_scores: { [`${model}/lr@${1 + (i >> 6)}`]: score * 0.9, ...(i > n / 3 ? { 'previous:v1': score * 1.1 } : {}) },
      ...noExampleClasses(),
    });
  }
  const arrival = (e: LabelledExample) => e.feedback_timestamp ?? e.timestamp + OPTIONS.joinWindowMs!;
  return out.sort((a, b) => arrival(a) - arrival(b));
}

/** The stream cut into runs that each end with a drain. */
function drains(examples: LabelledExample[], seed: number): LabelledExample[][] {
  const random = mulberry32(seed);
  const runs: LabelledExample[][] = [];
  for (let at = 0; at < examples.length; ) {
    const size = 1 + Math.floor(random() * 40);
    runs.push(examples.slice(at, at + size));
    at += size;
  }
  return runs;
}

function run(evaluator: Evaluator, examples: LabelledExample[]): EvaluatorOutput {
  for (const e of examples) evaluator.onExample(e);
  return evaluator.drain();
}

describe('checkpoints of the Evaluator', () => {
  // CPU-bound, and each seed draws streams of its own lengths: 9.9 s of the unit project's 20 s under a load of 7
  // on 2 cores (helpers in parallel); 60 s for a loaded machine.
  it('an evaluator restored after any drain writes exactly what the original writes from then on', { timeout: propertyTimeout(60_000) }, () => {
    fc.assert(
      fc.property(fc.integer({ min: 50, max: 600 }), fc.nat(), fc.nat(), fc.double({ min: 0, max: 1, noNaN: true }), (n, seed, cutSeed, where) => {
        const parts = drains(stream(n, seed), cutSeed);
        const k = Math.floor(where * parts.length);
        const original = new Evaluator(OPTIONS);
        for (const part of parts.slice(0, k)) run(original, part);
        const restored = Evaluator.fromState(throughV8(original.toState()), OPTIONS);
        expect(restored.toState()).toEqual(original.toState());
        for (const [i, part] of parts.slice(k).entries()) expect(run(restored, part), `drain ${k + i} of ${parts.length}`).toEqual(run(original, part));
        expect(restored.finish()).toEqual(original.finish());
      }),
      runs(20),
    );
  });

  it('sees every part of the state along the way: drift records, sliding-window points, closed windows, shadow roles, regression', () => {
    const evaluator = new Evaluator(OPTIONS);
    const out = run(evaluator, stream(600, 1));
    expect(out.drift.some((d) => d.feature === 'amount')).toBe(true);
    expect(out.drift.filter((d) => d.feature === 'channel').map((d) => d.statistic)).toContain('cat_chi2_p');
    expect(new Set(out.points.map((p) => p.role))).toEqual(new Set(['champion', 'challenger', 'previous']));
    expect(out.points.some((p) => p.window === 'last_15')).toBe(true);
    expect(out.points.some((p) => p.model === 'eta' && p.metric === 'rmse')).toBe(true);
    expect(out.points.some((p) => p.segment === 'region=other')).toBe(true);
    expect(evaluator.health().fraud!.late).toBeGreaterThanOrEqual(0);
  });

  it('takes a state only right after a drain', () => {
    const evaluator = new Evaluator(OPTIONS);
    evaluator.onExample(stream(1, 2)[0]!);
    expect(() => evaluator.toState()).toThrowError(/drain/);
    evaluator.discard();
    expect(() => evaluator.toState()).not.toThrow();
  });
});

describe('the evaluator checkpoint as bytes (adapters/state)', () => {
  const examples = stream(300, 3);

  it('restores what it encodes', () => {
    const original = new Evaluator(OPTIONS);
    run(original, examples.slice(0, 200));
    const restored = decodeEvaluatorState(encodeEvaluatorState(original), OPTIONS);
    expect(run(restored, examples.slice(200))).toEqual(run(original, examples.slice(200)));
  });

  it('is unusable in another format, as bytes that do not decode, or under settings it does not fit (naming the setting)', async () => {
    const { serialize } = await import('node:v8');
    const { gzipSync } = await import('node:zlib');
    const evaluator = new Evaluator(OPTIONS);
    run(evaluator, examples);
    const bytes = encodeEvaluatorState(evaluator);
    expect(() => decodeEvaluatorState(gzipSync(serialize({ format: 1, state: evaluator.toState() })), OPTIONS)).toThrowError(/unusable evaluator checkpoint: format 1, this version reads formats 3, 4, 5/);
    expect(() => decodeEvaluatorState(Buffer.from('not a checkpoint'), OPTIONS)).toThrowError(UnusableCheckpointError);
    expect(() => decodeEvaluatorState(gzipSync(Buffer.from('not a checkpoint')), OPTIONS)).toThrowError(UnusableCheckpointError);
    expect(() => decodeEvaluatorState(bytes, { ...OPTIONS, calibrationBins: 10 })).toThrowError(/evaluator\.calibration_bins changed .*5 → 10/);
    // Settings the state's shape does not show are named too.
    expect(() => decodeEvaluatorState(bytes, { ...OPTIONS, graceMs: 2 * HOUR })).toThrowError(/evaluator\.window_grace changed/);
    expect(() => decodeEvaluatorState(bytes, { ...OPTIONS, joinWindowMs: 3 * HOUR })).toThrowError(/joiner\.join_window changed/);
    expect(() => decodeEvaluatorState(bytes, { ...OPTIONS, fairnessAttributes: [] })).toThrowError(/evaluator\.fairness_attributes changed .*\["region"\] → \[\]/);
    expect(() => decodeEvaluatorState(bytes, { ...OPTIONS, maxSegmentValues: 4, aucExactLimit: 7 })).toThrowError(/evaluator\.max_segment_values, evaluator\.auc_exact_limit changed/);
    expect(() => decodeEvaluatorState(bytes, { ...OPTIONS, drift: { ...OPTIONS.drift!, detectors: false } })).toThrowError(/evaluator\.drift_detectors changed/);
    expect(() => decodeEvaluatorState(bytes, { ...OPTIONS, windows: [{ name: '1h', ms: HOUR }] })).toThrowError(/evaluator\.windows changed/);
    expect(() => decodeEvaluatorState(bytes, { ...OPTIONS, drift: { ...OPTIONS.drift!, bins: 8 } })).toThrowError(/evaluator\.drift_bins changed/);
    expect(() => decodeEvaluatorState(bytes, { ...OPTIONS, kindOf: () => 'binary' })).toThrowError(/model task/);
    expect(() => decodeEvaluatorState(bytes, { ...OPTIONS, drift: { ...OPTIONS.drift!, maxCategories: 3, maxFeatures: 9 } })).toThrowError(/evaluator\.max_categories, limits\.max_features changed/);
  });

  it('restores a format-3 checkpoint (before data quality): all as it was but the data-quality monitors, which start afresh', async () => {
    const { serialize } = await import('node:v8');
    const { gzipSync } = await import('node:zlib');
    const original = new Evaluator(OPTIONS);
    run(original, examples.slice(0, 200));
    // What format 3 wrote: no data-quality monitor, nor the settings it depends on.
    const state = original.toState();
    const format3 = {
      settings: state.settings.filter(([name]) => name !== 'evaluator.max_categories' && name !== 'limits.max_features'),
      models: state.models.map(([model, s]) => [model, { ...s, drift: { monitors: s.drift.monitors, detectors: s.drift.detectors } }]),
    };
    const restored = decodeEvaluatorState(gzipSync(serialize({ format: 3, state: format3 })), OPTIONS);
    const after = run(restored, examples.slice(200));
    const expected = run(original, examples.slice(200));
    const inputQuality = (d: { statistic: string }) => d.statistic.startsWith('dq_') || d.statistic.startsWith('cat_');
    expect(after.points).toEqual(expected.points);
    expect(after.drift.filter((d) => !inputQuality(d))).toEqual(expected.drift.filter((d) => !inputQuality(d)));
    // Data quality: each model's reference is its first 20 records after the restore, then windows of 15.
    const rows = (out: EvaluatorOutput, model: string) => out.drift.filter((d) => inputQuality(d) && d.model === model && d.feature === 'amount' && d.statistic === 'dq_missing_rate');
    const fraudAfter = examples.slice(200).filter((e) => e.model === 'fraud').length;
    expect(rows(after, 'fraud').length).toBe(Math.floor((fraudAfter - 20) / 15));
    expect(rows(expected, 'fraud').length).toBeGreaterThan(rows(after, 'fraud').length);
  });

  it('is used under other thresholds: they decide only what finished windows report', () => {
    const original = new Evaluator(OPTIONS);
    run(original, examples.slice(0, 200));
    const changed = { ...OPTIONS, drift: { ...OPTIONS.drift!, psiThreshold: 0.1, ksAlpha: 0.01, categoricalAlpha: 0.05, categoricalJsThreshold: 0.01, categoricalMinCount: 5, missingRateRise: 0 } };
    const restored = decodeEvaluatorState(encodeEvaluatorState(original), changed);
    const fresh = new Evaluator(changed);
    run(fresh, examples.slice(0, 200));
    expect(run(restored, examples.slice(200))).toEqual(run(fresh, examples.slice(200)));
  });
});
