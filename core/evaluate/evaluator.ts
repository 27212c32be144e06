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
 * Corrections: an example with `correction_of` retracts the example it
 * names (its contribution is reverted from every window that still holds
 * it) and is then counted as the new label. Expired, unlabelled examples
 * (label null) count toward label coverage and input drift only.
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
 * records and feedback statistics.
 */
import { ALL_SEGMENTS, fairnessGapKey, parseSegmentKey, parseShadowKey, segmentKey, versionIdentity, type ShadowKey } from '../contracts/index.js';
import { ADWIN, DDM, PageHinkley, type DriftDetector } from '../drift/index.js';
import { binOf, kolmogorovSmirnov, psi, quantileEdges, histogram } from '../drift/index.js';
import { BinaryMetrics, RegressionMetrics, Rolling, type BinaryFigures, type BinaryObservation, type RegressionFigures } from '../metrics/index.js';
import { QuantileSketch } from '../metrics/quantiles.js';
import type { LabelledExample, ModelKind } from '../events.js';
import type { DriftRecord, FeedbackStat, MetricPoint } from './rows.js';

export interface TumblingWindow {
  /** As written in the points' `window` column, e.g. `1h`. */
  name: string;
  ms: number;
}

export interface EvaluatorOptions {
  kindOf: (model: string) => ModelKind;
  /** Tumbling windows by prediction timestamp. Default 1h and 1d. */
  windows: TumblingWindow[];
  /** Size of the sliding count window; 0 = none. Default 1000. */
  rollingSize: number;
  /** A sliding-window point is written every this many updates of its cell. Default 100. */
  rollingEmitEvery: number;
  /** How long a prediction may wait for its label (the joiner's join window). */
  joinWindowMs: number;
  /** Extra time a tumbling window stays open after the join window (late joiner partitions). Default 1 day. */
  graceMs: number;
  /** Figures per value of each segments attribute. Default true. */
  segments: boolean;
  /** Attributes to compute fairness gaps across. Default none. */
  fairnessAttributes: string[];
  calibrationBins: number;
  /** Exact AUC up to this many distinct scores per window, then score histograms (see BinaryMetrics). */
  aucExactLimit: number;
  aucBins: number;
  /** Relative accuracy of the label-delay quantiles. */
  delayAccuracy: number;
  drift: {
    /** The first N examples (per stream) form the reference. 0 = no distribution drift. */
    referenceSize: number;
    /** Compare each following window of N examples with the reference. */
    windowSize: number;
    bins: number;
    psiThreshold: number;
    /** Significance level of the two-sample KS test. */
    ksAlpha: number;
    /** ADWIN, Page-Hinkley and DDM on each model's error stream. */
    detectors: boolean;
  };
}

export const DEFAULT_EVALUATOR_OPTIONS: EvaluatorOptions = {
  kindOf: () => 'binary',
  windows: [
    { name: '1h', ms: 3_600_000 },
    { name: '1d', ms: 86_400_000 },
  ],
  rollingSize: 1000,
  rollingEmitEvery: 100,
  joinWindowMs: 7 * 86_400_000,
  graceMs: 86_400_000,
  segments: true,
  fairnessAttributes: [],
  calibrationBins: 10,
  aucExactLimit: 200,
  aucBins: 1_000,
  delayAccuracy: 0.01,
  drift: { referenceSize: 1000, windowSize: 1000, bins: 10, psiThreshold: 0.2, ksAlpha: 0.01, detectors: true },
};

export const TOTAL = 'total';
/** Role and version of the input-feature drift records (the inputs are no role's). */
const INPUTS = '*';

/** The role and cell version of a shadow score: the previous champion under its version, a challenger under its identity (versionIdentity). */
export function shadowRole(key: string): ShadowKey {
  const parsed = parseShadowKey(key);
  return parsed.role === 'previous' ? parsed : { role: 'challenger', version: versionIdentity(parsed.version) };
}

type Metric = BinaryMetrics | RegressionMetrics;
type Figures = BinaryFigures | RegressionFigures;

/** One window of one cell: the metric, and for the champion role label delay and coverage. */
class WindowStats {
  labelled = 0;
  expired = 0;
  /** Largest prediction timestamp counted (the `total` window's end). */
  lastTimestamp = Number.NEGATIVE_INFINITY;
  /** Changed since the last drain (then it is in ModelState.dirty). */
  dirty = false;

