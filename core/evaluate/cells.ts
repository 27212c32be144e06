/**
 * The evaluator's cells: one per role, version and segment of a model, each
 * with the windows `total`, the open tumbling windows by start and the
 * sliding count window; and the keys they are found by.
 */
import { parseShadowKey, versionIdentity, type ShadowKey } from '../contracts/index.js';
import { StateMismatchError } from '../errors.js';
import {
  BinaryMetrics, RegressionMetrics, Rolling,
  type BinaryFigures, type BinaryMetricsOptions, type BinaryMetricsState, type BinaryObservation, type RegressionFigures, type RegressionMetricsState, type RollingState,
} from '../metrics/index.js';
import { EstimateSums, type EstimateSumsState } from '../metrics/estimate.js';
import { QuantileSketch, type QuantileSketchState } from '../metrics/quantiles.js';
import { ClassMetric, isClassTask, type ClassTask, type ClassCellFigures, type ClassMetricState, type ClassObservation, type ModelTask } from './class-metric.js';
import type { EvaluatorOptions } from './options.js';
import { MaturedCalibration, NO_TRUST, type MaturedWindow, type Trust } from './trust.js';

export const TOTAL = 'total';

/** The role and cell version of a shadow score: the previous champion under its version, a challenger under its identity (versionIdentity). */
export function shadowRole(key: string): ShadowKey {
  const parsed = parseShadowKey(key);
  return parsed.role === 'previous' ? parsed : { role: 'challenger', version: versionIdentity(parsed.version) };
}

export type Metric = BinaryMetrics | RegressionMetrics | ClassMetric;
export type Figures = BinaryFigures | RegressionFigures | ClassCellFigures;
export type MetricState = BinaryMetricsState | RegressionMetricsState | ClassMetricState;

/**
 * A WindowStats' state (never one changed since the last drain): its window,
 * counts, metric, (champion) label delays, and from arrival records the
 * estimate sums (null before any) and the trust of its last update.
 */
export interface WindowStatsState {
  window: string;
  start: number;
  labelled: number;
  expired: number;
  predictions: number;
  lastTimestamp: number;
  metric: MetricState;
  delay: QuantileSketchState | null;
  estimate: EstimateSumsState | null;
  trust: Trust;
}

/**
 * One window of one cell: the metric, for the champion role label delay and
 * coverage, and from arrival records the predictions and (binary) the
 * estimate sums, made at the first arrival (so only windows with arrivals
 * hold their bins).
 */
export class WindowStats {
  labelled = 0;
  expired = 0;
  /** Arrival records counted: the window's predictions. */
  predictions = 0;
  estimate: EstimateSums | undefined = undefined;
  /** The cell's trust (trust.ts) when the window was last updated (ModelState.touch). */
  trust: Trust = NO_TRUST;
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

  toState(): WindowStatsState {
    if (this.dirty) throw new Error(`WindowStats.toState: the ${this.window} window at ${this.start} changed since the last drain: drain (or discard) first`);
    const { window, start, labelled, expired, predictions, lastTimestamp, trust } = this;
    const estimate = this.estimate?.toState() ?? null;
    return { window, start, labelled, expired, predictions, lastTimestamp, metric: this.metric.toState(), delay: this.delay?.toState() ?? null, estimate, trust };
  }

  /** The window of a state in `cell`, its metric and label delays restored under the settings `o` and the model's kind. */
  static fromState(state: WindowStatsState, cell: Cell, o: EvaluatorOptions, task: ModelTask): WindowStats {
    if ((state.delay !== null) !== (cell.role === 'champion')) throw new Error(`WindowStats.fromState: label delays saved for the ${cell.role} role`);
    const delay = state.delay === null ? undefined : QuantileSketch.fromState(state.delay, o.delayAccuracy);
    const stats = new WindowStats(cell, state.window, state.start, restoreMetric(o, task, cell.role, false, state.metric), delay);
    stats.labelled = state.labelled;
    stats.expired = state.expired;
    stats.predictions = state.predictions;
    stats.lastTimestamp = state.lastTimestamp;
    stats.estimate = state.estimate === null ? undefined : EstimateSums.fromState(state.estimate, o.estimate.bins);
    stats.trust = state.trust;
    return stats;
  }
}

