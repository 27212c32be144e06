/**
 * Prototype safety: the strings users choose (model names, feature,
 * categorical and segment keys and values, feedback sources) are ordinary
 * names wherever they become keys: `__proto__`, `constructor` and
 * `toString` neither write into Object.prototype nor go missing.
 *
 * What happens to each event of the test:
 *  - models named `__proto__`, `constructor`, `toString`: processed like
 *    any other, each its own entry in the counts (summary.json's by_model);
 *  - the map key `constructor` (features, categorical, segments): processed
 *    like any other key;
 *  - the map key `__proto__` (features, categorical, segments, shadow
 *    scores, decision evidence): refused with a dead letter (validation:
 *    `... has the key "__proto__" ...`; on the wire, the codec's decode
 *    refuses it the same way). Not kept: the join state's msgpack encoding
 *    (lmdb-js, in `run`) would rename it, and avsc's decoder drops it.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { buildConfig } from '../../adapters/config/index.js';
import { LocalCodec } from '../../adapters/codec/codec.js';
import { loadSchema } from '../../adapters/codec/schemas.js';
import { ManualClock } from '../../core/clock.js';
import { DecodeError, ValidationError } from '../../core/errors.js';
import { Evaluator } from '../../core/evaluate/index.js';
import { validateFeedback, validateLabelledExample, validatePrediction, validatePromotionDecision, type Prediction } from '../../core/events.js';
import { Joiner, MemoryJoinStore, emptyCounters } from '../../core/join/index.js';
import { addCounters } from '../../processors/joiner.js';
import { replay } from '../../runtime/replay.js';

const MODELS = ['__proto__', 'constructor', 'toString'];
const T0 = 1_763_942_400_000; // 2025-11-24T00:00:00Z
const MINUTE = 60_000;

/** The properties a polluted prototype would show. */
const WATCHED = ['predictions', 'labelled', 'corrections', 'expired_labelled', 'expired_unlabelled', 'examples', 'late', 'amount', 'eu'];

/** What a write through `__proto__`, `constructor` or `toString` would have reached. */
const TARGETS: Array<[string, object]> = [
  ['Object.prototype', Object.prototype],
  ['Object', Object],
  ['Object.prototype.toString', Object.prototype.toString],
  ['Function.prototype', Function.prototype],
];

function pollution(): string[] {
  return TARGETS.flatMap(([name, target]) => WATCHED.filter((key) => Object.hasOwn(target, key)).map((key) => `${name}.${key}`));
}

afterEach(() => {
  // Leave nothing behind for other tests in this worker, whatever happened.
  for (const [, target] of TARGETS) for (const key of WATCHED) delete (target as Record<string, unknown>)[key];
});

/** A prediction as a JSON line (written by hand: a JS object literal would turn `__proto__` into the prototype). */
function predictionLine(id: string, model: string, at: number, score: number, maps: { features: string; categorical: string; segments: string }, version = 'v1'): string {
  return `{"prediction_id": ${JSON.stringify(id)}, "model": ${JSON.stringify(model)}, "model_version": ${JSON.stringify(version)}, "timestamp": ${at}, ` +
    `"features": ${maps.features}, "categorical": ${maps.categorical}, "segments": ${maps.segments}, "score": ${score}, "threshold": 0.5}`;
}

const ORDINARY = { features: '{"constructor": 2.5, "amount": 10}', categorical: '{"constructor": "card"}', segments: '{"constructor": "eu"}' };

describe('prototype safety: the validators', () => {
  it('keep `constructor` and `toString` as ordinary map keys', () => {
    const p = validatePrediction(JSON.parse(predictionLine('a', 'toString', T0, 0.5, {
      features: '{"constructor": 1, "toString": 2}', categorical: '{"constructor": "x"}', segments: '{"toString": "y"}',
    })));
    expect(Object.keys(p.features)).toEqual(['constructor', 'toString']);
    expect(p.features.constructor).toBe(1);
    expect(p.categorical.constructor).toBe('x');
    expect(p.segments.toString).toBe('y');
    expect(p.model).toBe('toString');
  });

  it.each(['features', 'categorical', 'segments'])('refuse the key `__proto__` in %s (never drop it, never set a prototype)', (field) => {
    const maps = { ...ORDINARY, [field]: field === 'features' ? '{"amount": 1, "__proto__": 3}' : '{"__proto__": "x"}' };
    const raw: unknown = JSON.parse(predictionLine('a', 'm', T0, 0.5, maps));
    expect(() => validatePrediction(raw)).toThrow(ValidationError);
    expect(() => validatePrediction(raw)).toThrow(`prediction: ${field} has the key "__proto__"`);
  });

  it('refuse `__proto__` in shadow scores and decision evidence too; a feedback source `__proto__` is a plain string', () => {
    const example = {
      ...JSON.parse(predictionLine('a', 'm', T0, 0.5, ORDINARY)),
      example_id: 'a#1', label: 1, shadow_scores: JSON.parse('{"__proto__": 0.5}'),
    };
    expect(() => validateLabelledExample(example)).toThrow('labelled example: shadow_scores has the key "__proto__"');
    const decision = {
      decision_id: 'd', model: 'm', from_version: '', to_version: 'm/logreg@1', decision: 'HOLD', policy: 'p', sample_size: 0,
      metric_deltas: JSON.parse('{"__proto__": 1}'), guardrails: {}, reason: 'r', actor: 'a', at: T0, decided_at: T0,
    };
    expect(() => validatePromotionDecision(decision)).toThrow('promotion decision: metric_deltas has the key "__proto__"');
    const feedback = validateFeedback({ prediction_id: 'a', timestamp: T0, feedback_type: 'USER_CONFIRMED', source: '__proto__' });
    expect(feedback.source).toBe('__proto__');
  });
});

