/**
 * Data quality and categorical drift of a model's inputs (core/evaluate/data-quality.ts):
 * every row of a small hand-computed window; through the Evaluator, on arrival
 * records, a stream where a category's share changes and a feature goes
 * missing (the alarms, counted exactly), and 50 seeded stationary streams
 * (the false alarms, counted).
 */
import { describe, expect, it } from 'vitest';
import { chiSquaredCritical, chiSquaredSurvival, jensenShannon } from '../../core/drift/index.js';
import { DataQuality } from '../../core/evaluate/data-quality.js';
import { DEFAULT_EVALUATOR_OPTIONS, Evaluator, type DriftRecord, type EvaluatorOptions } from '../../core/evaluate/index.js';
import { type LabelledExample, noExampleClasses } from '../../core/events.js';
import { seededRandom } from '../support/random.js';

const T0 = 1_763_942_400_000;

function record(i: number, features: Record<string, number>, categorical: Record<string, string>, model = 'm'): LabelledExample {
  return {
    example_id: `p${i}#arrival`, prediction_id: `p${i}`, model, model_version: 'v1', timestamp: T0 + i * 1000, features, categorical, segments: {},
    score: 0.5, threshold: 0.5, label: null, feedback_type: null, source: null, feedback_timestamp: null, label_delay_ms: null, correction_of: null,
    shadow_scores: {}, replaces: null, arrival: true, ...noExampleClasses(),
  };
}

const SMALL: EvaluatorOptions['drift'] = { ...DEFAULT_EVALUATOR_OPTIONS.drift, referenceSize: 4, windowSize: 5, maxCategories: 2, categoricalMinCount: 3, missingRateRise: 0.3 };

