/**
 * The class fields of the contract (issue 16) outside the join: the
 * validators' checks of class names, lists and class scores, property-tested
 * with hostile input (unknown shapes, huge lists, __proto__, lone surrogates,
 * scores outside [0, 1]) so that whatever they accept round-trips through
 * the Avro codec; the join stores keep the fields; the config's task,
 * classes and numeric_target; and run/replay refuse to build the evaluator,
 * learner and promoter for a multi-class model while the joiner builds.
 * Seeds: see test/support/properties.ts (FC_SEED replays a failure).
 */
import { mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { LocalCodec } from '../../adapters/codec/codec.js';
import { makeCodecs } from '../../adapters/codec/codecs.js';
import { avroPredictionPacking } from '../../adapters/codec/prediction-packing.js';
import { buildConfig } from '../../adapters/config/index.js';
import { LmdbJoinStore } from '../../adapters/state/lmdb-join-store.js';
import { MemoryTransport } from '../../adapters/transport/memory.js';
import { ValidationError } from '../../core/errors.js';
import { DEFAULT_RECORD_LIMITS } from '../../core/limits.js';
import { validateFeedback, validateLabelledExample, validatePrediction, type Prediction } from '../../core/events.js';
import { PackedJoinStore, type JoinEntry } from '../../core/join/index.js';
import { ManualClock } from '../../core/clock.js';
import { PROCESSORS } from '../../runtime/pipeline.js';
import { ShadowScorer } from '../../core/learn/index.js';
import { configError } from '../support/config-error.js';
import { PROTOTYPE_NAMES, runs, weirdString } from '../support/properties.js';
import { sampleFeedback, samplePrediction, SAMPLES } from '../support/samples.js';

const MC = { class_scores: { spike: 0.7, drift: 0.2, outage: 0.1 }, predicted_class: 'spike', predicted_labels: null };

async function roundTrip(name: 'Prediction' | 'Feedback' | 'LabelledExample', event: unknown): Promise<unknown> {
  const codec = new LocalCodec<unknown>(name);
  return codec.decode(await codec.encode(event));
}

describe('validators: class fields', () => {
  it('accept class scores, a decided class and lists of names, and the codec carries them unchanged', async () => {
    const p = validatePrediction(samplePrediction({ ...MC, model: 'anomaly' }));
    expect(p).toMatchObject(MC);
    expect(await roundTrip('Prediction', p)).toEqual(p);
    const f = validateFeedback(sampleFeedback({ labels_added: ['email'], labels_removed: ['phone'] }));
    expect(f).toMatchObject({ label_class: null, labels: null, labels_added: ['email'], labels_removed: ['phone'] });
    expect(await roundTrip('Feedback', f)).toEqual(f);
    const e = validateLabelledExample({
      ...SAMPLES.LabelledExample, ...MC, label: 4, label_class: 'drift', correction_of: 'p-1#1',
      replaces: { label: null, feedback_type: 'USER_REJECTED', source: null, feedback_timestamp: 1, label_class: null, rejected_class: 'spike', labels: null },
    });
    expect(await roundTrip('LabelledExample', e)).toEqual(e);
    // Missing fields are the defaults, as Avro fills them in.
    expect(validateFeedback({ prediction_id: 'p', timestamp: 1, feedback_type: 'USER_CONFIRMED' })).toMatchObject({ label_class: null, labels: null, labels_added: null, labels_removed: null });
  });

  it('refuse, naming the field and the setting, what no class field may hold', () => {
    const p = (fields: Record<string, unknown>) => () => validatePrediction({ ...samplePrediction(), ...fields });
    const f = (fields: Record<string, unknown>) => () => validateFeedback({ ...sampleFeedback(), ...fields });
    expect(p({ class_scores: JSON.parse('{"a": 0.5, "__proto__": 0.5}') })).toThrow('prediction: class_scores has the key "__proto__"');
    expect(p({ class_scores: { a: 1.5 } })).toThrow('prediction: class_scores."a" must be a probability in [0, 1], got 1.5');
    expect(p({ class_scores: { a: -0.1 } })).toThrow('must be a probability in [0, 1], got -0.1');
    expect(p({ class_scores: { '': 1 } })).toThrow('prediction: class_scores has an empty key (keys are class names)');
    expect(p({ class_scores: Object.fromEntries(Array.from({ length: 257 }, (_, i) => [`c${i}`, 0])) })).toThrow('prediction: class_scores has more than 256 entries (limits.max_classes)');
    expect(p({ predicted_class: '__proto__' })).toThrow('prediction: predicted_class is "__proto__", which no class may be called');
    expect(p({ predicted_class: '' })).toThrow('prediction: predicted_class must be a class name (a non-empty string), got ""');
    expect(p({ predicted_class: 'x'.repeat(257) })).toThrow('prediction: predicted_class is 257 characters long, more than limits.max_name_length (256)');
    expect(p({ predicted_labels: Array.from({ length: 257 }, (_, i) => `c${i}`) })).toThrow('prediction: predicted_labels has more than 256 items (limits.max_classes)');
    expect(p({ predicted_labels: ['a', 'a'] })).toThrow('prediction: predicted_labels lists "a" twice');
    expect(p({ predicted_labels: ['a', '\uD800'] })).toThrow('prediction: predicted_labels[1] must be well-formed Unicode text');
    expect(p({ predicted_labels: 'a' })).toThrow('prediction: predicted_labels must be a list of class names or null, got "a"');
    expect(f({ label_class: 7 })).toThrow('feedback: label_class must be a class name (a non-empty string), got 7');
    expect(f({ labels: ['a'], labels_added: ['b'] })).toThrow('feedback: labels_added and labels exclude each other');
    expect(f({ label_class: 'a', labels_removed: ['b'] })).toThrow('feedback: label_class (a multi-class label) and labels, labels_added or labels_removed (multi-label) exclude each other');
    expect(f({ labels_added: ['a', 'b'], labels_removed: ['b'] })).toThrow('feedback: labels_removed names "b", which labels_added names too');
    const e = (fields: Record<string, unknown>) => () => validateLabelledExample({ ...SAMPLES.LabelledExample, ...fields });
    expect(e({ label_class: 'a', rejected_class: 'b' })).toThrow('labelled example: rejected_class must be null when label_class is set');
    expect(e({ arrival: true, label: null, labels: [] })).toThrow('labelled example: arrival must be false when a label is set (an arrival record carries no label), got labels an array');
    expect(e({ correction_of: 'p-1#1', replaces: { label: null, feedback_type: 'USER_REJECTED', source: null, feedback_timestamp: 1 } })).toThrow(
      'labelled example: replaces carries no label (label, label_class, rejected_class and labels are all null)',
    );
    // A huge list is refused by its length, before any item is read.
    const huge = new Array<unknown>(10_000_000);
    expect(f({ labels: huge })).toThrow('feedback: labels has more than 256 items (limits.max_classes)');
    expect(() => validateFeedback({ ...sampleFeedback(), labels: ['a', 'b', 'c'] }, { ...DEFAULT_RECORD_LIMITS, maxClasses: 2 })).toThrow('feedback: labels has more than 2 items (limits.max_classes)');
  });

  it('property: any class fields are accepted and round-trip through the codec, or refused with a ValidationError', async () => {
    const name = fc.oneof(weirdString, fc.constantFrom<string>(...PROTOTYPE_NAMES, 'spike', 'drift', 'a'));
    const list = fc.oneof(
      fc.constant(null),
      fc.array(name, { maxLength: 5 }),
      fc.array(fc.constantFrom('a', 'b', 'c'), { maxLength: 4 }),
      fc.integer({ min: 250, max: 300 }).map((n) => Array.from({ length: n }, (_, i) => `c${i}`)),
      fc.constantFrom<unknown>('a', 1, {}, [1], [null], [['a']]),
    );
    const score = fc.oneof(fc.double({ min: 0, max: 1, noNaN: true }), fc.constantFrom(-0, 5e-324, 1, -1e-300, 1.0000001, Number.NaN, Number.POSITIVE_INFINITY));
    const scores = fc.oneof(
      fc.dictionary(name, score, { maxKeys: 4 }),
      fc.constantFrom<unknown>(null, [], 'x', JSON.parse('{"__proto__": 0.5}'), Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`c${i}`, 0.001]))),
    );
    const outcomes = { accepted: 0, refused: 0 };
    const check = async (what: 'Prediction' | 'Feedback' | 'LabelledExample', raw: unknown) => {
      let event: unknown;
      try {
        event = what === 'Prediction' ? validatePrediction(raw) : what === 'Feedback' ? validateFeedback(raw) : validateLabelledExample(raw);
      } catch (error) {
        expect(error).toBeInstanceOf(ValidationError);
        outcomes.refused++;
        return;
      }
      outcomes.accepted++;
      const decoded = await roundTrip(what, event);
      expect(decoded).toEqual(event);
    };
    await fc.assert(
      fc.asyncProperty(scores, name, list, list, list, list, fc.oneof(fc.constant(null), name), async (classScores, cls, a, b, c, d, other) => {
        await check('Prediction', { ...samplePrediction(), class_scores: classScores, predicted_class: cls, predicted_labels: a });
        await check('Feedback', { ...sampleFeedback(), label_class: other, labels: b, labels_added: c, labels_removed: d });
        await check('Feedback', { ...sampleFeedback(), labels_added: c, labels_removed: d });
        await check('LabelledExample', { ...SAMPLES.LabelledExample, class_scores: classScores, predicted_class: other, label_class: cls, rejected_class: null, predicted_labels: a, labels: b });
      }),
      runs(300),
    );
    // Both outcomes are met (of 1,200 checks, about a tenth are accepted: 89 in one seed, so the floor is far below that).
    expect(outcomes.accepted).toBeGreaterThan(30);
    expect(outcomes.refused).toBeGreaterThan(100);
  });
});

