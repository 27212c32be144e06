/**
 * Seeded streams of predictions and feedback for the joiner's integration
 * tests, and the output the pure core (core/join) expects from them.
 *
 * The stream is a list of records in SEND order: the test producer sends
 * them in that order, so each partition of each input topic holds its
 * records in that order. What Kafka does not fix is how the joiner
 * interleaves partition p of `predictions` with partition p of `feedback`.
 * The generator therefore keeps to rules under which the joiner's output
 * does not depend on that interleaving (see `generateJoinStream`), and
 * `expectedJoin` can compute it under any interleaving: the tests compute it
 * under three (as sent, all feedback first, all predictions first) and
 * check that the three agree before comparing with what Kafka holds.
 */
import { emptyCounters, Joiner, MemoryJoinStore, type JoinCounters, type JoinerOptions, type JoinOutput } from '../../core/join/index.js';
import { addCounters } from '../../processors/joiner.js';
import { partitionForKey } from '../../adapters/transport/partitioner.js';
import { type Feedback, type FeedbackType, type LabelledExample, noFeedbackClasses, noPredictionClasses, type Prediction } from '../../core/events.js';

/** mulberry32: small, fast, good enough for test data, and the same on every machine. */
export class Rng {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Integer in [lo, hi]. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }

  uniform(lo: number, hi: number): number {
    return lo + this.next() * (hi - lo);
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)]!;
  }

  chance(p: number): boolean {
    return this.next() < p;
  }
}

export type InputSide = 'predictions' | 'feedback';

/** Bytes that are not a valid record of the topic, by how they are broken. */
export type GarbageForm = 'not-avro' | 'truncated' | 'unknown-schema';

export type StreamEvent =
  | { kind: 'prediction'; key: string; value: Prediction; partition?: number }
  | { kind: 'feedback'; key: string; value: Feedback; partition?: number }
  | { kind: 'garbage'; topic: InputSide; key: string; form: GarbageForm; partition?: number };

export interface JoinStreamOptions {
  seed: number;
  /** Distinct prediction ids (duplicates, reused ids and rejected ones included). */
  predictions: number;
  /** Event time of the first prediction. */
  baseTime?: number;
  /** Event-time spacing of consecutive predictions (ms). */
  stepMs?: number;
  /** Feedback for ids that never get a prediction (unmatched once the TTL passes). Default predictions / 200. */
  orphans?: number;
  /** Garbage records per input topic (one form each in turn). Default 4. */
  garbagePerTopic?: number;
}

export interface JoinStream {
  events: StreamEvent[];
  /** How many prediction ids got each scenario, plus other counts (for the test's log and assertions). */
  scenarios: Record<string, number>;
  baseTime: number;
  /** The largest event timestamp in the stream. */
  maxTime: number;
}

/**
 * 2024-01-01T00:00:00Z: in the past, so that `feedbackloop run` (which
 * dead-letters events stamped more than joiner.max_future ahead of its wall
 * clock) accepts the whole stream and the ticks 30 days later.
 */
export const DEFAULT_BASE_TIME = 1_704_067_200_000;
/** Far-future events: 100 years after the prediction. */
const FAR_FUTURE_MS = 100 * 365 * 86_400_000;
const MINUTE = 60_000;
const HOUR = 3_600_000;

const MODELS = ['fraud-detector', 'churn', 'spam-filter'] as const;
const COUNTRIES = ['DE', 'FR', 'US', 'BR', 'JP'] as const;
const REGIONS = ['eu', 'us', 'latam', 'apac'] as const;

type Scenario =
  | 'none' | 'user' | 'auto' | 'correction' | 'confirmation' | 'superseded' | 'user-changes-mind'
  | 'uncertain-only' | 'uncertain-then-expert' | 'duplicate-feedback' | 'three-step'
  | 'duplicate-prediction' | 'bad-label' | 'expert-without-label' | 'reused-id' | 'rejected-score'
  | 'future-prediction' | 'future-feedback';

const SCENARIOS: Array<[Scenario, number]> = [
  ['none', 0.1],
  ['user', 0.28],
  ['auto', 0.08],
  ['correction', 0.1],
  ['confirmation', 0.05],
  ['superseded', 0.05],
  ['user-changes-mind', 0.04],
  ['uncertain-only', 0.04],
  ['uncertain-then-expert', 0.04],
  ['duplicate-feedback', 0.06],
  ['three-step', 0.04],
  ['duplicate-prediction', 0.04],
  ['bad-label', 0.03],
  ['expert-without-label', 0.02],
  ['reused-id', 0.015],
  ['rejected-score', 0.014],
  ['future-prediction', 0.0005],
  ['future-feedback', 0.0005],
];

