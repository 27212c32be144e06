/**
 * A mergeable, revertible quantile sketch with a relative-error guarantee
 * (DDSketch, Masson et al. 2019), for non-negative values such as label
 * delays in milliseconds.
 *
 * With relative accuracy a and gamma = (1 + a) / (1 - a), a value x > 0 is
 * counted in bucket i = ceil(log_gamma(x)), the interval (gamma^(i-1), gamma^i],
 * and bucket i stands for 2 * gamma^i / (gamma + 1), which is within a * x of
 * every x in it. Values below MIN_POSITIVE (1e-9), zero included, share one
 * zero bucket that stands for exactly 0. Buckets are weighted counts, held
 * densely from the lowest to the highest bucket index counted (counts.ts: a
 * byte a bucket while the counts fit; label delays of 10 minutes to 4 days
 * span about 320 buckets at 1%), so update and revert are exact inverses (a
 * bucket that empties holds 0; a sketch that empties holds nothing), and two
 * sketches of the same accuracy merge by adding counts.
 *
 * quantile(q) estimates the lower quantile: the smallest sample v with
 * (weight of samples <= v) >= q * n, for q = 0 the minimum. Buckets keep the
 * order of values, so the bucket it returns is the exact lower quantile's
 * bucket and the estimate is within a * v of v (up to floating-point rounding
 * at bucket edges).
 */

import { Counts } from './counts.js';

/** Values below this are counted as 0. */
export const MIN_POSITIVE = 1e-9;

/** A bucket whose count falls to this or less (float residue of fractional weights) is empty. Weights are counts, far above it. */
const EMPTY = 1e-9;

/** A QuantileSketch's state: the zero bucket, and each non-empty bucket's index and count (ascending; a state in another order restores alike). */
export interface QuantileSketchState {
  zeroCount: number;
  indices: Float64Array;
  counts: Float64Array;
}

export class QuantileSketch {
  private readonly gamma: number;
  private readonly logGamma: number;
  private zeroCount = 0;
  /** The bucket index of counts' first entry. */
  private lowest = 0;
  /** Weighted counts of the buckets from `lowest` on (0: empty), null while none was counted since the sketch was last empty. */
  private counts: Counts | null = null;
  /** Non-empty buckets in counts. */
  private held = 0;

  constructor(readonly relativeAccuracy = 0.01) {
    if (!(relativeAccuracy > 0 && relativeAccuracy < 1)) {
      throw new RangeError(`QuantileSketch: relativeAccuracy must be in (0, 1), got ${relativeAccuracy}`);
    }
    this.gamma = (1 + relativeAccuracy) / (1 - relativeAccuracy);
    this.logGamma = Math.log(this.gamma);
  }

  update(x: number, weight = 1): void {
    this.add(x, checkWeight(weight), 'update');
  }

  /** Removes a value added before with the same weight (exactly undoes update). */
  revert(x: number, weight = 1): void {
    this.add(x, -checkWeight(weight), 'revert');
  }

  /** Total weight of the values in the sketch. */
  count(): number {
    let n = this.zeroCount;
    this.forEach((_i, c) => void (n += c));
    return n;
  }

  /** The estimated lower q-quantile (q in [0, 1]), null when the sketch is empty. */
  quantile(q: number): number | null {
    if (!(q >= 0 && q <= 1)) throw new RangeError(`QuantileSketch: q must be in [0, 1], got ${q}`);
    const n = this.count();
    if (n <= 0) return null;
    const rank = q * n;
    let cumulative = this.zeroCount;
    if (cumulative > 0 && cumulative >= rank) return 0;
    let last: number | undefined;
    const found = this.forEach((i, c) => {
      cumulative += c;
      last = i;
      return cumulative >= rank;
    });
    // Only by rounding (q = 1 and a cumulative sum a hair below n): the largest bucket.
    const at = found ?? last;
    return at === undefined ? 0 : this.valueOf(at);
  }

  /** Calls fn with each non-empty bucket's index and count, ascending, until it returns true: then that bucket's index (else undefined). */
  private forEach(fn: (i: number, count: number) => boolean | void): number | undefined {
    const values = this.counts?.values;
    if (!values) return undefined;
    for (let b = 0; b < values.length; b++) {
      const c = values[b]!;
      if (c !== 0 && fn(this.lowest + b, c) === true) return this.lowest + b;
    }
    return undefined;
  }

