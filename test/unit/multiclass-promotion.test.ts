/**
 * Issue 16's "done when" for the learner and the promoter, on the core
 * pipeline in process (the joiner, the challenger trainer, the shadow scorer
 * and the promotion policy wired as run and replay wire them: the learner's
 * snapshots go to the joiner's scorer, the promoter's decisions too). The
 * evaluator is not in it (another part of issue 16), so this is not
 * runtime/replay.ts; the parts and their wiring are the same.
 *
 * The world: features x1, x2 ~ N(0, 1), three classes whose true
 * probabilities are softmax(2·x1, 2·x2, 0) (classes spike, drift, outage);
 * at half-way the concept changes to softmax(0, 2·x1, 2·x2) (the class each
 * region means rotates). Upstream's champion serves the first concept's true
 * probabilities throughout. One prediction a minute; each gets a label 10
 * minutes later: the true class (EXPERT_REVIEW), or, one in ten, first a
 * USER_REJECTED without the class (a rejection only: not learned, not
 * compared) and 30 minutes later the true class (a correction between
 * classes). The `softmax` challenger learns online; snapshots every 100
 * examples.
 */
import { describe, expect, it } from 'vitest';
import { noFeedbackClasses, type Feedback, type LabelledExample, type Prediction, type PromotionDecision } from '../../core/events.js';
import { Joiner, MemoryJoinStore } from '../../core/join/index.js';
import { ChallengerTrainer, isMulticlass, ShadowScorer } from '../../core/learn/index.js';
import type { MulticlassPipeline } from '../../core/models/index.js';
import { MULTICLASS_LOG_LOSS_EPSILON } from '../../core/metrics/index.js';
import { PromotionPolicy, type PolicyDecision } from '../../core/promote/index.js';
import { mulberry32 } from '../../demo/random.js';

const MINUTE = 60_000;
const T0 = Date.UTC(2025, 5, 1);
const CLASSES = ['spike', 'drift', 'outage'];
const N = 8000;

function softmax(z: number[]): number[] {
  const m = Math.max(z[0]!, z[1]!, z[2]!);
  const e = z.map((v) => Math.exp(v - m));
  const s = e[0]! + e[1]! + e[2]!;
  return e.map((v) => v / s);
}

const before = (x1: number, x2: number) => softmax([2 * x1, 2 * x2, 0]);
const after = (x1: number, x2: number) => softmax([0, 2 * x1, 2 * x2]);

type Event = { at: number; prediction?: Prediction; feedback?: Feedback };

/** The stream (see the file comment); `change`: whether the concept changes at half-way. */
function stream(change: boolean, seed: number): Event[] {
  const random = mulberry32(seed);
  const normal = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  const events: Event[] = [];
  for (let i = 0; i < N; i++) {
    const timestamp = T0 + i * MINUTE;
    const x1 = normal();
    const x2 = normal();
    const truth = (change && i >= N / 2 ? after : before)(x1, x2);
    const u = random();
    const label = u < truth[0]! ? 0 : u < truth[0]! + truth[1]! ? 1 : 2;
    const served = before(x1, x2);
    const class_scores: Record<string, number> = {};
    CLASSES.forEach((c, k) => (class_scores[c] = served[k]!));
    const id = `p${i}`;
    events.push({
      at: timestamp,
      prediction: {
        prediction_id: id, model: 'anomaly', model_version: 'v1', timestamp, features: { x1, x2 }, categorical: {}, segments: {},
        score: 0, threshold: 0.5, shadow_scores: {}, class_scores, predicted_class: null, predicted_labels: null,
      },
    });
    const fb = (at: number, type: Feedback['feedback_type'], labelClass: string | null): Event => ({
      at,
      feedback: { prediction_id: id, timestamp: at, feedback_type: type, label: null, uncertain: false, source: 'review', notes: null, ...noFeedbackClasses(), label_class: labelClass },
    });
    if (random() < 0.1) {
      events.push(fb(timestamp + 10 * MINUTE, 'USER_REJECTED', null));
      events.push(fb(timestamp + 40 * MINUTE, 'EXPERT_REVIEW', CLASSES[label]!));
    } else {
      events.push(fb(timestamp + 10 * MINUTE, 'EXPERT_REVIEW', CLASSES[label]!));
    }
  }
  // By event time; at equal times a prediction first (stable sort keeps the order made).
  return events.sort((a, b) => a.at - b.at);
}

interface Loop {
  decisions: PolicyDecision[];
  /** For each decision, how many examples had been observed when it was made. */
  decidedAfter: number[];
  examples: LabelledExample[];
  trainer: ChallengerTrainer;
  policy: PromotionPolicy;
  scorer: ShadowScorer;
}

