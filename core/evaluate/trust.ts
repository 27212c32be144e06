/**
 * The trust check of the estimated figures (CBPE, core/metrics/estimate.ts):
 * they hold only while the model is calibrated, so each binary cell keeps
 * the calibration bins (weight, Σ score, Σ label per evaluator.calibration_bins
 * bin) of its last `trustWindows` matured windows of the smallest tumbling
 * window that hold labels. A window matures once the model's watermark passed
 * its end plus the join window (all its labels are in); it is taken as it is
 * then. `estimate_calibration_error` is the ECE over those bins (the
 * realised `ece`'s definition, expectedCalibrationError), and
 * `estimate_trusted` is 1 when it is at most maxCalibrationError over at
 * least minLabels labels, else 0 (0 too before any window matured).
 */
import { StateMismatchError } from '../errors.js';
import { expectedCalibrationError, type BinaryMetrics, type CalibrationSums } from '../metrics/index.js';
import type { WindowStats } from './cells.js';
import type { EvaluatorOptions } from './options.js';

/** The calibration error over the matured windows and the labels it rests on. */
export interface Trust {
  ece: number | null;
  labels: number;
}

export const NO_TRUST: Trust = { ece: null, labels: 0 };

/** A matured window's calibration bins, by its start. */
export interface MaturedWindow extends CalibrationSums {
  start: number;
}

export interface TrustFigures {
  estimate_calibration_error: number | null;
  estimate_trusted: number;
}

/** `estimate_calibration_error` and `estimate_trusted` of a trust. */
export function trustFigures(trust: Trust, o: EvaluatorOptions): TrustFigures {
  const { ece, labels } = trust;
  const trusted = ece !== null && labels >= o.estimate.minLabels && ece <= o.estimate.maxCalibrationError;
  return { estimate_calibration_error: ece, estimate_trusted: trusted ? 1 : 0 };
}

/** The index of the smallest tumbling window (-1 when there is none). */
export function smallestWindow(o: EvaluatorOptions): number {
  let best = -1;
  o.windows.forEach((w, i) => {
    if (best < 0 || w.ms < o.windows[best]!.ms) best = i;
  });
  return best;
}

/** A cell's last matured windows (a bounded ring, oldest first) and the trust they give. */
export class MaturedCalibration {
  private readonly windows: MaturedWindow[] = [];
  /** Replaced (never changed) when a window matures: a window keeps the one of its last update. */
  trust: Trust = NO_TRUST;

  constructor(readonly size: number) {}

  /** Takes the windows in `byStart` with a start in [from, to) that hold labels, by start; then the trust again. */
  mature(byStart: ReadonlyMap<number, WindowStats>, from: number, to: number): void {
    const due: Array<[number, BinaryMetrics]> = [];
    for (const [start, stats] of byStart) {
      const metric = stats.metric as BinaryMetrics;
      if (start >= from && start < to && metric.get().count > 0) due.push([start, metric]);
    }
    if (due.length === 0) return;
    due.sort((a, b) => a[0] - b[0]);
    for (const [start, metric] of due) {
      this.windows.push({ start, ...metric.calibrationSums() });
      if (this.windows.length > this.size) this.windows.shift();
    }
    this.trust = this.compute();
  }

  /** The ECE over the windows' bins, summed oldest first. */
  private compute(): Trust {
    const bins = this.windows[0]!.count.length;
    const sums: CalibrationSums = { count: new Float64Array(bins), score: new Float64Array(bins), positive: new Float64Array(bins) };
    let labels = 0;
    for (const w of this.windows) {
      for (let b = 0; b < bins; b++) {
        sums.count[b] = sums.count[b]! + w.count[b]!;
        sums.score[b] = sums.score[b]! + w.score[b]!;
        sums.positive[b] = sums.positive[b]! + w.positive[b]!;
        labels += w.count[b]!;
      }
    }
    return { ece: expectedCalibrationError(sums), labels };
  }

  toState(): MaturedWindow[] {
    return this.windows.map((w) => ({ start: w.start, count: w.count.slice(), score: w.score.slice(), positive: w.positive.slice() }));
  }

  /** The ring of a state, of `size` windows of `bins` calibration bins; throws a StateMismatchError where it does not fit them. */
  static fromState(state: MaturedWindow[], size: number, bins: number): MaturedCalibration {
    if (state.length > size) throw new StateMismatchError('evaluator.estimate_trust_windows', `${state.length} matured windows saved, ${size} now`);
    const ring = new MaturedCalibration(size);
    for (const w of state) {
      if (w.count.length !== bins) throw new StateMismatchError('evaluator.calibration_bins', `${w.count.length} saved, ${bins} now`);
      ring.windows.push({ start: w.start, count: w.count.slice(), score: w.score.slice(), positive: w.positive.slice() });
    }
    if (ring.windows.length > 0) ring.trust = ring.compute();
    return ring;
  }
}