  constructor(
    readonly cell: Cell,
    readonly window: string,
    readonly start: number,
    readonly metric: Metric,
    readonly delay: QuantileSketch | undefined,
  ) {}
}

interface Observation extends BinaryObservation {
  /** Label time (event time of the feedback). */
  at: number;
}

class Cell {
  readonly total: WindowStats;
  /** Per tumbling window (in options order): start -> stats. */
  readonly tumbling: Array<Map<number, WindowStats>>;
  readonly rolling: Rolling<Observation, Figures> | undefined;
  sinceEmit = 0;

  constructor(
    readonly role: string,
    readonly version: string,
    readonly segment: string,
    private readonly make: (cell: Cell, window: string, start: number) => WindowStats,
    windows: number,
    rolling: Rolling<Observation, Figures> | undefined,
  ) {
    this.total = make(this, TOTAL, 0);
    this.tumbling = Array.from({ length: windows }, () => new Map());
    this.rolling = rolling;
  }

  window(index: number, name: string, start: number): WindowStats {
    const byStart = this.tumbling[index]!;
    let stats = byStart.get(start);
    if (!stats) byStart.set(start, (stats = this.make(this, name, start)));
    return stats;
  }
}

/** What is remembered of a counted example, to revert it when corrected. */
interface Counted {
  timestamp: number;
  /** Its segments as segmentsOf() gave them (one shared array per combination). */
  segments: readonly string[];
  label: number;
  feedbackDay: number;
  feedbackType: string;
  source: string;
  observations: Array<{ role: string; version: string; observation: Observation }>;
}

/** PSI and KS of windows of a stream of values against its first N values. */
class DistributionMonitor {
  private reference: number[] = [];
  private edges: number[] | undefined;
  private referenceCounts: number[] | undefined;
  private current: number[] = [];
  private firstTimestamp = Number.POSITIVE_INFINITY;
  private lastTimestamp = Number.NEGATIVE_INFINITY;

  constructor(
    readonly role: string,
    readonly version: string,
    readonly feature: string,
  ) {}

  /** Adds a value; returns the records of a completed window. */
  add(value: number, timestamp: number, at: number, n: number, model: string, o: EvaluatorOptions['drift']): DriftRecord[] {
    if (!this.edges) {
      this.reference.push(value);
      if (this.reference.length === o.referenceSize) {
        this.edges = quantileEdges(this.reference, o.bins);
        this.referenceCounts = histogram(this.edges, this.reference);
      }
      return [];
    }
    this.current.push(value);
    this.firstTimestamp = Math.min(this.firstTimestamp, timestamp);
    this.lastTimestamp = Math.max(this.lastTimestamp, timestamp);
    if (this.current.length < o.windowSize) return [];
    const counts = new Array<number>(this.edges.length + 1).fill(0);
    for (const v of this.current) counts[binOf(this.edges, v)]!++;
    const psiValue = psi(this.referenceCounts!, counts);
    const ks = kolmogorovSmirnov(this.reference, this.current);
    const m = this.reference.length;
    const k = this.current.length;
    // Asymptotic critical value of D at level alpha: c(alpha) * sqrt((m + k) / (m k)).
    const ksCritical = Math.sqrt(-Math.log(o.ksAlpha / 2) / 2) * Math.sqrt((m + k) / (m * k));
    const base = {
      model, model_version: this.version, role: this.role, feature: this.feature,
      window: `last_${o.windowSize}`, window_start: this.firstTimestamp, window_end: this.lastTimestamp, at, n,
    };
    this.current = [];
    this.firstTimestamp = Number.POSITIVE_INFINITY;
    this.lastTimestamp = Number.NEGATIVE_INFINITY;
    return [
      { ...base, statistic: 'psi', value: psiValue, threshold: o.psiThreshold, detected: psiValue !== null && psiValue > o.psiThreshold },
      { ...base, statistic: 'ks', value: ks?.statistic ?? null, threshold: ksCritical, detected: ks !== null && ks.statistic > ksCritical },
    ];
  }
}

