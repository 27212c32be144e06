/**
 * The multilabel pieces of the learner, the shadow scorer, the promoter and
 * the scorer library (issue 16), each on hand-checkable cases: the presets
 * and their config check, the trainer learning the true label set (the empty
 * set included) exactly as a hand-built pipeline, snapshots that rebuild the
 * same model, `<key>#<i>` shadow scores by the configured label order (the
 * previous champion too), the multi-label log loss of the paired test (equal
 * to the evaluator's MultilabelMetrics log_loss) and its view of an example,
 * and the scorer's label probabilities and predicted labels from a snapshot.
 */
import { describe, expect, it } from 'vitest';
import { buildConfig } from '../../adapters/config/index.js';
import { noExampleClasses, type LabelledExample, type Prediction, type PromotionDecision } from '../../core/events.js';
import { challengerFromSnapshot, ChallengerTrainer, createChallenger, isMultilabel, PRESETS, ShadowScorer } from '../../core/learn/index.js';
import { MULTICLASS_LOG_LOSS_EPSILON, MultilabelMetrics } from '../../core/metrics/index.js';
import { BinaryRelevance, LogisticRegression, ModelError, MultilabelPipeline, OneHotEncoder, StandardScaler, sgd } from '../../core/models/index.js';
import { labelSetView, lossOf, multilabelLogLoss, PromotionPolicy } from '../../core/promote/index.js';
import { scoreWith } from '../../scorer/index.js';

const T0 = 1_763_942_400_000;
const LABELS = ['email', 'phone', 'name'];

function example(i: number, labels: string[] | null, overrides: Partial<LabelledExample> = {}): LabelledExample {
  const x = ((i * 37) % 100) / 25 - 2;
  const y = ((i * 61) % 100) / 25 - 2;
  return {
    example_id: `p${i}#1`, prediction_id: `p${i}`, model: 'pii', model_version: 'v1', timestamp: T0 + i * 1000,
    features: { x, y }, categorical: { zone: i % 2 === 0 ? 'eu' : 'us' }, segments: {}, score: 0, threshold: 0.5, label: null,
    feedback_type: 'EXPERT_REVIEW', source: 'r', feedback_timestamp: T0 + i * 1000 + 500, label_delay_ms: 500, correction_of: null,
    shadow_scores: {}, replaces: null, arrival: false,
    ...noExampleClasses(), class_scores: { email: 0.6, phone: 0.2, name: 0.5 }, predicted_labels: ['email', 'name'], labels,
    ...overrides,
  };
}

/** The true set from the features: email when x > 0, phone when y > 0, name when x + y > 1 (often none). */
const labelsOf = (e: LabelledExample) => LABELS.filter((_, l) => (l === 0 ? e.features.x! > 0 : l === 1 ? e.features.y! > 0 : e.features.x! + e.features.y! > 1));

function trained(n: number): ChallengerTrainer {
  const trainer = new ChallengerTrainer({ kindOf: () => 'multilabel', classesOf: () => LABELS, challengersOf: () => [] });
  for (let i = 0; i < n; i++) {
    const e = example(i, null);
    trainer.learn({ ...e, labels: labelsOf(e) });
  }
  return trainer;
}

describe('multilabel presets', () => {
  it('are binary relevance over logistic regressions, built with the labels in order, refused for another task', () => {
    expect(Object.keys(PRESETS).filter((name) => PRESETS[name]!.task === 'multilabel')).toEqual(['br_logreg', 'br_logreg_adagrad']);
    for (const name of ['br_logreg', 'br_logreg_adagrad']) {
      const model = createChallenger(name, 'multilabel', LABELS);
      expect(isMultilabel(model)).toBe(true);
      expect((model as MultilabelPipeline).classes()).toEqual(LABELS);
      expect((model as MultilabelPipeline).estimator.algorithm).toBe('binary_relevance');
    }
    expect(() => createChallenger('br_logreg', 'multiclass', LABELS)).toThrow('challenger preset br_logreg is for multilabel models, not multiclass');
    expect(() => createChallenger('br_logreg', 'multilabel', [])).toThrow(ModelError);
  });

  it('the config checks them against the model task, and defaults a multilabel model to br_logreg', () => {
    expect(() => buildConfig({ models: { pii: { task: 'multilabel', classes: LABELS, challengers: ['softmax'] } } })).toThrow('softmax is a multiclass preset but pii is a multilabel model');
    expect(() => buildConfig({ models: { fraud: { challengers: ['br_logreg'] } } })).toThrow('br_logreg is a multilabel preset but fraud is a binary model');
    const trainer = new ChallengerTrainer({ kindOf: () => 'multilabel', classesOf: () => LABELS });
    trainer.learn(example(0, []));
    expect(trainer.model('pii', 'br_logreg')?.trainingCount).toBe(1);
  });
});