/**
 * What a window counts of one label. Binary and regression: label and score.
 * Multi-class and multi-label: the class part `cls`, and in label and score
 * the numeric head's (label NaN when unknown or when there is no head).
 */
export interface Observation extends BinaryObservation {
  cls?: ClassObservation;
  /** Label time (event time of the feedback). */
  at: number;
  /** The example it came from (a correction names it: the sliding window reverts it by this). */
  id: string;
}

/**
 * A Cell's state: its names, the windows `total`, the open tumbling windows
 * (per window in the options' order, in the order they opened) and the
 * sliding window, and the updates since its last sliding-window figures.
 */
export interface CellState {
  role: string;
  version: string;
  segment: string;
  total: WindowStatsState;
  tumbling: WindowStatsState[][];
  rolling: RollingState<Observation, MetricState> | null;
  sinceEmit: number;
  /** The matured windows' calibration of the trust check (null: none kept, see maturedOf). */
  matured: MaturedWindow[] | null;
}

export class Cell {
  readonly total: WindowStats;
  /** Per tumbling window (in options order): start -> stats. */
  readonly tumbling: Array<Map<number, WindowStats>>;
  readonly rolling: Rolling<Observation, Figures, Metric> | undefined;
  sinceEmit = 0;
  /** The trust check's matured windows (binary models with arrivals only). */
  matured: MaturedCalibration | undefined;

  /** `total` makes the window `total` (a new one by `make` unless given: a restored one). */
  constructor(
    readonly role: string,
    readonly version: string,
    readonly segment: string,
    private readonly make: (cell: Cell, window: string, start: number) => WindowStats,
    windows: number,
    rolling: Rolling<Observation, Figures, Metric> | undefined,
    matured: MaturedCalibration | undefined,
    total: (cell: Cell) => WindowStats = (cell) => make(cell, TOTAL, 0),
  ) {
    this.total = total(this);
    this.tumbling = Array.from({ length: windows }, () => new Map());
    this.rolling = rolling;
    this.matured = matured;
  }

  window(index: number, name: string, start: number): WindowStats {
    const byStart = this.tumbling[index]!;
    let stats = byStart.get(start);
    if (!stats) byStart.set(start, (stats = this.make(this, name, start)));
    return stats;
  }

  toState(): CellState {
    const { role, version, segment, sinceEmit } = this;
    const tumbling = this.tumbling.map((byStart) => {
      const windows: WindowStatsState[] = [];
      for (const stats of byStart.values()) windows.push(stats.toState());
      return windows;
    });
    const rolling = this.rolling?.toState((metric) => metric.toState()) ?? null;
    return { role, version, segment, total: this.total.toState(), tumbling, rolling, sinceEmit, matured: this.matured?.toState() ?? null };
  }

  /** The cell of a state, under the options newCell takes; throws a StateMismatchError where the state does not fit them. */
  static fromState(state: CellState, o: EvaluatorOptions, task: ModelTask): Cell {
    checkCellFits(state, o, task);
    const rolling = state.rolling === null ? undefined : Rolling.fromState<Observation, Figures, Metric>(state.rolling, restoreMetric(o, task, state.role, true, state.rolling.metric as MetricState), o.rollingSize, idOf);
    const total = (owner: Cell) => WindowStats.fromState(state.total, owner, o, task);
    const matured = state.matured === null ? undefined : MaturedCalibration.fromState(state.matured, o.estimate.trustWindows, o.calibrationBins);
    const cell = new Cell(state.role, state.version, state.segment, windowMaker(o, task, state.role), o.windows.length, rolling, matured, total);
    state.tumbling.forEach((windows, i) => {
      for (const w of windows) cell.tumbling[i]!.set(w.start, WindowStats.fromState(w, cell, o, task));
    });
    cell.sinceEmit = state.sinceEmit;
    return cell;
  }
}

