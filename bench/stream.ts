/**
 * A deterministic, seeded stream of predictions and feedback for the join
 * benchmark and the store equivalence tests. Every awkward case of the
 * joiner issue appears: feedback of every type (labels and null labels),
 * corrections (a more trusted, different label later), confirmations,
 * exact duplicates of predictions and feedback, a reused prediction_id,
 * out-of-range scores and labels, uncertain feedback, feedback before its
 * prediction (a late prediction), feedback after the window (unmatched),
 * predictions that never get feedback (expired unlabelled), a regression
 * model, and ties on expiry time.
 *
 * Events come out in arrival order; an event's timestamp is its event time,
 * which may lag its arrival a little (or a lot, for a late prediction).
 */
import { type Feedback, type FeedbackType, noFeedbackClasses, noPredictionClasses, type Prediction } from '../core/events.js';
import type { ModelKind } from '../core/events.js';
import { mulberry32 } from '../demo/random.js';

export type StreamEvent = { kind: 'prediction'; event: Prediction } | { kind: 'feedback'; event: Feedback };

export interface StreamOptions {
  /** Distinct predictions generated (events are more: feedback, duplicates). */
  predictions: number;
  seed: number;
  /** Mean gap between predictions in event time (ms). */
  meanGapMs: number;
  /** The join window the stream is shaped for (most feedback arrives within it). */
  joinWindowMs: number;
  /** The early-feedback TTL the stream is shaped for. */
  earlyFeedbackTtlMs: number;
  /** Predictions only (no feedback, no duplicates, no late predictions): for the pending-memory measurement. */
  predictionsOnly?: boolean;
  /** Round every timestamp down to this many ms (coarse clocks make ties on expiry time). Default 1. */
  granularityMs?: number;
  /** Start of event time. */
  startMs?: number;
}

export const MODELS = ['fraud-detector', 'churn', 'spam-filter', 'eta'] as const;
/** The kind of each model in the stream (eta is a regression). */
export const kindOf = (model: string): ModelKind => (model === 'eta' ? 'regression' : 'binary');

const TYPES: FeedbackType[] = ['USER_CONFIRMED', 'USER_REJECTED', 'AUTO_VALIDATED', 'EXPERT_REVIEW'];
const COUNTRIES = ['DE', 'FR', 'US', 'BR', 'IN', 'JP'];
const REGIONS = ['eu', 'us', 'latam', 'apac'];
const PLANS = ['free', 'pro', 'enterprise'];

interface Scheduled {
  arrival: number;
  seq: number;
  item: StreamEvent;
}

/** A min-heap of scheduled events on (arrival, seq). */
class Schedule {
  private readonly items: Scheduled[] = [];
  private seq = 0;

  get size(): number {
    return this.items.length;
  }

  push(arrival: number, item: StreamEvent): void {
    const items = this.items;
    items.push({ arrival, seq: this.seq++, item });
    let i = items.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!Schedule.less(items[i]!, items[parent]!)) break;
      [items[i], items[parent]] = [items[parent]!, items[i]!];
      i = parent;
    }
  }

  peek(): Scheduled | undefined {
    return this.items[0];
  }

  pop(): Scheduled | undefined {
    const items = this.items;
    const top = items[0];
    const last = items.pop();
    if (items.length > 0 && last) {
      items[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < items.length && Schedule.less(items[l]!, items[m]!)) m = l;
        if (r < items.length && Schedule.less(items[r]!, items[m]!)) m = r;
        if (m === i) break;
        [items[i], items[m]] = [items[m]!, items[i]!];
        i = m;
      }
    }
    return top;
  }

  private static less(a: Scheduled, b: Scheduled): boolean {
    return a.arrival < b.arrival || (a.arrival === b.arrival && a.seq < b.seq);
  }
}

