/**
 * The shadow scorer: no look-ahead (a prediction is scored by the newest
 * snapshot created at or before it), scores equal the snapshot's model
 * exactly, duplicates ignored, memory bounded by pruning, out-of-order
 * predictions counted, bad parameters refused with a ModelError.
 */
import { describe, expect, it } from 'vitest';
import { type LabelledExample, type ModelSnapshot, noPredictionClasses, type Prediction } from '../../core/events.js';
import { ChallengerTrainer, ShadowScorer } from '../../core/learn/index.js';
import { ModelError, pipelineFromSnapshot } from '../../core/models/index.js';
import { labelledStream } from '../support/labelled.js';

const STREAM = labelledStream(600, 11).filter((x) => x.model === 'fraud');

/** Snapshots of the fraud model's logreg challenger after each `every` examples, created at the given times. */
function snapshots(count: number, every: number, createdAt: (i: number) => number): ModelSnapshot[] {
  const learner = new ChallengerTrainer();
  const out: ModelSnapshot[] = [];
  for (let i = 0; i < count; i++) {
    for (let j = 0; j < every; j++) learner.learn(STREAM[(i * every + j) % STREAM.length]!);
    const [snapshot] = learner.snapshot(createdAt(i));
    out.push(snapshot!);
  }
  return out;
}

function prediction(timestamp: number, of: LabelledExample = STREAM[0]!, model = 'fraud'): Prediction {
  return {
    prediction_id: `p-${timestamp}`, model, model_version: 'v1', timestamp,
    features: of.features, categorical: of.categorical, segments: of.segments, score: 0.5, threshold: 0.5, shadow_scores: {},
    ...noPredictionClasses(),
  };
}

const expected = (snapshot: ModelSnapshot, p: Prediction) => pipelineFromSnapshot(JSON.parse(snapshot.parameters)).predictOne(p);

