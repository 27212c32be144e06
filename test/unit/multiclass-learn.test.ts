/**
 * The multiclass pieces of the learner, the shadow scorer, the promoter and
 * the scorer library (issue 16), each on hand-checkable cases: the presets
 * and their config check, the trainer learning label_class (a rejection only
 * skipped), snapshots that rebuild the same model, `<key>#<i>` shadow scores
 * (by the configured class order, the previous champion too), the multi-class
 * log loss of the paired test and the true-class view, and the scorer's class
 * probabilities from a snapshot.
 */
import { describe, expect, it } from 'vitest';
import { buildConfig } from '../../adapters/config/index.js';
import { ConfigError } from '../../core/errors.js';
import { noExampleClasses, type LabelledExample, type ModelSnapshot, type Prediction, type PromotionDecision } from '../../core/events.js';
import { challengerFromSnapshot, ChallengerTrainer, createChallenger, isMulticlass, PRESETS, ShadowScorer } from '../../core/learn/index.js';
import { MULTICLASS_LOG_LOSS_EPSILON } from '../../core/metrics/index.js';
import { ModelError, MulticlassPipeline, SoftmaxRegression, StandardScaler, OneHotEncoder, sgd } from '../../core/models/index.js';
import { Joiner, MemoryJoinStore } from '../../core/join/index.js';
import { lossOf, PromotionPolicy, trueClassView } from '../../core/promote/index.js';
import { scoreWith } from '../../scorer/index.js';

const T0 = 1_763_942_400_000;
const CLASSES = ['spike', 'drift', 'outage'];

function example(i: number, labelClass: string | null, overrides: Partial<LabelledExample> = {}): LabelledExample {
  const x = ((i * 37) % 100) / 25 - 2;
  const y = ((i * 61) % 100) / 25 - 2;
  return {
    example_id: `p${i}#1`, prediction_id: `p${i}`, model: 'anomaly', model_version: 'v1', timestamp: T0 + i * 1000,
    features: { x, y }, categorical: { zone: i % 2 === 0 ? 'eu' : 'us' }, segments: {}, score: 0, threshold: 0.5, label: null,
    feedback_type: 'EXPERT_REVIEW', source: 'r', feedback_timestamp: T0 + i * 1000 + 500, label_delay_ms: 500, correction_of: null,
    shadow_scores: {}, replaces: null, arrival: false,
    ...noExampleClasses(), class_scores: { spike: 0.5, drift: 0.3, outage: 0.2 }, predicted_class: 'spike', label_class: labelClass,
    ...overrides,
  };
}

/** A class from the features: spike when x > y, else drift when y > 0, else outage. */
const classOf = (e: LabelledExample) => (e.features.x! > e.features.y! ? 'spike' : e.features.y! > 0 ? 'drift' : 'outage');

function trained(n: number): ChallengerTrainer {
  const trainer = new ChallengerTrainer({ kindOf: () => 'multiclass', classesOf: () => CLASSES, challengersOf: () => [] });
  for (let i = 0; i < n; i++) {
    const e = example(i, null);
    trainer.learn({ ...e, label_class: classOf(e) });
  }
  return trainer;
}

