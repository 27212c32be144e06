/**
 * The join of multi-class and multi-label models (core/join/classes.ts,
 * resolution.ts): the decided class or label set, label resolution for every
 * kind of feedback with the exact labelled examples it makes, corrections
 * between classes (what they replace), the trust order, and the dead letters
 * of every per-record check against models.<name>.classes.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isLabelled } from '../../core/contracts/labelled.js';
import {
  noExampleClasses, noFeedbackClasses, noPredictionClasses, validateLabelledExample,
  type Feedback, type FeedbackType, type LabelledExample, type ModelKind, type Prediction,
} from '../../core/events.js';
import { Joiner, MemoryJoinStore, TRUST, withClassDefaults, type JoinEntry, type JoinerOptions, type JoinOutput } from '../../core/join/index.js';
import { decodeChangelogRecord } from '../../processors/joiner-changelog.js';
import { runs } from '../support/properties.js';

const T0 = 1_763_942_400_000;
const HOUR = 3_600_000;
const CLASSES = ['spike', 'drift', 'outage'];
const LABELS = ['email', 'phone', 'address'];
const KINDS = new Map<string, ModelKind>([['anomaly', 'multiclass'], ['plain', 'multiclass'], ['pii', 'multilabel'], ['eta', 'regression']]);
const OPTIONS: Partial<JoinerOptions> = {
  joinWindowMs: 48 * HOUR,
  kindOf: (model) => KINDS.get(model) ?? 'binary',
  classesOf: (model) => (model === 'anomaly' || model === 'plain' ? CLASSES : model === 'pii' ? LABELS : []),
  numericTargetOf: (model) => (model === 'anomaly' ? 'severity' : null),
};

function joiner(): Joiner {
  return new Joiner(new MemoryJoinStore(), OPTIONS);
}

/** A prediction of the multi-class model `anomaly`: class scores, and its severity (the numeric target) as the score. */
function mc(id: string, scores: Record<string, number>, overrides: Partial<Prediction> = {}): Prediction {
  return {
    prediction_id: id, model: 'anomaly', model_version: 'v1', timestamp: T0, features: { x: 1 }, categorical: {}, segments: {},
    score: 2.5, threshold: 0.5, shadow_scores: {}, class_scores: scores, predicted_class: null, predicted_labels: null, ...overrides,
  };
}

/** A prediction of the multi-label model `pii`. */
function ml(id: string, scores: Record<string, number>, overrides: Partial<Prediction> = {}): Prediction {
  return mc(id, scores, { model: 'pii', score: 0, ...overrides });
}

function fb(id: string, at: number, type: FeedbackType, overrides: Partial<Feedback> = {}): Feedback {
  return { prediction_id: id, timestamp: T0 + at, feedback_type: type, label: null, uncertain: false, source: `s${at}`, notes: null, ...noFeedbackClasses(), ...overrides };
}

/** The one example among outputs (arrival records left out). */
function exampleOf(outputs: JoinOutput[]): LabelledExample {
  const examples = outputs.filter((o) => o.kind === 'example');
  expect(examples).toHaveLength(1);
  const example = (examples[0] as { example: LabelledExample }).example;
  expect(validateLabelledExample(example)).toEqual(example);
  return example;
}

function rejection(outputs: JoinOutput[]): string {
  const rejected = outputs.filter((o) => o.kind === 'rejected');
  expect(rejected).toHaveLength(1);
  return (rejected[0] as { reason: string }).reason;
}

/** The label and class fields of an example, and its correction fields. */
function heads(e: LabelledExample) {
  return {
    id: e.example_id, label: e.label, label_class: e.label_class, rejected_class: e.rejected_class, labels: e.labels,
    predicted_class: e.predicted_class, predicted_labels: e.predicted_labels, type: e.feedback_type, correction_of: e.correction_of, replaces: e.replaces,
  };
}

