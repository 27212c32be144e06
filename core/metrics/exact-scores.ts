/**
 * The exact per-score counts of BinaryMetrics: distinct scores ascending,
 * with the weight of positives and negatives at each, in three parallel
 * typed arrays that grow by doubling. A score is found by binary search; an
 * insert or removal moves the tail in place (copyWithin, no allocation), a
 * replace only the entries between its two places, and
 * get() reads the arrays as they are.
 */
/** An empty array, shared: nothing is ever written to it (an insert grows the arrays first). */
const NONE = new Float64Array(0);

export class ExactScores {
  /** Distinct scores held (the arrays' first `size` entries). */
  size = 0;
  scores: Float64Array;
  positives: Float64Array;
  negatives: Float64Array;

  constructor(capacity = 8) {
    this.scores = new Float64Array(capacity);
    this.positives = new Float64Array(capacity);
    this.negatives = new Float64Array(capacity);
  }

  /** The first index whose score is >= score. */
  private lowerBound(score: number): number {
    let low = 0;
    let high = this.size;
    while (low < high) {
      const mid = (low + high) >> 1;
      if (this.scores[mid]! < score) low = mid + 1;
      else high = mid;
    }
    return low;
  }

  /** The index of `score`; -1 when absent. */
  indexOf(score: number): number {
    const i = this.lowerBound(score);
    return i < this.size && this.scores[i] === score ? i : -1;
  }

  /**
   * Adds w to the positive or negative weight of `score`, removing the score
   * when both come to 0; false (nothing added) when the score is new and
   * `limit` scores are held.
   */
  add(score: number, positive: boolean, w: number, limit: number): boolean {
    const i = this.lowerBound(score);
    if (i === this.size || this.scores[i] !== score) {
      if (this.size >= limit) return false;
      this.insertAt(i, score);
    }
    if (positive) this.positives[i] = this.positives[i]! + w;
    else this.negatives[i] = this.negatives[i]! + w;
    if (this.positives[i] === 0 && this.negatives[i] === 0) this.removeAt(i);
    return true;
  }

  /**
   * add(out, outPositive, -wOut, limit) then add(into, intoPositive, wIn,
   * limit) in one pass, when the first empties its entry and the second
   * makes a new one (a sliding window's oldest score leaving as its newest
   * comes): only the entries between the two places move, by one, and the
   * arrays end as the two calls leave them. False (nothing done) otherwise:
   * then make the two calls.
   */
  tryReplace(out: number, outPositive: boolean, wOut: number, into: number, intoPositive: boolean, wIn: number, limit: number): boolean {
    const i = this.indexOf(out);
    if (i < 0 || into === out || wIn === 0 || this.size - 1 >= limit) return false;
    const emptied = outPositive ? this.positives[i]! - wOut === 0 && this.negatives[i] === 0 : this.negatives[i]! - wOut === 0 && this.positives[i] === 0;
    if (!emptied) return false;
    const j = this.lowerBound(into);
    if (j < this.size && this.scores[j] === into) return false;
    // Removing i, then inserting where `into` goes once i is gone (j - 1 when j > i).
    const at = j <= i ? j : j - 1;
    if (j <= i) this.shift(j + 1, j, i);
    else this.shift(i, i + 1, j);
    this.scores[at] = into;
    this.positives[at] = intoPositive ? 0 + wIn : 0;
    this.negatives[at] = intoPositive ? 0 : 0 + wIn;
    return true;
  }

  /** Moves entries [start, end) to target, in all three arrays. */
  private shift(target: number, start: number, end: number): void {
    this.scores.copyWithin(target, start, end);
    this.positives.copyWithin(target, start, end);
    this.negatives.copyWithin(target, start, end);
  }

  /** Appends a score above every one held (a restored state, ascending). */
  push(score: number, positives: number, negatives: number): void {
    this.insertAt(this.size, score);
    this.positives[this.size - 1] = positives;
    this.negatives[this.size - 1] = negatives;
  }

  /** Holds no score, and frees the arrays (a metric that switched to bins never comes back): all three the one shared empty array. */
  clear(): void {
    this.size = 0;
    this.scores = NONE;
    this.positives = NONE;
    this.negatives = NONE;
  }

  private insertAt(i: number, score: number): void {
    if (this.size === this.scores.length) this.grow();
    this.shift(i + 1, i, this.size);
    this.scores[i] = score;
    this.positives[i] = 0;
    this.negatives[i] = 0;
    this.size++;
  }

  private removeAt(i: number): void {
    this.shift(i, i + 1, this.size);
    this.size--;
  }

  private grow(): void {
    const capacity = Math.max(8, this.scores.length * 2);
    const grown = (a: Float64Array) => {
      const b = new Float64Array(capacity);
      b.set(a.subarray(0, this.size));
      return b;
    };
    this.scores = grown(this.scores);
    this.positives = grown(this.positives);
    this.negatives = grown(this.negatives);
  }
}
