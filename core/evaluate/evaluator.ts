/**
 * The evaluator (pure core): labelled examples in, figures out.
 *
 * For every model it keeps metric cells per role, version and segment:
 *  - role `champion`: the score in the prediction, under its model_version;
 *  - role `challenger` / `previous`: each shadow score (see shadowRole), under
 *    the challenger's name (the snapshot version without its `@n` suffix, so
 *    a learning challenger is followed across its snapshots);
 *  - segment `*` (every example) and `attr=value` for each segments attribute.
 * Each cell has the windows `total`, tumbling windows by the *prediction's*
 * timestamp (e.g. 1h, 1d) and a sliding count window (`last_1000`) in
 * label-arrival order.
 *
 * Multi-class and multi-label models (issue 16): each window holds a
 * ClassMetric (class-metric.ts) fed with every role's probabilities and
 * decision (class-scores.ts: the champion's class_scores, each shadow
 * version's `<key>#<i>` entries) against the true class, rejection or label
 * set; a multi-class champion's numeric head as regression figures beside.
 *
 * Corrections: an example with `correction_of` retracts the example it
 * names (its contribution is reverted from every window that still holds
 * it; what to revert is in the correction's `replaces`, so no example is
 * remembered) and is then counted as the new label. Expired, unlabelled examples
 * (label null) count toward label coverage and input drift only.
 *
 * Arrival records (options.arrivals, joiner.emit_arrivals): the joiner's
 * record of each prediction at prediction time (`arrival: true`, no label).
 * Its event time is its timestamp; it counts `predictions` in every window
 * of every cell it scores, and for a binary model the estimate sums (CBPE,
 * core/metrics/estimate.ts, with the trust check of trust.ts); input and
 * score drift are then observed on the arrivals (every prediction, in
 * prediction order) instead of on the labelled and expired examples. With
 * options.arrivals off, arrival records are skipped.
 *
 * Determinism: every figure is a function of the sequence of examples
 * alone, never of how it was cut into batches, so a restarted evaluator
 * that re-reads its input writes exactly the figures an uninterrupted one
 * does. A tumbling window closes (is never updated again) once the model's
 * event time passed its end by the join window plus a grace period; an
 * example for a closed window is counted as late, and its window is left
 * alone. Sliding-window and drift figures are emitted every N examples of
 * their stream, not per batch.
 *
 * Output (drain): the points of every window touched since the last drain
 * (the latest value of each: a consumer keeps the last one per key), drift
 * records, feedback statistics and chart rows (charts.ts: a binary model's
 * total-window curves and confusion matrix when the window was touched, each
 * input feature's histograms at each drift window's end; a multi-class
 * model's total confusion matrix).
 */
import { isLabelled, type LabelFields } from '../contracts/labelled.js';
import type { LabelledExample } from '../events.js';
import { EstimateSums } from '../metrics/estimate.js';
import { sortedKeys } from '../sorted-keys.js';
import { shadowRole, type Observation, type WindowStats } from './cells.js';
import { isClassTask, type ModelTask } from './class-metric.js';
import { classObservation, classScored, classTruthOf, type ClassScored } from './class-scores.js';
import { replacedBy, type Replaced, type RoleObservation } from './corrections.js';
import { fairnessPoints, noteFairness, type FairnessWindow } from './fairness.js';
import { dayOf } from './feedback.js';
import { healthOf, liveFigures, type LiveFigures, type ModelHealth } from './live.js';
import { feedMaturedWindows } from './matured-windows.js';
import type { Scored } from './model-drift.js';
import { ModelState, type ModelStateState } from './model-state.js';
import { checkSettings, settingsOf } from './settings.js';
import { resolveOptions, type EvaluatorOptions } from './options.js';
import { rollingPoints, windowPoints } from './points.js';
import { windowCharts } from './charts.js';
import type { ChartRow, DriftRecord, FeedbackStat, MetricPoint } from './rows.js';
import { eachWindow, horizonOf, slide, startsOf } from './windows.js';
import { windowPartialRow, type WindowPartialRow } from './window-partial.js';

/**
 * The scores of an example under the role and version each is counted for:
 * the champion's, then each shadow score by key; a multi-class or
 * multi-label model's with their probabilities and decisions (class-scores.ts).
 */
function scoresOf(example: LabelledExample, task: ModelTask): Scored[] {
  if (isClassTask(task)) return classScored(example, task);
  const scored: Scored[] = [{ role: 'champion', version: example.model_version, score: example.score }];
  for (const key of sortedKeys(example.shadow_scores)) {
    const { role, version } = shadowRole(key);
    scored.push({ role, version, score: example.shadow_scores[key]! });
  }
  return scored;
}