describe('join stores keep the class fields', () => {
  const dir = join(tmpdir(), `contract-classes-${process.pid}`);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  function entry(): JoinEntry {
    const prediction: Prediction = validatePrediction(samplePrediction({ model: 'pii', class_scores: { email: 0.9, phone: 0.4 }, predicted_class: null, predicted_labels: ['email'] }));
    return {
      prediction, shadow_scores: {}, seq: 1, seen: [1, 2], expires_at: 10,
      early: [validateFeedback(sampleFeedback({ labels_added: ['phone'], labels_removed: ['email'] }))],
      resolved: { label: null, label_class: null, rejected_class: null, labels: ['phone'], trust: 3, feedback_type: 'EXPERT_REVIEW', feedback_timestamp: 5, source: 'a', example_id: 'p-1#1' },
    };
  }

  it('the packed store (Avro of the Prediction schema) and the LMDB store give back an equal entry', async () => {
    const packed = new PackedJoinStore(avroPredictionPacking());
    packed.set('p-1', entry());
    expect(packed.get('p-1')).toEqual(entry());
    mkdirSync(dir, { recursive: true });
    const lmdb = new LmdbJoinStore({ dir, mapSize: 16 * 2 ** 20 });
    lmdb.set('p-1', entry());
    expect(lmdb.get('p-1')).toEqual(entry());
    await lmdb.close();
  });
});

