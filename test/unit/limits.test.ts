/**
 * The bounds on input (core/limits.ts; README, "Limits, bad input and
 * faults"), in the pure core: the validators' record limits, the
 * evaluator's segment values, the joiner's models and each challenger's
 * feature names. Each bad input is refused (with a reason) or has a bounded,
 * counted effect, and the good records' outputs are those of a run without it.
 */
import { describe, expect, it } from 'vitest';
import { LocalCodec } from '../../adapters/codec/codec.js';
import { ValidationError } from '../../core/errors.js';
import { Evaluator } from '../../core/evaluate/index.js';
import { type Feedback, type LabelledExample, noFeedbackClasses, noPredictionClasses, type Prediction, validateLabelledExample, validatePrediction } from '../../core/events.js';
import { Joiner, MemoryJoinStore, type JoinOutput } from '../../core/join/index.js';
import { ChallengerTrainer } from '../../core/learn/index.js';
import { DEFAULT_RECORD_LIMITS, OTHER_SEGMENT_VALUE } from '../../core/limits.js';
import { decodeRecord } from '../../processors/decode.js';
import type { LogRecord } from '../../adapters/transport/transport.js';
import { labelledStream, T0 } from '../support/labelled.js';
import { SAMPLES } from '../support/samples.js';

const record = (value: Buffer): LogRecord => ({ topic: 'predictions', partition: 0, offset: 7, key: null, value, timestamp: 0, headers: {} });

/** A map of `n` keys that counts how often its entries are looked at (a Proxy: for-in asks for each key's descriptor). */
function countingMap(n: number): { map: Record<string, string>; reads: () => number } {
  const target: Record<string, string> = {};
  for (let i = 0; i < n; i++) target[`attr${i}`] = 'x';
  let reads = 0;
  const map = new Proxy(target, {
    get: (t, key) => {
      reads++;
      return Reflect.get(t, key);
    },
    getOwnPropertyDescriptor: (t, key) => {
      reads++;
      return Reflect.getOwnPropertyDescriptor(t, key);
    },
  });
  return { map, reads: () => reads };
}

describe('record limits in the validators', () => {
  it('dead-letters a prediction with 100,000 segment keys, naming the limit, after reading at most a few dozen of its entries', async () => {
    const { map, reads } = countingMap(100_000);
    expect(() => validatePrediction({ ...SAMPLES.Prediction, segments: map })).toThrow(
      new ValidationError('prediction: segments has more than 32 entries (limits.max_segments)'),
    );
    // Refused before any copy: the work (and memory) is that of a map of 33 entries, not 100,000.
    expect(reads()).toBeLessThan(4 * (DEFAULT_RECORD_LIMITS.maxSegments + 1));

    // Through the codec, as the joiner reads it: a dead letter of class validation with the reason.
    const codec = new LocalCodec<unknown>('Prediction');
    const huge = { ...SAMPLES.Prediction, segments: Object.fromEntries(Array.from({ length: 100_000 }, (_, i) => [`attr${i}`, `v${i}`])) };
    const decoded = await decodeRecord(record(await codec.encode(huge)), codec, (v) => validatePrediction(v), 'joiner', 1);
    expect(decoded.ok).toBe(false);
    if (decoded.ok) return;
    expect(decoded.letter).toMatchObject({ error_class: 'validation', stage: 'joiner', offset: 7 });
    // The record is over 1 MB: the dead letter keeps its first 256 KiB (a dead letter is a record too) and says where the rest is.
    expect(decoded.letter.error_message).toMatch(/^prediction: segments has more than 32 entries \(limits\.max_segments\) \(value cut to its first 262144 of \d+ bytes: the whole record is at predictions\/0@7\)$/);
    // A labelled example of that shape (written before the limits existed) is refused where it is read, e.g. by the evaluator's rebuild.
    expect(() => validateLabelledExample({ ...SAMPLES.LabelledExample, segments: huge.segments })).toThrow('segments has more than 32 entries');
  });

  it('dead-letters a prediction whose model name is 1 MB long, with a short message', async () => {
    const codec = new LocalCodec<unknown>('Prediction');
    const bytes = await codec.encode({ ...SAMPLES.Prediction, model: 'm'.repeat(1_000_000) });
    const decoded = await decodeRecord(record(bytes), codec, (v) => validatePrediction(v), 'joiner', 1);
    expect(decoded.ok).toBe(false);
    if (decoded.ok) return;
    expect(decoded.letter.error_class).toBe('validation');
    expect(decoded.letter.error_message).toBe(
      `prediction: model is 1000000 characters long, more than limits.max_id_length (256), got "${'m'.repeat(40)}…" (value cut to its first 262144 of ${bytes.length} bytes: the whole record is at predictions/0@7)`,
    );
  });

  it('bounds names, values and entries of every map, and the limits come from the caller', () => {
    const long = 'n'.repeat(257);
    expect(() => validatePrediction({ ...SAMPLES.Prediction, features: { [long]: 1 } })).toThrow(/^prediction: features key is 257 characters long, more than limits\.max_name_length \(256\)/);
    expect(() => validatePrediction({ ...SAMPLES.Prediction, segments: { region: long } })).toThrow(/^prediction: segments\.region is 257 characters long/);
    expect(() => validatePrediction({ ...SAMPLES.Prediction, categorical: Object.fromEntries(Array.from({ length: 1001 }, (_, i) => [`c${i}`, 'x'])) })).toThrow(
      'prediction: categorical has more than 1000 entries (limits.max_features)',
    );
    const tight = { ...DEFAULT_RECORD_LIMITS, maxIdLength: 20, maxSegments: 1 };
    expect(() => validatePrediction({ ...SAMPLES.Prediction, model_version: 'v'.repeat(21) }, tight)).toThrow('model_version is 21 characters long, more than limits.max_id_length (20)');
    expect(() => validatePrediction({ ...SAMPLES.Prediction, segments: { a: '1', b: '2' } }, tight)).toThrow('segments has more than 1 entries');
  });
});