/** The core pipeline over a stream (see the file comment). */
function runLoop(events: Event[], maturityMs = 0): Loop {
  const scorer = new ShadowScorer({ classesOf: () => CLASSES });
  const joiner = new Joiner(new MemoryJoinStore(), {
    joinWindowMs: 86_400_000, emitArrivals: false, kindOf: () => 'multiclass', classesOf: () => CLASSES, numericTargetOf: () => null, shadowScorer: scorer,
  });
  const trainer = new ChallengerTrainer({ kindOf: () => 'multiclass', classesOf: () => CLASSES, challengersOf: () => ['softmax'] });
  const policy = new PromotionPolicy('anomaly', { kind: 'multiclass', classes: CLASSES, maturityMs });
  const decisions: PolicyDecision[] = [];
  const decidedAfter: number[] = [];
  const examples: LabelledExample[] = [];
  let sinceSnapshot = 0;
  for (const e of events) {
    const outputs = e.prediction ? joiner.onPrediction(e.prediction) : joiner.onFeedback(e.feedback!);
    for (const o of outputs) {
      if (o.kind !== 'example') {
        expect(o.kind).not.toBe('rejected');
        continue;
      }
      examples.push(o.example);
      expect(trainer.learn(o.example)).toEqual([]);
      if (++sinceSnapshot === 100) {
        sinceSnapshot = 0;
        for (const s of trainer.snapshot()) scorer.add(s);
      }
      for (const d of policy.observe(o.example)) {
        decisions.push(d);
        decidedAfter.push(examples.length);
        scorer.decide({ decision_id: `d${decisions.length}`, actor: 'test', decided_at: d.at, ...d } as unknown as PromotionDecision);
      }
    }
  }
  return { decisions, decidedAfter, examples, trainer, policy, scorer };
}

describe('multiclass learning and promotion (core pipeline)', () => {
  it('a softmax challenger learns a concept change and is promoted after it, with the exact evidence', () => {
    const loop = runLoop(stream(true, 16));
    const summary = loop.decisions.map((d) => `${d.decision} ${d.from_version} -> ${d.to_version} at +${(d.at - T0) / MINUTE} min, n ${d.n}, statistic ${d.statistic}, bound ${d.bound}`);
    // The change is at +4000 min: promoted 332 minutes (about 300 labels) after it, on the sequence cumulated since the start.
    expect(summary).toEqual(['PROMOTE v1 -> anomaly/softmax@47 at +4332 min, n 4220, statistic 0.01580177536640504, bound 0.00032678739818761335']);
    // The evidence recomputed by hand from the labelled examples: the mean over the paired examples
    // (a true class and a challenger score) of −log p_champion(true) + log p_challenger(true).
    const clip = (p: number) => Math.min(1 - MULTICLASS_LOG_LOSS_EPSILON, Math.max(MULTICLASS_LOG_LOSS_EPSILON, p));
    let n = 0;
    let sum = 0;
    for (const x of loop.examples.slice(0, loop.decidedAfter[0])) {
      if (x.label_class === null) continue;
      const i = CLASSES.indexOf(x.label_class);
      const keys = Object.keys(x.shadow_scores).filter((k) => k.endsWith(`#${i}`));
      if (keys.length === 0) continue;
      expect(keys).toHaveLength(1);
      n++;
      sum += -Math.log(clip(x.class_scores[x.label_class]!)) + Math.log(clip(x.shadow_scores[keys[0]!]!));
    }
    expect(n).toBe(loop.decisions[0]!.n);
    expect(sum / n).toBeCloseTo(loop.decisions[0]!.statistic!, 12);
    // 8,000 labels and 797 corrections; the 797 rejections only are not compared; unpaired: before the first
    // snapshot, and after the promotion (the champion is then the only challenger there is).
    expect(loop.policy.state().counters).toEqual({ labelled: 8797, unlabelled: 0, unpaired: 3780, late: 0, rejections: 797 });
    expect(loop.policy.state().watch).toBeNull(); // the rollback watch passed: the old champion is not better
    // Every prediction's class learned once (797 of them as the correction after a rejection only, which is skipped).
    expect(loop.trainer.counters).toMatchObject({ learned: 7203, corrections_learned: 797, rejections_skipped: 797, rejected: 0, reverted: 0 });
    // And it learned the new concept: softmax(0, 2·x1, 2·x2).
    const model = loop.trainer.model('anomaly', 'softmax')!;
    expect(isMulticlass(model)).toBe(true);
    const decide = (x1: number, x2: number) => (model as MulticlassPipeline).predictOne({ features: { x1, x2 }, categorical: {} });
    expect([decide(2, 0), decide(0, 2), decide(-2, -2)]).toEqual(['drift', 'outage', 'spike']);
  });

  it('with a maturity horizon (labels come within 40 minutes; horizon 1 hour): promoted later, on matured examples only', () => {
    const loop = runLoop(stream(true, 16), 3_600_000);
    const summary = loop.decisions.map((d) => `${d.decision} ${d.from_version} -> ${d.to_version} at +${(d.at - T0) / MINUTE} min, n ${d.n}, statistic ${d.statistic}`);
    // 50 minutes after the test without a horizon (+4332 min): a bin enters once an hour has passed over it.
    expect(summary).toEqual(['PROMOTE v1 -> anomaly/softmax@47 at +4382 min, n 4220, statistic 0.015389885545028502']);
    expect(loop.policy.state().counters.late).toBe(0);
  });

  it('a stationary stream: the challenger is never promoted over the true champion', () => {
    const loop = runLoop(stream(false, 16));
    expect(loop.decisions).toEqual([]);
    const [softmax] = loop.policy.state().challengers;
    // The champion is the truth: the challenger's mean loss difference is negative (it is worse), its lower bound far below 0.
    expect([softmax!.identity, softmax!.n, softmax!.mean, softmax!.lower]).toEqual(['anomaly/softmax', 7898, -0.014429209803534732, -0.02009458566542501]);
  });
});
