/**
 * Issue 16's multi-label learner and promoter on the core pipeline in
 * process (the joiner, the challenger trainer, the shadow scorer and the
 * promotion policy wired as run and replay wire them: the learner's
 * snapshots go to the joiner's scorer, the promoter's decisions too), as
 * multiclass-promotion.test.ts does for multi-class. The evaluator is not in
 * it (another part of issue 16).
 *
 * The world: features x1, x2, x3 ~ N(0, 1), four independent labels whose
 * true probabilities are sigmoid(2·x1) (email), sigmoid(2·x2) (phone),
 * sigmoid(2·x3 − 1) (address) and sigmoid(x1 + x2) (name); at half-way
 * phone's rule flips to sigmoid(−2·x2). Upstream's champion serves the first
 * concept's true probabilities throughout (class_scores; its decided set: the
 * labels at or above the 0.5 threshold). One prediction a minute; each gets
 * its true set 10 minutes later (EXPERT_REVIEW, `labels`), except one in ten
 * whose reviewer edits the decided set (USER_REJECTED with labels_added and
 * labels_removed, resolving to the true set) and one in ten first confirmed
 * by the user (USER_CONFIRMED: the decided set) and 30 minutes later
 * corrected to the true set (EXPERT_REVIEW: a correction). The `br_logreg`
 * challenger learns online; snapshots every 100 examples.
 */
import { describe, expect, it } from 'vitest';
import { noFeedbackClasses, type Feedback, type LabelledExample, type Prediction, type PromotionDecision } from '../../core/events.js';
import { Joiner, MemoryJoinStore } from '../../core/join/index.js';
import { ChallengerTrainer, isMultilabel, ShadowScorer } from '../../core/learn/index.js';
import { MULTICLASS_LOG_LOSS_EPSILON } from '../../core/metrics/index.js';
import type { MultilabelPipeline } from '../../core/models/index.js';
import { PromotionPolicy, type PolicyDecision } from '../../core/promote/index.js';
import { mulberry32 } from '../../demo/random.js';

const MINUTE = 60_000;
const T0 = Date.UTC(2025, 5, 1);
const LABELS = ['email', 'phone', 'address', 'name'];
const N = 8000;

const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));
const before = (x: number[]) => [sigmoid(2 * x[0]!), sigmoid(2 * x[1]!), sigmoid(2 * x[2]! - 1), sigmoid(x[0]! + x[1]!)];
const after = (x: number[]) => [sigmoid(2 * x[0]!), sigmoid(-2 * x[1]!), sigmoid(2 * x[2]! - 1), sigmoid(x[0]! + x[1]!)];

type Event = { at: number; prediction?: Prediction; feedback?: Feedback };