describe('config: task, classes, numeric_target', () => {
  it('reads a multiclass and a multilabel model', () => {
    const config = buildConfig({
      limits: { max_classes: 3 },
      models: { anomaly: { task: 'multiclass', classes: ['spike', 'drift', 'outage'], numeric_target: 'severity' }, pii: { task: 'multilabel', classes: ['email', 'phone'] } },
    });
    expect(config.models.anomaly).toEqual({ task: 'multiclass', challengers: [], classes: ['spike', 'drift', 'outage'], numeric_target: 'severity' });
    expect(config.models.pii).toEqual({ task: 'multilabel', challengers: [], classes: ['email', 'phone'], numeric_target: null });
    expect(config.limits.max_classes).toBe(3);
    expect(buildConfig({}).limits.max_classes).toBe(256);
  });

  it.each([
    [{ models: { m: { task: 'multiclass' } } }, 'models.m.classes', 'a multiclass model needs at least 2 class names, got 0'],
    [{ models: { m: { task: 'multilabel', classes: ['a'] } } }, 'models.m.classes', 'a multilabel model needs at least 2 class names, got 1'],
    [{ models: { m: { task: 'multiclass', classes: ['a', 'b', 'a'] } } }, 'models.m.classes', 'lists "a" twice'],
    [{ models: { m: { task: 'multiclass', classes: ['a', '__proto__'] } } }, 'models.m.classes', '"__proto__" is not a class name (a non-empty, well-formed name of at most limits.max_name_length (256) characters, not __proto__)'],
    [{ models: { m: { task: 'multiclass', classes: ['a', ''] } } }, 'models.m.classes', '"" is not a class name'],
    [{ models: { m: { task: 'multiclass', classes: ['a', '\uD800'] } } }, 'models.m.classes', 'is not a class name'],
    [{ limits: { max_classes: 2 }, models: { m: { task: 'multiclass', classes: ['a', 'b', 'c'] } } }, 'models.m.classes', 'lists 3 names, more than limits.max_classes (2)'],
    [{ models: { m: { task: 'binary', classes: ['a', 'b'] } } }, 'models.m.classes', 'is for multiclass and multilabel models; m is a binary model'],
    [{ models: { m: { task: 'multilabel', classes: ['a', 'b'], numeric_target: 'x' } } }, 'models.m.numeric_target', 'is for multiclass models; m is a multilabel model'],
    [{ models: { m: { task: 'regression', numeric_target: 'x' } } }, 'models.m.numeric_target', 'is for multiclass models; m is a regression model'],
    [{ models: { m: { task: 'multiclass', classes: ['a', 'b'], challengers: ['logreg'] } } }, 'models.m.challengers', 'logreg is a binary preset but m is a multiclass model'],
  ])('refuses %j: %s %s', (document, key, message) => {
    const error = configError(() => buildConfig(document));
    expect(error.key).toBe(key);
    expect(error.message).toContain(message);
  });
});