/** ADWIN, Page-Hinkley and (binary) DDM on one role's error stream. */
class ErrorDetectors {
  readonly detectors: Array<{ statistic: string; detector: DriftDetector; threshold: number; value: () => number | null }>;

  constructor(kind: ModelKind) {
    const adwin = new ADWIN();
    const pageHinkley = new PageHinkley();
    this.detectors = [
      { statistic: 'adwin', detector: adwin, threshold: adwin.options.delta, value: () => adwin.estimation },
      { statistic: 'page_hinkley', detector: pageHinkley, threshold: pageHinkley.options.threshold, value: () => null },
    ];
    if (kind === 'binary') {
      const ddm = new DDM();
      this.detectors.push({ statistic: 'ddm', detector: ddm, threshold: ddm.options.driftLevel, value: () => null });
    }
  }
}

const DAY_MS = 86_400_000;

type Where = Omit<MetricPoint, 'metric' | 'value' | 'count'>;

/** A point with its fields spelled out (one object shape: cheaper than a spread per figure). */
function point(where: Where, metric: string, value: number | null, count: number): MetricPoint {
  return {
    model: where.model, model_version: where.model_version, role: where.role, segment: where.segment, window: where.window,
    window_start: where.window_start, window_end: where.window_end, metric, value, count,
  };
}
const keyOf = (...parts: Array<string | number>) => parts.join('\u0000');

class ModelState {
  readonly cells = new Map<string, Cell>();
  readonly counted = new Map<string, Counted>();
  readonly monitors = new Map<string, DistributionMonitor>();
  readonly detectors = new Map<string, ErrorDetectors>();
  readonly feedback = new Map<string, FeedbackStat>();
  /** Segment values seen per attribute (for fairness). */
  readonly segmentValues = new Map<string, Set<string>>();
  /** Largest event time seen in this model's stream. */
  watermark = Number.NEGATIVE_INFINITY;
  /** Examples (labelled or not, corrections included) in this model's stream. */
  n = 0;
  late = 0;
  orphanCorrections = 0;
  readonly dirty: WindowStats[] = [];
  readonly dirtyFeedback = new Set<string>();

  constructor(
    readonly model: string,
    readonly kind: ModelKind,
  ) {}
}

export interface EvaluatorOutput {
  points: MetricPoint[];
  drift: DriftRecord[];
  feedback: FeedbackStat[];
}

export interface ModelHealth {
  examples: number;
  late: number;
  orphan_corrections: number;
  open_windows: number;
  remembered_examples: number;
}

export class Evaluator {
  readonly options: EvaluatorOptions;
  private readonly models = new Map<string, ModelState>();
  /** Rows produced as a stream goes (sliding windows, drift), waiting for drain. */
  private pendingPoints: MetricPoint[] = [];
  private pendingDrift: DriftRecord[] = [];
  /** Strings many examples share (versions, feedback types): one copy each. */
  private readonly strings = new Map<string, string>();
  /** Segment lists by their joined text: one array per combination. */
  private readonly segmentLists = new Map<string, readonly string[]>();
  /** Set while restore() applies an example: no sliding-window figures are computed. */
  private quiet = false;

  constructor(options: Partial<EvaluatorOptions> = {}) {
    this.options = { ...DEFAULT_EVALUATOR_OPTIONS, ...options, drift: { ...DEFAULT_EVALUATOR_OPTIONS.drift, ...options.drift } };
  }

  private get horizon(): number {
    return this.options.joinWindowMs + this.options.graceMs;
  }

  private state(model: string): ModelState {
    let state = this.models.get(model);
    if (!state) this.models.set(model, (state = new ModelState(model, this.options.kindOf(model))));
    return state;
  }

  private newMetric(kind: ModelKind, exact: boolean): Metric {
    const o = this.options;
    if (kind === 'regression') return new RegressionMetrics();
    return new BinaryMetrics(o.calibrationBins, exact ? {} : { maxDistinctScores: o.aucExactLimit, scoreBins: o.aucBins });
  }