function scenarioOf(r: number): Scenario {
  let acc = 0;
  for (const [name, p] of SCENARIOS) {
    acc += p;
    if (r < acc) return name;
  }
  return 'user';
}

const round = (x: number, digits: number) => Math.round(x * 10 ** digits) / 10 ** digits;

/**
 * A seeded stream: `predictions` ids, each with a scenario (no feedback, one
 * user label, a correction by an expert, a confirmation, a superseded user
 * label, uncertain reviews, exact re-sends of feedback and of predictions,
 * out-of-range labels, label-less expert reviews, reused ids, out-of-range
 * scores), ~6% of them with their first feedback (or several) SENT BEFORE
 * the prediction, orphan feedback for ids that never come, and garbage
 * bytes on both topics.
 *
 * Rules that make the joiner's output independent of how it interleaves the
 * two topics of a partition (all relative to the join's event time):
 *  1. Every timestamp lies within a few hours of the first one, so with a
 *     join window and an early-feedback TTL of a day or more nothing expires
 *     while the stream is processed, whatever the watermark does.
 *  2. The feedback of one prediction id is sent in timestamp order (ties
 *     keep send order). Feedback that arrives before its prediction is
 *     applied sorted by timestamp when the prediction comes, the rest in
 *     arrival order: with rule 2 both are the send order, so the labels a
 *     prediction goes through, and hence its examples (#1, a correction #2,
 *     ...), are the same in every interleaving. Exact re-sends are dropped
 *     wherever they fall (their hash is remembered from the first copy).
 *  3. A re-sent or reused prediction is sent after the first one (same
 *     partition of the same topic, so the joiner sees them in that order).
 * What still depends on the interleaving is only the bookkeeping of a
 * rejected feedback that waited for its prediction (its dead letter has
 * offset -1 and re-encoded bytes): compare dead letters on topic, partition,
 * key, class and reason.
 */