describe('multi-class join', () => {
  it('an arrival record carries the class scores and the decided class (the arg-max), no label', () => {
    const j = joiner();
    const [arrival] = j.onPrediction(mc('a', { spike: 0.2, drift: 0.5, outage: 0.3 }));
    expect(arrival).toEqual({
      kind: 'arrival',
      example: {
        example_id: 'a#arrival', prediction_id: 'a', model: 'anomaly', model_version: 'v1', timestamp: T0, features: { x: 1 }, categorical: {}, segments: {},
        score: 2.5, threshold: 0.5, label: null, feedback_type: null, source: null, feedback_timestamp: null, label_delay_ms: null, correction_of: null,
        shadow_scores: {}, replaces: null, arrival: true,
        class_scores: { spike: 0.2, drift: 0.5, outage: 0.3 }, predicted_class: 'drift', label_class: null, rejected_class: null, predicted_labels: null, labels: null,
      },
    });
  });

  it('the decided class: predicted_class when given, else the arg-max; a tie goes to the first class in models.<name>.classes, a missing class scores 0', () => {
    const j = joiner();
    const decided = (p: Prediction) => (j.onPrediction(p)[0] as { example: LabelledExample }).example.predicted_class;
    expect(decided(mc('t1', { spike: 0.4, drift: 0.4, outage: 0.2 }))).toBe('spike');
    // Key order is not class order: outage comes first in the map, drift first in the config.
    expect(decided(mc('t2', { outage: 0.5, drift: 0.5 }))).toBe('drift');
    expect(decided(mc('t3', { outage: 1 }))).toBe('outage');
    expect(decided(mc('t4', { spike: 0.9, drift: 0.1 }, { predicted_class: 'outage' }))).toBe('outage');
  });

  it('a feedback with label_class: that class, and its label as the numeric target', () => {
    const j = joiner();
    j.onPrediction(mc('a', { spike: 0.6, drift: 0.3, outage: 0.1 }));
    const e = exampleOf(j.onFeedback(fb('a', HOUR, 'EXPERT_REVIEW', { label_class: 'drift', label: 4 })));
    expect(e).toEqual({
      example_id: 'a#1', prediction_id: 'a', model: 'anomaly', model_version: 'v1', timestamp: T0, features: { x: 1 }, categorical: {}, segments: {},
      score: 2.5, threshold: 0.5, label: 4, feedback_type: 'EXPERT_REVIEW', source: `s${HOUR}`, feedback_timestamp: T0 + HOUR, label_delay_ms: HOUR,
      correction_of: null, shadow_scores: {}, replaces: null, arrival: false,
      class_scores: { spike: 0.6, drift: 0.3, outage: 0.1 }, predicted_class: 'spike', label_class: 'drift', rejected_class: null, predicted_labels: null, labels: null,
    });
    expect(isLabelled(e, 'multiclass')).toBe(true);
  });

  it('USER_CONFIRMED without a class: the decided class, and no numeric target unless given', () => {
    const j = joiner();
    j.onPrediction(mc('a', { spike: 0.6, drift: 0.3, outage: 0.1 }));
    j.onPrediction(mc('b', { spike: 0.6, drift: 0.3, outage: 0.1 }, { predicted_class: 'outage' }));
    expect(heads(exampleOf(j.onFeedback(fb('a', 1, 'USER_CONFIRMED'))))).toEqual({
      id: 'a#1', label: null, label_class: 'spike', rejected_class: null, labels: null, predicted_class: 'spike', predicted_labels: null, type: 'USER_CONFIRMED', correction_of: null, replaces: null,
    });
    expect(heads(exampleOf(j.onFeedback(fb('b', 1, 'USER_CONFIRMED', { label: 3 })))).label_class).toBe('outage');
  });

  it('USER_REJECTED without a class: "not the decided class" (rejected_class), the true class unknown', () => {
    const j = joiner();
    j.onPrediction(mc('a', { spike: 0.6, drift: 0.3, outage: 0.1 }));
    const e = exampleOf(j.onFeedback(fb('a', 1, 'USER_REJECTED')));
    expect(heads(e)).toEqual({
      id: 'a#1', label: null, label_class: null, rejected_class: 'spike', labels: null, predicted_class: 'spike', predicted_labels: null, type: 'USER_REJECTED', correction_of: null, replaces: null,
    });
    expect(isLabelled(e, 'multiclass')).toBe(true);
    // Rejected with the right class: that class.
    j.onPrediction(mc('b', { spike: 0.6, drift: 0.3, outage: 0.1 }));
    expect(heads(exampleOf(j.onFeedback(fb('b', 1, 'USER_REJECTED', { label_class: 'outage' }))))).toMatchObject({ label_class: 'outage', rejected_class: null });
  });

  it('AUTO_VALIDATED and EXPERT_REVIEW without label_class are dead letters', () => {
    const j = joiner();
    j.onPrediction(mc('a', { spike: 0.6, drift: 0.3, outage: 0.1 }));
    expect(rejection(j.onFeedback(fb('a', 1, 'EXPERT_REVIEW', { label: 4 })))).toBe('EXPERT_REVIEW feedback without label_class gives no class for multiclass model anomaly');
    expect(rejection(j.onFeedback(fb('a', 2, 'AUTO_VALIDATED')))).toBe('AUTO_VALIDATED feedback without label_class gives no class for multiclass model anomaly');
  });

  it('corrections between classes carry what they replace: a rejection, then the expert\'s class and severity, then a later expert\'s severity', () => {
    const j = joiner();
    j.onPrediction(mc('a', { spike: 0.6, drift: 0.3, outage: 0.1 }));
    const first = exampleOf(j.onFeedback(fb('a', 1, 'USER_REJECTED')));
    expect(heads(first)).toMatchObject({ id: 'a#1', rejected_class: 'spike', label_class: null });
    const second = exampleOf(j.onFeedback(fb('a', HOUR, 'EXPERT_REVIEW', { label_class: 'drift', label: 4 })));
    expect(heads(second)).toEqual({
      id: 'a#2', label: 4, label_class: 'drift', rejected_class: null, labels: null, predicted_class: 'spike', predicted_labels: null, type: 'EXPERT_REVIEW', correction_of: 'a#1',
      replaces: { label: null, feedback_type: 'USER_REJECTED', source: 's1', feedback_timestamp: T0 + 1, label_class: null, rejected_class: 'spike', labels: null },
    });
    // Same class and severity from a more trusted source would change nothing; a later expert with the same class and another severity corrects it.
    expect(j.onFeedback(fb('a', 2 * HOUR, 'EXPERT_REVIEW', { label_class: 'drift', label: 4, source: 'again' }))).toEqual([]);
    expect(j.counters.confirmations).toBe(1);
    const third = exampleOf(j.onFeedback(fb('a', 3 * HOUR, 'EXPERT_REVIEW', { label_class: 'drift', label: 5 })));
    expect(heads(third)).toMatchObject({
      id: 'a#3', label: 5, label_class: 'drift', correction_of: 'a#2',
      // The example a#2 as it was counted: the first expert's feedback, not the agreeing one that took over.
      replaces: { label: 4, feedback_type: 'EXPERT_REVIEW', source: `s${HOUR}`, feedback_timestamp: T0 + HOUR, label_class: 'drift', rejected_class: null, labels: null },
    });
    expect(j.counters).toMatchObject({ labelled: 1, corrections: 2, superseded: 0 });
  });

  it('the trust order holds across classes: a user does not overturn an expert; a later user overturns a user', () => {
    const j = joiner();
    j.onPrediction(mc('a', { spike: 0.6, drift: 0.3, outage: 0.1 }));
    exampleOf(j.onFeedback(fb('a', 10, 'EXPERT_REVIEW', { label_class: 'outage' })));
    expect(j.onFeedback(fb('a', 20, 'USER_CONFIRMED'))).toEqual([]);
    expect(j.onFeedback(fb('a', 30, 'AUTO_VALIDATED', { label_class: 'drift' }))).toEqual([]);
    expect(j.counters.superseded).toBe(2);
    j.onPrediction(mc('b', { spike: 0.6, drift: 0.3, outage: 0.1 }));
    exampleOf(j.onFeedback(fb('b', 10, 'USER_CONFIRMED')));
    // An earlier user (by its timestamp) is outranked; a later one corrects.
    expect(j.onFeedback(fb('b', 5, 'USER_REJECTED'))).toEqual([]);
    expect(heads(exampleOf(j.onFeedback(fb('b', 15, 'USER_REJECTED'))))).toMatchObject({ label_class: null, rejected_class: 'spike', correction_of: 'b#1' });
  });

  it('feedback that differs only in its class is not a duplicate; an exact copy is', () => {
    const j = joiner();
    j.onPrediction(mc('a', { spike: 0.6, drift: 0.3, outage: 0.1 }));
    exampleOf(j.onFeedback(fb('a', 10, 'USER_REJECTED', { label_class: 'drift' })));
    expect(heads(exampleOf(j.onFeedback(fb('a', 10, 'USER_REJECTED', { label_class: 'outage' }))))).toMatchObject({ label_class: 'outage', correction_of: 'a#1' });
    expect(j.onFeedback(fb('a', 10, 'USER_REJECTED', { label_class: 'outage' }))).toEqual([]);
    expect(j.counters.duplicates).toBe(1);
  });

  it('dead-letters a prediction that breaks its model\'s classes, naming the class and the setting', () => {
    const j = joiner();
    const reason = (p: Prediction) => rejection(j.onPrediction(p));
    expect(reason(mc('u', { spike: 0.5, surge: 0.5 }))).toBe('class_scores names "surge", which is not one of models.anomaly.classes ("spike", "drift", "outage")');
    expect(reason(mc('v', { spike: 1 }, { predicted_class: 'surge' }))).toBe('predicted_class names "surge", which is not one of models.anomaly.classes ("spike", "drift", "outage")');
    expect(reason(mc('w', {}))).toBe('class_scores is empty: a prediction of multiclass model anomaly gives the probability of each class');
    expect(reason(mc('x', { spike: 0.5, drift: 0.39 }))).toBe('class_scores sum to 0.89, not 1 (within 0.01), for multiclass model anomaly');
    expect(reason(mc('y', { spike: 0.5, drift: 0.5 }, { predicted_labels: ['spike'] }))).toBe('predicted_labels is set but anomaly is a multiclass model (predicted_class names its decision)');
    expect(reason({ ...mc('z', { a: 1 }), model: 'fraud', score: 0.5 })).toBe('class_scores is set but fraud is a binary model (set models.fraud.task to multiclass or multilabel, and models.fraud.classes)');
    expect(reason({ ...mc('z2', {}), model: 'eta', predicted_class: 'spike' })).toBe('predicted_class is set but eta is a regression model (set models.eta.task to multiclass or multilabel, and models.eta.classes)');
    // Within 0.01 of 1 is accepted, on both sides.
    expect(j.onPrediction(mc('s1', { spike: 0.5, drift: 0.509 }))[0]!.kind).toBe('arrival');
    expect(j.onPrediction(mc('s2', { spike: 0.5, drift: 0.491 }))[0]!.kind).toBe('arrival');
    expect(reason(mc('s3', { spike: 0.5, drift: 0.511 }))).toMatch(/^class_scores sum to 1.011/);
    expect(j.counters.rejected).toBe(8);
  });

  it('dead-letters feedback that breaks its model\'s classes', () => {
    const j = joiner();
    j.onPrediction(mc('a', { spike: 1 }));
    j.onPrediction({ ...mc('p', { spike: 1 }), model: 'plain' });
    j.onPrediction({ ...mc('b', {}), model: 'fraud', score: 0.7, ...noPredictionClasses() });
    expect(rejection(j.onFeedback(fb('a', 1, 'EXPERT_REVIEW', { label_class: 'surge' })))).toBe('label_class names "surge", which is not one of models.anomaly.classes ("spike", "drift", "outage")');
    expect(rejection(j.onFeedback(fb('a', 2, 'EXPERT_REVIEW', { labels: ['spike'] })))).toBe('labels is set but anomaly is a multiclass model (label_class names the true class)');
    expect(rejection(j.onFeedback(fb('p', 3, 'EXPERT_REVIEW', { label_class: 'spike', label: 2 })))).toBe(
      'label 2 is set but multiclass model plain has no numeric target (label_class names the true class; set models.plain.numeric_target to carry a number beside it)',
    );
    expect(rejection(j.onFeedback(fb('b', 4, 'EXPERT_REVIEW', { label: 1, label_class: 'spike' })))).toBe(
      'label_class is set but fraud is a binary model (set models.fraud.task to multiclass or multilabel, and models.fraud.classes)',
    );
    // The model without a numeric target takes the class alone.
    expect(heads(exampleOf(j.onFeedback(fb('p', 5, 'EXPERT_REVIEW', { label_class: 'outage' }))))).toMatchObject({ label: null, label_class: 'outage' });
  });
});

