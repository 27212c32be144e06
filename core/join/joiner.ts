/**
 * The join of predictions and feedback into labelled examples (pure core).
 *
 * Event time throughout: the watermark is the largest event timestamp seen;
 * a prediction is held for the join window [timestamp, timestamp + window),
 * feedback that arrives before its prediction waits up to the early-feedback
 * TTL. Each call first advances the watermark (expiring what fell out of
 * the window), then applies the event, so the output depends only on the
 * order of the input. A prediction refused for itself (its time, a score or
 * threshold out of range, a reused id) is refused first and moves nothing:
 * a dead-lettered record leaves the others' outputs as they were.
 *
 * Outputs:
 *  - example: a labelled example; a correction when `correction_of` names
 *    the example it replaces; an unlabelled one (label null) when a
 *    prediction expires without a label and emitUnlabelled is on.
 *  - arrival: the arrival record of an accepted prediction (emitArrivals),
 *    before anything else it causes: label null, `arrival` true, example id
 *    `<prediction_id>#arrival` (core/contracts/example-id.ts), and the very
 *    shadow scores its later examples carry (scored once, kept in its entry).
 *    None for a duplicate or a refused prediction.
 *  - unmatched: feedback whose prediction never arrived in time.
 *  - rejected: an input that breaks the contract for its model (label or
 *    score out of range, a reused prediction_id, a class its model does not
 *    have, multi-class scores that do not sum to 1: classes.ts), or a
 *    prediction of a model past `maxModels`; the processor dead-letters it.
 *
 * Models are the one name the join turns into state of its own (per-model
 * counters here, and every processor downstream keeps per-model state), so
 * their number is bounded: the first `maxModels` distinct models seen are
 * admitted (configured ones always, uncounted); the set survives a restart
 * (`restoreModel`, the processor keeps it in the changelog with the entries,
 * `takeNewModels`).
 */
import { arrivalExampleId, exampleId } from '../contracts/example-id.js';
import { formatDuration } from '../duration.js';
import type { Feedback, LabelledExample, ModelKind, Prediction, ReplacedLabel } from '../events.js';
import { FirstSeen } from '../limits.js';
import { ClassList, decidedClass, decidedLabels, predictionClassProblem } from './classes.js';
import { feedbackHash, outcomeFrom, outranks, sameOutcome, TRUST, type TaskView } from './resolution.js';
import type { JoinEntry, JoinStore, ResolvedLabel } from './store.js';
import { NO_CLOCK, timeProblem, UNBOUNDED, type ClockReading, type TimeBounds } from './time-bounds.js';

/** Scores a prediction with every current challenger (and the previous champion after a promotion). */
export interface ShadowScoring {
  /** Version -> score, made now, at prediction time. */
  score(prediction: Prediction): Record<string, number>;
}

/** The scorer set when no challenger exists yet: every prediction gets empty shadow scores. */
export const NO_CHALLENGERS: ShadowScoring = { score: () => ({}) };

export interface JoinerOptions {
  /** How long a prediction waits for feedback, in event time. Default 7 days. */
  joinWindowMs: number;
  /** How long feedback waits for its prediction, in event time. Default 1 hour. */
  earlyFeedbackTtlMs: number;
  /** Emit an example with label null when a prediction expires unlabelled. Default true. */
  emitUnlabelled: boolean;
  /** Emit an arrival record for each accepted prediction, at prediction time (joiner.emit_arrivals). Default true. */
  emitArrivals: boolean;
  /** The kind of a model (binary unless configured). */
  kindOf: (model: string) => ModelKind;
  /** The classes (multiclass) or labels (multilabel) of a model, in their configured order (models.<name>.classes); none for the others. */
  classesOf: (model: string) => readonly string[];
  /** The numeric head of a multiclass model (models.<name>.numeric_target), or null: its feedback carries no `label`. */
  numericTargetOf: (model: string) => string | null;
  shadowScorer: ShadowScoring;
  /**
   * The plausible event times (time-bounds.ts): an event stamped before
   * `timeBounds.minTimestamp`, or more than `timeBounds.maxFutureMs` ahead
   * of `eventClock()`, is rejected (it would move the watermark and expire
   * every pending prediction at once, or is in seconds). Default: no bounds.
   */
  timeBounds: TimeBounds;
  /**
   * The clock read for each event: in `run` the wall clock. Default: none
   * (only the floor applies; a replay checks the ceiling against the
   * stream's own time as it reads its input).
   */
  eventClock: () => ClockReading;
  /** Distinct models admitted (limits.max_models), configured ones not counted. Default: no bound. */
  maxModels: number;
  /** Models always admitted, and not counted (those configured under models.<name>). */
  configuredModel: (model: string) => boolean;
}

