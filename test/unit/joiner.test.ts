/**
 * The join, with exact expected outputs for each case of the joiner issue.
 */
import { describe, expect, it } from 'vitest';
import { type Feedback, type FeedbackType, noExampleClasses, noFeedbackClasses, noPredictionClasses, type Prediction } from '../../core/events.js';
import { Joiner, MemoryJoinStore, type JoinOutput, type JoinerOptions } from '../../core/join/index.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const T0 = 1_763_942_400_000; // 2025-11-24T00:00:00Z

function prediction(id: string, at: number, score: number, overrides: Partial<Prediction> = {}): Prediction {
  return {
    ...noPredictionClasses(),
    prediction_id: id,
    model: 'fraud',
    model_version: 'v1',
    timestamp: at,
    features: { amount: 10 },
    categorical: {},
    segments: { region: 'eu' },
    score,
    threshold: 0.5, shadow_scores: {},
    ...overrides,
  };
}

function feedback(id: string, at: number, type: FeedbackType, label: number | null, overrides: Partial<Feedback> = {}): Feedback {
  return { ...noFeedbackClasses(), prediction_id: id, timestamp: at, feedback_type: type, label, uncertain: false, source: 'u1', notes: null, ...overrides };
}

/** Compact view of outputs: what a reader of labelled.jsonl would check. */
function view(outputs: JoinOutput[]) {
  return outputs.map((o) => {
    if (o.kind === 'example') {
      const e = o.example;
      return { example: e.example_id, label: e.label, type: e.feedback_type, delay: e.label_delay_ms, correction_of: e.correction_of };
    }
    if (o.kind === 'arrival') return { arrival: o.example.example_id };
    if (o.kind === 'unmatched') return { unmatched: o.feedback.prediction_id, reason: o.reason };
    return { rejected: o.prediction_id, input: o.input, reason: o.reason };
  });
}

function joiner(options: Partial<JoinerOptions> = {}) {
  const store = new MemoryJoinStore();
  return { j: new Joiner(store, options), store };
}