export function generateJoinStream(options: JoinStreamOptions): JoinStream {
  const rng = new Rng(options.seed);
  const n = options.predictions;
  const baseTime = options.baseTime ?? DEFAULT_BASE_TIME;
  const step = options.stepMs ?? 100;
  const scenarios: Record<string, number> = {};
  const items: Array<{ arrival: number; seq: number; event: StreamEvent }> = [];
  const push = (arrival: number, event: StreamEvent) => items.push({ arrival, seq: items.length, event });
  let maxTime = baseTime;

  for (let i = 0; i < n; i++) {
    const id = `p-${i}`;
    const ts = baseTime + i * step + rng.int(0, step - 1);
    const prediction: Prediction = {
      prediction_id: id,
      model: rng.pick(MODELS),
      model_version: `v${rng.int(1, 3)}`,
      timestamp: ts,
      features: { amount: round(rng.uniform(1, 5000), 2), age_days: rng.int(0, 3650) },
      categorical: { country: rng.pick(COUNTRIES) },
      segments: { region: rng.pick(REGIONS) },
      score: round(rng.next(), 4),
      threshold: 0.5, shadow_scores: {},
      ...noPredictionClasses(),
    };
    const scenario = scenarioOf(rng.next());
    scenarios[scenario] = (scenarios[scenario] ?? 0) + 1;
    if (scenario === 'rejected-score') prediction.score = round(1 + rng.uniform(0.01, 2), 4);
    if (scenario === 'future-prediction') prediction.timestamp = ts + FAR_FUTURE_MS;
    push(i, { kind: 'prediction', key: id, value: prediction });

    const l = rng.int(0, 1);
    const user = (): FeedbackType => rng.pick(['USER_CONFIRMED', 'USER_REJECTED'] as const);
    const source = (type: FeedbackType) =>
      type === 'EXPERT_REVIEW' ? `analyst-${rng.int(1, 20)}` : type === 'AUTO_VALIDATED' ? 'reconciler' : `user-${rng.int(1, 5000)}`;
    const plan: Array<{ type: FeedbackType; label: number | null; delay: number; uncertain?: boolean }> = [];
    const soon = () => rng.int(1, 30) * MINUTE + rng.int(0, 59_999);
    const later = () => HOUR + rng.int(0, 60) * MINUTE + rng.int(0, 59_999);
    switch (scenario) {
      case 'none':
        break;
      case 'user':
      case 'duplicate-feedback':
      case 'duplicate-prediction':
      case 'reused-id':
      case 'rejected-score':
      case 'future-prediction':
        plan.push({ type: user(), label: rng.chance(0.5) ? null : l, delay: soon() });
        break;
      case 'auto':
        plan.push({ type: 'AUTO_VALIDATED', label: l, delay: soon() });
        break;
      case 'correction':
        plan.push({ type: user(), label: l, delay: soon() }, { type: 'EXPERT_REVIEW', label: 1 - l, delay: later() });
        break;
      case 'confirmation':
        plan.push({ type: user(), label: l, delay: soon() }, { type: 'EXPERT_REVIEW', label: l, delay: later() });
        break;
      case 'superseded':
        plan.push({ type: 'EXPERT_REVIEW', label: l, delay: soon() }, { type: user(), label: 1 - l, delay: later() });
        break;
      case 'user-changes-mind':
        plan.push({ type: user(), label: l, delay: soon() }, { type: user(), label: 1 - l, delay: later() });
        break;
      case 'uncertain-only':
        plan.push({ type: 'EXPERT_REVIEW', label: l, delay: soon(), uncertain: true });
        break;
      case 'uncertain-then-expert':
        plan.push({ type: 'EXPERT_REVIEW', label: null, delay: soon(), uncertain: true }, { type: 'EXPERT_REVIEW', label: l, delay: later() });
        break;
      case 'three-step':
        plan.push(
          { type: user(), label: l, delay: soon() },
          { type: 'AUTO_VALIDATED', label: 1 - l, delay: later() },
          { type: 'EXPERT_REVIEW', label: l, delay: later() + HOUR },
        );
        break;
      case 'bad-label':
        plan.push({ type: 'USER_CONFIRMED', label: 2, delay: soon() });
        if (rng.chance(0.5)) plan.push({ type: 'EXPERT_REVIEW', label: l, delay: later() });
        break;
      case 'expert-without-label':
        plan.push({ type: 'EXPERT_REVIEW', label: null, delay: soon() });
        break;
      case 'future-feedback':
        // A clock gone wrong: the second review is stamped a century ahead (rejected on arrival, before anything else).
        plan.push({ type: user(), label: l, delay: soon() }, { type: 'EXPERT_REVIEW', label: 1 - l, delay: FAR_FUTURE_MS });
        break;
    }
    // Rule 2: timestamps ascend with the plan (the delays above already do); arrivals ascend too.
    const early = plan.length > 0 && rng.chance(0.06);
    if (early) scenarios['early-feedback'] = (scenarios['early-feedback'] ?? 0) + 1;
    let arrival = early ? i - rng.uniform(1, 3000) : i + rng.uniform(0.5, 3000);
    for (const [k, step_] of plan.entries()) {
      if (k > 0) arrival += early ? rng.uniform(0.01, 2) : rng.uniform(1, 5000);
      const type = step_.type;
      const feedback: Feedback = {
        prediction_id: id,
        timestamp: ts + step_.delay,
        feedback_type: type,
        label: step_.label,
        uncertain: step_.uncertain ?? false,
        source: source(type),
        notes: rng.chance(0.1) ? `note ${rng.int(1, 1000)}` : null,
        ...noFeedbackClasses(),
      };
      if (step_.delay < FAR_FUTURE_MS) maxTime = Math.max(maxTime, feedback.timestamp);
      push(arrival, { kind: 'feedback', key: id, value: feedback });
      if (scenario === 'duplicate-feedback' || rng.chance(0.01)) {
        // An exact re-send, anywhere after the first copy.
        scenarios['feedback-resends'] = (scenarios['feedback-resends'] ?? 0) + 1;
        push(arrival + rng.uniform(0.01, 5000), { kind: 'feedback', key: id, value: { ...feedback } });
      }
    }
    if (scenario === 'duplicate-prediction') push(i + rng.uniform(0.01, 500), { kind: 'prediction', key: id, value: structuredClone(prediction) });
    if (scenario === 'reused-id') {
      const other: Prediction = { ...structuredClone(prediction), score: round(rng.next(), 4), model_version: 'v9' };
      push(i + rng.uniform(0.01, 500), { kind: 'prediction', key: id, value: other });
    }
    maxTime = Math.max(maxTime, ts);
  }
  if (maxTime - baseTime > 12 * HOUR) throw new Error('the stream spans more than 12 hours of event time: rule 1 would need a longer TTL');

  const orphans = options.orphans ?? Math.floor(n / 200);
  for (let k = 0; k < orphans; k++) {
    const arrival = rng.uniform(0, n);
    const feedback: Feedback = {
      prediction_id: `orphan-${k}`,
      timestamp: baseTime + Math.floor(arrival * step),
      feedback_type: rng.pick(['USER_CONFIRMED', 'USER_REJECTED', 'EXPERT_REVIEW'] as const),
      label: rng.int(0, 1),
      uncertain: false,
      source: 'someone',
      notes: null,
      ...noFeedbackClasses(),
    };
    push(arrival, { kind: 'feedback', key: feedback.prediction_id, value: feedback });
    if (rng.chance(0.1)) push(arrival + rng.uniform(0.01, 100), { kind: 'feedback', key: feedback.prediction_id, value: { ...feedback } });
  }
  scenarios.orphans = orphans;

  const forms: GarbageForm[] = ['not-avro', 'truncated', 'unknown-schema', 'not-avro'];
  for (const topic of ['predictions', 'feedback'] as const) {
    for (let k = 0; k < (options.garbagePerTopic ?? 4); k++) {
      push(rng.uniform(0, n), { kind: 'garbage', topic, key: `garbage-${topic}-${k}`, form: forms[k % forms.length]! });
    }
  }

  items.sort((a, b) => a.arrival - b.arrival || a.seq - b.seq);
  return { events: items.map((item) => item.event), scenarios, baseTime, maxTime };
}