/** `n` labelled examples of one model, each with its own value of `attr`. */
function distinctValues(n: number, model: string, attr: string): LabelledExample[] {
  return Array.from({ length: n }, (_, i) => ({
    ...(SAMPLES.LabelledExample as LabelledExample),
    example_id: `${model}-${i}#1`, prediction_id: `${model}-${i}`, model, model_version: 'v1', timestamp: T0 + i * 1000,
    feedback_timestamp: T0 + i * 1000 + 60_000, label_delay_ms: 60_000, correction_of: null, segments: { [attr]: `value-${i}` },
    label: i % 3 === 0 ? 1 : 0, score: (i % 10) / 10, shadow_scores: {},
  }));
}

const segmentsOf = (points: Array<{ model: string; segment: string }>, model: string) => new Set(points.filter((p) => p.model === model).map((p) => p.segment));

describe('the evaluator: distinct segment values per model and attribute', () => {
  it('keeps 100 values apart and counts the other 9,900 of 10,000 in region=other', () => {
    const evaluator = new Evaluator({ maxSegmentValues: 100, rollingSize: 0, windows: [] });
    for (const example of distinctValues(10_000, 'flood', 'region')) evaluator.onExample(example);
    const points = evaluator.drain().points;
    const segments = segmentsOf(points, 'flood');
    expect(segments.size).toBe(1 + 100 + 1); // `*`, the first 100 values, `region=other`
    expect(segments.has(`region=${OTHER_SEGMENT_VALUE}`)).toBe(true);
    expect(segments.has('region=value-99')).toBe(true);
    expect(segments.has('region=value-100')).toBe(false);
    const count = (segment: string) => points.find((p) => p.model === 'flood' && p.segment === segment && p.window === 'total')?.count;
    expect(count('*')).toBe(10_000);
    expect(count('region=other')).toBe(9_900);
    expect(evaluator.health().flood).toMatchObject({ segment_values_pooled: 9_900, segment_attributes_dropped: 0 });
  });

  it('bounds the attributes of a model too, and a rebuild (restore) pools exactly the same values', () => {
    const stream = [...distinctValues(300, 'm', 'a'), ...Array.from({ length: 40 }, (_, i) => distinctValues(1, 'm', `attr${i}`)[0]!)];
    const live = new Evaluator({ maxSegmentValues: 50, maxSegmentAttributes: 10 });
    for (const example of stream) live.onExample(example);
    const rebuilt = new Evaluator({ maxSegmentValues: 50, maxSegmentAttributes: 10 });
    for (const example of stream.slice(0, 170)) rebuilt.restore(example);
    rebuilt.discard();
    for (const example of stream.slice(170)) rebuilt.onExample(example);
    expect(rebuilt.health()).toEqual(live.health());
    expect(live.health().m).toMatchObject({ segment_values_pooled: 250, segment_attributes_dropped: 31 });
    expect(segmentsOf(live.drain().points, 'm').size).toBe(1 + 51 + 9);
  });

  it("gives the other models' figures exactly as without the flooding model", () => {
    const good = labelledStream(3_000, 5);
    const flood = distinctValues(10_000, 'flood', 'region');
    const mixed: LabelledExample[] = [];
    let next = 0;
    for (const example of good) {
      mixed.push(example);
      for (let k = 0; k < 3 && next < flood.length; k++) mixed.push(flood[next++]!);
    }
    while (next < flood.length) mixed.push(flood[next++]!);
    const run = (examples: LabelledExample[]) => {
      const evaluator = new Evaluator({ maxSegmentValues: 100 });
      const points = [];
      for (const example of examples) evaluator.onExample(example);
      for (const p of evaluator.finish().points) if (p.model !== 'flood') points.push(p);
      return points.sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
    };
    expect(run(mixed)).toEqual(run(good));
  });
});

