/**
 * The windows of a cell besides `total`: tumbling windows by the
 * prediction's timestamp, which close (are never updated again, then freed)
 * once the model's event time passed their end by the horizon (the join
 * window plus a grace period); and the sliding count window in
 * label-arrival order, whose figures are due every rollingEmitEvery updates.
 */
import type { Cell, Observation, WindowStats } from './cells.js';
import type { EvaluatorOptions } from './options.js';

/** How long after its end a tumbling window may still change: the join window plus the grace period. */
export function horizonOf(o: EvaluatorOptions): number {
  return o.joinWindowMs + o.graceMs;
}

/** The length of a tumbling window by its name; undefined for `total` and the sliding window. */
export function windowSize(o: EvaluatorOptions, window: string): number | undefined {
  return o.windows.find((w) => w.name === window)?.ms;
}

/**
 * The tumbling windows (index and start) a prediction timestamp belongs to,
 * leaving out closed ones; -1 where closed.
 */
export function startsOf(o: EvaluatorOptions, watermark: number, timestamp: number): number[] {
  return o.windows.map((w) => {
    const start = Math.floor(timestamp / w.ms) * w.ms;
    return start + w.ms + horizonOf(o) < watermark ? -1 : start;
  });
}

/** Calls fn with each open window of the cell for these starts (total first). */
export function eachWindow(o: EvaluatorOptions, cell: Cell, starts: number[], fn: (stats: WindowStats) => void): void {
  fn(cell.total);
  const windows = o.windows;
  for (let i = 0; i < windows.length; i++) {
    const start = starts[i]!;
    if (start >= 0) fn(cell.window(i, windows[i]!.name, start));
  }
}

/** Frees the tumbling windows that ended before the limit (they can no longer change). */
export function forgetClosedWindows(o: EvaluatorOptions, cells: Iterable<Cell>, limit: number): void {
  for (const cell of cells) {
    o.windows.forEach((w, i) => {
      const byStart = cell.tumbling[i]!;
      for (const start of byStart.keys()) if (start + w.ms < limit) byStart.delete(start);
    });
  }
}

/** Counts an observation in the cell's sliding window; true when its figures are due (then the count starts again). */
export function slide(o: EvaluatorOptions, cell: Cell, observation: Observation): boolean {
  cell.rolling!.update(observation);
  cell.sinceEmit++;
  if (cell.sinceEmit >= o.rollingEmitEvery) {
    cell.sinceEmit = 0;
    return true;
  }
  return false;
}