describe('multi-label join', () => {
  it('the decided set: labels scoring at least the threshold, or predicted_labels, in the configured order', () => {
    const j = joiner();
    const decided = (p: Prediction) => (j.onPrediction(p)[0] as { example: LabelledExample }).example.predicted_labels;
    expect(decided(ml('a', { address: 0.7, email: 0.5, phone: 0.49 }))).toEqual(['email', 'address']);
    expect(decided(ml('b', { email: 0.9 }, { predicted_labels: ['address', 'phone'] }))).toEqual(['phone', 'address']);
    expect(decided(ml('c', { email: 0.1 }))).toEqual([]);
  });

  it('resolves the full set, edits of the decided set, and a confirmation; the labels in the configured order', () => {
    const j = joiner();
    j.onPrediction(ml('a', { email: 0.9, phone: 0.6, address: 0.1 }));
    const first = exampleOf(j.onFeedback(fb('a', 1, 'USER_CONFIRMED')));
    expect(heads(first)).toEqual({
      id: 'a#1', label: null, label_class: null, rejected_class: null, labels: ['email', 'phone'], predicted_class: null, predicted_labels: ['email', 'phone'],
      type: 'USER_CONFIRMED', correction_of: null, replaces: null,
    });
    // Edits apply to the prediction's decided set (email, phone), not to the label in force.
    const edited = exampleOf(j.onFeedback(fb('a', 2, 'AUTO_VALIDATED', { labels_added: ['address'], labels_removed: ['email'] })));
    expect(heads(edited)).toMatchObject({
      id: 'a#2', labels: ['phone', 'address'], correction_of: 'a#1',
      replaces: { label: null, feedback_type: 'USER_CONFIRMED', source: 's1', feedback_timestamp: T0 + 1, label_class: null, rejected_class: null, labels: ['email', 'phone'] },
    });
    // The full set, in any order: the same set is a confirmation, not a correction.
    expect(j.onFeedback(fb('a', 3, 'EXPERT_REVIEW', { labels: ['address', 'phone'] }))).toEqual([]);
    const none = exampleOf(j.onFeedback(fb('a', 4, 'EXPERT_REVIEW', { labels: [] })));
    expect(heads(none)).toMatchObject({ id: 'a#3', labels: [], correction_of: 'a#2' });
    // The empty set is a label.
    expect(isLabelled(none, 'multilabel')).toBe(true);
    expect(isLabelled({ ...none, labels: null }, 'multilabel')).toBe(false);
  });

  it('dead-letters what a multi-label model cannot take', () => {
    const j = joiner();
    j.onPrediction(ml('a', { email: 0.9 }));
    expect(rejection(j.onFeedback(fb('a', 1, 'USER_REJECTED')))).toBe('USER_REJECTED feedback without labels, labels_added or labels_removed says the labels were wrong but not which are right for multilabel model pii');
    expect(rejection(j.onFeedback(fb('a', 2, 'EXPERT_REVIEW')))).toBe('EXPERT_REVIEW feedback without labels, labels_added or labels_removed gives no labels for multilabel model pii');
    expect(rejection(j.onFeedback(fb('a', 3, 'EXPERT_REVIEW', { label_class: 'email' })))).toMatch(/^label_class is set but pii is a multilabel model/);
    expect(rejection(j.onFeedback(fb('a', 4, 'EXPERT_REVIEW', { label: 1 })))).toMatch(/^label 1 is set but pii is a multilabel model/);
    expect(rejection(j.onFeedback(fb('a', 5, 'EXPERT_REVIEW', { labels_removed: ['ssn'] })))).toBe('labels_removed names "ssn", which is not one of models.pii.classes ("email", "phone", "address")');
    expect(rejection(j.onPrediction(ml('b', {})))).toBe('neither class_scores nor predicted_labels is set: a prediction of multilabel model pii gives no decision');
    expect(rejection(j.onPrediction(ml('c', { email: 0.2 }, { threshold: 1.5 })))).toBe('threshold 1.5 is out of range for multilabel model pii (expected [0, 1])');
    expect(rejection(j.onPrediction(ml('d', { email: 0.2 }, { predicted_labels: ['ssn'] })))).toMatch(/^predicted_labels names "ssn"/);
  });
});