const P = (id: string, model: string, at: number): Prediction => ({
  prediction_id: id, model, model_version: 'v1', timestamp: at, features: { x: 1 }, categorical: {}, segments: {}, score: 0.7, threshold: 0.5, shadow_scores: {},
  ...noPredictionClasses(),
});
const F = (id: string, at: number): Feedback => ({ prediction_id: id, timestamp: at, feedback_type: 'USER_CONFIRMED', label: null, uncertain: false, source: null, notes: null, ...noFeedbackClasses() });

function joinAll(joiner: Joiner, events: Array<Prediction | Feedback>): JoinOutput[] {
  const out: JoinOutput[] = [];
  for (const e of events) for (const o of 'model' in e ? joiner.onPrediction(e) : joiner.onFeedback(e)) out.push(o);
  return out;
}

describe('the joiner: distinct models', () => {
  const options = { maxModels: 2, configuredModel: (m: string) => m === 'configured' };

  it('admits the first max_models models and every configured one; refuses the others with the reason, counted', () => {
    const joiner = new Joiner(new MemoryJoinStore(), options);
    const out = joinAll(joiner, [P('1', 'a', T0), P('2', 'configured', T0 + 1), P('3', 'b', T0 + 2), P('4', 'c', T0 + 3), P('5', 'a', T0 + 4)]);
    const rejected = out.filter((o) => o.kind === 'rejected');
    expect(rejected).toHaveLength(1);
    expect(rejected[0]).toMatchObject({
      prediction_id: '4',
      reason: 'model "c" is not admitted: this joiner partition already admitted 2 other models, limits.max_models (2; models configured under models.<name> are always admitted)',
    });
    expect(joiner.counters).toMatchObject({ predictions: 4, rejected: 1, models_refused: 1 });
    expect(joiner.takeNewModels()).toEqual(['a', 'b']);
    expect(joiner.takeNewModels()).toEqual([]);
    // Restored (the processor keeps the admitted models in its changelog): the same models, the same refusals.
    const restarted = new Joiner(new MemoryJoinStore(), options);
    for (const model of ['a', 'b']) restarted.restoreModel(model);
    const after = joinAll(restarted, [P('6', 'd', T0 + 5), P('7', 'b', T0 + 6)]);
    // d refused (no arrival record), b admitted: its arrival record.
    expect(after.map((o) => o.kind)).toEqual(['rejected', 'arrival']);
    expect(restarted.counters.predictions).toBe(1);
  });

  it("gives the admitted models' examples exactly as without the refused predictions (and their feedback ends unmatched)", () => {
    const good: Array<Prediction | Feedback> = [];
    const bad: Array<Prediction | Feedback> = [];
    for (let i = 0; i < 200; i++) {
      good.push(P(`g${i}`, i % 2 ? 'a' : 'b', T0 + i * 1000), F(`g${i}`, T0 + i * 1000 + 500));
      bad.push(P(`x${i}`, `new-${i}`, T0 + i * 1000 + 1), F(`x${i}`, T0 + i * 1000 + 600));
    }
    // The good models come first (admission is first come); then each good prediction is followed by a bad one and its feedback.
    const mixed = good.flatMap((e, i) => (i >= 4 && i % 2 === 0 ? [e, bad[i]!, bad[i + 1]!] : [e]));
    // Arrival records included: a refused prediction has none.
    const examples = (out: JoinOutput[]) => out.filter((o) => o.kind === 'example' || o.kind === 'arrival');
    const clean = new Joiner(new MemoryJoinStore(), options);
    const flooded = new Joiner(new MemoryJoinStore(), options);
    const cleanOut = joinAll(clean, good);
    const floodedOut = joinAll(flooded, mixed);
    expect(examples(floodedOut)).toEqual(examples(cleanOut));
    expect(floodedOut.filter((o) => o.kind === 'rejected')).toHaveLength(198);
    // Their feedback waits as early feedback and ends unmatched, like any feedback without its prediction.
    const end = joinAll(flooded, [F('late', T0 + 30 * 86_400_000)]);
    expect(end.filter((o) => o.kind === 'unmatched')).toHaveLength(198);
  });
});