describe('DataQuality', () => {
  it('writes every figure of a window as computed by hand', () => {
    const quality = new DataQuality('m', 10);
    const out: DriftRecord[] = [];
    // Reference: x in [1, 4] present 4 of 4; c = a, a, b, z (z past max_categories 2: `other`), present 4 of 4; y present 2 of 4.
    const reference: Array<[Record<string, number>, Record<string, string>]> = [
      [{ x: 1, y: 0 }, { c: 'a' }], [{ x: 4 }, { c: 'a' }], [{ x: 2, y: 5 }, { c: 'b' }], [{ x: 3 }, { c: 'z' }],
    ];
    // Window: x missing once, 0 and 9 out of [1, 4]; c missing once, values a, b, new, new; y missing 4 of 5.
    const window: Array<[Record<string, number>, Record<string, string>]> = [
      [{ x: 0 }, { c: 'a' }], [{ x: 2 }, { c: 'b' }], [{ x: 9, y: 1 }, { c: 'new' }], [{}, { c: 'new' }], [{ x: 4 }, {}],
    ];
    [...reference, ...window].forEach(([f, c], i) => quality.observe(record(i, f, c), 100 + i, i, SMALL, out));
    const rows = new Map(out.map((r) => [`${r.feature} ${r.statistic}`, r]));
    const value = (key: string) => rows.get(key)?.value;
    expect(out.every((r) => r.role === '*' && r.model_version === '*' && r.window === 'last_5' && r.window_start === T0 + 4000 && r.window_end === T0 + 8000 && r.at === 108 && r.n === 8)).toBe(true);
    expect(out.map((r) => `${r.feature} ${r.statistic}`)).toEqual([
      'c dq_missing_rate', 'c dq_missing_rate_ref', 'c dq_unseen_rate', 'c cat_chi2', 'c cat_chi2_p', 'c cat_js', 'c cat_new_rate',
      'x dq_missing_rate', 'x dq_missing_rate_ref', 'x dq_out_of_range_rate',
      'y dq_missing_rate', 'y dq_missing_rate_ref', 'y dq_out_of_range_rate',
    ]);
    expect(value('x dq_missing_rate')).toBe(1 / 5);
    expect(value('x dq_missing_rate_ref')).toBe(0);
    expect(value('x dq_out_of_range_rate')).toBe(2 / 5);
    expect(value('y dq_missing_rate')).toBe(4 / 5);
    expect(value('y dq_missing_rate_ref')).toBe(2 / 4);
    expect(rows.get('y dq_missing_rate')!.detected).toBe(false); // 0.8 − 0.5 = 0.3, not more than 0.3
    expect(rows.get('y dq_missing_rate')!.threshold).toBe(0.5 + 0.3);
    expect(value('y dq_out_of_range_rate')).toBe(0); // 1 is within [0, 5]
    expect(value('c dq_missing_rate')).toBe(1 / 5);
    expect(value('c dq_unseen_rate')).toBe(2 / 5);
    // Bins a, b, other: reference 2, 1, 1; window 1, 1, 2 (n 4). Column totals 3, 2, 3 of 8: expected 1.5, 1, 1.5 in each row.
    const chi2 = (4 * 0.5 ** 2) / 1.5;
    expect(value('c cat_chi2')).toBeCloseTo(chi2, 12);
    expect(value('c cat_chi2_p')).toBeCloseTo(chiSquaredSurvival(chi2, 2), 12);
    expect(value('c cat_chi2_p')).toBeCloseTo(Math.exp(-chi2 / 2), 12); // sf of χ²₂
    expect(rows.get('c cat_chi2')!.threshold).toBeCloseTo(chiSquaredCritical(0.001, 2), 9);
    expect(rows.get('c cat_chi2')!.threshold).toBeCloseTo(-2 * Math.log(0.001), 9);
    expect(value('c cat_js')).toBeCloseTo(jensenShannon([2, 1, 1], [1, 1, 2]), 15);
    expect(value('c cat_new_rate')).toBe(2 / 4);
    expect(rows.get('c cat_js')!.detected).toBe(true); // JS ≈ 0.2 over 4 values ≥ min count 3
    expect(rows.get('c cat_chi2_p')!.detected).toBe(false);
  });

  it('follows the first limits.max_features names and counts the values of the others', () => {
    const quality = new DataQuality('m', 2);
    const out: DriftRecord[] = [];
    for (let i = 0; i < 9; i++) quality.observe(record(i, { b: 1, c: 2 }, { a: 'x' }), i, i, SMALL, out);
    expect(new Set(out.map((r) => r.feature))).toEqual(new Set(['a', 'b']));
    expect(quality.droppedFeatures).toBe(9);
  });

  it('counts the dropped feature values in the model\'s health', () => {
    const evaluator = new Evaluator({ ...OPTIONS, drift: { ...SMALL, maxFeatures: 1 } });
    for (let i = 0; i < 6; i++) evaluator.onExample(record(i, { b: 1, c: 2 }, {}));
    expect(evaluator.health().m!.input_features_dropped).toBe(6);
  });
});

const WINDOW = 1000;
const OPTIONS: Partial<EvaluatorOptions> = {
  windows: [], rollingSize: 0, segments: false, arrivals: true,
  drift: { ...DEFAULT_EVALUATOR_OPTIONS.drift, referenceSize: WINDOW, windowSize: WINDOW, detectors: false },
};

function among(random: () => number, values: ReadonlyArray<readonly [string, number]>): string {
  let r = random();
  for (const [value, share] of values) if ((r -= share) < 0) return value;
  return values[values.length - 1]![0];
}

const CHANNELS = [['web', 0.5], ['app', 0.3], ['shop', 0.2]] as const;
const CHANNELS_CHANGED = [['web', 0.3], ['app', 0.3], ['shop', 0.4]] as const;
/** Eight countries, the rarest at 1%. */
const COUNTRIES = [['de', 0.3], ['fr', 0.2], ['es', 0.15], ['it', 0.12], ['nl', 0.1], ['pl', 0.07], ['se', 0.05], ['fi', 0.01]] as const;

/**
 * n arrival records of model m: amount ~ U(0, 100), age present 95%, channel
 * and country (absent 2%). `change`: from record 6000 the channel shares
 * move, from record 8000 age is missing half the time.
 */
