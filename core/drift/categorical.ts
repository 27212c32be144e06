/**
 * Drift of one categorical feature: the current window's category counts
 * against a reference distribution.
 *
 * The reference is bounded: its first `max` distinct categories are kept,
 * the rest pooled in an `other` bucket (CategoryTable). A current value
 * outside the kept categories counts in `other` too: it is new (never seen
 * in the reference) unless the reference overflowed and pooled it.
 *
 * Figures over the bins compared (each kept category, and `other` unless it
 * is empty in both):
 * - chi-squared: Pearson's test of homogeneity of the two windows, the
 *   2 × K table of their counts (K bins compared):
 *   scipy.stats.chi2_contingency([ref, cur], correction=False), statistic
 *   Σ (O − E)² / E with E = row total × column total / grand total; degrees
 *   of freedom K − 1, p-value scipy.stats.chi2.sf (chi-squared.ts). No
 *   smoothing is needed: a bin empty in the reference (new categories in
 *   `other`) has a non-zero column total, so every E > 0. One bin: 0, p 1.
 *   Not the goodness-of-fit test against the reference shares
 *   (scipy.stats.chisquare(cur, ref_share · n)): it takes the reference's
 *   shares as exact, where they are a sample as noisy as the window, and on
 *   stationary streams raised 57 false alarms in 1000 tests at α = 0.001
 *   (test/unit/data-quality.test.ts, 50 seeds; with 0.5 added to each
 *   reference count for the empty bins).
 * - Jensen–Shannon distance of the reference and current shares, unsmoothed:
 *   scipy.spatial.distance.jensenshannon(ref, cur, base=2), in [0, 1].
 * - new-category rate: the share of current values outside the kept categories.
 */
import { chiSquaredSurvival } from './chi-squared.js';

/**
 * The categories of a reference, each with an index (the order first seen):
 * at most `max`; `indexOf` gives -1 (the `other` bucket) for any other.
 */
export class CategoryTable {
  private readonly index = new Map<string, number>();
  private readonly list: string[] = [];

  constructor(readonly max: number) {}

  /** The category's index, admitting it while there is room and `admit` holds; -1 for `other`. */
  indexOf(category: string, admit: boolean): number {
    const found = this.index.get(category);
    if (found !== undefined) return found;
    if (!admit || this.list.length >= this.max) return -1;
    this.index.set(category, this.list.length);
    this.list.push(category);
    return this.list.length - 1;
  }

  get size(): number {
    return this.list.length;
  }

  /** The categories in index order. */
  names(): readonly string[] {
    return this.list;
  }

  /** A table of these categories, in this order (a restore; past `max` too when the limit was lowered since). */
  static of(names: readonly string[], max: number): CategoryTable {
    const table = new CategoryTable(max);
    for (const name of names) {
      table.index.set(name, table.list.length);
      table.list.push(name);
    }
    return table;
  }
}

/** Counts per category index, and the count of `other`. */
export interface CategoryCounts {
  counts: ArrayLike<number>;
  other: number;
}

export interface CategoricalFigures {
  chi2: number;
  pValue: number;
  /** Degrees of freedom: the bins compared minus one. */
  dof: number;
  js: number;
  newRate: number;
  /** Values in the current window. */
  n: number;
}

/** The bins compared, as parallel lists: every kept category, then `other` unless both windows have none. */
function bins(reference: CategoryCounts, current: CategoryCounts): { ref: number[]; cur: number[] } {
  const ref: number[] = [];
  const cur: number[] = [];
  for (let i = 0; i < reference.counts.length; i++) {
    ref.push(reference.counts[i]!);
    cur.push(current.counts[i] ?? 0);
  }
  if (reference.other > 0 || current.other > 0) {
    ref.push(reference.other);
    cur.push(current.other);
  }
  return { ref, cur };
}

function sum(values: readonly number[]): number {
  let s = 0;
  for (const v of values) s += v;
  return s;
}

/** Pearson's chi-squared statistic of homogeneity of the 2 × K table [ref, cur] (every column total > 0). */
export function chiSquared(ref: readonly number[], cur: readonly number[]): number {
  const refTotal = sum(ref);
  const curTotal = sum(cur);
  const total = refTotal + curTotal;
  let statistic = 0;
  for (let i = 0; i < ref.length; i++) {
    const column = ref[i]! + cur[i]!;
    const expectedRef = (refTotal * column) / total;
    const expectedCur = (curTotal * column) / total;
    statistic += (ref[i]! - expectedRef) ** 2 / expectedRef + (cur[i]! - expectedCur) ** 2 / expectedCur;
  }
  return statistic;
}

/** x ln(x / y), 0 at x = 0 (scipy.special.rel_entr). */
function relativeEntropy(x: number, y: number): number {
  return x === 0 ? 0 : x * Math.log(x / y);
}

/** Jensen–Shannon distance in base 2 of two count vectors, each normalised (scipy.spatial.distance.jensenshannon). */
export function jensenShannon(p: readonly number[], q: readonly number[]): number {
  const pTotal = sum(p);
  const qTotal = sum(q);
  let divergence = 0;
  for (let i = 0; i < p.length; i++) {
    const a = p[i]! / pTotal;
    const b = q[i]! / qTotal;
    const m = (a + b) / 2;
    divergence += relativeEntropy(a, m) + relativeEntropy(b, m);
  }
  return Math.sqrt(Math.max(0, divergence / 2 / Math.LN2));
}

/** The figures of a current window against the reference; null when either has no values. */
export function categoricalDrift(reference: CategoryCounts, current: CategoryCounts): CategoricalFigures | null {
  const { ref, cur } = bins(reference, current);
  const n = sum(cur);
  if (n === 0 || sum(ref) === 0) return null;
  const dof = ref.length - 1;
  const chi2 = dof > 0 ? chiSquared(ref, cur) : 0;
  return { chi2, pValue: dof > 0 ? chiSquaredSurvival(chi2, dof) : 1, dof, js: jensenShannon(ref, cur), newRate: current.other / n, n };
}
