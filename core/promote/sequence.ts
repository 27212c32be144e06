/**
 * An always-valid confidence sequence for the mean of a stream of paired
 * differences d_i (for the promoter: d = loss_champion − loss_challenger on
 * one labelled example, so a positive mean says the challenger is better).
 *
 * It is the asymptotic confidence sequence of Waudby-Smith, Arbour, Sinha,
 * Kennedy & Ramdas (2021), "Time-uniform central limit theory and asymptotic
 * confidence sequences" (arXiv:2103.06476), Theorem 2.2: with the running
 * mean μ̂_t and the running variance σ̂²_t = (1/t) Σ (d_i − μ̂_t)² (Welford's
 * update), the boundary at level α is
 *
 *   B_t = sqrt( (2 (t σ̂²_t ρ² + 1) / (t² ρ²)) · log( sqrt(t σ̂²_t ρ² + 1) / α ) )
 *
 * and the sequence is [μ̂_t − B_t, μ̂_t + B_t]. This is the boundary of Robbins'
 * two-sided normal mixture, so it covers the mean on both sides at once,
 * for every t simultaneously, with probability ≥ 1 − α (asymptotically);
 * either side alone — `lower(α)` or `upper(α)` — is then a one-sided bound
 * at level α (conservatively: its own error rate is about α/2). Since it
 * holds at every t at once, it may be looked at after every example and a
 * decision taken the first time it excludes a value: no peeking penalty.
 *
 * ρ sets where the boundary is tightest. The paper's choice for a planned
 * sample size t* is ρ = sqrt( (−2 log α + log(−2 log α + 1)) / t* ) (default
 * t* = 1000). As ρ multiplies σ̂² in the formula, the boundary is tightest
 * near t = t* / σ̂² observations: for differences of log losses, whose variance
 * is well below 1, that is later than t* itself.
 *
 * Validity is asymptotic, not exact: it rests on a central limit argument
 * (the d_i independent with a finite variance; the paper also allows
 * martingale dependence), so the coverage approaches 1 − α as the sample
 * grows and can be off with few observations — the promoter therefore waits
 * for a minimum sample before it acts. The variance is finite for the
 * promoter's losses because they are bounded: log loss clips probabilities
 * to [1e-15, 1 − 1e-15] like the evaluator (a loss is at most about 34.5),
 * Brier and error rate lie in [0, 1]; squared error needs the regression
 * target to have a finite fourth moment.
 */

import type { SequenceData } from './data.js';

/** The paper's ρ for a planned sample size t* at level α. */
export function plannedRho(alpha: number, plannedSamples: number): number {
  checkAlpha(alpha);
  if (!(plannedSamples > 0) || !Number.isFinite(plannedSamples)) {
    throw new RangeError(`ConfidenceSequence: plannedSamples must be a positive number, got ${plannedSamples}`);
  }
  const twoLogInverseAlpha = -2 * Math.log(alpha);
  return Math.sqrt((twoLogInverseAlpha + Math.log(twoLogInverseAlpha + 1)) / plannedSamples);
}

/** The boundary B_t for t observations of variance σ̂² (see above); Infinity before the first observation. */
export function boundary(t: number, variance: number, rho: number, alpha: number): number {
  if (t <= 0) return Number.POSITIVE_INFINITY;
  const spread = t * variance * rho * rho + 1;
  return Math.sqrt(((2 * spread) / (t * t * rho * rho)) * Math.log(Math.sqrt(spread) / alpha));
}

function checkAlpha(alpha: number): void {
  if (!(alpha > 0 && alpha < 1)) throw new RangeError(`ConfidenceSequence: alpha must be in (0, 1), got ${alpha}`);
}

export interface ConfidenceSequenceOptions {
  /** The sample size where the boundary should be tightest (t*). Default 1000. */
  plannedSamples?: number;
  /** The level ρ is tuned for (the paper tunes ρ with the level it reports at). Default 0.05. */
  plannedAlpha?: number;
}

export class ConfidenceSequence {
  readonly rho: number;
  private n = 0;
  private runningMean = 0;
  /** Σ (d_i − μ̂)², kept by Welford's update. */
  private squares = 0;

  constructor(options: ConfidenceSequenceOptions = {}) {
    this.rho = plannedRho(options.plannedAlpha ?? 0.05, options.plannedSamples ?? 1000);
  }

  /** Plain data (promoter checkpoints); the options are not in it. */
  toState(): SequenceData {
    return { n: this.n, mean: this.runningMean, squares: this.squares };
  }

  /** The sequence toState() described, with these options. */
  static fromState(data: SequenceData, options: ConfidenceSequenceOptions = {}): ConfidenceSequence {
    if (!(Number.isInteger(data.n) && data.n >= 0 && Number.isFinite(data.mean) && Number.isFinite(data.squares))) {
      throw new RangeError(`ConfidenceSequence state: n ${data.n}, mean ${data.mean}, squares ${data.squares}`);
    }
    const sequence = new ConfidenceSequence(options);
    sequence.n = data.n;
    sequence.runningMean = data.mean;
    sequence.squares = data.squares;
    return sequence;
  }

  update(d: number): void {
    if (!Number.isFinite(d)) throw new RangeError(`ConfidenceSequence: an observation must be a finite number, got ${d}`);
    this.n += 1;
    const delta = d - this.runningMean;
    this.runningMean += delta / this.n;
    this.squares += delta * (d - this.runningMean);
  }

  /**
   * Adds n observations given by their mean and Σ (d − mean)² at once (Chan, Golub & LeVeque's
   * pairwise update): the same count, mean and variance as adding them one by one, in any order.
   */
  merge(n: number, mean: number, squares: number): void {
    if (!(Number.isInteger(n) && n >= 0 && Number.isFinite(mean) && Number.isFinite(squares) && squares >= 0)) {
      throw new RangeError(`ConfidenceSequence: cannot merge n ${n}, mean ${mean}, squares ${squares}`);
    }
    if (n === 0) return;
    const total = this.n + n;
    const delta = mean - this.runningMean;
    this.runningMean += (delta * n) / total;
    this.squares += squares + (delta * delta * this.n * n) / total;
    this.n = total;
  }

  get count(): number {
    return this.n;
  }

  /** μ̂_t (0 before the first observation). */
  get mean(): number {
    return this.runningMean;
  }

  /** σ̂²_t = (1/t) Σ (d_i − μ̂_t)², the paper's (biased) estimate; 0 before the first observation. */
  get variance(): number {
    return this.n === 0 ? 0 : Math.max(0, this.squares / this.n);
  }

  /** B_t at level α. */
  radius(alpha: number): number {
    checkAlpha(alpha);
    return boundary(this.n, this.variance, this.rho, alpha);
  }

  /** μ̂_t − B_t: the mean is above it, at every t at once, with probability ≥ 1 − α (asymptotically). */
  lower(alpha: number): number {
    return this.runningMean - this.radius(alpha);
  }

  /** μ̂_t + B_t: the mean is below it, at every t at once, with probability ≥ 1 − α (asymptotically). */
  upper(alpha: number): number {
    return this.runningMean + this.radius(alpha);
  }
}
