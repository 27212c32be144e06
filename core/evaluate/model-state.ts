/**
 * All the evaluator keeps of one model's stream: its cells, correction
 * memory, drift monitors, feedback statistics, stream position and the
 * windows changed since the last drain.
 */
import { ALL_SEGMENTS, segmentKey } from '../contracts/index.js';
import type { ModelKind } from '../events.js';
import { keyOf, newCell, type Cell, type WindowStats } from './cells.js';
import { CorrectionMemory } from './corrections.js';
import { FeedbackStats } from './feedback.js';
import { ModelDrift } from './model-drift.js';
import type { EvaluatorOptions } from './options.js';
import { forgetClosedWindows } from './windows.js';

export class ModelState {
  readonly cells = new Map<string, Cell>();
  readonly counted = new CorrectionMemory();
  readonly drift: ModelDrift;
  readonly feedback: FeedbackStats;
  /** Segment values seen per attribute (for fairness). */
  readonly segmentValues = new Map<string, Set<string>>();
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

  /** The segments an example counts in (`*`, then `attr=value` by attribute), noting the values seen. */
  segmentsOf(segments: Record<string, string>): string[] {
    const out = [ALL_SEGMENTS];
    if (!this.options.segments) return out;
    for (const attr of Object.keys(segments).sort()) {
      const value = segments[attr]!;
      out.push(segmentKey(attr, value));
      let values = this.segmentValues.get(attr);
      if (!values) this.segmentValues.set(attr, (values = new Set()));
      values.add(value);
    }
    return out;
  }

  /** Frees windows that can no longer change and examples that can no longer be corrected. */
  forget(horizon: number): void {
    const limit = this.watermark - horizon;
    forgetClosedWindows(this.options, this.cells.values(), limit);
    this.counted.forget(limit);
    this.feedback.forget(limit);
  }
}
