/**
 * Concept-drift detectors over a model's error stream (River-like:
 * update(x) then driftDetected). Each resets itself after a detection, so
 * the next change can be detected too.
 *
 * - PageHinkley: a rise in the mean of a real-valued stream (e.g. log loss).
 * - DDM (Gama et al. 2004): a rise in the error rate of a 0/1 stream.
 * - ADWIN (Bifet & Gavaldà 2007): a change in the mean of a bounded stream,
 *   with an adaptive window kept in exponential-histogram buckets.
 *
 * Each has a state of plain data (toState) and is rebuilt from it with the
 * options its constructor took (fromState).
 */
import { StateMismatchError } from '../errors.js';

export interface DriftDetector {
  update(x: number): void;
  readonly driftDetected: boolean;
  /** DDM only: the error rate is rising but not yet a drift. */
  readonly warningDetected?: boolean;
  /** Examples seen since the last reset. */
  readonly count: number;
  clone(): DriftDetector;
}

export interface PageHinkleyOptions {
  /** Examples before a drift can be signalled. */
  minInstances: number;
  /** Magnitude of change tolerated. */
  delta: number;
  /** The detection threshold λ on the cumulative deviation. */
  threshold: number;
  /** Forgetting factor of the cumulative sum. */
  alpha: number;
}

export interface PageHinkleyState {
  count: number;
  driftDetected: boolean;
  mean: number;
  sum: number;
  minimum: number;
}

export class PageHinkley implements DriftDetector {
  readonly options: PageHinkleyOptions;
  count = 0;
  driftDetected = false;
  private mean = 0;
  private sum = 0;
  private minimum = 0;

  constructor(options: Partial<PageHinkleyOptions> = {}) {
    this.options = { minInstances: 30, delta: 0.005, threshold: 50, alpha: 1 - 0.0001, ...options };
  }

  update(x: number): void {
    if (this.driftDetected) this.reset();
    this.count++;
    this.mean += (x - this.mean) / this.count;
    this.sum = this.options.alpha * this.sum + (x - this.mean - this.options.delta);
    this.minimum = Math.min(this.minimum, this.sum);
    if (this.count >= this.options.minInstances && this.sum - this.minimum > this.options.threshold) this.driftDetected = true;
  }

  private reset(): void {
    this.count = 0;
    this.mean = 0;
    this.sum = 0;
    this.minimum = 0;
    this.driftDetected = false;
  }

  clone(): PageHinkley {
    return new PageHinkley(this.options);
  }

  toState(): PageHinkleyState {
    const { count, driftDetected, mean, sum, minimum } = this;
    return { count, driftDetected, mean, sum, minimum };
  }

  static fromState(state: PageHinkleyState, options: Partial<PageHinkleyOptions> = {}): PageHinkley {
    const detector = new PageHinkley(options);
    detector.count = state.count;
    detector.driftDetected = state.driftDetected;
    detector.mean = state.mean;
    detector.sum = state.sum;
    detector.minimum = state.minimum;
    return detector;
  }
}

export interface DdmOptions {
  minInstances: number;
  warningLevel: number;
  driftLevel: number;
}

export interface DdmState {
  count: number;
  driftDetected: boolean;
  warningDetected: boolean;
  errorRate: number;
  minimumP: number;
  minimumS: number;
}

export class DDM implements DriftDetector {
  readonly options: DdmOptions;
  count = 0;
  driftDetected = false;
  warningDetected = false;
  private errorRate = 0;
  private minimumP = Number.POSITIVE_INFINITY;
  private minimumS = Number.POSITIVE_INFINITY;

  constructor(options: Partial<DdmOptions> = {}) {
    this.options = { minInstances: 30, warningLevel: 2, driftLevel: 3, ...options };
  }

