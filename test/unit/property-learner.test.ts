/**
 * Property of the challenger trainer (core/learn, core/models) under random
 * feature values, huge magnitudes included (past learner.max_feature_magnitude,
 * up to 1e308), odd feature names and labels: `learn` returns or throws a
 * ValidationError (the bound; the learner dead-letters it), never anything
 * else, and every challenger's published weights stay finite.
 * Seeds: see test/support/properties.ts (FC_SEED replays a failure).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../core/errors.js';
import { type LabelledExample, noExampleClasses } from '../../core/events.js';
import { ChallengerTrainer, PRESETS } from '../../core/learn/index.js';
import { decodeFloats, decodeNumber } from '../../core/models/index.js';
import { PROTOTYPE_NAMES, runs } from '../support/properties.js';

const T0 = 1_763_942_400_000;
const FLOAT_ARRAYS = new Set(['weights', 'z', 'n', 'bias', 'g2', 'm', 'v', 'cumL1', 'classWeight', 'mean', 's', 'counts', 'means', 'vars']);
const SCALARS = new Set(['intercept', 'maxCumL1']);

/** Every learned number of a snapshot's parameters is finite (float arrays are base64, scalars may be "NaN"). */
function assertFinite(value: unknown, path: string): void {
  if (Array.isArray(value)) value.forEach((v, i) => assertFinite(v, `${path}[${i}]`));
  else if (value !== null && typeof value === 'object') {
    for (const [key, v] of Object.entries(value)) {
      if (FLOAT_ARRAYS.has(key) && typeof v === 'string') decodeFloats(v, key).forEach((x, i) => expect(Number.isFinite(x), `${path}.${key}[${i}] = ${x}`).toBe(true));
      else if (SCALARS.has(key) && (typeof v === 'number' || typeof v === 'string')) expect(Number.isFinite(decodeNumber(v, key)), `${path}.${key}`).toBe(true);
      else assertFinite(v, `${path}.${key}`);
    }
  } else if (typeof value === 'number') expect(Number.isFinite(value), path).toBe(true);
}

const magnitude = fc.oneof(fc.double({ noNaN: true, noDefaultInfinity: true }), fc.constantFrom(1e308, -1e308, 1e9, -1e9, 1e9 + 1, 1e150, 5e-324, -0, 0));
const featureName = fc.constantFrom<string>('x', 'y', ...PROTOTYPE_NAMES.filter((n) => n !== '__proto__'));

function exampleArb(model: 'binary' | 'constructor'): fc.Arbitrary<LabelledExample> {
  return fc.record({
    features: fc.dictionary(featureName, magnitude, { maxKeys: 3 }),
    plan: fc.constantFrom('a', 'b', 'toString'),
    label: model === 'binary' ? fc.constantFrom(0, 1, 0.5) : magnitude,
    n: fc.nat(1000),
  }).map((x) => ({
    example_id: `${model}-${x.n}#1`, prediction_id: `${model}-${x.n}`, model, model_version: 'v1', timestamp: T0, features: x.features, categorical: { plan: x.plan }, segments: {},
    score: 0.5, threshold: 0.5, label: x.label, feedback_type: 'AUTO_VALIDATED', source: null, feedback_timestamp: T0 + 1, label_delay_ms: 1, correction_of: null, shadow_scores: {}, replaces: null, arrival: false,
    ...noExampleClasses(),
  }));
}

const presetsOf = (task: 'binary' | 'regression') => Object.keys(PRESETS).filter((name) => PRESETS[name]!.task === task);

describe('property: the learner', () => {
  it('learns or refuses (ValidationError) any features, and every challenger\'s weights stay finite', () => {
    const examples = fc.array(fc.oneof(exampleArb('binary'), exampleArb('constructor')), { maxLength: 60 });
    fc.assert(
      fc.property(examples, fc.integer({ min: 1, max: 20 }), (stream, every) => {
        const trainer = new ChallengerTrainer({
          kindOf: (model) => (model === 'constructor' ? 'regression' : 'binary'),
          challengersOf: (model) => presetsOf(model === 'constructor' ? 'regression' : 'binary'),
        });
        stream.forEach((example, i) => {
          try {
            trainer.learn(example);
          } catch (error) {
            if (!(error instanceof ValidationError)) throw error;
          }
          // Snapshots now and then, so the last guard has something to go back to.
          if ((i + 1) % every === 0) for (const s of trainer.snapshot()) assertFinite(JSON.parse(s.parameters), s.version);
        });
        for (const s of trainer.snapshot()) assertFinite(JSON.parse(s.parameters), s.version);
      }),
      runs(60),
    );
  });
});