describe('ShadowScorer', () => {
  const [s1, s2] = snapshots(2, 20, (i) => (i + 1) * 100) as [ModelSnapshot, ModelSnapshot];

  it('scores with the newest snapshot created at or before the prediction (no look-ahead)', () => {
    expect(s1.version).toBe('fraud/logreg@1');
    expect(s2.version).toBe('fraud/logreg@2');
    const scorer = new ShadowScorer();
    scorer.add(s1);
    scorer.add(s2);
    expect(scorer.score(prediction(50))).toEqual({});
    const at150 = prediction(150);
    expect(scorer.score(at150)).toEqual({ 'fraud/logreg@1': expected(s1, at150) });
    const at250 = prediction(250);
    expect(scorer.score(at250)).toEqual({ 'fraud/logreg@2': expected(s2, at250) });
    // Exactly the snapshot's model (Object.is: bit for bit, -0 included).
    expect(Object.is(scorer.score(prediction(260))['fraud/logreg@2'], expected(s2, prediction(260)))).toBe(true);
    expect(expected(s1, at250)).not.toBe(expected(s2, at250));
    // Other models get nothing.
    expect(scorer.score(prediction(300, STREAM[0], 'churn'))).toEqual({});
    expect(scorer.stats()).toMatchObject({ scored: 3, outOfOrder: 0, nonFinite: 0, maxStalenessMs: 60, meanStalenessMs: (50 + 50 + 60) / 3 });
  });

  it('orders snapshots by sequence number whatever order they arrive in, and ignores duplicates', () => {
    const scorer = new ShadowScorer();
    scorer.add(s2);
    scorer.add(s1);
    scorer.add(s2);
    scorer.add({ ...s1 });
    expect(scorer.kept('fraud', 'logreg')).toBe(2);
    expect(scorer.latest('fraud').map((s) => s.version)).toEqual(['fraud/logreg@2']);
    expect(Object.keys(scorer.score(prediction(150)))).toEqual(['fraud/logreg@1']);
    expect(Object.keys(scorer.score(prediction(200)))).toEqual(['fraud/logreg@2']);
    // @1 was dropped; a re-delivery of it is ignored.
    expect(scorer.kept('fraud', 'logreg')).toBe(1);
    scorer.add(s1);
    expect(scorer.kept('fraud', 'logreg')).toBe(1);
  });

  it('scores every challenger of the model, each with its own snapshot', () => {
    const learner = new ChallengerTrainer({ challengersOf: () => ['logreg', 'pa', 'naive_bayes'] });
    for (const x of STREAM.slice(0, 30)) learner.learn(x);
    const first = learner.snapshot(100);
    for (const x of STREAM.slice(30, 40)) learner.learn(x);
    const second = learner.snapshot(200).filter((s) => s.challenger !== 'pa');
    const scorer = new ShadowScorer();
    for (const s of [...first, ...second]) scorer.add(s);
    const p = prediction(300, STREAM[50]);
    const scores = scorer.score(p);
    expect(Object.keys(scores).sort()).toEqual(['fraud/logreg@2', 'fraud/naive_bayes@2', 'fraud/pa@1']);
    for (const s of scorer.latest('fraud')) expect(scores[s.version]).toBe(expected(s, p));
  });

  it('keeps memory bounded: only the current snapshot (and newer ones) per challenger', () => {
    const all = snapshots(60, 5, (i) => 1_000 * (i + 1));
    const scorer = new ShadowScorer();
    let maxKept = 0;
    all.forEach((s, i) => {
      scorer.add(s);
      const p = prediction(1_000 * (i + 1) + 500, STREAM[i]);
      const scores = scorer.score(p);
      expect(Object.keys(scores)).toEqual([s.version]);
      expect(scores[s.version]).toBe(expected(s, p));
      maxKept = Math.max(maxKept, scorer.kept('fraud', 'logreg'));
    });
    expect(maxKept).toBeLessThanOrEqual(2);
    expect(scorer.kept('fraud', 'logreg')).toBe(1);
    // Snapshots published ahead of the predictions are kept until they can be chosen.
    const later = snapshots(63, 5, (i) => 1_000 * (i + 1)).slice(60);
    for (const s of later) scorer.add(s);
    expect(scorer.kept('fraud', 'logreg')).toBe(4);
    scorer.score(prediction(62_000));
    expect(scorer.kept('fraud', 'logreg')).toBe(2);
    expect(scorer.latest('fraud')[0]!.version).toBe('fraud/logreg@63');
  });

  it('before any prediction (a joiner reading the whole snapshots topic at start), keeps only the snapshots of retainMs', () => {
    const all = snapshots(100, 2, (i) => 1_000 * (i + 1));
    const scorer = new ShadowScorer({ retainMs: 10_000 });
    for (const s of all) scorer.add(s);
    // Newest created at 100,000: kept are the one current at 90,000 (@90) and the ten after it.
    expect(scorer.kept('fraud', 'logreg')).toBe(11);
    const now = prediction(100_500, STREAM[3]);
    expect(scorer.score(now)).toEqual({ 'fraud/logreg@100': expected(all[99]!, now) });
    // A prediction from before that gets the oldest kept snapshot, counted as out of order.
    const old = prediction(50_000, STREAM[5]);
    expect(scorer.score(old)).toEqual({ 'fraud/logreg@100': expected(all[99]!, old) });
    expect(scorer.stats().outOfOrder).toBe(1);
  });

  it('gives an out-of-order prediction the oldest kept snapshot, and counts it', () => {
    const all = snapshots(3, 10, (i) => 100 * (i + 1)); // created at 100, 200, 300
    const scorer = new ShadowScorer();
    for (const s of all) scorer.add(s);
    expect(Object.keys(scorer.score(prediction(250)))).toEqual(['fraud/logreg@2']); // @1 dropped
    expect(scorer.kept('fraud', 'logreg')).toBe(2);
    // In order with what is kept: exact, not counted.
    expect(Object.keys(scorer.score(prediction(220)))).toEqual(['fraud/logreg@2']);
    expect(scorer.stats().outOfOrder).toBe(0);
    // Should have had @1, which is gone: the oldest kept (@2) instead, counted, negative staleness.
    const late = prediction(150);
    expect(scorer.score(late)).toEqual({ 'fraud/logreg@2': expected(all[1]!, late) });
    expect(scorer.stats()).toMatchObject({ scored: 3, outOfOrder: 1 });
    expect(scorer.stats().meanStalenessMs).toBeCloseTo((50 + 20 - 50) / 3, 10);
    // Before the first snapshot existed: still nothing.
    expect(scorer.score(prediction(50))).toEqual({});
    expect(scorer.stats().outOfOrder).toBe(1);
  });

  it('leaves out and counts a non-finite score', () => {
    const learner = new ChallengerTrainer({ kindOf: () => 'regression' });
    for (const x of STREAM.slice(0, 50)) learner.learn(x);
    const [snapshot] = learner.snapshot(100);
    const scorer = new ShadowScorer();
    scorer.add(snapshot!);
    // A finite feature so large that, standardised, it overflows to Infinity.
    const p = { ...prediction(200), features: { amount: 50, age: 1e308 } };
    const raw = expected(snapshot!, p);
    expect(Number.isFinite(raw)).toBe(false);
    expect(scorer.score(p)).toEqual({});
    expect(scorer.stats()).toMatchObject({ scored: 0, nonFinite: 1, maxStalenessMs: 0, meanStalenessMs: 0 });
  });

  it('refuses parameters that are not a pipeline snapshot with a ModelError naming the version', () => {
    const scorer = new ShadowScorer();
    expect(() => scorer.add({ ...s1, parameters: 'not json' })).toThrow(ModelError);
    expect(() => scorer.add({ ...s1, parameters: 'not json' })).toThrow(/fraud\/logreg@1/);
    const state = JSON.parse(s1.parameters) as { state: Record<string, unknown> };
    expect(() => scorer.add({ ...s1, parameters: JSON.stringify({ ...state, state: {} }) })).toThrow(/fraud\/logreg@1/);
    const estimatorOnly = { ...state, algorithm: 'logistic_regression' };
    expect(() => scorer.add({ ...s1, parameters: JSON.stringify(estimatorOnly) })).toThrow(ModelError);
    expect(() => scorer.add({ ...s1, version: 'fraud/logreg' })).toThrow(ModelError);
    // Nothing was kept; a good one still loads.
    expect(scorer.kept('fraud', 'logreg')).toBe(0);
    scorer.add(s1);
    expect(scorer.kept('fraud', 'logreg')).toBe(1);
  });

  it('scores the previous champion after a promotion from one of our snapshots, from the decision on', () => {
    const five = snapshots(5, 10, (i) => (i + 1) * 100);
    const scorer = new ShadowScorer({ retainMs: 250 });
    for (const snapshot of five) scorer.add(snapshot);
    const decision = (kind: 'PROMOTE' | 'ROLLBACK', from: string, to: string, at: number) => ({
      decision_id: `fraud#${at}`, model: 'fraud', from_version: from, to_version: to, decision: kind, policy: 'p', statistic: null, p_value: null,
      bound: null, alpha: 0.05, sample_size: 1, metric_deltas: {}, guardrails: {}, reason: 'r', actor: 'a', at, decided_at: at,
    });
    // Predictions up to 350 drop @1 and @2 (@3 is current); @2 stays as text (replaced at 300, within retainMs).
    scorer.score(prediction(350));
    expect(scorer.kept('fraud', 'logreg')).toBe(3);
    // From upstream's own model: nothing of ours to score.
    scorer.decide(decision('PROMOTE', 'v1', 'fraud/logreg@2', 360));
    expect(scorer.previousOf('fraud')).toBeNull();
    // logreg@2 (dropped, kept as text) is replaced: it is the previous champion from 400 on.
    scorer.decide(decision('PROMOTE', 'fraud/logreg@2', 'fraud/logreg@3', 400));
    expect(scorer.previousOf('fraud')).toEqual({ version: 'fraud/logreg@2', since: 400 });
    const [, two] = five as [ModelSnapshot, ModelSnapshot];
    const at450 = prediction(450, STREAM[7]);
    expect(scorer.score(at450)).toEqual({ 'fraud/logreg@4': expected(five[3]!, at450), 'previous:fraud/logreg@2': expected(two, at450) });
    // Before the decision's time: no previous score (no look-ahead).
    expect(Object.keys(scorer.score(prediction(399)))).toEqual(['fraud/logreg@4']);
    // Far past retainMs, the previous champion is still scored (it holds a role).
    const at900 = prediction(900, STREAM[9]);
    expect(scorer.score(at900)['previous:fraud/logreg@2']).toBe(expected(two, at900));
    // A rollback ends it; a dropped snapshot older than retainMs can no longer become previous.
    scorer.decide(decision('ROLLBACK', 'fraud/logreg@3', 'fraud/logreg@2', 910));
    expect(scorer.previousOf('fraud')).toBeNull();
    expect(Object.keys(scorer.score(prediction(920)))).toEqual(['fraud/logreg@5']);
    scorer.decide(decision('PROMOTE', 'fraud/logreg@1', 'fraud/logreg@5', 930));
    expect(scorer.previousOf('fraud')).toBeNull();
    // The champion named by a rollback is kept: promoting away from it scores it as previous.
    scorer.decide(decision('PROMOTE', 'fraud/logreg@5', 'fraud/logreg@4', 940));
    expect(scorer.previousOf('fraud')).toEqual({ version: 'fraud/logreg@5', since: 940 });
  });

  it('a decision read before the snapshot it names as previous (the topics are read apart) still scores it once it arrives', () => {
    const three = snapshots(3, 10, (i) => (i + 1) * 100);
    const scorer = new ShadowScorer();
    scorer.add(three[2]!);
    const promote = {
      decision_id: 'fraud#9', model: 'fraud', from_version: 'fraud/logreg@1', to_version: 'fraud/logreg@3', decision: 'PROMOTE' as const, policy: 'p',
      statistic: null, p_value: null, bound: null, alpha: 0.05, sample_size: 1, metric_deltas: {}, guardrails: {}, reason: 'r', actor: 'a', at: 500, decided_at: 500,
    };
    scorer.decide(promote);
    expect(scorer.previousOf('fraud')).toBeNull();
    scorer.add(three[0]!);
    expect(scorer.previousOf('fraud')).toEqual({ version: 'fraud/logreg@1', since: 500 });
    const at600 = prediction(600, STREAM[4]);
    expect(scorer.score(at600)['previous:fraud/logreg@1']).toBe(expected(three[0]!, at600));
    // Upstream's own version as from_version: nothing to wait for.
    scorer.decide({ ...promote, decision_id: 'fraud#10', from_version: 'v2', to_version: 'fraud/logreg@1', at: 700 });
    expect(scorer.previousOf('fraud')).toBeNull();
  });
});
