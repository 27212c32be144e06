/**
 * The learner core: challengers per model (defaults, configured presets,
 * bad presets refused), online learning bit-identical to a hand-trained
 * preset, snapshots (only dirty challengers, versions, parent chain, data
 * hash, created_at), corrections and unlearnable examples, and restore
 * (a restarted learner goes on bit-identically).
 */
import { describe, expect, it } from 'vitest';
import type { LabelledExample, ModelSnapshot } from '../../core/events.js';
import { chainHash, createChallenger, EMPTY_DATA_HASH, ChallengerTrainer, type TrainerOptions } from '../../core/learn/index.js';
import { ModelError, type ModelInput, type Pipeline } from '../../core/models/index.js';
import { labelledStream } from '../support/labelled.js';

const STREAM = labelledStream(900, 5);
const FRAUD = STREAM.filter((x) => x.model === 'fraud');
const FIRST_LABELS = FRAUD.filter((x) => x.correction_of === null);
const PROBES: ModelInput[] = labelledStream(90, 77);

function bitsEqual(a: number[], b: number[]): void {
  expect(a.length).toBe(b.length);
  expect(new Uint8Array(new Float64Array(a).buffer)).toEqual(new Uint8Array(new Float64Array(b).buffer));
}

const predictions = (pipeline: Pipeline | undefined) => {
  expect(pipeline).toBeDefined();
  return PROBES.map((x) => pipeline!.predictOne(x));
};

const algorithmOf = (learner: ChallengerTrainer, model: string, challenger: string) => learner.pipeline(model, challenger)?.estimator.algorithm;

describe('ChallengerTrainer challengers', () => {
  it('gives a binary model logreg and a regression model linreg by default', () => {
    const learner = new ChallengerTrainer({ kindOf: (model) => (model === 'churn' ? 'regression' : 'binary') });
    for (const x of STREAM.slice(0, 30)) learner.learn(x);
    expect(algorithmOf(learner, 'fraud', 'logreg')).toBe('logistic_regression');
    expect(algorithmOf(learner, 'churn', 'linreg')).toBe('linear_regression');
    expect(learner.pipeline('churn', 'logreg')).toBeUndefined();
    expect(learner.pipeline('fraud', 'linreg')).toBeUndefined();
    expect(learner.pipeline('fraud', 'logreg')!.task).toBe('binary');
    expect(learner.pipeline('churn', 'linreg')!.task).toBe('regression');
  });

  it('uses the configured presets', () => {
    const learner = new ChallengerTrainer({ challengersOf: (model) => (model === 'fraud' ? ['ftrl', 'pa', 'naive_bayes'] : []) });
    for (const x of STREAM.slice(0, 30)) learner.learn(x);
    expect(algorithmOf(learner, 'fraud', 'ftrl')).toBe('ftrl_logistic_regression');
    expect(algorithmOf(learner, 'fraud', 'pa')).toBe('pa_classifier');
    expect(algorithmOf(learner, 'fraud', 'naive_bayes')).toBe('gaussian_nb');
    expect(learner.pipeline('fraud', 'logreg')).toBeUndefined();
    expect(algorithmOf(learner, 'spam', 'logreg')).toBe('logistic_regression');
    expect(learner.snapshot().map((s) => s.version).sort()).toEqual(['churn/logreg@1', 'fraud/ftrl@1', 'fraud/naive_bayes@1', 'fraud/pa@1', 'spam/logreg@1']);
  });

  it('refuses an unknown preset, or a preset of the other task, with a ModelError', () => {
    const unknown = new ChallengerTrainer({ challengersOf: () => ['logreg', 'xgboost'] });
    expect(() => unknown.learn(FRAUD[0]!)).toThrow(ModelError);
    expect(() => unknown.learn(FRAUD[0]!)).toThrow(/unknown challenger preset "xgboost" \(known: .*logreg.*\)/);
    expect(unknown.counters.learned).toBe(0);
    expect(unknown.dirty()).toBe(false);

    const wrongTask = new ChallengerTrainer({ challengersOf: () => ['linreg'] });
    expect(() => wrongTask.learn(FRAUD[0]!)).toThrow(/challenger preset linreg is for regression models, not binary/);
    const wrongTask2 = new ChallengerTrainer({ kindOf: () => 'regression', challengersOf: () => ['ftrl'] });
    expect(() => wrongTask2.learn(FRAUD[0]!)).toThrow(ModelError);
    expect(() => createChallenger('constructor', 'binary')).toThrow(/unknown challenger preset/);
    expect(() => createChallenger('logreg', 'regression')).toThrow(/logreg is for binary models, not regression/);
  });
});