describe('the trainer on a multilabel model', () => {
  it('learns the true set (empty ones too) exactly as a hand-built pipeline; an unlabelled example is skipped', () => {
    const trainer = new ChallengerTrainer({ kindOf: () => 'multilabel', classesOf: () => LABELS });
    const byHand = new MultilabelPipeline([new StandardScaler(), new OneHotEncoder({ maxCategories: 32 })], new BinaryRelevance(new LogisticRegression({ optimizer: sgd(0.01) }), { classes: LABELS }));
    let empty = 0;
    for (let i = 0; i < 300; i++) {
      const e = example(i, null);
      const labels = labelsOf(e);
      if (labels.length === 0) empty++;
      expect(trainer.learn({ ...e, labels })).toEqual([]);
      byHand.learnOne(e, new Set(labels));
    }
    expect(empty).toBe(81); // x <= 0 and y <= 0: no label (counted by hand in Python)
    trainer.learn(example(300, null));
    expect(trainer.counters).toMatchObject({ learned: 300, unlabelled_skipped: 1, rejected: 0, out_of_bounds: 0 });
    const model = trainer.model('pii', 'br_logreg') as MultilabelPipeline;
    expect(JSON.stringify(model.toSnapshot())).toBe(JSON.stringify(byHand.toSnapshot()));
    expect(trainer.pipeline('pii', 'br_logreg')).toBeUndefined(); // not a one-number Pipeline
  });

  it('publishes snapshots that rebuild the model bit for bit, and a restarted trainer goes on from them', () => {
    const trainer = trained(200);
    const [snapshot] = trainer.snapshot(T0);
    expect(snapshot).toMatchObject({ model: 'pii', version: 'pii/br_logreg@1', challenger: 'br_logreg', algorithm: 'binary_relevance', training_count: 200 });
    const rebuilt = challengerFromSnapshot(JSON.parse(snapshot!.parameters)) as MultilabelPipeline;
    const probe = example(999, null);
    expect(Array.from(rebuilt.predictProbaOne(probe))).toEqual(Array.from((trainer.model('pii', 'br_logreg') as MultilabelPipeline).predictProbaOne(probe)));
    const restarted = new ChallengerTrainer({ kindOf: () => 'multilabel', classesOf: () => LABELS });
    restarted.restore(snapshot!);
    for (const t of [trainer, restarted]) t.learn(example(500, ['phone']));
    expect(restarted.snapshot(T0)[0]!.parameters).toBe(trainer.snapshot(T0)[0]!.parameters);
  });
});

describe('the shadow scorer on a multilabel model', () => {
  const prediction = (i: number, timestamp: number): Prediction => {
    const { example_id: _id, label: _l, feedback_type: _f, source: _s, feedback_timestamp: _t, label_delay_ms: _d, correction_of: _c, replaces: _r, arrival: _a, label_class: _lc, rejected_class: _rc, labels: _ls, ...rest } = example(i, null);
    return { ...rest, timestamp, shadow_scores: {} };
  };

  it('scores a prediction into <version>#<i>, i by the configured labels, and the previous champion as previous:<version>#<i>', () => {
    const [snapshot] = trained(200).snapshot(T0);
    const p = Array.from((challengerFromSnapshot(JSON.parse(snapshot!.parameters)) as MultilabelPipeline).predictProbaOne(prediction(7, T0)));
    const scorer = new ShadowScorer({ classesOf: () => ['name', 'email', 'phone'] });
    scorer.add(snapshot!);
    const v = 'pii/br_logreg@1';
    expect(scorer.score(prediction(7, T0))).toEqual({ [`${v}#0`]: p[2], [`${v}#1`]: p[0], [`${v}#2`]: p[1] });
    scorer.decide({ decision: 'PROMOTE', model: 'pii', from_version: v, to_version: 'v2', at: T0 + 10 } as PromotionDecision);
    const scored = scorer.score(prediction(7, T0 + 10));
    expect([scored[`previous:${v}#0`], scored[`previous:${v}#1`], scored[`previous:${v}#2`]]).toEqual([p[2], p[0], p[1]]);
  });
});