/**
 * The roles' observations of label fields (an example's, or the `replaces`
 * of a correction) at label time `at` under example id `id`; undefined when
 * the fields hold no label the model's task counts (see class-scores.ts for
 * a multi-class rejection, counted only for the roles that decided the
 * rejected class).
 */
function observationsOf(task: ModelTask, threshold: number, scored: Scored[], fields: LabelFields, at: number, id: string): RoleObservation[] | undefined {
  if (!isClassTask(task)) {
    const label = fields.label;
    if (label === null) return undefined;
    return scored.map(({ role, version, score }) => ({ role, version, observation: { label, score, threshold, at, id } }));
  }
  const truth = classTruthOf(task, fields);
  if (!truth) return undefined;
  const head = task.numericTarget !== null && fields.label !== null ? fields.label : Number.NaN;
  const out: RoleObservation[] = [];
  for (const s of scored as ClassScored[]) {
    const cls = classObservation(s, truth);
    if (cls) out.push({ role: s.role, version: s.version, observation: { label: s.role === 'champion' ? head : Number.NaN, score: s.score, threshold, at, id, cls } });
  }
  return out;
}

export interface EvaluatorOutput {
  points: MetricPoint[];
  drift: DriftRecord[];
  feedback: FeedbackStat[];
  charts: ChartRow[];
}

/** An Evaluator's state (see Evaluator.toState): each model's, in the order the models came. */
export interface EvaluatorState {
  /** The settings it was made under (settings.ts): a restore under others is refused. */
  settings: Array<[string, string]>;
  models: Array<[string, ModelStateState]>;
}

export class Evaluator {
  readonly options: EvaluatorOptions;
  private readonly models = new Map<string, ModelState>();
  /** Rows produced as a stream goes (sliding windows, drift), waiting for drain. */
  private pendingPoints: MetricPoint[] = [];
  private pendingDrift: DriftRecord[] = [];
  private pendingCharts: ChartRow[] = [];
  /** Set while restore() applies an example: no sliding-window figures are computed. */
  private quiet = false;

  constructor(options: Partial<EvaluatorOptions> = {}) {
    this.options = resolveOptions(options);
  }

  private get horizon(): number {
    return horizonOf(this.options);
  }

  private state(model: string): ModelState {
    let state = this.models.get(model);
    if (!state) this.models.set(model, (state = new ModelState(model, this.options.kindOf(model), this.options)));
    return state;
  }

  /** Applies one labelled example (or correction, or expired unlabelled prediction, or arrival record). */
  onExample(example: LabelledExample): void {
    if (example.arrival) {
      if (this.options.arrivals) this.onArrival(this.state(example.model), example);
      return; // not told the input has arrivals: they are skipped, all stays as without them
    }
    const state = this.state(example.model);
    const eventTime = example.feedback_timestamp ?? example.timestamp + this.options.joinWindowMs;
    const before = state.watermark;
    state.watermark = Math.max(state.watermark, eventTime);
    state.mature();
    state.n++;
    // Error detectors in `matured` order: the windows whose labels are all in now (matured-windows.ts).
    feedMaturedWindows(this.options, state, before, this.pendingDrift);
    const starts = startsOf(this.options, state.watermark, example.timestamp);
    if (starts.includes(-1)) state.late++;
    const segments = state.segmentsOf(example.segments);

    const at = eventTime;
    const scored = scoresOf(example, state.task);
    // Input and score distributions: once per prediction (a correction has the same inputs); on the arrivals when there are.
    if (example.correction_of === null && !this.options.arrivals) state.drift.observeDistributions(example, scored, at, state.n, this.options.drift, this.pendingDrift, this.pendingCharts);

    // isLabelled (core/contracts/labelled.ts): for binary and regression, `label` is set; multi-class a class or rejection; multi-label the set.
    if (!isLabelled(example, state.kind)) return this.countExpired(state, example, segments, starts);
    const observations = observationsOf(state.task, example.threshold, scored, example, at, example.example_id);
    // A label naming no configured class (the classes changed since the joiner took it) is not counted.
    if (observations) this.countLabel(state, example, observations, segments, starts, scored, at);
  }