/** The stream (see the file comment); `change`: whether phone's rule flips at half-way. */
function stream(change: boolean, seed: number): Event[] {
  const random = mulberry32(seed);
  const normal = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  const events: Event[] = [];
  for (let i = 0; i < N; i++) {
    const timestamp = T0 + i * MINUTE;
    const x = [normal(), normal(), normal()];
    const truth = (change && i >= N / 2 ? after : before)(x);
    const labels = LABELS.filter((_, l) => random() < truth[l]!);
    const served = before(x);
    const class_scores: Record<string, number> = {};
    LABELS.forEach((name, l) => (class_scores[name] = served[l]!));
    const decided = LABELS.filter((_, l) => served[l]! >= 0.5);
    const id = `p${i}`;
    events.push({
      at: timestamp,
      prediction: {
        prediction_id: id, model: 'pii', model_version: 'v1', timestamp, features: { x1: x[0]!, x2: x[1]!, x3: x[2]! }, categorical: {}, segments: {},
        score: 0, threshold: 0.5, shadow_scores: {}, class_scores, predicted_class: null, predicted_labels: null,
      },
    });
    const fb = (at: number, type: Feedback['feedback_type'], fields: Partial<Feedback>): Event => ({
      at,
      feedback: { prediction_id: id, timestamp: at, feedback_type: type, label: null, uncertain: false, source: 'review', notes: null, ...noFeedbackClasses(), ...fields },
    });
    const u = random();
    if (u < 0.1) {
      const edits = { labels_added: labels.filter((l) => !decided.includes(l)), labels_removed: decided.filter((l) => !labels.includes(l)) };
      events.push(fb(timestamp + 10 * MINUTE, 'USER_REJECTED', edits));
    } else if (u < 0.2) {
      events.push(fb(timestamp + 10 * MINUTE, 'USER_CONFIRMED', {}));
      events.push(fb(timestamp + 40 * MINUTE, 'EXPERT_REVIEW', { labels }));
    } else {
      events.push(fb(timestamp + 10 * MINUTE, 'EXPERT_REVIEW', { labels }));
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
}

/** The core pipeline over a stream (see the file comment). */
function runLoop(events: Event[]): Loop {
  const scorer = new ShadowScorer({ classesOf: () => LABELS });
  const joiner = new Joiner(new MemoryJoinStore(), {
    joinWindowMs: 86_400_000, emitArrivals: false, kindOf: () => 'multilabel', classesOf: () => LABELS, numericTargetOf: () => null, shadowScorer: scorer,
  });
  const trainer = new ChallengerTrainer({ kindOf: () => 'multilabel', classesOf: () => LABELS, challengersOf: () => [] }); // the default: br_logreg
  const policy = new PromotionPolicy('pii', { kind: 'multilabel', classes: LABELS });
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
  return { decisions, decidedAfter, examples, trainer, policy };
}

/** The multi-label log loss by hand: the mean over labels of −ln p (label applies) or −ln(1 − p) (not), clipped to [2^−52, 1 − 2^−52]. */
function handLoss(truth: readonly string[], p: (label: string, l: number) => number): number {
  const clip = (q: number) => Math.min(1 - MULTICLASS_LOG_LOSS_EPSILON, Math.max(MULTICLASS_LOG_LOSS_EPSILON, q));
  let sum = 0;
  LABELS.forEach((label, l) => (sum += -Math.log(clip(truth.includes(label) ? p(label, l) : 1 - p(label, l)))));
  return sum / LABELS.length;
}

describe('multilabel learning and promotion (core pipeline)', () => {
  it("a binary-relevance challenger learns a label's flipped rule and is promoted after it, with the exact evidence", () => {
    const events = stream(true, 16);
    // The corrections: the sets first confirmed by the user (the decided set) that the reviewer then changed.
    const decided = new Map<string, string>();
    let changed = 0;
    for (const e of events) {
      if (e.prediction) decided.set(e.prediction.prediction_id, LABELS.filter((l) => e.prediction!.class_scores[l]! >= 0.5).join());
      else if (e.feedback!.feedback_type === 'USER_CONFIRMED') decided.set(e.feedback!.prediction_id, `confirmed:${decided.get(e.feedback!.prediction_id)}`);
      else if (e.feedback!.labels !== null && decided.get(e.feedback!.prediction_id)!.startsWith('confirmed:')) {
        if (decided.get(e.feedback!.prediction_id) !== `confirmed:${e.feedback!.labels.join()}`) changed++;
      }
    }
    expect(changed).toBe(630);
    const loop = runLoop(events);
    const summary = loop.decisions.map((d) => `${d.decision} ${d.from_version} -> ${d.to_version} at +${(d.at - T0) / MINUTE} min, n ${d.n}, statistic ${d.statistic}, bound ${d.bound}`);
    // The change is at +4000 min: promoted 757 minutes after it, on the sequence cumulated since the start
    // (one label in four flips, so the loss difference is a quarter of a binary model's).
    expect(summary).toEqual(['PROMOTE v1 -> pii/br_logreg@50 at +4757 min, n 4981, statistic 0.007866384097467425, bound 0.0001677068224858998']);
    // The evidence recomputed by hand from the labelled examples: the mean over the paired examples (a true set and
    // every label's challenger probability) of the champion's multi-label log loss minus the challenger's.
    let n = 0;
    let sum = 0;
    for (const x of loop.examples.slice(0, loop.decidedAfter[0])) {
      if (x.labels === null) continue;
      const keys = Object.keys(x.shadow_scores);
      if (keys.length === 0) continue;
      expect(keys.map((k) => k.slice(k.indexOf('#')))).toEqual(['#0', '#1', '#2', '#3']);
      const version = keys[0]!.slice(0, keys[0]!.indexOf('#'));
      n++;
      sum += handLoss(x.labels, (label) => x.class_scores[label]!) - handLoss(x.labels, (_, l) => x.shadow_scores[`${version}#${l}`]!);
    }
    expect(n).toBe(loop.decisions[0]!.n);
    expect(sum / n).toBeCloseTo(loop.decisions[0]!.statistic!, 12);
    // 8,000 true sets and 630 corrections (of ~800 sets first confirmed by the user, those the reviewer changed);
    // unpaired: before the first snapshot, and after the promotion (the champion is then the only challenger there is).
    expect(loop.policy.state().counters).toEqual({ labelled: 8630, unlabelled: 0, unpaired: 3649, late: 0, rejections: 0 });
    expect(loop.policy.state().watch).toBeNull(); // the rollback watch passed: the old champion is not better
    // Every true set learned once, the 630 corrections as well (the confirmed set was learned first).
    expect(loop.trainer.counters).toMatchObject({ learned: 8000, corrections_learned: 630, unlabelled_skipped: 0, rejected: 0, reverted: 0 });
    // It learned the new concept: phone applies when x2 < 0 (true probabilities at these points: phone 0.73, 0.12, 0.02).
    const model = loop.trainer.model('pii', 'br_logreg')!;
    expect(isMultilabel(model)).toBe(true);
    const decide = (x1: number, x2: number, x3: number) => (model as MultilabelPipeline).predictOne({ features: { x1, x2, x3 }, categorical: {} });
    expect([decide(2, -0.5, 0), decide(-2, 1, 2), decide(2, 2, -2)]).toEqual([['email', 'phone', 'name'], ['address'], ['email', 'name']]);
  });

  it('a stationary stream: the challenger is never promoted over the true champion', () => {
    const loop = runLoop(stream(false, 16));
    expect(loop.decisions).toEqual([]);
    const [br] = loop.policy.state().challengers;
    // The champion is the truth: the challenger's mean loss difference is negative (it is worse), its lower bound below 0.
    expect([br!.identity, br!.n, br!.mean, br!.lower]).toEqual(['pii/br_logreg', 8413, -0.010607951175338663, -0.014283234786418193]);
  });
});