/**
 * One prediction per partition at `timestamp`, sent to that partition: moves every partition's
 * watermark there. Its id is one murmur2 places on that partition (a record elsewhere would be
 * forwarded to its own partition by the joiner, not tick this one).
 */
export function tickEvents(partitions: number, timestamp: number): StreamEvent[] {
  return Array.from({ length: partitions }, (_, p) => tickEvent(p, partitions, timestamp));
}

function tickEvent(p: number, partitions: number, timestamp: number): StreamEvent {
  let k = 0;
  while (partitionForKey(Buffer.from(`tick-${p}-${k}`, 'utf8'), partitions) !== p) k++;
  const id = `tick-${p}-${k}`;
  return {
    kind: 'prediction' as const,
    key: id,
    partition: p,
    value: {
      prediction_id: id, model: 'tick', model_version: 'v0', timestamp,
      features: {}, categorical: {}, segments: {}, score: 0.5, threshold: 0.5, shadow_scores: {},
      ...noPredictionClasses(),
    },
  };
}

export function sideOf(event: StreamEvent): InputSide {
  return event.kind === 'garbage' ? event.topic : event.kind === 'prediction' ? 'predictions' : 'feedback';
}

export function partitionOf(event: StreamEvent, partitions: number): number {
  return event.partition ?? partitionForKey(Buffer.from(event.key, 'utf8'), partitions);
}

export interface ExpectedRejection {
  topic: InputSide;
  partition: number;
  key: string;
  reason: string;
}

export interface ExpectedJoin {
  /** By example_id. */
  examples: Map<string, LabelledExample>;
  unmatched: Feedback[];
  rejections: ExpectedRejection[];
  garbage: Array<{ topic: InputSide; partition: number; key: string; form: GarbageForm }>;
  counters: JoinCounters;
}

export type Interleaving = 'as-sent' | 'feedback-first' | 'predictions-first';

/**
 * What the joiner must output for `phases` (each a list of events in send
 * order; phase k+1 is sent only once phase k is fully processed), computed
 * with the pure core: one Joiner over a MemoryJoinStore per partition, fed
 * the partition's events of each phase in the given interleaving.
 */