describe('prototype safety: the codec', () => {
  it('round-trips `constructor` keys and refuses bytes that carry a `__proto__` map key (a dead letter, not a silent drop)', async () => {
    const codec = new LocalCodec<Prediction>('Prediction');
    const ordinary = validatePrediction(JSON.parse(predictionLine('a', '__proto__', T0, 0.5, ORDINARY)));
    const back = await codec.decode(await codec.encode(ordinary));
    expect(back.model).toBe('__proto__');
    expect(Object.keys(back.features).sort()).toEqual(['amount', 'constructor']);
    expect(back.features.constructor).toBe(2.5);
    expect(back.segments.constructor).toBe('eu');

    // Another producer's record (no validator on its side): the key is in the bytes.
    const foreign = { ...ordinary, features: JSON.parse('{"amount": 1, "__proto__": 3}') as Record<string, number> };
    const bytes = await codec.encode(foreign);
    await expect(codec.decode(bytes)).rejects.toThrow(DecodeError);
    await expect(codec.decode(bytes)).rejects.toThrow(/cannot decode Prediction: .*"__proto__"/);
    expect(pollution()).toEqual([]);
  });

  it('reads maps as avsc does, blocks with a byte size (a negative count) included', () => {
    const reader = loadSchema('Prediction').type as unknown as { fields: Array<{ name: string; type: { fromBuffer(bytes: Buffer): unknown } }> };
    const features = reader.fields.find((f) => f.name === 'features')!.type;
    const x = Buffer.alloc(8);
    x.writeDoubleLE(1.5);
    // A block of 1 entry with its size (count -1, 10 bytes), a block of 2 (count 2), the end (count 0); counts and lengths zigzag.
    const bytes = Buffer.concat([Buffer.from([0x01, 0x14, 0x02, 0x61]), x, Buffer.from([0x04, 0x02, 0x62]), x, Buffer.from([0x02, 0x63]), x, Buffer.from([0x00])]);
    expect(features.fromBuffer(bytes)).toEqual({ a: 1.5, b: 1.5, c: 1.5 });
    const proto = Buffer.concat([Buffer.from([0x02, 0x12]), Buffer.from('__proto__'), x, Buffer.from([0x00])]);
    expect(() => features.fromBuffer(proto)).toThrow('a map has the key "__proto__"');
  });
});

describe('prototype safety: the join counters', () => {
  it('counts models named __proto__, constructor and toString as their own entries', () => {
    const joiner = new Joiner(new MemoryJoinStore());
    for (const [i, model] of MODELS.entries()) {
      joiner.onPrediction(validatePrediction(JSON.parse(predictionLine(`p${i}`, model, T0 + i, 0.5, ORDINARY))));
    }
    expect(pollution()).toEqual([]);
    expect(({} as Record<string, unknown>).predictions).toBeUndefined();
    const byModel = joiner.counters.byModel;
    expect(Object.keys(byModel)).toEqual(MODELS);
    for (const model of MODELS) expect(Object.hasOwn(byModel, model) && byModel[model]!.predictions).toBe(1);

    const totals = addCounters(addCounters(emptyCounters(), joiner.counters), joiner.counters);
    expect(pollution()).toEqual([]);
    expect(Object.keys(totals.byModel)).toEqual(MODELS);
    for (const model of MODELS) expect(Object.hasOwn(totals.byModel, model) && totals.byModel[model]!.predictions).toBe(2);
  });
});

describe('prototype safety: the evaluator', () => {
  it('reports the health of models named __proto__, constructor and toString as their own entries', () => {
    const evaluator = new Evaluator();
    for (const [i, model] of MODELS.entries()) {
      const p = validatePrediction(JSON.parse(predictionLine(`p${i}`, model, T0 + i, 0.5, ORDINARY)));
      evaluator.onExample(validateLabelledExample({
        ...p, example_id: `p${i}#1`, label: 1, feedback_type: 'USER_CONFIRMED', source: model, feedback_timestamp: T0 + i, label_delay_ms: 0, correction_of: null, shadow_scores: {},
      }));
    }
    const health = evaluator.health();
    expect(pollution()).toEqual([]);
    expect(Object.keys(health)).toEqual(MODELS);
    for (const model of MODELS) expect(Object.hasOwn(health, model) && health[model]!.examples).toBe(1);
  });
});