describe('run and replay with a multiclass model', () => {
  const config = buildConfig({ topics: { partitions: 1 }, models: { anomaly: { task: 'multiclass', classes: ['spike', 'drift'] } } });
  const env = {
    config, transport: new MemoryTransport(), codecs: makeCodecs(config.topics, undefined), clock: new ManualClock(0), name: 'test', time: 'event-time' as const,
    joinStore: () => { throw new Error('not opened'); }, deadLetters: { add: async () => {}, flush: async () => {} } as never, observer: {},
  };

  it('build every processor: joiner, learner, promoter and evaluator', () => {
    const shadow = new ShadowScorer();
    for (const processor of ['joiner', 'learner', 'promoter'] as const) expect(PROCESSORS[processor].build(env, shadow).name).toBe(processor);
    const evaluator = { sink: { write: async () => {} } as never, flush: { maxRows: 1_000, maxBytes: 1 << 20, intervalMs: 1_000 } };
    expect(PROCESSORS.evaluator.build({ ...env, evaluator }, shadow).name).toBe('evaluator');
  });

  it('build every processor for a multilabel model too', () => {
    const multilabel = { ...env, config: buildConfig({ topics: { partitions: 1 }, models: { pii: { task: 'multilabel', classes: ['email', 'phone'] } } }) };
    for (const processor of ['joiner', 'learner', 'promoter'] as const) expect(PROCESSORS[processor].build(multilabel, new ShadowScorer()).name).toBe(processor);
    const evaluator = { sink: { write: async () => {} } as never, flush: { maxRows: 1_000, maxBytes: 1 << 20, intervalMs: 1_000 } };
    expect(PROCESSORS.evaluator.build({ ...multilabel, evaluator }, new ShadowScorer()).name).toBe('evaluator');
  });
});