  /**
   * An arrival record (a prediction as it was made; its event time is its
   * timestamp): input and score distributions, and in every window of every
   * cell it scores the prediction and (binary) its estimate sums.
   */
  private onArrival(state: ModelState, example: LabelledExample): void {
    state.watermark = Math.max(state.watermark, example.timestamp);
    state.mature();
    state.arrivals++;
    const starts = startsOf(this.options, state.watermark, example.timestamp);
    if (starts.includes(-1)) state.late++;
    const segments = state.segmentsOf(example.segments);
    const scored = scoresOf(example, state.task);
    state.drift.observeDistributions(example, scored, example.timestamp, state.arrivals, this.options.drift, this.pendingDrift, this.pendingCharts);
    const bins = state.kind === 'binary' ? this.options.estimate.bins : 0;
    for (const { role, version, score } of scored) {
      for (const segment of segments) {
        eachWindow(this.options, state.cell(role, version, segment), starts, (stats) => {
          stats.predictions++;
          if (bins > 0) (stats.estimate ??= new EstimateSums(bins)).add(score, example.threshold);
          stats.lastTimestamp = Math.max(stats.lastTimestamp, example.timestamp);
          state.touch(stats);
        });
      }
    }
  }

  /** An expired, unlabelled prediction: label coverage of the champion's windows only. */
  private countExpired(state: ModelState, example: LabelledExample, segments: readonly string[], starts: number[]): void {
    for (const segment of segments) {
      const cell = state.cell('champion', example.model_version, segment);
      eachWindow(this.options, cell, starts, (stats) => {
        stats.expired++;
        stats.lastTimestamp = Math.max(stats.lastTimestamp, example.timestamp);
        state.touch(stats);
      });
    }
  }

  /** A label (or a correction, which first retracts the example it names) in every window of every role's cells. */
  private countLabel(state: ModelState, example: LabelledExample, observations: RoleObservation[], segments: readonly string[], starts: number[], scored: Scored[], at: number): void {
    let old: Replaced | undefined;
    if (example.correction_of !== null) {
      const observe = (fields: LabelFields, when: number, id: string) => observationsOf(state.task, example.threshold, scored, fields, when, id);
      old = replacedBy(example, segments, observe, state.watermark, this.horizon);
      if (old && !this.retract(state, old)) old = undefined;
      if (!old) state.orphanCorrections++;
    }

    const first = example.correction_of === null;
    for (const { role, version, observation } of observations) {
      for (const segment of segments) {
        const cell = state.cell(role, version, segment);
        eachWindow(this.options, cell, starts, (stats) => {
          stats.metric.update(observation);
          if (first && stats.delay) {
            stats.labelled++;
            if (example.label_delay_ms !== null) stats.delay.update(Math.max(0, example.label_delay_ms));
          }
          stats.lastTimestamp = Math.max(stats.lastTimestamp, example.timestamp);
          state.touch(stats);
        });
        if (cell.rolling && slide(this.options, cell, observation) && !this.quiet) for (const p of rollingPoints(state.model, cell)) this.pendingPoints.push(p);
      }
      state.drift.detect(role, version, observation, example, at, state.n, this.options.drift, this.pendingDrift);
    }

    const feedbackDay = dayOf(at);
    const feedbackType = example.feedback_type ?? '';
    const source = example.source ?? '';
    state.feedback.count(feedbackDay, feedbackType, source, old);
  }

  /**
   * Reverts a counted example from every window that still holds it; false
   * (nothing reverted) when some window cannot hold it: it was never counted
   * here (a correction no joiner would write), and reverting would drive
   * counts negative.
   */
  private retract(state: ModelState, old: Replaced): boolean {
    const targets: Array<{ stats: WindowStats; observation: Observation }> = [];
    const starts = startsOf(this.options, state.watermark, old.timestamp);
    for (const { role, version, observation } of old.observations) {
      for (const segment of old.segments) {
        eachWindow(this.options, state.cell(role, version, segment), starts, (stats) => targets.push({ stats, observation }));
      }
    }
    for (const { stats, observation } of targets) if (!stats.metric.holds(observation)) return false;
    for (const { stats, observation } of targets) {
      stats.metric.revert(observation);
      state.touch(stats);
    }
    for (const { role, version, observation } of old.observations) {
      for (const segment of old.segments) state.cell(role, version, segment).rolling?.revertKey(observation.id);
    }
    return true;
  }

