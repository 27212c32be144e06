/**
 * All the evaluator keeps of one model's stream: its cells, drift
 * monitors, feedback statistics, stream position and the windows changed
 * since the last drain. Nothing per example: bounded by cells and open windows.
 */
import { ALL_SEGMENTS, segmentKey } from '../contracts/index.js';
import type { ModelKind } from '../events.js';
import { FirstSeen, OTHER_SEGMENT_VALUE } from '../limits.js';
import { keyOf, newCell, type Cell, type WindowStats } from './cells.js';
import { FeedbackStats } from './feedback.js';
import { ModelDrift } from './model-drift.js';
import type { EvaluatorOptions } from './options.js';
import { forgetClosedWindows } from './windows.js';

export class ModelState {
  readonly cells = new Map<string, Cell>();
  readonly drift: ModelDrift;
  readonly feedback: FeedbackStats;
  /** Segment values seen per attribute (for fairness): at most maxSegmentValues each, plus `other`. */
  readonly segmentValues = new Map<string, Set<string>>();
  /** The attributes segmented (the first maxSegmentAttributes seen). */
  private readonly attributes: FirstSeen;
  /** The values kept apart per attribute (the first maxSegmentValues seen). */
  private readonly distinct = new Map<string, FirstSeen>();
  /** Examples counted in `<attribute>=other` because their value came past maxSegmentValues (once per attribute). */
  pooledSegmentValues = 0;
  /** Segment attributes of examples not segmented because the attribute came past maxSegmentAttributes. */
  droppedSegmentAttributes = 0;
  /** Largest event time seen in this model's stream. */
  watermark = Number.NEGATIVE_INFINITY;
  /** Examples (labelled or not, corrections included) in this model's stream. */
  n = 0;
  late = 0;
  orphanCorrections = 0;
  readonly dirty: WindowStats[] = [];

  constructor(
    readonly model: string,
    readonly kind: ModelKind,
    private readonly options: EvaluatorOptions,
  ) {
    this.attributes = new FirstSeen(options.maxSegmentAttributes);
    this.drift = new ModelDrift(model, kind);
    this.feedback = new FeedbackStats(model);
  }

  cell(role: string, version: string, segment: string): Cell {
    const key = keyOf(role, version, segment);
    let cell = this.cells.get(key);
    if (!cell) {
      cell = newCell(this.options, this.kind, role, version, segment);
      this.cells.set(key, cell);
    }
    return cell;
  }

  /** Marks a window as changed since the last drain. */
  touch(stats: WindowStats): void {
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
    for (const attr of Object.keys(segments).sort()) {
      if (!this.attributes.admit(attr)) {
        this.droppedSegmentAttributes++;
        continue;
      }
      const value = this.boundedValue(attr, segments[attr]!);
      out.push(segmentKey(attr, value));
      let values = this.segmentValues.get(attr);
      if (!values) this.segmentValues.set(attr, (values = new Set()));
      values.add(value);
    }
    return out;
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

  /** Frees windows that can no longer change and feedback statistics no correction can reach. */
  forget(horizon: number): void {
    const limit = this.watermark - horizon;
    forgetClosedWindows(this.options, this.cells.values(), limit);
    this.feedback.forget(limit);
  }
}