describe('multiclass presets', () => {
  it('mirror the binary ones, are built with the classes in order, and are refused for another task', () => {
    expect(Object.keys(PRESETS).filter((name) => PRESETS[name]!.task === 'multiclass')).toEqual(['softmax', 'softmax_adagrad', 'softmax_adam', 'ovr_logreg', 'naive_bayes_multiclass']);
    for (const name of ['softmax', 'softmax_adagrad', 'softmax_adam', 'ovr_logreg', 'naive_bayes_multiclass']) {
      const model = createChallenger(name, 'multiclass', CLASSES);
      expect(isMulticlass(model)).toBe(true);
      expect((model as MulticlassPipeline).classes()).toEqual(CLASSES);
    }
    expect((createChallenger('ovr_logreg', 'multiclass', CLASSES) as MulticlassPipeline).estimator.algorithm).toBe('one_vs_rest');
    expect(() => createChallenger('softmax', 'binary')).toThrow('challenger preset softmax is for multiclass models, not binary');
    expect(() => createChallenger('softmax', 'multiclass', [])).toThrow(ModelError);
  });

  it('the config checks them against the model task, and defaults a multiclass model to softmax', () => {
    const error = (() => {
      try {
        buildConfig({ models: { anomaly: { task: 'multiclass', classes: CLASSES, challengers: ['logreg'] } } });
      } catch (e) {
        return e as ConfigError;
      }
      return null;
    })();
    expect(error?.key).toBe('models.anomaly.challengers');
    expect(error?.message).toContain('logreg is a binary preset but anomaly is a multiclass model');
    expect(() => buildConfig({ models: { fraud: { challengers: ['softmax'] } } })).toThrow('softmax is a multiclass preset but fraud is a binary model');
    const trainer = new ChallengerTrainer({ kindOf: () => 'multiclass', classesOf: () => CLASSES });
    trainer.learn(example(0, 'drift'));
    expect(trainer.model('anomaly', 'softmax')?.trainingCount).toBe(1);
  });
});

describe('the trainer on a multiclass model', () => {
  it('learns label_class exactly as a hand-built pipeline, skips a rejection only, and does not bound the numeric head', () => {
    const trainer = new ChallengerTrainer({ kindOf: () => 'multiclass', classesOf: () => CLASSES, maxFeatureMagnitude: 10 });
    const byHand = new MulticlassPipeline([new StandardScaler(), new OneHotEncoder({ maxCategories: 32 })], new SoftmaxRegression({ optimizer: sgd(0.01), classes: CLASSES }));
    for (let i = 0; i < 300; i++) {
      const e = example(i, null, { label: 1e6 }); // a severity beyond the bound: not the bound's business
      const labelClass = classOf(e);
      expect(trainer.learn({ ...e, label_class: labelClass })).toEqual([]);
      byHand.learnOne(e, labelClass);
    }
    trainer.learn(example(300, null, { rejected_class: 'spike' }));
    expect(trainer.counters).toMatchObject({ learned: 300, rejections_skipped: 1, unlabelled_skipped: 0, rejected: 0, out_of_bounds: 0 });
    const model = trainer.model('anomaly', 'softmax') as MulticlassPipeline;
    expect(JSON.stringify(model.toSnapshot())).toBe(JSON.stringify(byHand.toSnapshot()));
    expect(model.predictOne({ features: { x: 1.5, y: -1 }, categorical: {} })).toBe('spike');
    expect(model.predictOne({ features: { x: -1.5, y: 1.5 }, categorical: {} })).toBe('drift');
    expect(model.predictOne({ features: { x: -1, y: -0.5 }, categorical: {} })).toBe('outage');
  });

  it('publishes snapshots that rebuild the model bit for bit, and a restarted trainer goes on from them', () => {
    const trainer = trained(200);
    const [snapshot] = trainer.snapshot(T0);
    expect(snapshot).toMatchObject({ model: 'anomaly', version: 'anomaly/softmax@1', challenger: 'softmax', algorithm: 'softmax_regression', training_count: 200 });
    expect(snapshot!.feature_schema).toEqual([{ name: 'x', kind: 'NUMERIC' }, { name: 'y', kind: 'NUMERIC' }, { name: 'zone', kind: 'CATEGORICAL' }]);
    const rebuilt = challengerFromSnapshot(JSON.parse(snapshot!.parameters)) as MulticlassPipeline;
    const probe = example(999, null);
    expect(Array.from(rebuilt.predictProbaOne(probe))).toEqual(Array.from((trainer.model('anomaly', 'softmax') as MulticlassPipeline).predictProbaOne(probe)));
    const restarted = new ChallengerTrainer({ kindOf: () => 'multiclass', classesOf: () => CLASSES });
    restarted.restore(snapshot!);
    for (const t of [trainer, restarted]) t.learn(example(500, 'outage'));
    expect(restarted.snapshot(T0)[0]!.parameters).toBe(trainer.snapshot(T0)[0]!.parameters);
  });
});