  /** Adds every count of `other` (same relative accuracy) to this sketch. */
  merge(other: QuantileSketch): this {
    if (other.relativeAccuracy !== this.relativeAccuracy) {
      throw new RangeError(`QuantileSketch: cannot merge accuracy ${other.relativeAccuracy} into ${this.relativeAccuracy}`);
    }
    this.zeroCount += other.zeroCount;
    const buckets: Array<[number, number]> = [];
    other.forEach((i, c) => void buckets.push([i, c]));
    for (const [i, c] of buckets) this.set(i, this.at(i) + c);
    return this;
  }

  /** An empty sketch with the same relative accuracy. */
  clone(): QuantileSketch {
    return new QuantileSketch(this.relativeAccuracy);
  }

  toState(): QuantileSketchState {
    const indices = new Float64Array(this.held);
    const counts = new Float64Array(this.held);
    let b = 0;
    this.forEach((i, c) => {
      indices[b] = i;
      counts[b++] = c;
    });
    return { zeroCount: this.zeroCount, indices, counts };
  }

  /** The sketch of a state, with the constructor's accuracy (which the state cannot be checked against: it holds bucket indices only). */
  static fromState(state: QuantileSketchState, relativeAccuracy = 0.01): QuantileSketch {
    const sketch = new QuantileSketch(relativeAccuracy);
    sketch.zeroCount = state.zeroCount;
    for (let b = 0; b < state.indices.length; b++) sketch.set(state.indices[b]!, state.counts[b]!);
    return sketch;
  }

  /** The count of bucket i (0 when empty). */
  private at(i: number): number {
    const b = i - this.lowest;
    return this.counts !== null && b >= 0 && b < this.counts.length ? this.counts.values[b]! : 0;
  }

  /** Sets bucket i's count; 0 empties it, and the sketch lets go of its buckets when none holds anything. */
  private set(i: number, count: number): void {
    const before = this.at(i);
    if (count === 0 && before === 0) return;
    this.cover(i);
    this.counts!.set(i - this.lowest, count);
    this.held += (count !== 0 ? 1 : 0) - (before !== 0 ? 1 : 0);
    if (this.held === 0) {
      this.counts = null;
      this.lowest = 0;
    }
  }

  /** Widens counts to cover bucket i: exactly from the lowest to the highest index counted. */
  private cover(i: number): void {
    if (this.counts === null) {
      this.counts = new Counts(1);
      this.lowest = i;
      return;
    }
    const highest = this.lowest + this.counts.length - 1;
    if (i >= this.lowest && i <= highest) return;
    const lowest = Math.min(i, this.lowest);
    this.counts = this.counts.placed(Math.max(i, highest) - lowest + 1, this.lowest - lowest);
    this.lowest = lowest;
  }

  private valueOf(i: number): number {
    return (2 * this.gamma ** i) / (this.gamma + 1);
  }

  private add(x: number, w: number, operation: 'update' | 'revert'): void {
    if (!(x >= 0) || x === Infinity) {
      throw new RangeError(`QuantileSketch.${operation}: values must be finite and non-negative, got ${x}`);
    }
    if (w === 0) return;
    if (x < MIN_POSITIVE) {
      this.zeroCount = settle(this.zeroCount + w, x);
      return;
    }
    const i = Math.ceil(Math.log(x) / this.logGamma);
    this.set(i, settle(this.at(i) + w, x));
  }
}

function checkWeight(weight: number): number {
  if (!(weight >= 0) || weight === Infinity) {
    throw new RangeError(`QuantileSketch: weight must be finite and non-negative, got ${weight}`);
  }
  return weight;
}

/** A bucket's new count: 0 when (about) empty after a revert; a revert of more than the bucket holds is an error. */
function settle(count: number, x: number): number {
  if (count < -EMPTY) throw new RangeError(`QuantileSketch.revert: ${x} was not in the sketch (its bucket would go negative)`);
  return count <= EMPTY ? 0 : count;
}