  /**
   * The figures changed since the last drain: the current points of every
   * touched window, fairness gaps where a segment window changed, sliding
   * window points and drift records produced meanwhile, and the touched
   * feedback statistics. Then frees closed windows and forgotten examples.
   */
  drain(): EvaluatorOutput {
    const points = this.pendingPoints;
    const drift = this.pendingDrift;
    const charts = this.pendingCharts;
    this.pendingPoints = [];
    this.pendingDrift = [];
    this.pendingCharts = [];
    const feedback: FeedbackStat[] = [];
    for (const state of this.models.values()) {
      const fairness = new Map<string, FairnessWindow>();
      for (const stats of state.dirty) {
        stats.dirty = false;
        for (const p of windowPoints(this.options, state.model, stats)) points.push(p);
        for (const c of windowCharts(state.model, stats)) charts.push(c);
        noteFairness(this.options, stats, fairness);
      }
      state.dirty.length = 0;
      for (const f of fairness.values()) for (const p of fairnessPoints(this.options, state, f)) points.push(p);
      state.feedback.drain(feedback);
      state.forget(this.horizon);
    }
    return { points, drift, feedback, charts };
  }

  /**
   * The partials (window-partial.ts) of every model's `total`
   * and tumbling windows changed since the last drain: what one shard of a model's
   * examples hands to a merge. Call before drain(), which clears the marks;
   * it changes nothing. The last row of a window is its final one: a window
   * closes without a change after it.
   */
  partials(): WindowPartialRow[] {
    const out: WindowPartialRow[] = [];
    for (const state of this.models.values()) {
      for (const stats of state.dirty) {
        const row = windowPartialRow(this.options, state.model, stats);
        if (row) out.push(row);
      }
    }
    return out;
  }

  /**
   * The partials of every cell's `total` window, changed or not: what
   * a shard holds so far (the gauges of a shard rebuilt from its checkpoint
   * and input, whose re-read marked nothing as changed). Changes nothing.
   */
  totalPartials(): WindowPartialRow[] {
    const out: WindowPartialRow[] = [];
    for (const state of this.models.values()) {
      for (const cell of state.cells.values()) {
        const row = windowPartialRow(this.options, state.model, cell.total);
        if (row) out.push(row);
      }
    }
    return out;
  }

  /**
   * Applies an example whose figures were written before (a processor rebuilding its state):
   * the state ends as onExample() leaves it, but the sliding windows' figures are not computed.
   * Follow with discard(), not drain(): what is pending is incomplete.
   */
  restore(example: LabelledExample): void {
    this.quiet = true;
    try {
      this.onExample(example);
    } finally {
      this.quiet = false;
    }
  }

  /** drain() without computing its output: the same state after it (changes marked as written, closed windows freed). */
  discard(): void {
    this.pendingPoints = [];
    this.pendingDrift = [];
    this.pendingCharts = [];
    for (const state of this.models.values()) {
      for (const stats of state.dirty) stats.dirty = false;
      state.dirty.length = 0;
      state.feedback.discard();
      state.forget(this.horizon);
    }
  }

  /** End of a finite input (replay): the sliding windows' last figures too, then drain. */
  finish(): EvaluatorOutput {
    for (const state of this.models.values()) {
      for (const cell of state.cells.values()) {
        if (cell.rolling && cell.sinceEmit > 0) {
          cell.sinceEmit = 0;
          for (const p of rollingPoints(state.model, cell)) this.pendingPoints.push(p);
        }
      }
    }
    return this.drain();
  }

  health(): Record<string, ModelHealth> {
    const out: Record<string, ModelHealth> = Object.create(null); // keyed by model name: `__proto__` is an entry like any other
    for (const [model, state] of this.models) out[model] = healthOf(state);
    return out;
  }

  /** Live figures of the `total` and sliding windows (for Prometheus gauges). */
  *live(includeSegments: boolean): Generator<LiveFigures> {
    yield* liveFigures(this.options, this.models.values(), includeSegments);
  }

  /**
   * The state of every model, as plain data (a checkpoint); only right after
   * drain() or discard(): throws while output is pending.
   */
  toState(): EvaluatorState {
    if (this.pendingPoints.length > 0 || this.pendingDrift.length > 0 || this.pendingCharts.length > 0) throw new Error('Evaluator.toState: output is pending: drain (or discard) first');
    const models: EvaluatorState['models'] = [];
    for (const [model, state] of this.models) models.push([model, state.toState()]);
    return { settings: settingsOf(this.options), models };
  }

  /** An evaluator restored from a state under these options; throws a StateMismatchError where the state does not fit them. */
  static fromState(state: EvaluatorState, options: Partial<EvaluatorOptions> = {}): Evaluator {
    const evaluator = new Evaluator(options);
    const o = evaluator.options;
    checkSettings(state.settings, o);
    for (const [model, s] of state.models) evaluator.models.set(model, ModelState.fromState(s, model, o.kindOf(model), o));
    return evaluator;
  }
}