describe('the shadow scorer on a multiclass model', () => {
  const prediction = (i: number, timestamp: number): Prediction => {
    const { example_id: _id, label: _l, feedback_type: _f, source: _s, feedback_timestamp: _t, label_delay_ms: _d, correction_of: _c, replaces: _r, arrival: _a, label_class: _lc, rejected_class: _rc, labels: _ls, ...rest } = example(i, null);
    return { ...rest, timestamp, shadow_scores: {} };
  };

  it('scores a prediction into <version>#<i>, i by the configured classes, and the previous champion as previous:<version>#<i>', () => {
    const [snapshot] = trained(200).snapshot(T0);
    const model = challengerFromSnapshot(JSON.parse(snapshot!.parameters)) as MulticlassPipeline;
    const p = Array.from(model.predictProbaOne(prediction(7, T0)));
    // The configured order differs from the snapshot's: the index is the configured position.
    const scorer = new ShadowScorer({ classesOf: () => ['outage', 'spike', 'drift'] });
    scorer.add(snapshot!);
    const v = 'anomaly/softmax@1';
    expect(scorer.score(prediction(7, T0))).toEqual({ [`${v}#0`]: p[2], [`${v}#1`]: p[0], [`${v}#2`]: p[1] });
    expect(p[0]! + p[1]! + p[2]!).toBeCloseTo(1, 12);
    // Before the snapshot existed: nothing.
    expect(scorer.score(prediction(7, T0 - 1))).toEqual({});
    // After a promotion from it: scored as the previous champion too.
    scorer.decide({ decision: 'PROMOTE', model: 'anomaly', from_version: v, to_version: 'v2', at: T0 + 10 } as PromotionDecision);
    const scored = scorer.score(prediction(7, T0 + 10));
    expect(scored[`previous:${v}#0`]).toBe(p[2]);
    expect(Object.keys(scored).sort()).toEqual([`${v}#0`, `${v}#1`, `${v}#2`, `previous:${v}#0`, `previous:${v}#1`, `previous:${v}#2`]);
    expect(scorer.stats()).toMatchObject({ nonFinite: 0 });
  });

  it('the joiner dead-letters a multiclass prediction with upstream candidates (not supported yet)', () => {
    const joiner = new Joiner(new MemoryJoinStore(), { kindOf: () => 'multiclass', classesOf: () => CLASSES });
    const outputs = joiner.onPrediction({ ...prediction(1, T0), shadow_scores: { 'v2-candidate': 0.4 } });
    expect(outputs.map((o) => [o.kind, 'reason' in o ? o.reason : null])).toEqual([
      ['rejected', 'shadow_scores is set but upstream candidates of a multiclass model (anomaly) are not supported yet (issue 16): send their class_scores as predictions of their own model'],
    ]);
  });

  it('without configured classes, uses the snapshot order', () => {
    const [snapshot] = trained(50).snapshot(T0);
    const scorer = new ShadowScorer();
    scorer.add(snapshot!);
    const p = Array.from((challengerFromSnapshot(JSON.parse(snapshot!.parameters)) as MulticlassPipeline).predictProbaOne(prediction(3, T0)));
    expect(scorer.score(prediction(3, T0))).toEqual({ 'anomaly/softmax@1#0': p[0], 'anomaly/softmax@1#1': p[1], 'anomaly/softmax@1#2': p[2] });
  });
});

