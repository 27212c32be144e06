/**
 * All the evaluator keeps of one model's stream: its cells, drift
 * monitors, feedback statistics, stream position and the windows changed
 * since the last drain. Nothing per example: bounded by cells and open windows.
 */
import { ALL_SEGMENTS, segmentKey } from '../contracts/index.js';
import type { ModelKind } from '../events.js';
import { FirstSeen, OTHER_SEGMENT_VALUE, type FirstSeenState } from '../limits.js';
import { sortedKeys } from '../sorted-keys.js';
import { Cell, keyOf3, newCell, type CellState, type WindowStats } from './cells.js';
import { taskOf, type ModelTask } from './class-metric.js';
import { FeedbackStats, type FeedbackStatsState } from './feedback.js';
import { KeyIndex } from './key-index.js';
import { ModelDrift, type ModelDriftState } from './model-drift.js';
import type { EvaluatorOptions } from './options.js';
import { smallestWindow } from './trust.js';
import { forgetClosedWindows } from './windows.js';

/**
 * A ModelState's state, taken right after a drain (no window changed since):
 * all of it. Maps as lists of entries, in the order they came.
 */
export interface ModelStateState {
  cells: CellState[];
  drift: ModelDriftState;
  feedback: FeedbackStatsState;
  segmentValues: Array<[string, string[]]>;
  attributes: FirstSeenState;
  distinct: Array<[string, FirstSeenState]>;
  pooledSegmentValues: number;
  droppedSegmentAttributes: number;
  watermark: number;
  n: number;
  arrivals: number;
  maturedBefore: number;
  late: number;
  orphanCorrections: number;
}

export class ModelState {
  readonly cells = new Map<string, Cell>();
  /** The same cells by role, version and segment, for the lookups per example. */
  private readonly index = new KeyIndex<Cell>();
  readonly drift: ModelDrift;
  readonly feedback: FeedbackStats;
  /** Segment values seen per attribute (for fairness): at most maxSegmentValues each, plus `other`. */
  readonly segmentValues = new Map<string, Set<string>>();
  /** The attributes segmented (the first maxSegmentAttributes seen). */
  private readonly attributes: FirstSeen;
  /** The values kept apart per attribute (the first maxSegmentValues seen). */
  private readonly distinct = new Map<string, FirstSeen>();
  /** segmentKey(attribute, value) of each value segmented (bounded as the values are): made once, not per example. */
  private readonly segmentKeys = new Map<string, Map<string, string>>();
  /** Examples counted in `<attribute>=other` because their value came past maxSegmentValues (once per attribute). */
  pooledSegmentValues = 0;
  /** Segment attributes of examples not segmented because the attribute came past maxSegmentAttributes. */
  droppedSegmentAttributes = 0;
  /** Largest event time seen in this model's stream. */
  watermark = Number.NEGATIVE_INFINITY;
  /** Examples (labelled or not, corrections included) in this model's stream; arrival records not. */
  n = 0;
  /** Arrival records (predictions) in this model's stream. */
  arrivals = 0;
  /** Every window of the smallest tumbling window that starts before this has matured (the trust check took it). */
  maturedBefore = Number.NEGATIVE_INFINITY;
  late = 0;
  orphanCorrections = 0;
  readonly dirty: WindowStats[] = [];
  /** The model's kind and (multi-class, multi-label) classes and numeric head, from the options. */
  readonly task: ModelTask;

  constructor(
    readonly model: string,
    readonly kind: ModelKind,
    private readonly options: EvaluatorOptions,
  ) {
    this.task = kind === 'binary' || kind === 'regression' ? { kind } : taskOf({ ...options, kindOf: () => kind }, model);
    this.attributes = new FirstSeen(options.maxSegmentAttributes);
    this.drift = new ModelDrift(model, kind);
    this.feedback = new FeedbackStats(model);
  }

  cell(role: string, version: string, segment: string): Cell {
    return this.index.get(role, version, segment) ?? this.add(newCell(this.options, this.task, role, version, segment));
  }

  private add(cell: Cell): Cell {
    this.cells.set(keyOf3(cell.role, cell.version, cell.segment), cell);
    this.index.set(cell.role, cell.version, cell.segment, cell);
    return cell;
  }

  /** Marks a window as changed since the last drain; it keeps its cell's current trust. */
  touch(stats: WindowStats): void {
    if (stats.cell.matured) stats.trust = stats.cell.matured.trust;
    if (stats.dirty) return;
    stats.dirty = true;
    this.dirty.push(stats);
  }