describe('what counts as labelled (core/contracts/labelled.ts)', () => {
  it('binary and regression: label; multiclass: label_class or rejected_class; multilabel: labels', () => {
    const none = { label: null, ...noExampleClasses() };
    expect(isLabelled({ ...none, label: 0 }, 'binary')).toBe(true);
    expect(isLabelled({ ...none, label: 0 }, 'regression')).toBe(true);
    expect(isLabelled(none, 'binary')).toBe(false);
    // A numeric target alone is not a class label.
    expect(isLabelled({ ...none, label: 3 }, 'multiclass')).toBe(false);
    expect(isLabelled({ ...none, rejected_class: 'a' }, 'multiclass')).toBe(true);
    expect(isLabelled({ ...none, label_class: 'a' }, 'multiclass')).toBe(true);
    expect(isLabelled({ ...none, labels: [] }, 'multilabel')).toBe(true);
    expect(isLabelled({ ...none, label: 1 }, 'multilabel')).toBe(false);
  });
});

describe('join state written before the class fields', () => {
  it('an entry from an older joiner\'s changelog gets the defaults, and an agreeing binary feedback after it is a confirmation, not a correction', () => {
    const store = new MemoryJoinStore();
    const j = new Joiner(store, OPTIONS);
    // As an older joiner wrote it: no class fields anywhere.
    const old = JSON.parse(JSON.stringify({
      prediction: { prediction_id: 'a', model: 'fraud', model_version: 'v1', timestamp: T0, features: {}, categorical: {}, segments: {}, score: 0.8, threshold: 0.5, shadow_scores: {} },
      shadow_scores: {}, early: [], seq: 1, seen: [1], expires_at: T0 + 48 * HOUR,
      resolved: { label: 1, trust: 1, feedback_type: 'USER_CONFIRMED', feedback_timestamp: T0 + 1, source: 'u', example_id: 'a#1' },
    })) as JoinEntry;
    // As the changelog gives it back (decodeChangelogRecord fills the defaults in).
    const change = decodeChangelogRecord({ topic: 'changelog', partition: 0, offset: 0, key: Buffer.from('a'), value: Buffer.from(JSON.stringify(old)), timestamp: 0, headers: {} } as never);
    expect(change.kind === 'entry' && change.entry).toEqual(withClassDefaults(JSON.parse(JSON.stringify(old)) as JoinEntry));
    const entry = withClassDefaults(old);
    expect(entry.prediction).toMatchObject(noPredictionClasses());
    expect(entry.resolved).toMatchObject({ label: 1, label_class: null, rejected_class: null, labels: null });
    store.set('a', entry);
    store.addExpiry(entry.expires_at, 'a');
    expect(j.onFeedback({ ...fb('a', 10, 'EXPERT_REVIEW', { label: 1 }) })).toEqual([]);
    expect(j.counters.confirmations).toBe(1);
    expect(exampleOf(j.onFeedback(fb('a', 20, 'EXPERT_REVIEW', { label: 0 }))).replaces).toEqual({
      label: 1, feedback_type: 'USER_CONFIRMED', source: 'u', feedback_timestamp: T0 + 1, label_class: null, rejected_class: null, labels: null,
    });
  });
});

