/**
 * Properties of the join (core/join) under random and adversarial input:
 * orders, duplicates, feedback before its prediction, ids and model names
 * that are prototype members, labels and scores out of range, timestamps
 * anywhere.
 *
 *  - nothing throws; every example is a valid LabelledExample; every
 *    rejection says why; the state holds only what its windows still hold,
 *    and nothing once event time has passed them all (bounded memory);
 *  - records the join rejects, mixed into a good stream, each give one
 *    rejection and leave the good stream's outputs exactly as they were.
 *
 * Seeds: see test/support/properties.ts (FC_SEED replays a failure).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Feedback, FEEDBACK_TYPES, noFeedbackClasses, noPredictionClasses, type Prediction, validateLabelledExample } from '../../core/events.js';
import { Joiner, MemoryJoinStore, type JoinerOptions, type JoinOutput } from '../../core/join/index.js';
import { PROTOTYPE_NAMES, runs } from '../support/properties.js';

const T0 = 1_763_942_400_000;
const HOUR = 3_600_000;
const OPTIONS: Partial<JoinerOptions> = {
  joinWindowMs: 48 * HOUR,
  earlyFeedbackTtlMs: HOUR,
  // A model named `constructor` is a regression model: names are data.
  kindOf: (model) => (model === 'constructor' ? 'regression' : 'binary'),
  timeBounds: { minTimestamp: T0, maxFutureMs: Number.POSITIVE_INFINITY },
};

type Event = { prediction: Prediction } | { feedback: Feedback };

const IDS = ['p0', 'p1', 'p2', 'p3', 'p4', ...PROTOTYPE_NAMES];
const MODELS = ['m', '__proto__', 'constructor', 'toString'];
/** Timestamps around the start, within and past the windows, and before the floor. */
const time = fc.oneof(
  { weight: 8, arbitrary: fc.integer({ min: 0, max: 96 * HOUR }).map((d) => T0 + d) },
  { weight: 1, arbitrary: fc.constantFrom(0, T0 - 1, T0, 2 ** 52) },
);

const prediction: fc.Arbitrary<Prediction> = fc.record({
  prediction_id: fc.constantFrom(...IDS),
  model: fc.constantFrom(...MODELS),
  model_version: fc.constantFrom('v1', '__proto__'),
  timestamp: time,
  features: fc.constantFrom({ x: 1 }, { x: -0, constructor: 2 }, {}),
  categorical: fc.constant({}),
  segments: fc.constantFrom({}, { toString: 'a' }),
  score: fc.oneof(fc.double({ min: 0, max: 1, noNaN: true }), fc.constantFrom(-1, 1.5, 1e300)),
  threshold: fc.constantFrom(0.5, 0, 1, 2),
  shadow_scores: fc.constant({}),
  class_scores: fc.constant({}),
  predicted_class: fc.constant(null),
  predicted_labels: fc.constant(null),
});

const feedback: fc.Arbitrary<Feedback> = fc.record({
  prediction_id: fc.constantFrom(...IDS),
  timestamp: time,
  feedback_type: fc.constantFrom(...FEEDBACK_TYPES),
  label: fc.constantFrom(null, 0, 1, 0.5, 7, -1e300),
  uncertain: fc.boolean(),
  source: fc.constantFrom(null, 'a', '__proto__'),
  notes: fc.constant(null),
  label_class: fc.constant(null),
  labels: fc.constant(null),
  labels_added: fc.constant(null),
  labels_removed: fc.constant(null),
});

const event: fc.Arbitrary<Event> = fc.oneof(prediction.map((p) => ({ prediction: p })), feedback.map((f) => ({ feedback: f })));

function apply(joiner: Joiner, e: Event): JoinOutput[] {
  return 'prediction' in e ? joiner.onPrediction(e.prediction) : joiner.onFeedback(e.feedback);
}

/** How long an accepted event keeps its entry: the join window for a prediction, the early-feedback TTL for feedback. */
function heldUntil(e: Event): number {
  return 'prediction' in e ? e.prediction.timestamp + OPTIONS.joinWindowMs! : e.feedback.timestamp + OPTIONS.earlyFeedbackTtlMs!;
}

const idOf = (e: Event) => ('prediction' in e ? e.prediction.prediction_id : e.feedback.prediction_id);

function checkOutput(output: JoinOutput): void {
  if (output.kind === 'example' || output.kind === 'arrival') expect(validateLabelledExample(output.example)).toEqual(output.example);
  else expect(output.reason.length).toBeGreaterThan(0);
}

