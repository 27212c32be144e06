/**
 * Regression metrics from running sums (all revertible): MAE, RMSE, R² and
 * MAPE (sklearn's definition: |error| / max(|y|, machine epsilon)).
 * R² is null when the true values do not vary.
 */
import { StateMismatchError } from '../errors.js';
import { ratio, type Metric, type RegressionObservation } from './metric.js';

export interface RegressionFigures {
  count: number;
  mae: number | null;
  rmse: number | null;
  r2: number | null;
  mape: number | null;
}

/** A RegressionMetrics' state: its running sums. */
export interface RegressionMetricsState {
  kind: 'regression';
  n: number;
  absErrorSum: number;
  squaredErrorSum: number;
  labelSum: number;
  labelSquaredSum: number;
  percentSum: number;
}

export class RegressionMetrics implements Metric<RegressionObservation, RegressionFigures> {
  private n = 0;
  private absErrorSum = 0;
  private squaredErrorSum = 0;
  private labelSum = 0;
  private labelSquaredSum = 0;
  private percentSum = 0;

  update(o: RegressionObservation): void {
    this.add(o, o.weight ?? 1);
  }

  revert(o: RegressionObservation): void {
    this.add(o, -(o.weight ?? 1));
  }

  /** Could `o` have been added (the count holds its weight)? */
  holds(o: RegressionObservation): boolean {
    return this.n >= (o.weight ?? 1);
  }

  private add(o: RegressionObservation, w: number): void {
    const error = o.score - o.label;
    this.n += w;
    this.absErrorSum += w * Math.abs(error);
    this.squaredErrorSum += w * error * error;
    this.labelSum += w * o.label;
    this.labelSquaredSum += w * o.label * o.label;
    this.percentSum += (w * Math.abs(error)) / Math.max(Math.abs(o.label), Number.EPSILON);
  }

  get(): RegressionFigures {
    const mse = ratio(this.squaredErrorSum, this.n);
    const totalSquares = this.n === 0 ? 0 : this.labelSquaredSum - (this.labelSum * this.labelSum) / this.n;
    return {
      count: this.n,
      mae: ratio(this.absErrorSum, this.n),
      rmse: mse === null ? null : Math.sqrt(Math.max(0, mse)),
      r2: rSquared(this.squaredErrorSum, totalSquares),
      mape: ratio(this.percentSum, this.n),
    };
  }

  clone(): RegressionMetrics {
    return new RegressionMetrics();
  }

  toState(): RegressionMetricsState {
    const { n, absErrorSum, squaredErrorSum, labelSum, labelSquaredSum, percentSum } = this;
    return { kind: 'regression', n, absErrorSum, squaredErrorSum, labelSum, labelSquaredSum, percentSum };
  }

  static fromState(state: RegressionMetricsState): RegressionMetrics {
    if (state.kind !== 'regression') throw new StateMismatchError('the model task', `a ${String(state.kind)} state restored as regression metrics`);
    const metrics = new RegressionMetrics();
    metrics.n = state.n;
    metrics.absErrorSum = state.absErrorSum;
    metrics.squaredErrorSum = state.squaredErrorSum;
    metrics.labelSum = state.labelSum;
    metrics.labelSquaredSum = state.labelSquaredSum;
    metrics.percentSum = state.percentSum;
    return metrics;
  }
}

/**
 * 1 - SSE/SST, or null when the labels do not vary: SST is 0, or so small
 * (cancellation, underflow: labels near 1e-162) that the ratio overflows.
 */
function rSquared(squaredErrors: number, totalSquares: number): number | null {
  if (!(totalSquares > 0)) return null;
  const r2 = 1 - squaredErrors / totalSquares;
  return Number.isFinite(r2) ? r2 : null;
}