/** The stream, lazily (a generator), in arrival order. */
export function* joinStream(options: StreamOptions): Generator<StreamEvent> {
  const rng = mulberry32(options.seed);
  const pick = <T>(values: readonly T[]): T => values[Math.floor(rng() * values.length)]!;
  const gran = options.granularityMs ?? 1;
  const round = (t: number) => Math.floor(t / gran) * gran;
  const window = options.joinWindowMs;
  const ttl = options.earlyFeedbackTtlMs;
  const schedule = new Schedule();
  let time = options.startMs ?? 1_763_942_400_000;
  let previous: Prediction | undefined;

  for (let n = 0; n < options.predictions; n++) {
    time += -Math.log(1 - rng()) * options.meanGapMs;
    const t = round(time);
    const model = pick(MODELS);
    const regression = model === 'eta';
    const prediction: Prediction = {
      prediction_id: `p-${(n * 2654435761) % 4294967296 >>> 0}-${n.toString(36)}`,
      model,
      model_version: rng() < 0.9 ? 'v7' : 'v8',
      timestamp: t,
      features: { amount: Math.round(rng() * 100_000) / 100, age_days: Math.floor(rng() * 2000), hour: Math.floor(rng() * 24) },
      categorical: { country: pick(COUNTRIES) },
      segments: { region: pick(REGIONS), plan: pick(PLANS) },
      score: regression ? Math.round(rng() * 6000) / 100 : rng(),
      threshold: 0.5, shadow_scores: {},
      ...noPredictionClasses(),
    };

    // Release everything due before this prediction.
    while ((schedule.peek()?.arrival ?? Number.POSITIVE_INFINITY) <= time) yield schedule.pop()!.item;

    if (options.predictionsOnly) {
      yield { kind: 'prediction', event: prediction };
      continue;
    }

    const r = rng();
    if (r < 0.01 && !regression) {
      prediction.score = 1.5; // out of range: rejected
    } else if (r < 0.015 && previous) {
      // A reused prediction_id with different content: rejected (or, if the first is gone, a new prediction).
      yield { kind: 'prediction', event: { ...prediction, prediction_id: previous.prediction_id } };
    }
    previous = prediction;

    // Late predictions: their feedback comes first (within the TTL, or too early for it).
    const late = rng();
    const predictionArrival = late < 0.04 ? time + rng() * ttl * 0.8 : late < 0.05 ? time + ttl * (1.2 + rng()) : time;
    if (predictionArrival === time) yield { kind: 'prediction', event: prediction };
    else schedule.push(predictionArrival, { kind: 'prediction', event: prediction });
    if (rng() < 0.02) schedule.push(predictionArrival + rng() * window * 0.5, { kind: 'prediction', event: { ...prediction } }); // exact duplicate

    // Feedback: none (expires unlabelled), one, or two (often a correction).
    const f = rng();
    const count = f < 0.1 ? 0 : f < 0.65 ? 1 : 2;
    let firstArrival = time;
    let firstLabel: number | null = null;
    for (let k = 0; k < count; k++) {
      const d = rng();
      // Mostly within the window; some after it (unmatched); some ties on the same millisecond.
      const delay = d < 0.05 ? window * (1.05 + rng()) : d < 0.1 ? 0 : rng() * window * 0.9;
      const arrival = k === 0 ? time + delay : Math.max(firstArrival, time + delay);
      const lag = rng() < 0.1 ? rng() * 5_000 : 0; // event time slightly behind arrival
      const type: FeedbackType = k === 1 && rng() < 0.5 ? 'EXPERT_REVIEW' : pick(TYPES);
      let label: number | null;
      if (regression) {
        label = rng() < 0.85 ? Math.round(rng() * 6000) / 100 : null; // null: CONFIRMED takes the score, others are rejected
      } else if (k === 1 && firstLabel !== null && rng() < 0.6) {
        label = 1 - firstLabel; // a correction, if trusted enough
      } else {
        const l = rng();
        label = l < 0.4 ? 1 : l < 0.8 ? 0 : l < 0.99 ? null : 0.4; // 0.4: out of range for a binary model
      }
      if (k === 0) firstLabel = label;
      const feedback: Feedback = {
        prediction_id: prediction.prediction_id,
        timestamp: round(arrival - lag),
        feedback_type: type,
        label,
        uncertain: rng() < 0.03,
        source: rng() < 0.9 ? `user-${Math.floor(rng() * 50)}` : null,
        notes: rng() < 0.05 ? 'checked by hand' : null,
        ...noFeedbackClasses(),
      };
      if (k === 0) firstArrival = arrival;
      schedule.push(arrival, { kind: 'feedback', event: feedback });
      if (rng() < 0.03) schedule.push(arrival + rng() * 60_000, { kind: 'feedback', event: { ...feedback } }); // exact duplicate
    }
  }
  while (schedule.size > 0) yield schedule.pop()!.item;
}