describe('the promoter on a multilabel model', () => {
  it('multi-label log loss: the mean over labels of the binary log loss, the outcome clipped at machine epsilon', () => {
    expect(multilabelLogLoss(Uint8Array.of(1, 0, 0), [0.8, 0.1, 0.5])).toBe((-Math.log(0.8) - Math.log(0.9) - Math.log(0.5)) / 3);
    expect(multilabelLogLoss(Uint8Array.of(1, 1), [0, 1])).toBe(-Math.log(MULTICLASS_LOG_LOSS_EPSILON) / 2 - Math.log(1 - MULTICLASS_LOG_LOSS_EPSILON) / 2);
    expect(lossOf('multilabel_log_loss', 0, 0.37, 0.5)).toBe(0.37); // the view gives the loss: taken as it is
  });

  it("its mean over examples is the evaluator's MultilabelMetrics log_loss (the mean over labels of sklearn's log_loss(Y[:, l], P[:, l]))", () => {
    const metrics = new MultilabelMetrics(LABELS);
    let sum = 0;
    for (let i = 0; i < 50; i++) {
      const truth = Uint8Array.from(LABELS, (_, l) => ((i * (l + 3)) % 7 < 3 ? 1 : 0));
      const p = LABELS.map((_, l) => (l === 2 && i % 10 === 0 ? 0 : ((i * 13 + l * 29) % 97) / 97));
      metrics.update({ labels: truth, predicted: Uint8Array.from(p, (q) => (q >= 0.5 ? 1 : 0)), probabilities: p });
      sum += multilabelLogLoss(truth, p);
    }
    expect(sum / 50).toBeCloseTo(metrics.get().log_loss!, 14);
  });

  it("the view: the champion's class_scores (missing = 0), each version complete in #<i> entries; an incomplete one is not paired", () => {
    const e = example(1, ['email'], {
      class_scores: { email: 0.7, phone: 0.2 }, // name left out: probability 0
      shadow_scores: { 'pii/br_logreg@3#0': 0.6, 'pii/br_logreg@3#1': 0.3, 'pii/br_logreg@3#2': 0.1, 'previous:pii/br_logreg_adagrad@2#0': 0.9, 'previous:pii/br_logreg_adagrad@2#2': 0.4 },
    });
    const view = labelSetView(e, LABELS)!;
    const truth = Uint8Array.of(1, 0, 0);
    expect([view.score, view.label, { ...view.shadow_scores }]).toEqual([
      multilabelLogLoss(truth, [0.7, 0.2, 0]), 1, { 'pii/br_logreg@3': multilabelLogLoss(truth, [0.6, 0.3, 0.1]) },
    ]);
    expect(labelSetView(example(2, null), LABELS)).toBeUndefined();
  });

  it('pairs champion and challenger on the multi-label log loss; no guardrail; refuses a policy without labels or with a binary metric', () => {
    const policy = new PromotionPolicy('pii', { kind: 'multilabel', classes: LABELS, minSamples: 3, cooldownMs: 0 });
    expect(policy.policy).toBe('asymptotic-cs alpha=0.05 metric=multilabel_log_loss min_samples=3 min_effect=0 planned_samples=1000 cooldown=0ms watch=2000');
    for (let i = 0; i < 4; i++) policy.observe(example(i, ['email', 'name'], { shadow_scores: { 'pii/br_logreg@1#0': 0.9, 'pii/br_logreg@1#1': 0.1, 'pii/br_logreg@1#2': 0.8 } }));
    policy.observe(example(9, null));
    const [c] = policy.state().challengers;
    const champion = (-Math.log(0.6) - Math.log(0.8) - Math.log(0.5)) / 3;
    const challenger = (-Math.log(0.9) - Math.log(0.9) - Math.log(0.8)) / 3;
    expect(c!.n).toBe(4);
    expect(c!.champion_loss).toBeCloseTo(champion, 14);
    expect(c!.challenger_loss).toBeCloseTo(challenger, 14);
    expect(c!.mean).toBeCloseTo(champion - challenger, 14);
    expect(policy.state().counters).toEqual({ labelled: 4, unlabelled: 1, unpaired: 0, late: 0, rejections: 0 });
    expect(() => new PromotionPolicy('pii', { kind: 'multilabel' })).toThrow("promotion policy: classes must be the model's classes (2 or more) for a multilabel model, got 0");
    expect(() => new PromotionPolicy('pii', { kind: 'multilabel', classes: LABELS, metric: 'log_loss' })).toThrow('metric must be one of multilabel_log_loss');
  });
});

describe('the scorer on a multilabel champion', () => {
  it('a snapshot scores an input into label probabilities in label order and the labels at or above 0.5', () => {
    const [snapshot] = trained(300).snapshot(T0);
    const model = challengerFromSnapshot(JSON.parse(snapshot!.parameters));
    const input = { features: { x: 1.5, y: 1.5 }, categorical: {} };
    const scored = scoreWith(model, snapshot!.version, input);
    const p = Array.from((model as MultilabelPipeline).predictProbaOne(input));
    expect(scored).toEqual({ score: Math.max(...p), version: 'pii/br_logreg@1', classes: LABELS, probabilities: p, predicted_labels: LABELS.filter((_, l) => p[l]! >= 0.5) });
    expect(scored.predicted_labels).toEqual(['email', 'phone', 'name']);
    const none = scoreWith(model, snapshot!.version, { features: { x: -1.5, y: -1.5 }, categorical: {} });
    expect(none.predicted_labels).toEqual([]);
  });
});