/** Throws unless the cell's windows are the options' ones: the tumbling windows, the sliding window and its emission. */
function checkCellFits(state: CellState, o: EvaluatorOptions, task: ModelTask): void {
  const names = o.windows.map((w) => w.name).join(', ');
  if (state.tumbling.length !== o.windows.length) throw new StateMismatchError('evaluator.windows', `${state.tumbling.length} tumbling windows saved, ${names} now`);
  for (const [i, windows] of state.tumbling.entries()) {
    for (const w of windows) if (w.window !== o.windows[i]!.name) throw new StateMismatchError('evaluator.windows', `a ${w.window} window saved where ${names} are now`);
  }
  if ((state.rolling !== null) !== (o.rollingSize > 0)) throw new StateMismatchError('evaluator.rolling_size', `${state.rolling === null ? 'no' : 'a'} sliding window saved, rolling_size ${o.rollingSize} now`);
  if ((state.matured !== null) !== keepsMatured(o, task)) throw new StateMismatchError('joiner.emit_arrivals', `${state.matured === null ? 'no' : 'a'} trust check saved`);
  if (state.sinceEmit >= o.rollingEmitEvery && state.rolling !== null) {
    throw new StateMismatchError('evaluator.rolling_emit_every', `${state.sinceEmit} updates since the last figures saved, figures every ${o.rollingEmitEvery} now`);
  }
}

/** A sliding window finds the observation a correction reverts by its example id. */
const idOf = (o: Observation) => o.id;

export const keyOf = (...parts: Array<string | number>) => parts.join('\u0000');
/** keyOf(a, b, c) without the list (the per-example lookups of cells and monitors): the same key. */
export const keyOf3 = (a: string, b: string, c: string): string => a + '\u0000' + b + '\u0000' + c;

/** A new metric of a role's window: exact or bounded (binary); a multi-class numeric head for the champion only (the shadow scores carry no number). */
function newMetric(o: EvaluatorOptions, task: ModelTask, role: string, exact: boolean): Metric {
  if (isClassTask(task)) return new ClassMetric(task, role === 'champion');
  if (task.kind === 'regression') return new RegressionMetrics();
  return new BinaryMetrics(o.calibrationBins, binaryOptions(o, exact));
}

/** The metric of a state, under the settings newMetric gives it. */
function restoreMetric(o: EvaluatorOptions, task: ModelTask, role: string, exact: boolean, state: MetricState): Metric {
  if (state.kind !== task.kind) throw new StateMismatchError('the model task (models.<name>.task)', `${state.kind} metrics saved, the model is ${task.kind} now`);
  if (state.kind === 'multiclass' || state.kind === 'multilabel') return ClassMetric.fromState(state, task as ClassTask, role === 'champion');
  if (state.kind === 'regression') return RegressionMetrics.fromState(state);
  return BinaryMetrics.fromState(state as BinaryMetricsState, o.calibrationBins, binaryOptions(o, exact));
}

function binaryOptions(o: EvaluatorOptions, exact: boolean): BinaryMetricsOptions {
  return exact ? {} : { maxDistinctScores: o.aucExactLimit, scoreBins: o.aucBins };
}

/** How a cell of the role makes its windows: bounded metrics, label delays for the champion. */
function windowMaker(o: EvaluatorOptions, task: ModelTask, role: string): (owner: Cell, window: string, start: number) => WindowStats {
  const champion = role === 'champion';
  return (owner, window, start) => new WindowStats(owner, window, start, newMetric(o, task, role, false), champion ? new QuantileSketch(o.delayAccuracy) : undefined);
}

/** A new cell: exact metrics in its sliding window, bounded ones in the others, label delays for the champion. */
export function newCell(o: EvaluatorOptions, task: ModelTask, role: string, version: string, segment: string): Cell {
  const rolling = o.rollingSize > 0 ? new Rolling<Observation, Figures, Metric>(newMetric(o, task, role, true), o.rollingSize, idOf) : undefined;
  const matured = keepsMatured(o, task) ? new MaturedCalibration(o.estimate.trustWindows) : undefined;
  return new Cell(role, version, segment, windowMaker(o, task, role), o.windows.length, rolling, matured);
}

/** A cell keeps matured windows for the trust check when the model is binary, the input has arrivals and there are tumbling windows. */
function keepsMatured(o: EvaluatorOptions, task: ModelTask): boolean {
  return task.kind === 'binary' && o.arrivals && o.windows.length > 0;
}