describe('joiner', () => {
  it('normal join: one labelled example carrying the prediction, label, feedback and delay', () => {
    const { j } = joiner({ shadowScorer: { score: () => ({}) } });
    // At prediction time: its arrival record (the prediction, no label).
    expect(j.onPrediction(prediction('a', T0, 0.8))).toEqual([
      {
        kind: 'arrival',
        example: {
          example_id: 'a#arrival', prediction_id: 'a', model: 'fraud', model_version: 'v1', timestamp: T0,
          features: { amount: 10 }, categorical: {}, segments: { region: 'eu' }, score: 0.8, threshold: 0.5,
          label: null, feedback_type: null, source: null, feedback_timestamp: null,
          label_delay_ms: null, correction_of: null, shadow_scores: {}, replaces: null, arrival: true, ...noExampleClasses(),
        },
      },
    ]);
    const out = j.onFeedback(feedback('a', T0 + 90_000, 'USER_CONFIRMED', 1));
    expect(out).toEqual([
      {
        kind: 'example',
        example: {
          example_id: 'a#1', prediction_id: 'a', model: 'fraud', model_version: 'v1', timestamp: T0,
          features: { amount: 10 }, categorical: {}, segments: { region: 'eu' }, score: 0.8, threshold: 0.5,
          label: 1, feedback_type: 'USER_CONFIRMED', source: 'u1', feedback_timestamp: T0 + 90_000,
          label_delay_ms: 90_000, correction_of: null, shadow_scores: {}, replaces: null, arrival: false, ...noExampleClasses(),
        },
      },
    ]);
    expect(j.counters).toMatchObject({ predictions: 1, feedback: 1, labelled: 1, corrections: 0, duplicates: 0 });
  });

  it('null labels on a binary model: CONFIRMED = predicted class, REJECTED = the other one', () => {
    const { j } = joiner();
    j.onPrediction(prediction('hi', T0, 0.7));
    j.onPrediction(prediction('lo', T0, 0.2));
    j.onPrediction(prediction('edge', T0, 0.5)); // score == threshold predicts positive
    expect(view(j.onFeedback(feedback('hi', T0 + 1, 'USER_CONFIRMED', null)))[0]).toMatchObject({ label: 1 });
    expect(view(j.onFeedback(feedback('lo', T0 + 2, 'USER_REJECTED', null)))[0]).toMatchObject({ label: 1 });
    expect(view(j.onFeedback(feedback('edge', T0 + 3, 'USER_REJECTED', null)))[0]).toMatchObject({ label: 0 });
  });

  it('long delay: feedback six days later still joins, with its delay', () => {
    const { j } = joiner();
    j.onPrediction(prediction('a', T0, 0.9));
    j.onPrediction(prediction('b', T0 + 3 * DAY, 0.1));
    expect(view(j.onFeedback(feedback('a', T0 + 6 * DAY + 23 * HOUR, 'AUTO_VALIDATED', 0)))).toEqual([
      { example: 'a#1', label: 0, type: 'AUTO_VALIDATED', delay: 6 * DAY + 23 * HOUR, correction_of: null },
    ]);
  });

  it('duplicate delivery of a feedback and of a prediction changes nothing', () => {
    const { j } = joiner();
    j.onPrediction(prediction('a', T0, 0.9));
    expect(j.onPrediction(prediction('a', T0, 0.9))).toEqual([]);
    const fb = feedback('a', T0 + 10, 'USER_CONFIRMED', 1);
    expect(view(j.onFeedback(fb))).toHaveLength(1);
    expect(j.onFeedback({ ...fb })).toEqual([]);
    expect(j.onFeedback({ ...fb })).toEqual([]);
    expect(j.counters).toMatchObject({ predictions: 1, labelled: 1, duplicates: 3, corrections: 0, feedback: 3 });
  });

  it('an expert correcting a wrong user feedback emits a correction that names the example it replaces', () => {
    const { j } = joiner();
    j.onPrediction(prediction('a', T0, 0.9));
    expect(view(j.onFeedback(feedback('a', T0 + HOUR, 'USER_CONFIRMED', null)))).toEqual([
      { example: 'a#1', label: 1, type: 'USER_CONFIRMED', delay: HOUR, correction_of: null },
    ]);
    expect(view(j.onFeedback(feedback('a', T0 + 2 * DAY, 'EXPERT_REVIEW', 0, { source: 'analyst' })))).toEqual([
      { example: 'a#2', label: 0, type: 'EXPERT_REVIEW', delay: 2 * DAY, correction_of: 'a#1' },
    ]);
    // A later user feedback cannot overrule the expert, whatever it says.
    expect(j.onFeedback(feedback('a', T0 + 3 * DAY, 'USER_REJECTED', 1))).toEqual([]);
    expect(j.counters).toMatchObject({ labelled: 1, corrections: 1, superseded: 1 });
  });

  it('a correction carries the label it replaces as the replaced example carried it, also after an agreeing feedback took over', () => {
    const { j } = joiner();
    j.onPrediction(prediction('a', T0, 0.9));
    j.onFeedback(feedback('a', T0 + HOUR, 'USER_CONFIRMED', 1, { source: 'alice' }));
    // Agrees: emits nothing, so downstream still counts a#1 as alice's USER_CONFIRMED at T0 + 1h.
    expect(j.onFeedback(feedback('a', T0 + 2 * HOUR, 'AUTO_VALIDATED', 1, { source: 'rules' }))).toEqual([]);
    const [fix] = j.onFeedback(feedback('a', T0 + DAY, 'EXPERT_REVIEW', 0, { source: 'analyst' }));
    expect(fix).toMatchObject({ kind: 'example', example: { example_id: 'a#2', correction_of: 'a#1', label: 0 } });
    expect(fix!.kind === 'example' && fix!.example.replaces).toEqual({ label: 1, feedback_type: 'USER_CONFIRMED', source: 'alice', feedback_timestamp: T0 + HOUR, label_class: null, rejected_class: null, labels: null });
    // A correction of the correction replaces what a#2 carried.
    const [again] = j.onFeedback(feedback('a', T0 + 2 * DAY, 'EXPERT_REVIEW', 1, { source: 'lead' }));
    expect(again!.kind === 'example' && again!.example.replaces).toEqual({ label: 0, feedback_type: 'EXPERT_REVIEW', source: 'analyst', feedback_timestamp: T0 + DAY, label_class: null, rejected_class: null, labels: null });
  });

  it('equal trust: the later feedback by timestamp wins, an older one arriving late does not', () => {
    const { j } = joiner();
    j.onPrediction(prediction('a', T0, 0.9));
    j.onFeedback(feedback('a', T0 + 100, 'USER_CONFIRMED', 1));
    expect(view(j.onFeedback(feedback('a', T0 + 200, 'USER_REJECTED', 0)))).toEqual([
      { example: 'a#2', label: 0, type: 'USER_REJECTED', delay: 200, correction_of: 'a#1' },
    ]);
    // Older than the label in force (timestamp 50 < 200), same trust: ignored.
    expect(j.onFeedback(feedback('a', T0 + 50, 'USER_CONFIRMED', 1, { source: 'u2' }))).toEqual([]);
    expect(j.counters.superseded).toBe(1);
  });

  it('a more trusted feedback that agrees emits nothing, but then stands behind the label', () => {
    const { j } = joiner();
    j.onPrediction(prediction('a', T0, 0.9));
    j.onFeedback(feedback('a', T0 + 1, 'USER_CONFIRMED', 1));
    expect(j.onFeedback(feedback('a', T0 + 2, 'EXPERT_REVIEW', 1))).toEqual([]);
    // Now an auto-validation (trust 2 < expert 3) cannot change it.
    expect(j.onFeedback(feedback('a', T0 + 3, 'AUTO_VALIDATED', 0))).toEqual([]);
    expect(j.counters).toMatchObject({ confirmations: 1, superseded: 1, corrections: 0 });
  });

  it('an uncertain review after a label is counted and changes nothing', () => {
    const { j } = joiner();
    j.onPrediction(prediction('a', T0, 0.9));
    j.onFeedback(feedback('a', T0 + 1, 'USER_CONFIRMED', 1));
    expect(j.onFeedback(feedback('a', T0 + 2, 'EXPERT_REVIEW', 0, { uncertain: true }))).toEqual([]);
    expect(j.counters).toMatchObject({ uncertain: 1, corrections: 0 });
    // An uncertain review before any label sets none either.
    j.onPrediction(prediction('b', T0 + 3, 0.2));
    expect(j.onFeedback(feedback('b', T0 + 4, 'EXPERT_REVIEW', 1, { uncertain: true }))).toEqual([]);
    expect(view(j.onFeedback(feedback('b', T0 + 5, 'USER_CONFIRMED', null)))).toEqual([
      { example: 'b#1', label: 0, type: 'USER_CONFIRMED', delay: 2, correction_of: null },
    ]);
  });

  it('feedback before its prediction is buffered and joined when the prediction comes', () => {
    const { j, store } = joiner();
    expect(j.onFeedback(feedback('a', T0, 'USER_CONFIRMED', null))).toEqual([]);
    expect(j.onFeedback(feedback('a', T0 + 1000, 'EXPERT_REVIEW', 0))).toEqual([]);
    expect(store.size()).toBe(1);
    // Skewed clocks: the prediction says it was made 2 s after the first feedback.
    expect(view(j.onPrediction(prediction('a', T0 + 2000, 0.9)))).toEqual([
      { arrival: 'a#arrival' }, // first: the evaluator sees the prediction before its labels
      { example: 'a#1', label: 1, type: 'USER_CONFIRMED', delay: -2000, correction_of: null },
      { example: 'a#2', label: 0, type: 'EXPERT_REVIEW', delay: -1000, correction_of: 'a#1' },
    ]);
    expect(j.counters).toMatchObject({ unmatched: 0, labelled: 1, corrections: 1 });
  });

  it('feedback waiting longer than the early-feedback TTL is sent on as unmatched', () => {
    const { j } = joiner({ earlyFeedbackTtlMs: HOUR });
    j.onFeedback(feedback('ghost', T0, 'USER_CONFIRMED', 1));
    expect(view(j.onPrediction(prediction('other', T0 + HOUR - 1, 0.5)))).toEqual([{ arrival: 'other#arrival' }]);
    expect(view(j.onPrediction(prediction('other2', T0 + HOUR, 0.5)))).toEqual([
      { unmatched: 'ghost', reason: 'no prediction ghost arrived within 1h of the feedback (unknown id, or its prediction already expired)' },
      { arrival: 'other2#arrival' },
    ]);
    expect(j.counters.unmatched).toBe(1);
  });

  it('feedback after expiry: the prediction expires (unlabelled example), the late feedback ends unmatched', () => {
    const { j } = joiner({ joinWindowMs: 7 * DAY, earlyFeedbackTtlMs: HOUR });
    j.onPrediction(prediction('a', T0, 0.9));
    expect(view(j.onFeedback(feedback('a', T0 + 7 * DAY, 'EXPERT_REVIEW', 1)))).toEqual([
      { example: 'a#1', label: null, type: null, delay: null, correction_of: null },
    ]);
    expect(view(j.onPrediction(prediction('z', T0 + 7 * DAY + HOUR, 0.1)))).toEqual([
      { unmatched: 'a', reason: 'no prediction a arrived within 1h of the feedback (unknown id, or its prediction already expired)' },
      { arrival: 'z#arrival' },
    ]);
    expect(j.counters).toMatchObject({ expired_unlabelled: 1, unmatched: 1, labelled: 0 });
    expect(j.counters.byModel.fraud).toEqual({ predictions: 2, labelled: 0, corrections: 0, expired_labelled: 0, expired_unlabelled: 1 });
  });

  it('a labelled prediction expires quietly and is counted for label coverage', () => {
    const { j, store } = joiner({ joinWindowMs: DAY });
    j.onPrediction(prediction('a', T0, 0.9));
    j.onFeedback(feedback('a', T0 + 1, 'USER_CONFIRMED', 1));
    expect(j.advance(T0 + DAY)).toEqual([]);
    expect(store.size()).toBe(0);
    expect(j.counters).toMatchObject({ expired_labelled: 1, expired_unlabelled: 0 });
  });

  it('unlabelled examples can be turned off', () => {
    const { j } = joiner({ joinWindowMs: DAY, emitUnlabelled: false });
    j.onPrediction(prediction('a', T0, 0.9));
    expect(j.advance(T0 + DAY)).toEqual([]);
    expect(j.counters.expired_unlabelled).toBe(1);
  });

  it('unknown prediction id: never joined, reported with a reason', () => {
    const { j } = joiner({ earlyFeedbackTtlMs: HOUR });
    j.onPrediction(prediction('a', T0, 0.9));
    j.onFeedback(feedback('nope', T0 + 5, 'USER_REJECTED', null));
    expect(view(j.advance(T0 + 5 + HOUR))).toEqual([
      { unmatched: 'nope', reason: 'no prediction nope arrived within 1h of the feedback (unknown id, or its prediction already expired)' },
    ]);
  });

  it('two models interleaved: each keeps its own task and counters', () => {
    const { j } = joiner({ kindOf: (m) => (m === 'eta' ? 'regression' : 'binary') });
    const out = [
      ...j.onPrediction(prediction('f1', T0, 0.7)),
      ...j.onPrediction(prediction('e1', T0 + 1, 12.5, { model: 'eta', threshold: 0.5 })),
      ...j.onFeedback(feedback('e1', T0 + 2, 'AUTO_VALIDATED', 14.25)),
      ...j.onPrediction(prediction('f2', T0 + 3, 0.1)),
      ...j.onFeedback(feedback('f1', T0 + 4, 'USER_REJECTED', null)),
      ...j.onFeedback(feedback('e1', T0 + 5, 'EXPERT_REVIEW', 13)),
      ...j.onFeedback(feedback('f2', T0 + 6, 'USER_CONFIRMED', null)),
    ];
    expect(out.map((o) => (o.kind !== 'unmatched' && o.kind !== 'rejected' ? [o.example.model, o.example.example_id, o.example.label, o.example.correction_of] : o.kind))).toEqual([
      ['fraud', 'f1#arrival', null, null],
      ['eta', 'e1#arrival', null, null],
      ['eta', 'e1#1', 14.25, null],
      ['fraud', 'f2#arrival', null, null],
      ['fraud', 'f1#1', 0, null],
      ['eta', 'e1#2', 13, 'e1#1'],
      ['fraud', 'f2#1', 0, null],
    ]);
    expect(j.counters.byModel).toEqual({
      fraud: { predictions: 2, labelled: 2, corrections: 0, expired_labelled: 0, expired_unlabelled: 0 },
      eta: { predictions: 1, labelled: 1, corrections: 1, expired_labelled: 0, expired_unlabelled: 0 },
    });
  });

  it('rejects inputs that break the contract for their model, with reasons, and keeps going', () => {
    const { j } = joiner({ kindOf: (m) => (m === 'eta' ? 'regression' : 'binary') });
    expect(view(j.onPrediction(prediction('s', T0, 1.5)))).toEqual([
      { rejected: 's', input: 'prediction', reason: 'score 1.5 is out of range for binary model fraud (expected a probability in [0, 1])' },
    ]);
    j.onPrediction(prediction('a', T0, 0.9));
    expect(view(j.onPrediction(prediction('a', T0, 0.3)))).toEqual([
      { rejected: 'a', input: 'prediction', reason: 'prediction_id a was already used by a different prediction' },
    ]);
    expect(view(j.onFeedback(feedback('a', T0 + 1, 'USER_CONFIRMED', 0.7)))).toEqual([
      { rejected: 'a', input: 'feedback', reason: 'label 0.7 is out of range for binary model fraud (expected 0 or 1)' },
    ]);
    expect(view(j.onFeedback(feedback('a', T0 + 2, 'EXPERT_REVIEW', null)))).toEqual([
      { rejected: 'a', input: 'feedback', reason: 'EXPERT_REVIEW feedback without a label gives no outcome' },
    ]);
    j.onPrediction(prediction('e', T0 + 3, 40, { model: 'eta' }));
    expect(view(j.onFeedback(feedback('e', T0 + 4, 'USER_REJECTED', null)))).toEqual([
      { rejected: 'e', input: 'feedback', reason: 'USER_REJECTED without a label on regression model eta says the value was wrong but not what it was' },
    ]);
    expect(view(j.onFeedback(feedback('e', T0 + 5, 'USER_CONFIRMED', null)))).toEqual([
      { example: 'e#1', label: 40, type: 'USER_CONFIRMED', delay: 2, correction_of: null },
    ]);
    expect(view(j.onFeedback(feedback('a', T0 + 6, 'USER_CONFIRMED', 1)))).toEqual([
      { example: 'a#1', label: 1, type: 'USER_CONFIRMED', delay: 6, correction_of: null },
    ]);
    expect(j.counters.rejected).toBe(5);
  });

  it('shadow scores are made at prediction time and travel with every example of that prediction', () => {
    let version = 1;
    const { j } = joiner({ shadowScorer: { score: (p) => ({ [`fraud/lr@${version}`]: p.score / 2 }) } });
    j.onPrediction(prediction('a', T0, 0.8));
    version = 2; // a newer snapshot arrives after the prediction: it must not be used for it
    const out = [...j.onFeedback(feedback('a', T0 + 1, 'USER_CONFIRMED', 1)), ...j.onFeedback(feedback('a', T0 + 2, 'EXPERT_REVIEW', 0))];
    expect(out.map((o) => (o.kind === 'example' ? o.example.shadow_scores : null))).toEqual([{ 'fraud/lr@1': 0.4 }, { 'fraud/lr@1': 0.4 }]);
  });

  it('the no-challenger scorer set gives every example empty shadow scores', () => {
    const { j } = joiner();
    j.onPrediction(prediction('a', T0, 0.8));
    const [out] = j.onFeedback(feedback('a', T0 + 1, 'USER_CONFIRMED', 1));
    expect(out!.kind === 'example' && out!.example.shadow_scores).toEqual({});
  });

  it('a prediction that arrives after its own window joins waiting feedback, then expires at once', () => {
    const { j, store } = joiner({ joinWindowMs: DAY, earlyFeedbackTtlMs: 2 * DAY });
    j.onFeedback(feedback('late', T0 + 5, 'USER_CONFIRMED', 1));
    j.advance(T0 + DAY + 10);
    expect(view(j.onPrediction(prediction('late', T0, 0.9)))).toEqual([
      { arrival: 'late#arrival' }, // accepted (counted), so it has its arrival record, before its example
      { example: 'late#1', label: 1, type: 'USER_CONFIRMED', delay: 5, correction_of: null },
    ]);
    expect(store.size()).toBe(0);
    expect(j.counters).toMatchObject({ expired_labelled: 1 });
  });
});