describe('the promoter on a multiclass model', () => {
  it('multi-class log loss: −log p(true class), clipped at machine epsilon as the metrics clip', () => {
    expect(lossOf('multiclass_log_loss', 1, 0.25, 0.5)).toBe(-Math.log(0.25));
    expect(lossOf('multiclass_log_loss', 0, 0.25, 0.5)).toBe(-Math.log(0.25)); // the label is not read
    expect(lossOf('multiclass_log_loss', 1, 0, 0.5)).toBe(-Math.log(MULTICLASS_LOG_LOSS_EPSILON));
    expect(lossOf('multiclass_log_loss', 1, 1, 0.5)).toBe(-Math.log(1 - MULTICLASS_LOG_LOSS_EPSILON));
  });

  it('the true-class view: served class_scores and each version\'s #<true class> entry; a rejection only has none', () => {
    const e = example(1, 'drift', {
      class_scores: { spike: 0.7, outage: 0.3 }, // drift left out: probability 0
      shadow_scores: { 'anomaly/softmax@3#0': 0.2, 'anomaly/softmax@3#1': 0.5, 'anomaly/softmax@3#2': 0.3, 'previous:anomaly/ovr_logreg@2#1': 0.4, 'previous:anomaly/ovr_logreg@2#2': 0.6 },
    });
    const view = trueClassView(e, CLASSES)!;
    expect([view.score, view.label, { ...view.shadow_scores }]).toEqual([0, 1, { 'anomaly/softmax@3': 0.5, 'previous:anomaly/ovr_logreg@2': 0.4 }]);
    expect(trueClassView(example(1, null, { rejected_class: 'spike' }), CLASSES)).toBeUndefined();
  });

  it('pairs champion and challenger on the true class; no guardrail; refuses a multiclass policy without classes or with a binary metric', () => {
    const policy = new PromotionPolicy('anomaly', { kind: 'multiclass', classes: CLASSES, minSamples: 3, cooldownMs: 0 });
    expect(policy.policy).toBe('asymptotic-cs alpha=0.05 metric=multiclass_log_loss min_samples=3 min_effect=0 planned_samples=1000 cooldown=0ms watch=2000');
    for (let i = 0; i < 4; i++) {
      const e = example(i, 'drift', { shadow_scores: { 'anomaly/softmax@1#0': 0.1, 'anomaly/softmax@1#1': 0.8, 'anomaly/softmax@1#2': 0.1 } });
      policy.observe(e);
    }
    policy.observe(example(9, null, { rejected_class: 'spike' }));
    const [c] = policy.state().challengers;
    // Champion: −log 0.3 each time; challenger: −log 0.8.
    expect(c!.n).toBe(4);
    expect(c!.champion_loss).toBeCloseTo(-Math.log(0.3), 14);
    expect(c!.challenger_loss).toBeCloseTo(-Math.log(0.8), 14);
    expect(c!.mean).toBeCloseTo(Math.log(0.8 / 0.3), 14);
    expect(policy.state().counters).toEqual({ labelled: 5, unlabelled: 0, unpaired: 0, late: 0, rejections: 1 });
    expect(() => new PromotionPolicy('anomaly', { kind: 'multiclass' })).toThrow('promotion policy: classes must be the model\'s classes (2 or more) for a multiclass model, got 0');
    expect(() => new PromotionPolicy('anomaly', { kind: 'multiclass', classes: CLASSES, metric: 'log_loss' })).toThrow('metric must be one of multiclass_log_loss');
  });
});

describe('the scorer on a multiclass champion', () => {
  it('a snapshot scores an input into class probabilities in class order and the predicted class', () => {
    const [snapshot] = trained(300).snapshot(T0);
    const model = challengerFromSnapshot(JSON.parse((snapshot as ModelSnapshot).parameters));
    const input = { features: { x: -1.5, y: 1.5 }, categorical: {} };
    const scored = scoreWith(model, snapshot!.version, input);
    const p = Array.from((model as MulticlassPipeline).predictProbaOne(input));
    expect(scored).toEqual({ score: p[1], version: 'anomaly/softmax@1', classes: CLASSES, probabilities: p, predicted_class: 'drift' });
    expect(p[1]).toBeGreaterThan(Math.max(p[0]!, p[2]!));
  });
});