export function expectedJoin(
  phases: StreamEvent[][],
  partitions: number,
  options: Partial<JoinerOptions>,
  interleaving: Interleaving = 'as-sent',
): ExpectedJoin {
  const joiners = Array.from({ length: partitions }, () => new Joiner(new MemoryJoinStore(), options));
  const result: ExpectedJoin = { examples: new Map(), unmatched: [], rejections: [], garbage: [], counters: emptyCounters() };
  const take = (outputs: JoinOutput[], partition: number, source: InputSide) => {
    for (const output of outputs) {
      // Arrival records go to labelled-examples with the examples (their ids end in #arrival).
      if (output.kind === 'example' || output.kind === 'arrival') {
        if (result.examples.has(output.example.example_id)) throw new Error(`the pure joiner emitted ${output.example.example_id} twice`);
        result.examples.set(output.example.example_id, output.example);
      } else if (output.kind === 'unmatched') {
        result.unmatched.push(output.feedback);
      } else {
        // The processor dead-letters a rejected feedback under the feedback topic even when its prediction triggered it.
        result.rejections.push({ topic: output.input === 'feedback' ? 'feedback' : source, partition, key: output.prediction_id, reason: output.reason });
      }
    }
  };
  for (const phase of phases) {
    for (let p = 0; p < partitions; p++) {
      let mine = phase.filter((e) => partitionOf(e, partitions) === p);
      if (interleaving === 'feedback-first') mine = [...mine.filter((e) => sideOf(e) === 'feedback'), ...mine.filter((e) => sideOf(e) === 'predictions')];
      if (interleaving === 'predictions-first') mine = [...mine.filter((e) => sideOf(e) === 'predictions'), ...mine.filter((e) => sideOf(e) === 'feedback')];
      const joiner = joiners[p]!;
      for (const event of mine) {
        if (event.kind === 'garbage') result.garbage.push({ topic: event.topic, partition: p, key: event.key, form: event.form });
        else if (event.kind === 'prediction') take(joiner.onPrediction(event.value), p, 'predictions');
        else take(joiner.onFeedback(event.value), p, 'feedback');
      }
    }
  }
  for (const joiner of joiners) addCounters(result.counters, joiner.counters);
  return result;
}

/** A rejection reason without what depends on the wall clock (its reading, and the accepted range's end: now + joiner.max_future). */
export function normalizeReason(reason: string): string {
  return reason
    .replace(/ahead of the wall clock, -?\d+ \([^)]*\)/g, 'ahead of the wall clock, <now>')
    .replace(/, -?\d+ \([^)]*\)\]/g, ', <now + max_future>]');
}

/** JSON with object keys sorted at every level: equal values give equal strings. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v) && !Buffer.isBuffer(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}

/** The order-independent facts of an expected join, for comparing interleavings. */
export function expectedFacts(expected: ExpectedJoin): { examples: string[]; unmatched: string[]; rejections: string[]; garbage: string[] } {
  return {
    examples: [...expected.examples.values()].map(canonicalJson).sort(),
    unmatched: expected.unmatched.map(canonicalJson).sort(),
    rejections: expected.rejections.map((r) => `${r.topic}|${r.partition}|${r.key}|${normalizeReason(r.reason)}`).sort(),
    garbage: expected.garbage.map((g) => `${g.topic}|${g.partition}|${g.key}|${g.form}`).sort(),
  };
}

/**
 * Checks the generator's promise for `phases`: the expected output computed
 * with each partition's feedback all first, or its predictions all first,
 * equals the one computed as sent. Returns what differs (empty when nothing).
 */
export function interleavingProblems(phases: StreamEvent[][], partitions: number, options: Partial<JoinerOptions>, asSent: ExpectedJoin): string[] {
  const facts = expectedFacts(asSent);
  const problems: string[] = [];
  for (const interleaving of ['feedback-first', 'predictions-first'] as const) {
    const other = expectedFacts(expectedJoin(phases, partitions, options, interleaving));
    for (const kind of ['examples', 'unmatched', 'rejections', 'garbage'] as const) {
      const a = facts[kind];
      const b = other[kind];
      if (a.length !== b.length || a.some((x, i) => x !== b[i])) {
        const missing = a.filter((x) => !b.includes(x)).slice(0, 2);
        problems.push(`${kind} differ between as-sent and ${interleaving} (${a.length} vs ${b.length}), e.g. ${missing.join(' ; ')}`);
      }
    }
  }
  return problems;
}

/** Where each event lands: its input topic, partition and offset (one producer sending them in order to empty topics). */
export function inputPositions(events: StreamEvent[], partitions: number): Array<{ side: InputSide; partition: number; offset: number }> {
  const next = new Map<string, number>();
  return events.map((event) => {
    const side = sideOf(event);
    const partition = partitionOf(event, partitions);
    const key = `${side}/${partition}`;
    const offset = next.get(key) ?? 0;
    next.set(key, offset + 1);
    return { side, partition, offset };
  });
}