export const DEFAULT_JOINER_OPTIONS: JoinerOptions = {
  joinWindowMs: 7 * 86_400_000,
  earlyFeedbackTtlMs: 3_600_000,
  emitUnlabelled: true,
  emitArrivals: true,
  kindOf: () => 'binary',
  classesOf: () => [],
  numericTargetOf: () => null,
  shadowScorer: NO_CHALLENGERS,
  timeBounds: UNBOUNDED,
  eventClock: NO_CLOCK,
  maxModels: Number.POSITIVE_INFINITY,
  configuredModel: () => false,
};

export type JoinOutput =
  | { kind: 'example'; example: LabelledExample }
  | { kind: 'arrival'; example: LabelledExample }
  | { kind: 'unmatched'; feedback: Feedback; reason: string }
  | { kind: 'rejected'; input: 'prediction'; prediction_id: string; reason: string; event: Prediction }
  | { kind: 'rejected'; input: 'feedback'; prediction_id: string; reason: string; event: Feedback };

export interface ModelCounters {
  predictions: number;
  labelled: number;
  corrections: number;
  expired_labelled: number;
  expired_unlabelled: number;
}

export interface JoinCounters {
  predictions: number;
  feedback: number;
  /** First labels (one per labelled prediction). */
  labelled: number;
  /** Labels replaced by a more trusted (or later, equally trusted) different label. */
  corrections: number;
  /** A more trusted feedback that agreed with the label in force. */
  confirmations: number;
  /** Feedback outranked by the label in force (less trusted, or older). */
  superseded: number;
  /** Exact duplicates of a prediction or a feedback already seen. */
  duplicates: number;
  uncertain: number;
  unmatched: number;
  rejected: number;
  /** Predictions refused because their model came past maxModels (also counted in rejected). */
  models_refused: number;
  expired_labelled: number;
  expired_unlabelled: number;
  /** Input records found on a partition other than murmur2(prediction_id)'s and forwarded there (the processor's, not the join's). */
  rerouted: number;
  /**
   * Counters per model name. A null-prototype object (JSON-serialisable, it
   * is summary.json's by_model): a model named `__proto__`, `constructor` or
   * `toString` is an entry like any other, never Object.prototype or an
   * inherited member. Read it with Object.hasOwn.
   */
  byModel: Record<string, ModelCounters>;
}

export function emptyCounters(): JoinCounters {
  return {
    predictions: 0, feedback: 0, labelled: 0, corrections: 0, confirmations: 0, superseded: 0,
    duplicates: 0, uncertain: 0, unmatched: 0, rejected: 0, models_refused: 0, expired_labelled: 0, expired_unlabelled: 0, rerouted: 0,
    byModel: Object.create(null) as Record<string, ModelCounters>,
  };
}

/** A model's counters in `byModel`, created (as an own entry, whatever the name) when missing. */
export function modelCounters(byModel: Record<string, ModelCounters>, model: string): ModelCounters {
  if (Object.hasOwn(byModel, model)) return byModel[model]!;
  const counters: ModelCounters = { predictions: 0, labelled: 0, corrections: 0, expired_labelled: 0, expired_unlabelled: 0 };
  Object.defineProperty(byModel, model, { value: counters, writable: true, enumerable: true, configurable: true });
  return counters;
}