describe('ChallengerTrainer learning', () => {
  it('trains each challenger exactly as a hand-trained preset on the same examples', () => {
    const n = FIRST_LABELS.length;
    const learner = new ChallengerTrainer();
    const byHand = createChallenger('logreg', 'binary') as Pipeline;
    for (const x of FIRST_LABELS) {
      learner.learn(x);
      byHand.learnOne(x, x.label!);
    }
    expect(n).toBeGreaterThan(250);
    expect(learner.pipeline('fraud', 'logreg')!.trainingCount).toBe(n);
    expect(learner.counters).toEqual({ learned: n, corrections_learned: 0, corrections_skipped: 0, unlabelled_skipped: 0, rejections_skipped: 0, rejected: 0, out_of_bounds: 0, reverted: 0, features_ignored: 0 });
    bitsEqual(predictions(learner.pipeline('fraud', 'logreg')), predictions(byHand));
    expect(JSON.stringify(learner.pipeline('fraud', 'logreg')!.toSnapshot())).toBe(JSON.stringify(byHand.toSnapshot()));
    // And it learned something.
    expect(new Set(predictions(byHand)).size).toBeGreaterThan(10);
  });
});

describe('ChallengerTrainer snapshots', () => {
  const options: Partial<TrainerOptions> = { challengersOf: (model) => (model === 'fraud' ? ['logreg', 'pa'] : []) };
  const fraud = FIRST_LABELS.slice(0, 40);
  const churn = STREAM.filter((x) => x.model === 'churn' && x.correction_of === null).slice(0, 20);

  it('snapshots only the challengers that learned, with versions @1, @2... chained by parent_version', () => {
    const learner = new ChallengerTrainer(options);
    expect(learner.snapshot()).toEqual([]);
    for (const x of fraud.slice(0, 20)) learner.learn(x);
    for (const x of churn.slice(0, 10)) learner.learn(x);
    expect(learner.dirty()).toBe(true);
    const first = learner.snapshot();
    expect(first.map((s) => s.version)).toEqual(['fraud/logreg@1', 'fraud/pa@1', 'churn/logreg@1']);
    expect(first.map((s) => s.parent_version)).toEqual([null, null, null]);
    expect(learner.dirty()).toBe(false);
    expect(learner.snapshot()).toEqual([]);

    for (const x of churn.slice(10)) learner.learn(x);
    const second = learner.snapshot();
    expect(second.map((s) => s.version)).toEqual(['churn/logreg@2']);
    expect(second[0]!.parent_version).toBe('churn/logreg@1');

    for (const x of fraud.slice(20)) learner.learn(x);
    const third = learner.snapshot();
    expect(third.map((s) => [s.version, s.parent_version])).toEqual([
      ['fraud/logreg@2', 'fraud/logreg@1'],
      ['fraud/pa@2', 'fraud/pa@1'],
    ]);
  });

  it('carries the training count, data hash chained over the example ids, schema and created_at', () => {
    const learner = new ChallengerTrainer(options);
    for (const x of fraud.slice(0, 25)) learner.learn(x);
    const [logreg, pa] = learner.snapshot() as [ModelSnapshot, ModelSnapshot];
    const hash25 = fraud.slice(0, 25).reduce((h, x) => chainHash(h, x.example_id), EMPTY_DATA_HASH);
    expect(hash25).toMatch(/^[0-9a-f]{8}$/);
    for (const s of [logreg, pa]) {
      expect(s.model).toBe('fraud');
      expect(s.training_count).toBe(25);
      expect(s.data_hash).toBe(hash25);
      expect(s.created_at).toBe(Math.max(...fraud.slice(0, 25).map((x) => x.feedback_timestamp!)));
      expect(s.feature_schema).toEqual(expect.arrayContaining([{ name: 'amount', kind: 'NUMERIC' }, { name: 'age', kind: 'NUMERIC' }]));
    }
    expect(logreg.challenger).toBe('logreg');
    expect(pa.challenger).toBe('pa');
    expect(logreg.algorithm).toBe('logistic_regression');
    expect(pa.algorithm).toBe('pa_classifier');
    expect(JSON.parse(logreg.parameters)).toEqual(JSON.parse(JSON.stringify(learner.pipeline('fraud', 'logreg')!.toSnapshot())));

    for (const x of fraud.slice(25)) learner.learn(x);
    const [next] = learner.snapshot(12_345);
    expect(next!.created_at).toBe(12_345);
    expect(next!.training_count).toBe(40);
    expect(next!.data_hash).toBe(fraud.slice(25).reduce((h, x) => chainHash(h, x.example_id), hash25));
    // The order of the examples matters.
    expect(chainHash(chainHash(EMPTY_DATA_HASH, 'a'), 'b')).not.toBe(chainHash(chainHash(EMPTY_DATA_HASH, 'b'), 'a'));
  });

  it('stamps created_at with the feedback time, or the prediction time when there is none', () => {
    const learner = new ChallengerTrainer();
    learner.learn({ ...fraud[0]!, timestamp: 1_000, feedback_timestamp: 5_000 });
    learner.learn({ ...fraud[1]!, timestamp: 2_000, feedback_timestamp: 3_000 });
    expect(learner.snapshot()[0]!.created_at).toBe(5_000);
    learner.learn({ ...fraud[2]!, timestamp: 9_000, feedback_timestamp: null });
    expect(learner.snapshot()[0]!.created_at).toBe(9_000);
  });
});