  private cell(state: ModelState, role: string, version: string, segment: string): Cell {
    const key = keyOf(role, version, segment);
    let cell = state.cells.get(key);
    if (!cell) {
      const champion = role === 'champion';
      const o = this.options;
      const rolling = o.rollingSize > 0 ? new Rolling<Observation, Figures>(this.newMetric(state.kind, true), o.rollingSize) : undefined;
      const make = (owner: Cell, window: string, start: number) =>
        new WindowStats(owner, window, start, this.newMetric(state.kind, false), champion ? new QuantileSketch(o.delayAccuracy) : undefined);
      cell = new Cell(role, version, segment, make, o.windows.length, rolling);
      state.cells.set(key, cell);
    }
    return cell;
  }

  private intern(text: string): string {
    const known = this.strings.get(text);
    if (known !== undefined) return known;
    this.strings.set(text, text);
    return text;
  }

  private sharedSegments(list: string[]): readonly string[] {
    const key = list.join('\u0000');
    const known = this.segmentLists.get(key);
    if (known !== undefined) return known;
    this.segmentLists.set(key, list);
    return list;
  }

  private segmentsOf(state: ModelState, segments: Record<string, string>): string[] {
    const out = [ALL_SEGMENTS];
    if (!this.options.segments) return out;
    for (const attr of Object.keys(segments).sort()) {
      const value = segments[attr]!;
      out.push(segmentKey(attr, value));
      let values = state.segmentValues.get(attr);
      if (!values) state.segmentValues.set(attr, (values = new Set()));
      values.add(value);
    }
    return out;
  }

  /**
   * The tumbling windows (index and start) a prediction timestamp belongs to,
   * leaving out closed ones; -1 where closed.
   */
  private startsOf(state: ModelState, timestamp: number): number[] {
    return this.options.windows.map((w) => {
      const start = Math.floor(timestamp / w.ms) * w.ms;
      return start + w.ms + this.horizon < state.watermark ? -1 : start;
    });
  }

  /** Calls fn with each open window of the cell for these starts (total first). */
  private eachWindow(cell: Cell, starts: number[], fn: (stats: WindowStats) => void): void {
    fn(cell.total);
    const windows = this.options.windows;
    for (let i = 0; i < windows.length; i++) {
      const start = starts[i]!;
      if (start >= 0) fn(cell.window(i, windows[i]!.name, start));
    }
  }

  private touch(state: ModelState, stats: WindowStats): void {
    if (stats.dirty) return;
    stats.dirty = true;
    state.dirty.push(stats);
  }


  /** Applies one labelled example (or correction, or expired unlabelled prediction). */
  onExample(example: LabelledExample): void {
    const state = this.state(example.model);
    const eventTime = example.feedback_timestamp ?? example.timestamp + this.options.joinWindowMs;
    state.watermark = Math.max(state.watermark, eventTime);
    state.n++;
    const starts = this.startsOf(state, example.timestamp);
    if (starts.includes(-1)) state.late++;
    const segments = this.sharedSegments(this.segmentsOf(state, example.segments));

    const at = eventTime;
    // Versions interned: an example remembered for corrections holds no strings of its own but its source.
    const scored = [{ role: 'champion', version: this.intern(example.model_version), score: example.score }];
    for (const key of Object.keys(example.shadow_scores).sort()) {
      const { role, version } = shadowRole(key);
      scored.push({ role, version: this.intern(version), score: example.shadow_scores[key]! });
    }
    // Input and score distributions: once per prediction (a correction has the same inputs).
    if (example.correction_of === null) this.observeDistributions(state, example, scored, at);

    if (example.label === null) {
      for (const segment of segments) {
        const cell = this.cell(state, 'champion', example.model_version, segment);
        this.eachWindow(cell, starts, (stats) => {
          stats.expired++;
          stats.lastTimestamp = Math.max(stats.lastTimestamp, example.timestamp);
          this.touch(state, stats);
        });
      }
      return;
    }

    let old: Counted | undefined;
    if (example.correction_of !== null) {
      old = state.counted.get(example.correction_of);
      // Deterministic whether or not it is still in memory: past the horizon it is gone.
      if (old && old.timestamp + this.horizon < state.watermark) old = undefined;
      if (old) {
        this.retract(state, old);
        state.counted.delete(example.correction_of);
      } else {
        state.orphanCorrections++;
      }
    }

    const label = example.label;
    const observations: Counted['observations'] = scored.map(({ role, version, score }) => ({
      role, version, observation: { label, score, threshold: example.threshold, at },
    }));
    const first = example.correction_of === null;
    for (const { role, version, observation } of observations) {
      for (const segment of segments) {
        const cell = this.cell(state, role, version, segment);
        this.eachWindow(cell, starts, (stats) => {
          stats.metric.update(observation);
          if (first && stats.delay) {
            stats.labelled++;
            if (example.label_delay_ms !== null) stats.delay.update(Math.max(0, example.label_delay_ms));
          }
          stats.lastTimestamp = Math.max(stats.lastTimestamp, example.timestamp);
          this.touch(state, stats);
        });
        if (cell.rolling) this.rollingUpdate(state, cell, observation);
      }
      this.detect(state, role, version, observation, example, at);
    }

    const feedbackDay = Math.floor(at / DAY_MS) * DAY_MS;
    const feedbackType = example.feedback_type ?? '';
    const source = example.source ?? '';
    const stat = this.feedbackStat(state, feedbackDay, feedbackType, source);
    if (old) {
      stat.corrections++;
      const overturned = this.feedbackStat(state, old.feedbackDay, old.feedbackType, old.source);
      overturned.overturned++;
      if (feedbackType === 'EXPERT_REVIEW') overturned.overturned_by_expert++;
    } else {
      stat.labels++;
    }
    state.counted.set(example.example_id, { timestamp: example.timestamp, segments, label, feedbackDay, feedbackType: this.intern(feedbackType), source, observations });
  }