describe('joiner guards', () => {
  it('a re-delivered prediction whose maps list keys in another order is a duplicate, not a reuse', () => {
    const { j } = joiner();
    j.onPrediction(prediction('a', T0, 0.9, { features: { x: 1, y: 2 } }));
    expect(j.onPrediction(prediction('a', T0, 0.9, { features: { y: 2, x: 1 } }))).toEqual([]);
    expect(j.counters).toMatchObject({ duplicates: 1, rejected: 0 });
  });

  it('an event stamped more than max_future ahead of the clock is rejected, naming the field, value and range, and does not move the watermark', () => {
    const bounds = { minTimestamp: 946_684_800_000, maxFutureMs: HOUR };
    const { j, store } = joiner({ timeBounds: bounds, eventClock: () => ({ what: 'the wall clock', at: T0 }), joinWindowMs: DAY });
    j.onPrediction(prediction('a', T0, 0.9));
    expect(view(j.onFeedback(feedback('x', T0 + 365 * DAY, 'USER_CONFIRMED', 1)))).toEqual([
      {
        rejected: 'x',
        input: 'feedback',
        reason:
          'timestamp 1795478400000 (2026-11-24T00:00:00.000Z) is more than joiner.max_future (1h) ahead of the wall clock, 1763942400000 (2025-11-24T00:00:00.000Z): ' +
          'the accepted range is [946684800000 (2000-01-01T00:00:00.000Z), 1763946000000 (2025-11-24T01:00:00.000Z)]',
      },
    ]);
    // Exactly max_future ahead is still accepted.
    expect(view(j.onPrediction(prediction('b', T0 + HOUR, 0.9)))).toEqual([{ arrival: 'b#arrival' }]);
    expect(j.watermark).toBe(T0 + HOUR);
    expect(store.size()).toBe(2);
  });

  it('an event stamped before joiner.min_timestamp (seconds instead of milliseconds) is rejected with the range, and does not move the watermark', () => {
    const bounds = { minTimestamp: 946_684_800_000, maxFutureMs: HOUR };
    const { j, store } = joiner({ timeBounds: bounds, eventClock: () => ({ what: 'the wall clock', at: T0 }) });
    expect(view(j.onPrediction(prediction('s', T0 / 1000, 0.9)))).toEqual([
      {
        rejected: 's',
        input: 'prediction',
        reason:
          'timestamp 1763942400 (1970-01-21T09:59:02.400Z) is before joiner.min_timestamp: ' +
          'the accepted range is [946684800000 (2000-01-01T00:00:00.000Z), 1763946000000 (2025-11-24T01:00:00.000Z)] (seconds instead of milliseconds?)',
      },
    ]);
    expect(j.watermark).toBe(Number.NEGATIVE_INFINITY);
    expect(store.size()).toBe(0);
    // Without a clock (the replay's joiner: its input was checked as it was read), only the floor applies.
    const { j: floorOnly } = joiner({ timeBounds: bounds });
    expect(view(floorOnly.onFeedback(feedback('s', 5, 'USER_CONFIRMED', 1)))[0]).toMatchObject({
      reason: 'timestamp 5 (1970-01-01T00:00:00.005Z) is before joiner.min_timestamp: the accepted range is [946684800000 (2000-01-01T00:00:00.000Z), the clock + 1h]',
    });
    expect(view(floorOnly.onPrediction(prediction('far', 2 ** 52, 0.9)))).toEqual([{ arrival: 'far#arrival' }]);
    expect(floorOnly.counters.rejected).toBe(1);
  });

  it('a prediction rejected for its score, threshold or a reused id does not move the watermark (property-joiner counterexample)', () => {
    // Feedback waits for g2; a rejected prediction stamped two hours later must not expire it.
    const joiner = new Joiner(new MemoryJoinStore(), { joinWindowMs: DAY, earlyFeedbackTtlMs: HOUR });
    expect(view(joiner.onPrediction(prediction('g1', T0, 0.9)))).toEqual([{ arrival: 'g1#arrival' }]);
    expect(joiner.onFeedback(feedback('g2', T0, 'USER_CONFIRMED', null))).toEqual([]);
    const later = T0 + 2 * HOUR;
    for (const bad of [prediction('bad1', later, -0.5), prediction('bad2', later, 0.5, { threshold: 1.5 }), prediction('g1', later, 0.1)]) {
      expect(view(joiner.onPrediction(bad))).toEqual([{ rejected: bad.prediction_id, input: 'prediction', reason: expect.any(String) }]);
    }
    expect(joiner.watermark).toBe(T0);
    expect(view(joiner.onPrediction(prediction('g2', T0, 0.9)))).toEqual([{ arrival: 'g2#arrival' }, { example: 'g2#1', label: 1, type: 'USER_CONFIRMED', delay: 0, correction_of: null }]);
    expect(joiner.counters.rejected).toBe(3);
  });
});