  /**
   * The segments an example counts in (`*`, then `attr=value` by attribute),
   * noting the values seen. Bounded (segment keys come from input): an
   * attribute past maxSegmentAttributes is not segmented, a value past
   * maxSegmentValues of its attribute counts in `attr=other`. The first seen
   * are kept, in the order of the stream, so a rebuild from the same input
   * decides the same.
   */
  segmentsOf(segments: Record<string, string>): string[] {
    const out = [ALL_SEGMENTS];
    if (!this.options.segments) return out;
    for (const attr of sortedKeys(segments)) {
      if (!this.attributes.admit(attr)) {
        this.droppedSegmentAttributes++;
        continue;
      }
      const value = this.boundedValue(attr, segments[attr]!);
      out.push(this.segmentKeyOf(attr, value));
      let values = this.segmentValues.get(attr);
      if (!values) this.segmentValues.set(attr, (values = new Set()));
      values.add(value);
    }
    return out;
  }

  private segmentKeyOf(attr: string, value: string): string {
    let keys = this.segmentKeys.get(attr);
    if (!keys) this.segmentKeys.set(attr, (keys = new Map()));
    let key = keys.get(value);
    if (key === undefined) keys.set(value, (key = segmentKey(attr, value)));
    return key;
  }

  /** The value itself while its attribute has room (or had it when the value came first), else `other` (counted). */
  private boundedValue(attr: string, value: string): string {
    if (value === OTHER_SEGMENT_VALUE) return value; // the pool itself takes no place among the distinct values
    let distinct = this.distinct.get(attr);
    if (!distinct) this.distinct.set(attr, (distinct = new FirstSeen(this.options.maxSegmentValues)));
    if (distinct.admit(value)) return value;
    this.pooledSegmentValues++;
    return OTHER_SEGMENT_VALUE;
  }

  /**
   * Hands the windows of the smallest tumbling window that matured since the
   * last call (the watermark passed their end plus the join window) to their
   * cells' trust checks. Work only when the frontier crosses a window start.
   */
  mature(): void {
    const index = smallestWindow(this.options);
    if (index < 0 || !this.options.arrivals) return;
    const ms = this.options.windows[index]!.ms;
    const before = Math.floor((this.watermark - this.options.joinWindowMs) / ms) * ms;
    if (!(before > this.maturedBefore)) return;
    for (const cell of this.cells.values()) cell.matured?.mature(cell.tumbling[index]!, this.maturedBefore, before);
    this.maturedBefore = before;
  }

  /** Frees windows that can no longer change and feedback statistics no correction can reach. */
  forget(horizon: number): void {
    const limit = this.watermark - horizon;
    forgetClosedWindows(this.options, this.cells.values(), limit);
    this.feedback.forget(limit);
  }

  /** The state; only right after a drain: throws while a window changed since. */
  toState(): ModelStateState {
    if (this.dirty.length > 0) throw new Error(`ModelState.toState: ${this.dirty.length} windows of ${this.model} changed since the last drain: drain (or discard) first`);
    const cells: CellState[] = [];
    for (const cell of this.cells.values()) cells.push(cell.toState());
    const segmentValues: ModelStateState['segmentValues'] = [];
    for (const [attr, values] of this.segmentValues) segmentValues.push([attr, [...values]]);
    const distinct: ModelStateState['distinct'] = [];
    for (const [attr, seen] of this.distinct) distinct.push([attr, seen.toState()]);
    const { pooledSegmentValues, droppedSegmentAttributes, watermark, n, arrivals, maturedBefore, late, orphanCorrections } = this;
    return {
      cells, drift: this.drift.toState(), feedback: this.feedback.toState(), segmentValues, attributes: this.attributes.toState(), distinct,
      pooledSegmentValues, droppedSegmentAttributes, watermark, n, arrivals, maturedBefore, late, orphanCorrections,
    };
  }

  /** The model's state restored under the constructor's settings. */
  static fromState(state: ModelStateState, model: string, kind: ModelKind, options: EvaluatorOptions): ModelState {
    const restored = new ModelState(model, kind, options);
    // The parts the constructor makes, replaced by the restored ones.
    Object.assign(restored, {
      attributes: FirstSeen.fromState(state.attributes, options.maxSegmentAttributes),
      drift: ModelDrift.fromState(state.drift, model, kind, options.drift),
      feedback: FeedbackStats.fromState(state.feedback, model),
    });
    for (const cell of state.cells) restored.add(Cell.fromState(cell, options, restored.task));
    for (const [attr, values] of state.segmentValues) restored.segmentValues.set(attr, new Set(values));
    for (const [attr, seen] of state.distinct) restored.distinct.set(attr, FirstSeen.fromState(seen, options.maxSegmentValues));
    restored.pooledSegmentValues = state.pooledSegmentValues;
    restored.droppedSegmentAttributes = state.droppedSegmentAttributes;
    restored.watermark = state.watermark;
    restored.n = state.n;
    restored.arrivals = state.arrivals;
    restored.maturedBefore = state.maturedBefore;
    restored.late = state.late;
    restored.orphanCorrections = state.orphanCorrections;
    return restored;
  }
}