  private feedbackStat(state: ModelState, day: number, feedbackType: string, source: string): FeedbackStat {
    const key = keyOf(day, feedbackType, source);
    let stat = state.feedback.get(key);
    if (!stat) {
      stat = { model: state.model, day, feedback_type: feedbackType, source, labels: 0, corrections: 0, overturned: 0, overturned_by_expert: 0 };
      state.feedback.set(key, stat);
    }
    state.dirtyFeedback.add(key);
    return stat;
  }

  /** Reverts a counted example from every window that still holds it. */
  private retract(state: ModelState, old: Counted): void {
    const segments = old.segments;
    for (const { role, version, observation } of old.observations) {
      for (const segment of segments) {
        const cell = this.cell(state, role, version, segment);
        this.eachWindow(cell, this.startsOf(state, old.timestamp), (stats) => {
          stats.metric.revert(observation);
          this.touch(state, stats);
        });
        cell.rolling?.revert(observation);
      }
    }
  }

  private rollingUpdate(state: ModelState, cell: Cell, observation: Observation): void {
    cell.rolling!.update(observation);
    cell.sinceEmit++;
    if (cell.sinceEmit >= this.options.rollingEmitEvery) {
      cell.sinceEmit = 0;
      if (!this.quiet) for (const p of this.rollingPoints(state, cell)) this.pendingPoints.push(p);
    }
  }

  private rollingPoints(state: ModelState, cell: Cell): MetricPoint[] {
    const rolling = cell.rolling!;
    const oldest = rolling.oldest();
    const newest = rolling.newest();
    if (!oldest || !newest) return [];
    const where = {
      model: state.model, model_version: cell.version, role: cell.role, segment: cell.segment,
      window: `last_${rolling.size}`, window_start: oldest.at, window_end: newest.at,
    };
    return this.figurePoints(where, rolling.get(), false);
  }

  private monitor(state: ModelState, role: string, version: string, feature: string): DistributionMonitor {
    const key = keyOf(role, version, feature);
    let monitor = state.monitors.get(key);
    if (!monitor) state.monitors.set(key, (monitor = new DistributionMonitor(role, version, feature)));
    return monitor;
  }

  /** PSI and KS per input feature (role `*`) and per role's score, against each stream's reference. */
  private observeDistributions(state: ModelState, example: LabelledExample, scored: Array<{ role: string; version: string; score: number }>, at: number): void {
    const o = this.options.drift;
    if (o.referenceSize <= 0) return;
    for (const feature of Object.keys(example.features).sort()) {
      for (const d of this.monitor(state, INPUTS, INPUTS, feature).add(example.features[feature]!, example.timestamp, at, state.n, state.model, o)) this.pendingDrift.push(d);
    }
    for (const { role, version, score } of scored) {
      for (const d of this.monitor(state, role, version, 'score').add(score, example.timestamp, at, state.n, state.model, o)) this.pendingDrift.push(d);
    }
  }