describe('ChallengerTrainer corrections and unlearnable examples', () => {
  const corrections = FRAUD.filter((x) => x.correction_of !== null).length;

  it('learns a correction as a new example by default', () => {
    expect(corrections).toBeGreaterThan(10);
    const learner = new ChallengerTrainer();
    for (const x of FRAUD) learner.learn(x);
    expect(learner.pipeline('fraud', 'logreg')!.trainingCount).toBe(FRAUD.length);
    expect(learner.counters).toMatchObject({ learned: FIRST_LABELS.length, corrections_learned: corrections, corrections_skipped: 0 });
    const byHand = createChallenger('logreg', 'binary') as Pipeline;
    for (const x of FRAUD) byHand.learnOne(x, x.label!);
    bitsEqual(predictions(learner.pipeline('fraud', 'logreg')), predictions(byHand));
  });

  it('skips corrections with trainOnCorrections false: as if they never came', () => {
    const learner = new ChallengerTrainer({ trainOnCorrections: false });
    for (const x of FRAUD) learner.learn(x);
    const without = new ChallengerTrainer();
    for (const x of FIRST_LABELS) without.learn(x);
    expect(learner.counters).toMatchObject({ learned: FIRST_LABELS.length, corrections_learned: 0, corrections_skipped: corrections });
    expect(learner.pipeline('fraud', 'logreg')!.trainingCount).toBe(FIRST_LABELS.length);
    bitsEqual(predictions(learner.pipeline('fraud', 'logreg')), predictions(without.pipeline('fraud', 'logreg')));
    expect(learner.snapshot()[0]!.data_hash).toBe(without.snapshot()[0]!.data_hash);
  });

  it('skips unlabelled examples and rejects a label a binary model cannot learn, changing nothing', () => {
    const learner = new ChallengerTrainer({ challengersOf: () => ['logreg', 'ftrl'] });
    for (const x of FIRST_LABELS.slice(0, 30)) learner.learn(x);
    const before = learner.snapshot();
    const probesBefore = predictions(learner.pipeline('fraud', 'logreg'));
    const counters = { ...learner.counters };

    learner.learn({ ...FIRST_LABELS[30]!, label: null, feedback_type: null });
    expect(learner.counters.unlabelled_skipped).toBe(1);
    learner.learn({ ...FIRST_LABELS[31]!, label: 0.5 });
    expect(learner.counters.rejected).toBe(2); // once per challenger
    expect(learner.counters).toEqual({ ...counters, unlabelled_skipped: 1, rejected: 2 });
    expect(learner.dirty()).toBe(false);
    expect(learner.snapshot()).toEqual([]);
    expect(learner.pipeline('fraud', 'logreg')!.trainingCount).toBe(30);
    bitsEqual(predictions(learner.pipeline('fraud', 'logreg')), probesBefore);

    // And goes on as one that never saw them.
    learner.learn(FIRST_LABELS[32]!);
    const clean = new ChallengerTrainer({ challengersOf: () => ['logreg', 'ftrl'] });
    for (const x of FIRST_LABELS.slice(0, 30)) clean.learn(x);
    const cleanBefore = clean.snapshot();
    clean.learn(FIRST_LABELS[32]!);
    const [a, b] = [learner.snapshot(), clean.snapshot()];
    expect(before.map((s) => s.data_hash)).toEqual(cleanBefore.map((s) => s.data_hash));
    expect(a.map((s) => s.version)).toEqual(['fraud/logreg@2', 'fraud/ftrl@2']);
    expect(a.map((s) => s.version)).toEqual(b.map((s) => s.version));
    expect(a.map((s) => s.data_hash)).toEqual(b.map((s) => s.data_hash));
    expect(a.map((s) => s.parameters === b[a.indexOf(s)]!.parameters)).toEqual([true, true]);
  });

  it('learns any finite label for a regression model', () => {
    const learner = new ChallengerTrainer({ kindOf: () => 'regression' });
    learner.learn({ ...FIRST_LABELS[0]!, label: 0.5 });
    learner.learn({ ...FIRST_LABELS[1]!, label: -120.25 });
    expect(learner.counters).toMatchObject({ learned: 2, rejected: 0 });
    expect(learner.pipeline('fraud', 'linreg')!.trainingCount).toBe(2);
  });
});

