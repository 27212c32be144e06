/**
 * Concept-drift detectors over a model's error stream (River-like:
 * update(x) then driftDetected). Each resets itself, its whole state, on
 * the update after a detection, so one change gives one alarm and the next
 * change can be detected too. Each follows River 0.26 (drift.PageHinkley
 * with mode "up", drift.binary.DDM, drift.ADWIN) to the order of its
 * floating-point operations, so it raises the same alarms at the same
 * examples (bench/reference/detector_reference.py,
 * test/integration/detector-reference.test.ts).
 *
 * - PageHinkley: a rise in the mean of a real-valued stream (e.g. log loss).
 * - DDM (Gama et al. 2004): a rise in the error rate of a 0/1 stream; as
 *   River and MOA, strict levels (p + s > p_min + k·s_min) checked only
 *   after more than minInstances examples, so a model that made no error
 *   yet (p_min = s_min = 0) raises nothing until it errs.
 * - ADWIN (Bifet & Gavaldà 2007): a change in the mean of a stream of
 *   values in [0, 1] (its bound assumes that range), with an adaptive
 *   window kept in exponential-histogram buckets. For values of any other
 *   scale (a regression model's |error|) see scaled-adwin.ts.
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

/** River's running mean (stats.Mean), operation for operation. */
function nextMean(mean: number, count: number, x: number): number {
  return mean + (1 / count) * (x - mean);
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

/** Page-Hinkley for a rise: sum = α·sum + (x − mean) − δ; drift when sum − min(sum) > λ. */
export class PageHinkley implements DriftDetector {
  readonly options: PageHinkleyOptions;
  count = 0;
  driftDetected = false;
  private mean = 0;
  private sum = 0;
  private minimum = Number.POSITIVE_INFINITY;

  constructor(options: Partial<PageHinkleyOptions> = {}) {
    this.options = { minInstances: 30, delta: 0.005, threshold: 50, alpha: 1 - 0.0001, ...options };
  }

  update(x: number): void {
    if (this.driftDetected) this.reset();
    this.count++;
    this.mean = nextMean(this.mean, this.count, x);
    this.sum = this.options.alpha * this.sum + (x - this.mean) - this.options.delta;
    this.check();
  }

  /**
   * w values of mean x at once (a matured window's labels: x their mean
   * error, w how many): count += w, mean += (w/count)·(x − mean),
   * sum = α^w·sum + w·(x − mean) − w·δ, then the test. For w = 1 this is
   * update(x), operation for operation. For w > 1 it is feeding the w values
   * one by one with the test at the last one only, except that each value is
   * compared with the mean after the whole batch (not the running mean just
   * after itself: a difference of O(w/count) that vanishes as the stream
   * grows) and the batch's own values are not discounted by α among
   * themselves (α^w ≈ 1 − w·10⁻⁴ at the default α). The sum's increments
   * have the variance of w per-value increments, so δ and λ keep their
   * per-value meaning.
   */
  updateBatch(x: number, w: number): void {
    if (!(w > 0)) return;
    if (this.driftDetected) this.reset();
    this.count += w;
    this.mean = this.mean + (w / this.count) * (x - this.mean);
    this.sum = this.options.alpha ** w * this.sum + w * (x - this.mean) - w * this.options.delta;
    this.check();
  }

  private check(): void {
    if (this.sum < this.minimum) this.minimum = this.sum;
    if (this.count >= this.options.minInstances) this.driftDetected = this.sum - this.minimum > this.options.threshold;
  }

  private reset(): void {
    this.count = 0;
    this.mean = 0;
    this.sum = 0;
    this.minimum = Number.POSITIVE_INFINITY;
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
  /** Examples before the levels are checked: from example minInstances + 1 on (River's warm_start). */
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
    this.errorRate = nextMean(this.errorRate, this.count, x);
    this.check();
  }

  /**
   * n predictions at once, `errors` of them wrong (a matured window): the
   * state DDM is in after the n values one by one, tested at the last one
   * only. DDM's p and s are functions of the cumulative counts alone
   * (p = E/N, s = sqrt(p(1 − p)/N) with E errors in N predictions), so after
   * the batch they are what n single updates give; only the tests (and the
   * p_min, s_min updates) between them are skipped. The rate is updated as
   * River's weighted mean, p += (n/N)·(errors/n − p): for n = 1 exactly
   * update(x), operation for operation; for n > 1 E/N up to rounding.
   * The warm-up counts predictions: the first test is at the first batch
   * that takes N past minInstances.
   */
  updateBatch(errors: number, n: number): void {
    if (!(n > 0)) return;
    if (this.driftDetected) this.reset();
    this.count += n;
    this.errorRate = this.errorRate + (n / this.count) * (errors / n - this.errorRate);
    this.check();
  }

  /** The levels at the current count and rate: p_min and s_min follow the lowest p + s; drift past p_min + 3·s_min. */
  private check(): void {
    const s = Math.sqrt((this.errorRate * (1 - this.errorRate)) / this.count);
    if (this.count <= this.options.minInstances) return;
    const level = this.errorRate + s;
    if (level <= this.minimumP + this.minimumS) {
      this.minimumP = this.errorRate;
      this.minimumS = s;
    }
    this.driftDetected = level > this.minimumP + this.options.driftLevel * this.minimumS;
    this.warningDetected = !this.driftDetected && level > this.minimumP + this.options.warningLevel * this.minimumS;
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
  /** No cut is looked for until the window holds more than this many values. */
  gracePeriod: number;
}

/** A row of buckets, oldest first: row r's buckets each hold 2^r values (their total and variance). */
interface AdwinRow {
  totals: number[];
  variances: number[];
}

/** ADWIN's state: its rows of buckets (row r: buckets of 2^r values, oldest first), window sums and clock. */
export interface AdwinState {
  driftDetected: boolean;
  rows: AdwinRow[];
  width: number;
  total: number;
  variance: number;
  ticks: number;
}

/**
 * ADWIN2 as River and MOA: the window is a list of rows; row r holds up to
 * maxBuckets+1 buckets of 2^r values each (total and variance). Every
 * `clock` updates, a cut between an older part W0 (n0 values) and a newer
 * part W1 (n1) is made when their means differ by more than
 *   ε = sqrt(2·m·σ²·d) + (2/3)·d·m,  m = 1/(n0 − w + 1) + 1/(n1 − w + 1),
 * d = ln(2·ln(n)/δ), σ² the window's variance, w = minWindow; the oldest
 * bucket is dropped and the cuts are looked for again. A cut is a
 * detection; the next update starts from an empty window (as River).
 */
export class ADWIN implements DriftDetector {
  readonly options: AdwinOptions;
  driftDetected = false;
  private rows: AdwinRow[] = [];
  private width = 0;
  private total = 0;
  private variance = 0;
  private ticks = 0;

  constructor(options: Partial<AdwinOptions> = {}) {
    this.options = { delta: 0.002, clock: 32, maxBuckets: 5, minWindow: 5, gracePeriod: 10, ...options };
  }

  get count(): number {
    return this.width;
  }

  /** Mean of the current window. */
  get estimation(): number {
    return this.width === 0 ? 0 : this.total / this.width;
  }

  update(x: number): void {
    if (this.driftDetected) this.reset();
    this.insert(x);
    this.ticks++;
    if (this.ticks % this.options.clock === 0 && this.width > this.options.gracePeriod) {
      while (this.cut()) this.driftDetected = true;
    }
  }

  private reset(): void {
    this.rows = [];
    this.width = 0;
    this.total = 0;
    this.variance = 0;
    this.ticks = 0;
    this.driftDetected = false;
  }

  private insert(x: number): void {
    this.width++;
    if (this.width > 1) {
      const d = x - this.total / (this.width - 1);
      this.variance += ((this.width - 1) * d * d) / this.width;
    }
    this.total += x;
    if (this.rows.length === 0) this.rows.push({ totals: [], variances: [] });
    this.rows[0]!.totals.push(x);
    this.rows[0]!.variances.push(0);
    this.compress();
  }

  /** Merges the two oldest buckets of a full row into one bucket of the next row, row after row. */
  private compress(): void {
    for (let r = 0; r < this.rows.length && this.rows[r]!.totals.length > this.options.maxBuckets; r++) {
      const row = this.rows[r]!;
      const size = 2 ** r;
      const [t0, t1] = row.totals.splice(0, 2) as [number, number];
      const [v0, v1] = row.variances.splice(0, 2) as [number, number];
      const d = t0 / size - t1 / size;
      if (r + 1 === this.rows.length) this.rows.push({ totals: [], variances: [] });
      this.rows[r + 1]!.totals.push(t0 + t1);
      this.rows[r + 1]!.variances.push(v0 + v1 + size * 0.5 * d * d);
    }
  }

  /** Looks for one cut, walking from the oldest bucket; drops the oldest bucket if it finds one. */
  private cut(): boolean {
    let n0 = 0;
    let n1 = this.width;
    let total0 = 0;
    let total1 = this.total;
    for (let r = this.rows.length - 1; r >= 0; r--) {
      const { totals } = this.rows[r]!;
      const size = 2 ** r;
      for (let b = 0; b < totals.length; b++) {
        n0 += size;
        n1 -= size;
        total0 += totals[b]!;
        total1 -= totals[b]!;
        if (r === 0 && b === totals.length - 1) return false;
        if (n0 >= this.options.minWindow && n1 >= this.options.minWindow && this.differ(n0, n1, total0 / n0 - total1 / n1)) {
          this.dropOldest();
          return true;
        }
      }
    }
    return false;
  }

  /** The cut test: do means differing by `difference` over n0 and n1 values differ by more than ε? */
  private differ(n0: number, n1: number, difference: number): boolean {
    const d = Math.log((2 * Math.log(this.width)) / this.options.delta);
    const w = this.options.minWindow;
    const m = 1 / (n0 - w + 1) + 1 / (n1 - w + 1);
    const epsilon = Math.sqrt(2 * m * (this.variance / this.width) * d) + (2 / 3) * d * m;
    return Math.abs(difference) > epsilon;
  }

  private dropOldest(): void {
    const row = this.rows[this.rows.length - 1]!;
    const size = 2 ** (this.rows.length - 1);
    const t = row.totals.shift()!;
    const v = row.variances.shift()!;
    this.width -= size;
    this.total -= t;
    const d = t / size - this.total / this.width;
    this.variance -= v + (size * this.width * d * d) / (size + this.width);
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