  private detect(state: ModelState, role: string, version: string, o: Observation, example: LabelledExample, at: number): void {
    if (!this.options.drift.detectors) return;
    const key = keyOf(role, version);
    let set = state.detectors.get(key);
    if (!set) state.detectors.set(key, (set = new ErrorDetectors(state.kind)));
    const error = state.kind === 'binary' ? Number((o.score >= o.threshold ? 1 : 0) !== o.label) : Math.abs(o.score - o.label);
    for (const d of set.detectors) {
      d.detector.update(error);
      if (!d.detector.driftDetected) continue;
      this.pendingDrift.push({
        model: state.model, model_version: version, role, feature: 'error', statistic: d.statistic,
        value: d.value(), threshold: d.threshold, detected: true, window: 'stream',
        window_start: example.timestamp, window_end: example.timestamp, at, n: state.n,
      });
    }
  }

  private figurePoints(
    where: Where,
    figures: Figures,
    reliability: boolean,
    metric?: Metric,
  ): MetricPoint[] {
    const count = figures.count;
    const out: MetricPoint[] = [];
    for (const [name, value] of Object.entries(figures)) {
      if (typeof value === 'boolean') continue;
      out.push(point(where, name, value, count));
    }
    if (reliability && metric instanceof BinaryMetrics) {
      metric.reliability().forEach((bin, b) => {
        const id = String(b).padStart(2, '0');
        out.push(point(where, `calibration_bin_${id}_mean_score`, bin.mean_score, bin.count));
        out.push(point(where, `calibration_bin_${id}_fraction_positive`, bin.fraction_positive, bin.count));
      });
    }
    return out;
  }

  private windowPoints(state: ModelState, stats: WindowStats): MetricPoint[] {
    const { cell, window, start } = stats;
    const size = this.options.windows.find((w) => w.name === window)?.ms;
    const where = {
      model: state.model, model_version: cell.version, role: cell.role, segment: cell.segment, window,
      window_start: start, window_end: size === undefined ? Math.max(0, stats.lastTimestamp) : start + size,
    };
    const figures = stats.metric.get();
    const out = this.figurePoints(where, figures, window === TOTAL, stats.metric);
    if (stats.delay) {
      const covered = stats.labelled + stats.expired;
      out.push(
        point(where, 'labelled', stats.labelled, covered),
        point(where, 'expired', stats.expired, covered),
        point(where, 'label_coverage', covered === 0 ? null : stats.labelled / covered, covered),
        point(where, 'label_delay_p50', stats.delay.quantile(0.5), stats.delay.count()),
        point(where, 'label_delay_p95', stats.delay.quantile(0.95), stats.delay.count()),
      );
    }
    return out;
  }