function sameMap<V>(a: Record<string, V>, b: Record<string, V>): boolean {
  if (a === b) return true;
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length) return false;
  return keys.every((key) => Object.hasOwn(b, key) && a[key] === b[key]);
}

/** Field by field; maps compare by content, whatever their key order. */
function samePrediction(a: Prediction, b: Prediction): boolean {
  return (
    a.prediction_id === b.prediction_id && a.model === b.model && a.model_version === b.model_version &&
    a.timestamp === b.timestamp && a.score === b.score && a.threshold === b.threshold &&
    sameMap(a.features, b.features) && sameMap(a.categorical, b.categorical) && sameMap(a.segments, b.segments) &&
    sameMap(a.shadow_scores, b.shadow_scores) && sameMap(a.class_scores, b.class_scores) && a.predicted_class === b.predicted_class &&
    sameNames(a.predicted_labels, b.predicted_labels)
  );
}

function sameNames(a: readonly string[] | null, b: readonly string[] | null): boolean {
  if (a === null || b === null) return a === b;
  return a.length === b.length && a.every((name, i) => name === b[i]);
}

/**
 * The shadow scores a prediction's examples carry: the upstream candidates' it came with, then
 * our challengers' (validation keeps upstream keys out of our names: `<model>/…`, `previous:…`).
 */
function withUpstream(upstream: Record<string, number>, ours: Record<string, number>): Record<string, number> {
  if (Object.keys(upstream).length === 0) return ours;
  const out: Record<string, number> = Object.create(null) as Record<string, number>;
  for (const [version, score] of Object.entries(upstream)) out[version] = score;
  for (const [version, score] of Object.entries(ours)) out[version] = score;
  return out;
}

export class Joiner {
  readonly options: JoinerOptions;
  /** What the join counted; a processor may swap in a fresh object per batch to count the batch alone. */
  counters: JoinCounters;
  /** Largest event timestamp seen (ms); restored with the state. */
  watermark = Number.NEGATIVE_INFINITY;
  /** The models admitted (past the configured ones); restored with the state. */
  private readonly models: FirstSeen;
  /** Models admitted since the last takeNewModels(), for the changelog. */
  private newModels: string[] = [];
  /** The task of each multiclass or multilabel model met so far (configured ones only: bounded by the config). */
  private readonly tasks = new Map<string, TaskView>();

  constructor(
    private readonly store: JoinStore,
    options: Partial<JoinerOptions> = {},
    counters: JoinCounters = emptyCounters(),
  ) {
    this.options = { ...DEFAULT_JOINER_OPTIONS, ...options };
    this.counters = counters;
    this.models = new FirstSeen(this.options.maxModels);
  }

  /** Puts back a model admitted before a restart (from the changelog). */
  restoreModel(model: string): void {
    this.models.add(model);
  }

  /** The models admitted since the last call (each once), to be recorded with the batch. */
  takeNewModels(): string[] {
    const out = this.newModels;
    this.newModels = [];
    return out;
  }