  /** x: 1 for an error, 0 for a correct prediction. */
  update(x: number): void {
    if (this.driftDetected) this.reset();
    this.count++;
    this.errorRate += (x - this.errorRate) / this.count;
    const s = Math.sqrt((this.errorRate * (1 - this.errorRate)) / this.count);
    this.warningDetected = false;
    if (this.count < this.options.minInstances) return;
    if (this.errorRate + s <= this.minimumP + this.minimumS) {
      this.minimumP = this.errorRate;
      this.minimumS = s;
    }
    const level = this.errorRate + s;
    if (level >= this.minimumP + this.options.driftLevel * this.minimumS) this.driftDetected = true;
    else if (level >= this.minimumP + this.options.warningLevel * this.minimumS) this.warningDetected = true;
  }

  private reset(): void {
    this.count = 0;
    this.errorRate = 0;
    this.minimumP = Number.POSITIVE_INFINITY;
    this.minimumS = Number.POSITIVE_INFINITY;
    this.driftDetected = false;
    this.warningDetected = false;
  }

  clone(): DDM {
    return new DDM(this.options);
  }

  toState(): DdmState {
    const { count, driftDetected, warningDetected, errorRate, minimumP, minimumS } = this;
    return { count, driftDetected, warningDetected, errorRate, minimumP, minimumS };
  }

  static fromState(state: DdmState, options: Partial<DdmOptions> = {}): DDM {
    const detector = new DDM(options);
    detector.count = state.count;
    detector.driftDetected = state.driftDetected;
    detector.warningDetected = state.warningDetected;
    detector.errorRate = state.errorRate;
    detector.minimumP = state.minimumP;
    detector.minimumS = state.minimumS;
    return detector;
  }
}

export interface AdwinOptions {
  /** Confidence δ of the cut test. */
  delta: number;
  /** Check for a cut every this many updates. */
  clock: number;
  /** Buckets per row of the exponential histogram. */
  maxBuckets: number;
  /** Smallest sub-window on either side of a cut. */
  minWindow: number;
}

/** ADWIN's state: its rows of buckets (row r: buckets of 2^r elements, newest first), window sums and clock. */
export interface AdwinState {
  driftDetected: boolean;
  rows: Array<{ totals: number[]; variances: number[] }>;
  width: number;
  total: number;
  variance: number;
  ticks: number;
}

/**
 * ADWIN2: the window is a list of rows; row r holds up to maxBuckets+1
 * buckets of 2^r elements each (total and variance). A cut between an older
 * part W0 and a newer part W1 is made when their means differ by more than
 *   ε = sqrt((2/m)·σ²·ln(2/δ')) + (2/(3m))·ln(2/δ'),  m = 1/(1/n0 + 1/n1),
 * δ' = δ / ln(n), σ² the window's variance; the older part is dropped.
 */
export class ADWIN implements DriftDetector {
  readonly options: AdwinOptions;
  driftDetected = false;
  private rows: Array<{ totals: number[]; variances: number[] }> = [];
  private width = 0;
  private total = 0;
  private variance = 0;
  private ticks = 0;

  constructor(options: Partial<AdwinOptions> = {}) {
    this.options = { delta: 0.002, clock: 32, maxBuckets: 5, minWindow: 5, ...options };
  }

  get count(): number {
    return this.width;
  }

  /** Mean of the current window. */
  get estimation(): number {
    return this.width === 0 ? 0 : this.total / this.width;
  }

  update(x: number): void {
    this.driftDetected = false;
    this.insert(x);
    this.ticks++;
    if (this.ticks % this.options.clock === 0 && this.width > 2 * this.options.minWindow) {
      while (this.cut()) this.driftDetected = true;
    }
  }