describe('property: the join', () => {
  it('never throws, emits valid examples, says why it rejects, and holds no entry past its window', () => {
    fc.assert(
      fc.property(fc.array(event, { maxLength: 80 }), (events) => {
        const store = new MemoryJoinStore();
        const joiner = new Joiner(store, OPTIONS);
        const seen: Event[] = [];
        let moved = 0;
        for (const e of events) {
          const before = joiner.watermark;
          for (const output of apply(joiner, e)) checkOutput(output);
          if (joiner.watermark !== before) moved = seen.length;
          seen.push(e);
          // Every entry is held for an event whose window is still open, or one that came since
          // event time last moved (expiry runs when it moves: a late feedback waits until then).
          const open = new Set(seen.filter((s, i) => heldUntil(s) > joiner.watermark || i >= moved).map(idOf));
          expect(store.size()).toBeLessThanOrEqual(open.size);
        }
        for (const output of joiner.advance(2 ** 52 + 49 * HOUR)) checkOutput(output);
        expect(store.size()).toBe(0);
      }),
      runs(300),
    );
  });

  it('rejected records mixed into a good stream each give one rejection and leave its outputs unchanged', () => {
    fc.assert(
      fc.property(goodStream, fc.array(fc.tuple(badRecord, fc.nat()), { minLength: 1, maxLength: 8 }), (good, bad) => {
        const mixed: Event[] = [...good];
        bad.forEach(([b, at], n) => {
          const position = at % (mixed.length + 1);
          mixed.splice(position, 0, makeBad(b, n, mixed.slice(0, position)));
        });
        const expected = run(good);
        const got = run(mixed);
        expect(got.filter((o) => o.kind !== 'rejected')).toEqual(expected.filter((o) => o.kind !== 'rejected'));
        expect(got.filter((o) => o.kind === 'rejected')).toHaveLength(expected.filter((o) => o.kind === 'rejected').length + bad.length);
      }),
      runs(300),
    );
  });
});

/** Every output of a stream, then what expires once event time passes every window. */
function run(events: Event[]): JoinOutput[] {
  const joiner = new Joiner(new MemoryJoinStore(), OPTIONS);
  const out: JoinOutput[] = [];
  for (const e of events) for (const o of apply(joiner, e)) out.push(o);
  for (const o of joiner.advance(T0 + 1000 * HOUR)) out.push(o);
  return out;
}

/** Good predictions (ids g<i>, scores in range) within a day, feedback for some, in any order. */
const goodStream: fc.Arbitrary<Event[]> = fc
  .array(
    fc.record({
      model: fc.constantFrom('m', 'constructor'),
      at: fc.integer({ min: 0, max: 24 * HOUR }),
      score: fc.double({ min: 0, max: 1, noNaN: true }),
      feedback: fc.array(fc.record({ delay: fc.integer({ min: -2 * HOUR, max: 24 * HOUR }), type: fc.constantFrom(...FEEDBACK_TYPES), label: fc.constantFrom(null, 0, 1) }), { maxLength: 3 }),
    }),
    { maxLength: 30 },
  )
  .map((specs) =>
    specs.flatMap((s, i): Event[] => {
      const id = `g${i}`;
      const p: Prediction = { prediction_id: id, model: s.model, model_version: 'v1', timestamp: T0 + s.at, features: { x: i }, categorical: {}, segments: {}, score: s.score, threshold: 0.5, shadow_scores: {}, ...noPredictionClasses() };
      const fs = s.feedback.map((f): Event => ({ feedback: { prediction_id: id, timestamp: T0 + Math.max(0, s.at + f.delay), feedback_type: f.type, label: f.label, uncertain: false, source: null, notes: null, ...noFeedbackClasses() } }));
      return [{ prediction: p }, ...fs];
    }),
  )
  .chain((events) => fc.shuffledSubarray(events, { minLength: events.length, maxLength: events.length }));

/** A record the join rejects: a score or threshold out of range, feedback before the floor, a reused prediction_id. */
interface Bad {
  kind: 'score' | 'threshold' | 'floor' | 'reused';
  at: number;
  value: number;
}

const badRecord: fc.Arbitrary<Bad> = fc.record({
  kind: fc.constantFrom('score', 'threshold', 'floor', 'reused'),
  at: fc.integer({ min: 0, max: 30 * HOUR }),
  value: fc.constantFrom(-0.5, 1.5, 1e300),
});

/** The bad record `n`, made from what precedes it (a reused id takes the latest good prediction's, or is stamped before the floor). */
function makeBad(bad: Bad, n: number, before: Event[]): Event {
  const base: Prediction = { prediction_id: `bad${n}`, model: 'm', model_version: 'v1', timestamp: T0 + bad.at, features: {}, categorical: {}, segments: {}, score: 0.5, threshold: 0.5, shadow_scores: {}, ...noPredictionClasses() };
  const goods = before.filter((e): e is { prediction: Prediction } => 'prediction' in e && e.prediction.prediction_id.startsWith('g'));
  const reused = goods[goods.length - 1];
  switch (bad.kind) {
    case 'score':
      return { prediction: { ...base, score: bad.value } };
    case 'threshold':
      return { prediction: { ...base, threshold: bad.value } };
    case 'floor':
      return { feedback: { prediction_id: base.prediction_id, timestamp: T0 - 1 - bad.at, feedback_type: 'EXPERT_REVIEW', label: 1, uncertain: false, source: null, notes: null, ...noFeedbackClasses() } };
    case 'reused':
      return reused ? { prediction: { ...reused.prediction, timestamp: T0 + bad.at, score: reused.prediction.score === 0.25 ? 0.75 : 0.25 } } : { prediction: { ...base, timestamp: 0 } };
  }
}