  onPrediction(prediction: Prediction): JoinOutput[] {
    const id = prediction.prediction_id;
    // Refused before event time moves: a record that is dead-lettered must not expire what others wait for
    // (and a refused model leaves the join as if it never came).
    const problem =
      this.implausibleTime(prediction.timestamp) ?? this.refusedModel(prediction.model) ?? this.outOfRange(prediction) ??
      predictionClassProblem(prediction, this.options.kindOf(prediction.model), this.taskOf(prediction.model).classes) ?? this.reused(prediction);
    if (problem) return this.reject([], { kind: 'rejected', input: 'prediction', prediction_id: id, reason: problem, event: prediction });
    const out = this.advance(prediction.timestamp);
    const existing = this.store.get(id);
    if (existing?.prediction) {
      // Still held after the advance, and reused() found it equal: an exact duplicate.
      this.counters.duplicates++;
      return out;
    }
    this.counters.predictions++;
    this.model(prediction.model).predictions++;
    const entry: JoinEntry = {
      prediction,
      shadow_scores: withUpstream(prediction.shadow_scores, this.options.shadowScorer.score(prediction)),
      early: [],
      resolved: null,
      seq: 0,
      seen: existing?.seen ?? [],
      expires_at: prediction.timestamp + this.options.joinWindowMs,
    };
    if (this.options.emitArrivals) out.push({ kind: 'arrival', example: this.arrivalOf(prediction, entry.shadow_scores) });
    // Feedback that came first is applied now, in the order of its timestamps.
    const early = [...(existing?.early ?? [])].sort((a, b) => a.timestamp - b.timestamp);
    for (const feedback of early) for (const output of this.apply(id, entry, feedback)) out.push(output);
    if (entry.expires_at <= this.watermark) {
      // Arrived after its own window (a late replay): joined with what was waiting, then expired.
      if (existing) this.store.delete(id);
      for (const output of this.expire(id, entry)) out.push(output);
      return out;
    }
    this.store.set(id, entry);
    this.store.addExpiry(entry.expires_at, id);
    return out;
  }

  onFeedback(feedback: Feedback): JoinOutput[] {
    const id = feedback.prediction_id;
    const implausible = this.implausibleTime(feedback.timestamp);
    if (implausible) return this.reject([], { kind: 'rejected', input: 'feedback', prediction_id: id, reason: implausible, event: feedback });
    const out = this.advance(feedback.timestamp);
    this.counters.feedback++;
    const hash = feedbackHash(feedback);
    const entry = this.store.get(id);
    if (!entry) {
      const waiting: JoinEntry = {
        prediction: null,
        shadow_scores: {},
        early: [feedback],
        resolved: null,
        seq: 0,
        seen: [hash],
        expires_at: feedback.timestamp + this.options.earlyFeedbackTtlMs,
      };
      this.store.set(id, waiting);
      this.store.addExpiry(waiting.expires_at, id);
      return out;
    }
    if (entry.seen.includes(hash)) {
      this.counters.duplicates++;
      return out;
    }
    entry.seen.push(hash);
    if (entry.prediction === null) entry.early.push(feedback);
    else for (const output of this.apply(id, entry, feedback)) out.push(output);
    this.store.set(id, entry);
    return out;
  }

  /** Moves the watermark to `eventTime` (never back) and expires what fell out of its window. */
  advance(eventTime: number): JoinOutput[] {
    if (eventTime <= this.watermark) return [];
    this.watermark = eventTime;
    const out: JoinOutput[] = [];
    for (const { at, id } of this.store.takeExpired(eventTime)) {
      const entry = this.store.get(id);
      if (!entry || entry.expires_at !== at) continue; // stale index item
      this.store.delete(id);
      // One by one: an entry's early feedback has no bound, and a spread into push() overflows the stack past ~120k items.
      for (const output of this.expire(id, entry)) out.push(output);
    }
    return out;
  }

  /** Why a binary model's score or threshold is out of range, or undefined. */
  private outOfRange(prediction: Prediction): string | undefined {
    if (this.options.kindOf(prediction.model) !== 'binary') return undefined;
    if (prediction.score < 0 || prediction.score > 1) {
      return `score ${prediction.score} is out of range for binary model ${prediction.model} (expected a probability in [0, 1])`;
    }
    if (prediction.threshold < 0 || prediction.threshold > 1) {
      return `threshold ${prediction.threshold} is out of range for binary model ${prediction.model} (expected [0, 1])`;
    }
    return undefined;
  }

  /** Why the id is taken: a different prediction under it that advancing to this one's time would not expire; or undefined. */
  private reused(prediction: Prediction): string | undefined {
    const existing = this.store.get(prediction.prediction_id);
    if (!existing?.prediction || existing.expires_at <= Math.max(this.watermark, prediction.timestamp)) return undefined;
    if (samePrediction(existing.prediction, prediction)) return undefined;
    return `prediction_id ${prediction.prediction_id} was already used by a different prediction`;
  }