describe('ChallengerTrainer restore', () => {
  const options: Partial<TrainerOptions> = {
    kindOf: (model) => (model === 'churn' ? 'regression' : 'binary'),
    challengersOf: (model) => (model === 'fraud' ? ['logreg', 'logreg_adam', 'ftrl', 'pa', 'naive_bayes'] : []),
  };
  const K = 400;
  const head = STREAM.slice(0, K);
  const tail = STREAM.slice(K);

  const key = (s: ModelSnapshot) => ({ ...s });
  const probeAll = (learner: ChallengerTrainer, snapshots: ModelSnapshot[]) => snapshots.flatMap((s) => predictions(learner.pipeline(s.model, s.challenger)));

  it('goes on from restored snapshots bit-identically to an uninterrupted learner', () => {
    const uninterrupted = new ChallengerTrainer(options);
    for (const x of head) uninterrupted.learn(x);
    const atK = uninterrupted.snapshot();
    expect(atK).toHaveLength(5 + 2);

    const restored = new ChallengerTrainer(options);
    for (const s of atK) restored.restore(s);
    expect(restored.dirty()).toBe(false);
    expect(restored.snapshot()).toEqual([]);
    bitsEqual(probeAll(restored, atK), probeAll(uninterrupted, atK));

    for (const x of tail) {
      uninterrupted.learn(x);
      restored.learn(x);
    }
    const a = uninterrupted.snapshot();
    const b = restored.snapshot();
    expect(b.map(key)).toEqual(a.map(key));
    for (const s of a) expect(s.version.endsWith('@2')).toBe(true);
    bitsEqual(probeAll(restored, a), probeAll(uninterrupted, a));
    // Including the training counts, so a restored learner counts on.
    expect(b.map((s) => s.training_count)).toEqual(a.map((s) => s.training_count));
    expect(a[0]!.training_count).toBe(STREAM.filter((x) => x.model === 'fraud').length);
  });

  it('ignores a snapshot older than (or the same as) what is loaded', () => {
    const learner = new ChallengerTrainer(options);
    for (const x of head) learner.learn(x);
    const first = learner.snapshot();
    for (const x of tail) learner.learn(x);
    const second = learner.snapshot();

    const restored = new ChallengerTrainer(options);
    for (const s of second) restored.restore(s);
    const probes = probeAll(restored, second);
    for (const s of [...first, ...second]) restored.restore(s);
    bitsEqual(probeAll(restored, second), probes);
    expect(restored.dirty()).toBe(false);

    // The next snapshot goes on from @2, on top of the newer state.
    restored.learn(FIRST_LABELS[0]!);
    learner.learn(FIRST_LABELS[0]!);
    const [mine] = restored.snapshot();
    const [theirs] = learner.snapshot();
    expect(mine!.version).toBe('fraud/logreg@3');
    expect(mine!.parent_version).toBe('fraud/logreg@2');
    expect(mine).toEqual(theirs);
  });

  it('ignores a snapshot of a challenger no longer configured', () => {
    const learner = new ChallengerTrainer(options);
    for (const x of head) learner.learn(x);
    const snapshots = learner.snapshot();
    const fewer = new ChallengerTrainer({ ...options, challengersOf: () => [] });
    for (const s of snapshots) fewer.restore(s);
    expect(fewer.pipeline('fraud', 'ftrl')).toBeUndefined();
    expect(fewer.pipeline('fraud', 'logreg')!.trainingCount).toBe(snapshots[0]!.training_count);
  });
});

// A LabelledExample is a ModelInput as it is.
const _typecheck: ModelInput = STREAM[0] as LabelledExample;
void _typecheck;