describe('property: multi-class join', () => {
  const classOrNone = fc.constantFrom<string | null>(null, ...CLASSES);
  const stream = fc.array(
    fc.record({
      scores: fc.constantFrom<Record<string, number>>({ spike: 0.6, drift: 0.3, outage: 0.1 }, { spike: 0.3, drift: 0.3, outage: 0.4 }, { drift: 1 }),
      predicted: classOrNone,
      feedback: fc.array(
        fc.record({ type: fc.constantFrom(...(['USER_CONFIRMED', 'USER_REJECTED', 'AUTO_VALIDATED', 'EXPERT_REVIEW'] as const)), at: fc.integer({ min: 0, max: 5 }), cls: classOrNone, label: fc.constantFrom(null, 1, 2) }),
        { maxLength: 6 },
      ),
    }),
    { minLength: 1, maxLength: 6 },
  );

  it('the class in force is the most trusted feedback\'s (the latest among equals), and every correction replaces exactly the example before it', () => {
    fc.assert(
      fc.property(stream, fc.integer({ min: 0, max: 1000 }), (predictions, shuffle) => {
        const j = joiner();
        const events: Array<{ id: string; f: Feedback }> = [];
        predictions.forEach((p, i) => {
          j.onPrediction(mc(`p${i}`, p.scores, { predicted_class: p.predicted }));
          p.feedback.forEach((f) => events.push({ id: `p${i}`, f: fb(`p${i}`, f.at * 60_000, f.type, { label_class: f.cls, label: f.label, source: null }) }));
        });
        // Feedback of all predictions interleaved in a drawn order.
        const order = events.map((e, k) => ({ e, key: (k * 7919 + shuffle) % 1009 })).sort((a, b) => a.key - b.key).map((x) => x.e);
        const emitted = new Map<string, LabelledExample[]>();
        for (const { id, f } of order) {
          for (const o of j.onFeedback(f)) {
            if (o.kind !== 'example') continue;
            expect(validateLabelledExample(o.example)).toEqual(o.example);
            expect(isLabelled(o.example, 'multiclass')).toBe(true);
            emitted.set(id, [...(emitted.get(id) ?? []), o.example]);
          }
        }
        predictions.forEach((p, i) => {
          const id = `p${i}`;
          const decided = p.predicted ?? CLASSES.reduce((best, c) => (p.scores[c] ?? 0) > (p.scores[best] ?? 0) ? c : best, CLASSES[0]!);
          // The reference: among usable feedback (a class, or a user's verdict), the largest (trust, timestamp), the last to arrive among
          // equals; an exact copy of a feedback that came before is a redelivery and changes nothing (fast-check seed 1892330442).
          let winner: Feedback | undefined;
          const seen = new Set<string>();
          for (const { id: of, f } of order) {
            if (of !== id || (f.label_class === null && (f.feedback_type === 'AUTO_VALIDATED' || f.feedback_type === 'EXPERT_REVIEW'))) continue;
            const copy = JSON.stringify([f.feedback_type, f.timestamp, f.label_class, f.label]);
            if (seen.has(copy)) continue;
            seen.add(copy);
            if (!winner || TRUST[f.feedback_type] > TRUST[winner.feedback_type] || (TRUST[f.feedback_type] === TRUST[winner.feedback_type] && f.timestamp >= winner.timestamp)) winner = f;
          }
          const examples = emitted.get(id) ?? [];
          if (!winner) return expect(examples).toEqual([]);
          const last = examples[examples.length - 1]!;
          expect(last.predicted_class).toBe(decided);
          expect({ label: last.label, label_class: last.label_class, rejected_class: last.rejected_class }).toEqual({
            label: winner.label,
            label_class: winner.label_class ?? (winner.feedback_type === 'USER_CONFIRMED' ? decided : null),
            rejected_class: winner.label_class === null && winner.feedback_type === 'USER_REJECTED' ? decided : null,
          });
          examples.forEach((e, k) => {
            expect(e.example_id).toBe(`${id}#${k + 1}`);
            const before = examples[k - 1];
            expect(e.correction_of).toBe(before ? before.example_id : null);
            if (before) expect(e.replaces).toMatchObject({ label: before.label, label_class: before.label_class, rejected_class: before.rejected_class, labels: null });
            // A correction changes the label: the same heads twice in a row never happen.
            if (before) expect([e.label, e.label_class, e.rejected_class]).not.toEqual([before.label, before.label_class, before.rejected_class]);
          });
        });
      }),
      runs(300),
    );
  });
});