  /** Why an event's timestamp is not accepted (before the floor, too far ahead of the clock), or undefined. */
  private implausibleTime(timestamp: number): string | undefined {
    return timeProblem('timestamp', timestamp, this.options.timeBounds, this.options.eventClock());
  }

  /** Why a prediction of `model` is not admitted (past maxModels), or undefined; admits it when there is room. */
  private refusedModel(model: string): string | undefined {
    if (this.options.configuredModel(model) || this.models.has(model)) return undefined;
    if (this.models.admit(model)) {
      this.newModels.push(model);
      return undefined;
    }
    this.counters.models_refused++;
    const max = this.options.maxModels;
    return `model ${JSON.stringify(model)} is not admitted: this joiner partition already admitted ${max} other models, limits.max_models (${max}; models configured under models.<name> are always admitted)`;
  }

  private model(name: string) {
    return modelCounters(this.counters.byModel, name);
  }

  /** The task of a model: its kind, and for multiclass and multilabel its class list (kept per model) and numeric head. */
  private taskOf(model: string): TaskView {
    const kind = this.options.kindOf(model);
    if (kind !== 'multiclass' && kind !== 'multilabel') return WITHOUT_CLASSES[kind];
    let task = this.tasks.get(model);
    if (!task) {
      task = { kind, classes: new ClassList(model, kind, this.options.classesOf(model)), numericTarget: kind === 'multiclass' ? this.options.numericTargetOf(model) : null };
      this.tasks.set(model, task);
    }
    return task;
  }

  private reject(out: JoinOutput[], rejection: Extract<JoinOutput, { kind: 'rejected' }>): JoinOutput[] {
    this.counters.rejected++;
    out.push(rejection);
    return out;
  }

  /** Applies one feedback to an entry that has its prediction. */
  private apply(id: string, entry: JoinEntry, feedback: Feedback): JoinOutput[] {
    const prediction = entry.prediction!;
    if (feedback.uncertain) {
      this.counters.uncertain++;
      return [];
    }
    const resolution = outcomeFrom(feedback, prediction, this.taskOf(prediction.model));
    if ('reason' in resolution) {
      return this.reject([], { kind: 'rejected', input: 'feedback', prediction_id: id, reason: resolution.reason, event: feedback });
    }
    const outcome = resolution.outcome;
    const trust = TRUST[feedback.feedback_type];
    const current = entry.resolved;
    if (current && !outranks(trust, feedback.timestamp, current)) {
      this.counters.superseded++;
      return [];
    }
    if (current && sameOutcome(current, outcome)) {
      // Same label from a more trusted (or later) source: it now stands behind the example.
      const emitted = current.emitted ?? { feedback_type: current.feedback_type, source: current.source, feedback_timestamp: current.feedback_timestamp };
      entry.resolved = { ...current, trust, feedback_type: feedback.feedback_type, feedback_timestamp: feedback.timestamp, source: feedback.source, emitted };
      this.counters.confirmations++;
      return [];
    }
    entry.seq++;
    entry.resolved = {
      label: outcome.label,
      label_class: outcome.label_class,
      rejected_class: outcome.rejected_class,
      labels: outcome.labels,
      trust,
      feedback_type: feedback.feedback_type,
      feedback_timestamp: feedback.timestamp,
      source: feedback.source,
      example_id: exampleId(id, entry.seq),
    };
    if (current) {
      this.counters.corrections++;
      this.model(prediction.model).corrections++;
    } else {
      this.counters.labelled++;
      this.model(prediction.model).labelled++;
    }
    return [{ kind: 'example', example: this.example(entry, current) }];
  }