  private insert(x: number): void {
    if (this.width > 0) {
      const mean = this.total / this.width;
      this.variance += (this.width * (x - mean) ** 2) / (this.width + 1);
    }
    this.width++;
    this.total += x;
    if (this.rows.length === 0) this.rows.push({ totals: [], variances: [] });
    this.rows[0]!.totals.unshift(x);
    this.rows[0]!.variances.unshift(0);
    // Merge the two oldest buckets of a full row into one bucket of the next row.
    for (let r = 0; r < this.rows.length; r++) {
      const row = this.rows[r]!;
      if (row.totals.length <= this.options.maxBuckets) break;
      const size = 2 ** r;
      const t1 = row.totals.pop()!;
      const v1 = row.variances.pop()!;
      const t2 = row.totals.pop()!;
      const v2 = row.variances.pop()!;
      const mean1 = t1 / size;
      const mean2 = t2 / size;
      const merged = v1 + v2 + (size * size * (mean1 - mean2) ** 2) / (2 * size);
      if (r + 1 === this.rows.length) this.rows.push({ totals: [], variances: [] });
      this.rows[r + 1]!.totals.unshift(t1 + t2);
      this.rows[r + 1]!.variances.unshift(merged);
    }
  }

  /** Looks for one cut from the oldest end; drops the oldest bucket if found. */
  private cut(): boolean {
    const n = this.width;
    const varianceW = this.variance / n;
    const deltaPrime = this.options.delta / Math.log(n);
    const logTerm = Math.log(2 / deltaPrime);
    let n0 = 0;
    let total0 = 0;
    // Walk buckets from the oldest (last row, last bucket) towards the newest.
    for (let r = this.rows.length - 1; r >= 0; r--) {
      const row = this.rows[r]!;
      const size = 2 ** r;
      for (let b = row.totals.length - 1; b >= 0; b--) {
        n0 += size;
        total0 += row.totals[b]!;
        const n1 = n - n0;
        if (n1 < this.options.minWindow) return false;
        if (n0 < this.options.minWindow) continue;
        const mean0 = total0 / n0;
        const mean1 = (this.total - total0) / n1;
        const m = 1 / (1 / n0 + 1 / n1);
        const epsilon = Math.sqrt((2 / m) * varianceW * logTerm) + (2 / (3 * m)) * logTerm;
        if (Math.abs(mean0 - mean1) > epsilon) {
          this.dropOldest();
          return true;
        }
      }
    }
    return false;
  }

  private dropOldest(): void {
    const r = this.rows.length - 1;
    const row = this.rows[r]!;
    const size = 2 ** r;
    const t = row.totals.pop()!;
    const v = row.variances.pop()!;
    const mean = t / size;
    const restWidth = this.width - size;
    const restMean = restWidth > 0 ? (this.total - t) / restWidth : 0;
    this.variance -= v + (size * restWidth * (mean - restMean) ** 2) / (size + restWidth);
    this.variance = Math.max(0, this.variance);
    this.width = restWidth;
    this.total -= t;
    if (row.totals.length === 0) this.rows.pop();
  }

  clone(): ADWIN {
    return new ADWIN(this.options);
  }

  toState(): AdwinState {
    const rows = this.rows.map((row) => ({ totals: row.totals.slice(), variances: row.variances.slice() }));
    const { driftDetected, width, total, variance, ticks } = this;
    return { driftDetected, rows, width, total, variance, ticks };
  }

  /** The detector of a state, with the constructor's options; a row fuller than maxBuckets allows is refused. */
  static fromState(state: AdwinState, options: Partial<AdwinOptions> = {}): ADWIN {
    const detector = new ADWIN(options);
    for (const row of state.rows) {
      if (row.totals.length > detector.options.maxBuckets) {
        throw new StateMismatchError('ADWIN maxBuckets', `a row of ${row.totals.length} buckets saved, at most ${detector.options.maxBuckets} now`);
      }
    }
    detector.rows = state.rows.map((row) => ({ totals: row.totals.slice(), variances: row.variances.slice() }));
    detector.driftDetected = state.driftDetected;
    detector.width = state.width;
    detector.total = state.total;
    detector.variance = state.variance;
    detector.ticks = state.ticks;
    return detector;
  }
}