function example(i: number, features: Record<string, number>, categorical: Record<string, string> = {}): LabelledExample {
  return { ...(SAMPLES.LabelledExample as LabelledExample), example_id: `e${i}#1`, prediction_id: `e${i}`, model: 'm', timestamp: T0 + i, feedback_timestamp: T0 + i + 1, label: i % 2, correction_of: null, features, categorical };
}

describe('the learner: feature names per challenger', () => {
  it('learns the first max_model_features names; later ones are ignored (counted), and a restart keeps the same names', () => {
    const trainer = new ChallengerTrainer({ maxModelFeatures: 3 });
    for (let i = 0; i < 20; i++) trainer.learn(example(i, { [`f${i}`]: i, a: 1 }, { [`c${i}`]: 'x' }));
    const schema = trainer.pipeline('m', 'logreg')!.featureSchema();
    expect(schema.filter((f) => f.kind === 'NUMERIC').map((f) => f.name)).toEqual(['f0', 'a', 'f1']);
    expect(schema.filter((f) => f.kind === 'CATEGORICAL').map((f) => f.name)).toEqual(['c0', 'c1', 'c2']);
    expect(trainer.counters).toMatchObject({ learned: 20, features_ignored: 18 });

    const [snapshot] = trainer.snapshot(T0);
    const restarted = new ChallengerTrainer({ maxModelFeatures: 3 });
    restarted.restore(snapshot!);
    restarted.learn(example(99, { f99: 1, a: 2 }));
    expect(restarted.pipeline('m', 'logreg')!.featureSchema()).toEqual(schema);
    expect(restarted.counters.features_ignored).toBe(1);
  });

  it("learns the same model from the good features whether or not examples also carry names past the bound", () => {
    const clean = new ChallengerTrainer({ maxModelFeatures: 2, challengersOf: () => ['logreg', 'naive_bayes'] });
    const flooded = new ChallengerTrainer({ maxModelFeatures: 2, challengersOf: () => ['logreg', 'naive_bayes'] });
    for (let i = 0; i < 200; i++) {
      const features = { amount: (i * 37) % 101, age: (i * 13) % 17 };
      const categorical = { plan: `p${i % 3}`, tier: `t${i % 2}` };
      clean.learn(example(i, features, categorical));
      flooded.learn(i === 0 ? example(i, features, categorical) : example(i, { ...features, [`junk${i}`]: i }, { ...categorical, [`junk${i}`]: 'x' }));
    }
    // (A hashing challenger, ftrl, has no names to bound: junk categoricals land in its fixed block of buckets.)
    const params = (t: ChallengerTrainer) => t.snapshot(T0).map((s) => [s.challenger, s.parameters, s.feature_schema]);
    expect(params(flooded)).toEqual(params(clean));
    expect(flooded.counters.features_ignored).toBe(199);
  });
});