  /** Demographic parity and equal-opportunity gaps across the values of an attribute, in one window. */
  private fairnessPoints(state: ModelState, role: string, version: string, window: string, start: number): MetricPoint[] {
    if (state.kind !== 'binary') return [];
    const out: MetricPoint[] = [];
    for (const attr of this.options.fairnessAttributes) {
      const values = state.segmentValues.get(attr);
      if (!values) continue;
      const rates: number[] = [];
      const tprs: number[] = [];
      let smallest = Number.POSITIVE_INFINITY;
      let total = 0;
      let windowEnd = 0;
      for (const value of values) {
        const cell = state.cells.get(keyOf(role, version, segmentKey(attr, value)));
        const index = this.options.windows.findIndex((w) => w.name === window);
        const stats = !cell ? undefined : window === TOTAL ? cell.total : cell.tumbling[index]?.get(start);
        if (!stats) continue;
        const f = (stats.metric as BinaryMetrics).get();
        if (f.count <= 0) continue;
        rates.push((f.tp + f.fp) / f.count);
        if (f.recall !== null) tprs.push(f.recall);
        smallest = Math.min(smallest, f.count);
        total += f.count;
        windowEnd = Math.max(windowEnd, stats.lastTimestamp);
      }
      if (rates.length === 0) continue;
      const size = this.options.windows.find((w) => w.name === window)?.ms;
      const where = {
        model: state.model, model_version: version, role, segment: fairnessGapKey(attr), window,
        window_start: start, window_end: size === undefined ? windowEnd : start + size,
      };
      const gap = (xs: number[]) => (xs.length < 2 ? null : xs.reduce((a, b) => Math.max(a, b)) - xs.reduce((a, b) => Math.min(a, b)));
      out.push(
        point(where, 'demographic_parity_difference', gap(rates), total),
        point(where, 'equal_opportunity_difference', gap(tprs), total),
        point(where, 'smallest_group_count', smallest, total),
        point(where, 'groups', rates.length, total),
      );
    }
    return out;
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
    this.pendingPoints = [];
    this.pendingDrift = [];
    const feedback: FeedbackStat[] = [];
    for (const state of this.models.values()) {
      const fairness = new Map<string, { role: string; version: string; window: string; start: number }>();
      for (const stats of state.dirty) {
        stats.dirty = false;
        const { cell, window, start } = stats;
        for (const p of this.windowPoints(state, stats)) points.push(p);
        const segment = parseSegmentKey(cell.segment);
        const attr = segment !== undefined && segment.kind !== 'all' ? segment.attribute : undefined;
        if (attr !== undefined && this.options.fairnessAttributes.includes(attr)) {
          fairness.set(keyOf(cell.role, cell.version, window, start), { role: cell.role, version: cell.version, window, start });
        }
      }
      state.dirty.length = 0;
      for (const f of fairness.values()) for (const p of this.fairnessPoints(state, f.role, f.version, f.window, f.start)) points.push(p);
      for (const key of state.dirtyFeedback) feedback.push({ ...state.feedback.get(key)! });
      state.dirtyFeedback.clear();
      this.forget(state);
    }
    return { points, drift, feedback };
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
    for (const state of this.models.values()) {
      for (const stats of state.dirty) stats.dirty = false;
      state.dirty.length = 0;
      state.dirtyFeedback.clear();
      this.forget(state);
    }
  }

  /** End of a finite input (replay): the sliding windows' last figures too, then drain. */
  finish(): EvaluatorOutput {
    for (const state of this.models.values()) {
      for (const cell of state.cells.values()) {
        if (cell.rolling && cell.sinceEmit > 0) {
          cell.sinceEmit = 0;
          for (const p of this.rollingPoints(state, cell)) this.pendingPoints.push(p);
        }
      }
    }
    return this.drain();
  }

  /** Frees windows that can no longer change and examples that can no longer be corrected. */
  private forget(state: ModelState): void {
    const limit = state.watermark - this.horizon;
    for (const cell of state.cells.values()) {
      this.options.windows.forEach((w, i) => {
        const byStart = cell.tumbling[i]!;
        for (const start of byStart.keys()) if (start + w.ms < limit) byStart.delete(start);
      });
    }
    for (const [id, counted] of state.counted) if (counted.timestamp < limit) state.counted.delete(id);
    for (const [key, stat] of state.feedback) if (stat.day + 2 * DAY_MS < limit && !state.dirtyFeedback.has(key)) state.feedback.delete(key);
  }

  health(): Record<string, ModelHealth> {
    const out: Record<string, ModelHealth> = Object.create(null); // keyed by model name: `__proto__` is an entry like any other
    for (const [model, state] of this.models) {
      let open = 0;
      for (const cell of state.cells.values()) for (const byStart of cell.tumbling) open += byStart.size;
      out[model] = { examples: state.n, late: state.late, orphan_corrections: state.orphanCorrections, open_windows: open, remembered_examples: state.counted.size };
    }
    return out;
  }

  /** Live figures of the `total` and sliding windows (for Prometheus gauges). */
  *live(includeSegments: boolean): Generator<{ model: string; role: string; version: string; segment: string; window: string; figures: Figures }> {
    for (const state of this.models.values()) {
      for (const cell of state.cells.values()) {
        if (!includeSegments && cell.segment !== ALL_SEGMENTS) continue;
        yield { model: state.model, role: cell.role, version: cell.version, segment: cell.segment, window: TOTAL, figures: cell.total.metric.get() };
        if (cell.rolling && cell.rolling.count() > 0) {
          yield { model: state.model, role: cell.role, version: cell.version, segment: cell.segment, window: `last_${cell.rolling.size}`, figures: cell.rolling.get() };
        }
      }
    }
  }
}
