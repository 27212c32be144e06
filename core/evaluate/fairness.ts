/**
 * Fairness gaps: demographic parity and equal opportunity differences
 * across the values of each fairness attribute, per role, version and
 * window, written when one of the attribute's segment windows changed.
 */
import { fairnessGapKey, parseSegmentKey, segmentKey } from '../contracts/index.js';
import type { BinaryMetrics } from '../metrics/index.js';
import { keyOf, TOTAL, type WindowStats } from './cells.js';
import type { ModelState } from './model-state.js';
import type { EvaluatorOptions } from './options.js';
import { point } from './points.js';
import type { MetricPoint } from './rows.js';
import { windowSize } from './windows.js';

/** A window whose fairness gaps are to be written. */
export interface FairnessWindow {
  role: string;
  version: string;
  window: string;
  start: number;
}

/** Notes the window of a changed segment window in `due` when its attribute is a fairness attribute. */
export function noteFairness(o: EvaluatorOptions, stats: WindowStats, due: Map<string, FairnessWindow>): void {
  const { cell, window, start } = stats;
  const segment = parseSegmentKey(cell.segment);
  const attr = segment !== undefined && segment.kind !== 'all' ? segment.attribute : undefined;
  if (attr !== undefined && o.fairnessAttributes.includes(attr)) {
    due.set(keyOf(cell.role, cell.version, window, start), { role: cell.role, version: cell.version, window, start });
  }
}

/** Demographic parity and equal-opportunity gaps across the values of an attribute, in one window. */
export function fairnessPoints(o: EvaluatorOptions, state: ModelState, { role, version, window, start }: FairnessWindow): MetricPoint[] {
  if (state.kind !== 'binary') return [];
  const out: MetricPoint[] = [];
  for (const attr of o.fairnessAttributes) {
    const values = state.segmentValues.get(attr);
    if (!values) continue;
    const rates: number[] = [];
    const tprs: number[] = [];
    let smallest = Number.POSITIVE_INFINITY;
    let total = 0;
    let windowEnd = 0;
    for (const value of values) {
      const cell = state.cells.get(keyOf(role, version, segmentKey(attr, value)));
      const index = o.windows.findIndex((w) => w.name === window);
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
    const size = windowSize(o, window);
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
