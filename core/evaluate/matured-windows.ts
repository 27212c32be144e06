/**
 * Error detectors fed per matured window (EvaluatorOptions.drift.detectorOrder
 * `matured`, the default).
 *
 * Why: the evaluator sees a label when it arrives. When the delay depends on
 * the outcome (a chargeback in weeks, a cleared payment within the hour), the
 * labels in arrival order are a shifting mix even for a model that does not
 * change: first the fast (mostly right) ones, then the slow ones. Detectors fed
 * in that order see the error rate move and raise alarms about the delay, not
 * the model. A tumbling window whose labels are all in has the error rate of
 * its predictions, whatever order its labels came in.
 *
 * When: a window of the smallest tumbling window has matured once the model's
 * watermark (its largest event time) has passed the window's end plus the join
 * window: no label of its predictions can come later (a joiner emits each
 * label, or the expiry, within the join window). The windows that mature as
 * the watermark moves from `before` to `after` are those with
 * before ≤ end + join window < after; they are fed in window-start order.
 * Nothing but the watermark says what was fed already, so the state needs no
 * queue (and a checkpoint none). A window matures before it closes (end +
 * join window + grace), so its figures are still held; labels that come after
 * it matured (late partitions, within the grace) are counted in its figures
 * but were not in what the detectors saw.
 *
 * What: per role and version (the segment `*` cell: as in arrival order,
 * detectors are not kept per segment), the window's error sum and label count
 * from the figures it holds anyway (binary: fp + fn of its confusion counts;
 * regression: MAE × count): no example is kept. A window without labels
 * feeds nothing. How each detector takes a window: error-detectors.ts.
 *
 * The cost: an alarm comes a join window after the end of the window it is
 * about (its record says which window; `at` is the window's end).
 */
import { ALL_SEGMENTS } from '../contracts/index.js';
import type { Figures } from './cells.js';
import type { ModelState } from './model-state.js';
import type { EvaluatorOptions } from './options.js';
import type { DriftRecord } from './rows.js';

/** The index of the smallest tumbling window; -1 when there is none. */
function smallestWindow(o: EvaluatorOptions): number {
  let best = -1;
  o.windows.forEach((w, i) => {
    if (best < 0 || w.ms < o.windows[best]!.ms) best = i;
  });
  return best;
}

/** Error sum and label count of a window's figures (see the file header). */
function errorsOf(figures: Figures): { sum: number; count: number } {
  if ('errors' in figures) return { sum: figures.errors, count: figures.count };
  if ('fp' in figures) return { sum: figures.fp + figures.fn, count: figures.count };
  return { sum: figures.mae === null ? 0 : figures.mae * figures.count, count: figures.count };
}

/**
 * Feeds the detectors of every role and version of the model the windows
 * that matured as its watermark moved from `before` to state.watermark;
 * alarms go to out. Call right after the watermark moves, before the
 * example that moved it is counted.
 */
export function feedMaturedWindows(o: EvaluatorOptions, state: ModelState, before: number, out: DriftRecord[]): void {
  if (!o.drift.detectors || o.drift.detectorOrder !== 'matured' || !(state.watermark > before)) return;
  const index = smallestWindow(o);
  if (index < 0) return;
  const { name, ms } = o.windows[index]!;
  // Window ends at multiples of ms: nothing to do unless one lies in [before − join, after − join).
  const from = before - o.joinWindowMs;
  const to = state.watermark - o.joinWindowMs;
  if (Number.isFinite(from) && Math.ceil(from / ms) * ms >= to) return;
  for (const cell of state.cells.values()) {
    if (cell.segment !== ALL_SEGMENTS) continue;
    const byStart = cell.tumbling[index]!;
    const starts: number[] = [];
    for (const start of byStart.keys()) if (start + ms >= from && start + ms < to) starts.push(start);
    starts.sort((a, b) => a - b);
    for (const start of starts) {
      const { sum, count } = errorsOf(byStart.get(start)!.metric.get());
      state.drift.detectWindow(cell.role, cell.version, sum, count, { window: name, start, end: start + ms }, state.n, o.drift, out);
    }
  }
}