describe('prototype safety: replay', () => {
  it('processes models and keys named like Object.prototype members as ordinary names; dead-letters `__proto__` map keys', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'prototype-safety-'));
    const predictions: string[] = [];
    const feedback: string[] = [];
    // 30 labelled predictions per model, with `constructor` keys everywhere, and versions, segment values and sources named like members too.
    for (let i = 0; i < 30; i++) {
      for (const [m, model] of MODELS.entries()) {
        const id = `${model}-${i}`;
        const at = T0 + (i * 3 + m) * MINUTE;
        const segment = ['__proto__', 'toString', 'eu'][i % 3]!;
        predictions.push(predictionLine(id, model, at, (i % 10) / 10, {
          features: `{"constructor": ${i}, "amount": ${i % 7}}`, categorical: `{"constructor": "${i % 2 ? 'card' : 'toString'}"}`, segments: `{"constructor": "${segment}"}`,
        }, MODELS[(m + 1) % 3]));
        feedback.push(`{"prediction_id": "${id}", "timestamp": ${at + MINUTE}, "feedback_type": "USER_CONFIRMED", "label": ${i % 2}, "source": "${MODELS[i % 3]}"}`);
      }
    }
    // Map keys `__proto__`: lines 91, 92, 93 of predictions.jsonl.
    const bad = (field: 'features' | 'categorical' | 'segments', value: string) =>
      predictionLine(`bad-${field}`, 'constructor', T0 + 100 * MINUTE, 0.5, { ...ORDINARY, [field]: `{"__proto__": ${value}}` });
    predictions.push(bad('features', '1'), bad('categorical', '"x"'), bad('segments', '"eu"'));
    writeFileSync(join(dir, 'predictions.jsonl'), `${predictions.join('\n')}\n`);
    writeFileSync(join(dir, 'feedback.jsonl'), `${feedback.join('\n')}\n`);
    // The config names the models too (a JSON document: its `__proto__` is a key).
    const config = buildConfig(JSON.parse('{"models": {"__proto__": {"task": "binary"}, "constructor": {"task": "binary"}, "toString": {"task": "binary"}}, "evaluator": {"fairness_attributes": ["constructor"]}}'), {});

    const out = join(dir, 'out');
    const summary = await replay({ predictions: join(dir, 'predictions.jsonl'), feedback: join(dir, 'feedback.jsonl'), out, config, clock: new ManualClock(1_800_000_000_000) });

    // No prototype pollution, anywhere a write could have gone.
    expect(({} as Record<string, unknown>).predictions).toBeUndefined();
    expect(pollution()).toEqual([]);

    // Each model its own entry, in summary.json too.
    const counts = { predictions: 30, labelled: 30, corrections: 0, expired_labelled: 0, expired_unlabelled: 0 };
    expect(Object.keys(summary.by_model)).toEqual(MODELS);
    for (const model of MODELS) expect(Object.hasOwn(summary.by_model, model) ? summary.by_model[model] : 'missing').toEqual(counts);
    const written = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as { by_model: Record<string, unknown> };
    expect(Object.keys(written.by_model)).toEqual(MODELS);
    expect(Object.hasOwn(written.by_model, '__proto__') ? written.by_model['__proto__'] : 'missing').toEqual(counts);
    expect(summary).toMatchObject({ predictions_read: 90, feedback_read: 90, labelled: 90, unmatched: 0, dead_letters: 3 });

    // The `__proto__` map keys: dead letters with the reason, one per line.
    const letters = readFileSync(join(out, 'dead_letters.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(letters.map((l) => [l.line, l.error_class, l.error_message])).toEqual(
      (['features', 'categorical', 'segments'] as const).map((field, k) => [
        91 + k, 'validation', expect.stringContaining(`line ${91 + k}: prediction: ${field} has the key "__proto__"`),
      ]),
    );

    // The `constructor` keys went through like any other: examples, figures by segment, fairness.
    const labelled = readFileSync(join(out, 'labelled.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, Record<string, unknown>>);
    expect(labelled.length).toBe(90);
    expect(labelled.every((e) => Object.hasOwn(e.features!, 'constructor') && Object.hasOwn(e.segments!, 'constructor'))).toBe(true);
    const metrics = readFileSync(join(out, 'metrics.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { model: string; model_version: string; role: string; segment: string });
    for (const [m, model] of MODELS.entries()) {
      const mine = metrics.filter((p) => p.model === model);
      expect([...new Set(mine.map((p) => p.segment))]).toEqual(expect.arrayContaining(['*', 'constructor=__proto__', 'constructor=eu', 'constructor=toString', 'constructor=*']));
      expect(mine.some((p) => p.role === 'champion' && p.model_version === MODELS[(m + 1) % 3])).toBe(true);
    }
    const stats = readFileSync(join(out, 'feedback.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { model: string; source: string; labels: number });
    for (const model of MODELS) {
      const bySource = stats.filter((s) => s.model === model).map((s) => [s.source, s.labels]).sort();
      expect(bySource).toEqual([['__proto__', 10], ['constructor', 10], ['toString', 10]]);
    }
  });
});