  private expire(id: string, entry: JoinEntry): JoinOutput[] {
    if (entry.prediction === null) {
      this.counters.unmatched += entry.early.length;
      const reason = `no prediction ${id} arrived within ${formatDuration(this.options.earlyFeedbackTtlMs)} of the feedback (unknown id, or its prediction already expired)`;
      return entry.early.map((feedback) => ({ kind: 'unmatched' as const, feedback, reason }));
    }
    const model = this.model(entry.prediction.model);
    if (entry.resolved) {
      this.counters.expired_labelled++;
      model.expired_labelled++;
      return [];
    }
    this.counters.expired_unlabelled++;
    model.expired_unlabelled++;
    if (!this.options.emitUnlabelled) return [];
    entry.seq++;
    return [{ kind: 'example', example: this.example(entry, null) }];
  }

  /** The example of the entry's label in force; a correction of `replaced` when given. */
  private example(entry: JoinEntry, replaced: ResolvedLabel | null): LabelledExample {
    const p = entry.prediction!;
    const r = entry.resolved;
    return exampleOf(p, this.decision(p), r ? r.example_id : exampleId(p.prediction_id, entry.seq), entry.shadow_scores, r, replaced, false);
  }

  /** The arrival record of an accepted prediction: the prediction with its shadow scores, no label. */
  private arrivalOf(p: Prediction, shadowScores: Record<string, number>): LabelledExample {
    return exampleOf(p, this.decision(p), arrivalExampleId(p.prediction_id), shadowScores, null, null, true);
  }

  /** What a prediction decided, resolved: its class (multiclass) or labels (multilabel); null for the others. */
  private decision(p: Prediction): Decision {
    const classes = this.taskOf(p.model).classes;
    if (classes === null) return { predicted_class: null, predicted_labels: null };
    return classes.kind === 'multiclass' ? { predicted_class: decidedClass(p, classes), predicted_labels: null } : { predicted_class: null, predicted_labels: decidedLabels(p, classes) };
  }
}

/** The task of a binary or regression model: no classes (one object each, not one per event). */
const WITHOUT_CLASSES: Record<'binary' | 'regression', TaskView> = {
  binary: { kind: 'binary', classes: null, numericTarget: null },
  regression: { kind: 'regression', classes: null, numericTarget: null },
};

/** The resolved decision a labelled example carries. */
type Decision = Pick<LabelledExample, 'predicted_class' | 'predicted_labels'>;

/** A labelled example of `p`: label `r` (none: null label fields), a correction of `replaced` when given. */
function exampleOf(p: Prediction, decision: Decision, id: string, shadowScores: Record<string, number>, r: ResolvedLabel | null, replaced: ResolvedLabel | null, arrival: boolean): LabelledExample {
  return {
    example_id: id,
    prediction_id: p.prediction_id,
    model: p.model,
    model_version: p.model_version,
    timestamp: p.timestamp,
    features: p.features,
    categorical: p.categorical,
    segments: p.segments,
    score: p.score,
    threshold: p.threshold,
    label: r ? r.label : null,
    feedback_type: r ? r.feedback_type : null,
    source: r ? r.source : null,
    feedback_timestamp: r ? r.feedback_timestamp : null,
    label_delay_ms: r ? r.feedback_timestamp - p.timestamp : null,
    correction_of: replaced ? replaced.example_id : null,
    shadow_scores: shadowScores,
    replaces: replaced ? replacedLabelOf(replaced) : null,
    arrival,
    class_scores: p.class_scores,
    predicted_class: decision.predicted_class,
    label_class: r ? r.label_class : null,
    rejected_class: r ? r.rejected_class : null,
    predicted_labels: decision.predicted_labels,
    labels: r ? r.labels : null,
  };
}

/** What the example carrying `resolved` was counted with downstream. */
function replacedLabelOf(resolved: ResolvedLabel): ReplacedLabel {
  const emitted = resolved.emitted ?? resolved;
  return {
    label: resolved.label, feedback_type: emitted.feedback_type, source: emitted.source, feedback_timestamp: emitted.feedback_timestamp,
    label_class: resolved.label_class, rejected_class: resolved.rejected_class, labels: resolved.labels,
  };
}