function inputs(n: number, seed: number, change: boolean): LabelledExample[] {
  const random = seededRandom(seed);
  const out: LabelledExample[] = [];
  for (let i = 0; i < n; i++) {
    const features: Record<string, number> = { amount: random() * 100 };
    if (random() < (change && i >= 8000 ? 0.5 : 0.95)) features.age = 18 + Math.floor(random() * 60);
    const categorical: Record<string, string> = { channel: among(random, change && i >= 6000 ? CHANNELS_CHANGED : CHANNELS) };
    if (random() < 0.98) categorical.country = among(random, COUNTRIES);
    out.push(record(i, features, categorical));
  }
  return out;
}

function driftOf(examples: LabelledExample[]): DriftRecord[] {
  const evaluator = new Evaluator(OPTIONS);
  const out: DriftRecord[] = [];
  examples.forEach((x, i) => {
    evaluator.onExample(x);
    if (i % 997 === 0) for (const d of evaluator.drain().drift) out.push(d);
  });
  for (const d of evaluator.finish().drift) out.push(d);
  return out;
}

/** Alarms per `feature statistic`, and the windows (their n) of each. */
function alarms(rows: DriftRecord[]): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  for (const r of rows.filter((d) => d.detected && (d.statistic.startsWith('cat_') || d.statistic.startsWith('dq_')))) (out[`${r.feature} ${r.statistic}`] ??= []).push(r.n);
  return out;
}

describe('data-quality and categorical drift alarms through the Evaluator (arrival records)', () => {
  it('fire when a category share changes (record 6000) and a feature goes missing (record 8000), in every window after, and nowhere else', () => {
    const rows = driftOf(inputs(11_000, 7, true));
    // Windows of 1,000 records after the reference of 1,000: ending at records 2000 … 11000.
    expect(rows.filter((r) => r.feature === 'channel' && r.statistic === 'cat_js').map((r) => r.n)).toEqual([2000, 3000, 4000, 5000, 6000, 7000, 8000, 9000, 10_000, 11_000]);
    expect(alarms(rows)).toEqual({
      'channel cat_chi2_p': [7000, 8000, 9000, 10_000, 11_000],
      'channel cat_js': [7000, 8000, 9000, 10_000, 11_000],
      'age dq_missing_rate': [9000, 10_000, 11_000],
    });
    const age = rows.filter((r) => r.feature === 'age' && r.statistic === 'dq_missing_rate' && r.n === 11_000)[0]!;
    expect(age.value).toBeCloseTo(0.5, 1);
    expect(age.threshold).toBeCloseTo(0.05 + 0.1, 1);
    const js = rows.filter((r) => r.feature === 'channel' && r.statistic === 'cat_js' && r.n >= 7000).map((r) => r.value!);
    // The shares' distance is 0.2068; each window's within sampling noise of it (0.15 to 0.3).
    expect(Math.min(...js)).toBeGreaterThan(0.15);
    expect(Math.max(...js)).toBeLessThan(0.3);
  });

  it('stay quiet on stationary streams: false alarms over 50 seeds', () => {
    const counts = { chi2: 0, js: 0, missing: 0, tests: 0 };
    for (let seed = 1; seed <= 50; seed++) {
      const rows = driftOf(inputs(11_000, 1000 + seed, false));
      counts.tests += rows.filter((r) => r.statistic === 'cat_chi2_p').length;
      counts.chi2 += rows.filter((r) => r.statistic === 'cat_chi2_p' && r.detected).length;
      counts.js += rows.filter((r) => r.statistic === 'cat_js' && r.detected).length;
      counts.missing += rows.filter((r) => r.statistic === 'dq_missing_rate' && r.detected).length;
    }
    // 50 streams × 10 windows × 2 categorical features; at alpha 0.001, about 1 chi-squared false alarm is expected.
    expect(counts).toEqual({ chi2: 0, js: 0, missing: 0, tests: 1000 });
  }, 120_000);
});
