/**
 * The evaluator's cells: one per role, version and segment of a model, each
 * with the windows `total`, the open tumbling windows by start and the
 * sliding count window; and the keys they are found by.
 */
import { parseShadowKey, versionIdentity, type ShadowKey } from '../contracts/index.js';
import { BinaryMetrics, RegressionMetrics, Rolling, type BinaryFigures, type BinaryObservation, type RegressionFigures } from '../metrics/index.js';
import { QuantileSketch } from '../metrics/quantiles.js';
import type { ModelKind } from '../events.js';
import type { EvaluatorOptions } from './options.js';

export const TOTAL = 'total';

/** The role and cell version of a shadow score: the previous champion under its version, a challenger under its identity (versionIdentity). */
export function shadowRole(key: string): ShadowKey {
  const parsed = parseShadowKey(key);
  return parsed.role === 'previous' ? parsed : { role: 'challenger', version: versionIdentity(parsed.version) };
}

export type Metric = BinaryMetrics | RegressionMetrics;
export type Figures = BinaryFigures | RegressionFigures;

/** One window of one cell: the metric, and for the champion role label delay and coverage. */
export class WindowStats {
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

export interface Observation extends BinaryObservation {
  /** Label time (event time of the feedback). */
  at: number;
  /** The example it came from (a correction names it: the sliding window reverts it by this). */
  id: string;
}

export class Cell {
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

export const keyOf = (...parts: Array<string | number>) => parts.join('\u0000');

function newMetric(o: EvaluatorOptions, kind: ModelKind, exact: boolean): Metric {
  if (kind === 'regression') return new RegressionMetrics();
  return new BinaryMetrics(o.calibrationBins, exact ? {} : { maxDistinctScores: o.aucExactLimit, scoreBins: o.aucBins });
}

/** A new cell: exact metrics in its sliding window, bounded ones in the others, label delays for the champion. */
export function newCell(o: EvaluatorOptions, kind: ModelKind, role: string, version: string, segment: string): Cell {
  const champion = role === 'champion';
  const rolling = o.rollingSize > 0 ? new Rolling<Observation, Figures>(newMetric(o, kind, true), o.rollingSize) : undefined;
  const make = (owner: Cell, window: string, start: number) =>
    new WindowStats(owner, window, start, newMetric(o, kind, false), champion ? new QuantileSketch(o.delayAccuracy) : undefined);
  return new Cell(role, version, segment, make, o.windows.length, rolling);
}
