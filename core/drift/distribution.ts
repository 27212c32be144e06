/**
 * Distribution drift of one feature (or the score) against a reference
 * window: Population Stability Index over bins fixed from the reference,
 * and the two-sample Kolmogorov–Smirnov statistic.
 *
 * PSI = Σ_i (c_i − r_i) · ln(c_i / r_i), where r_i and c_i are the shares of
 * the reference and the current window in bin i. Bins are the reference's
 * deciles (edges at its quantiles, so each holds about a tenth of it), fixed
 * when the reference is frozen; values outside fall in the first or last bin.
 * An empty bin's share is replaced by PSI_EPSILON so the logarithm is finite.
 *
 * KS D = sup_x |F_ref(x) − F_cur(x)| over the empirical distribution
 * functions (scipy.stats.ks_2samp's statistic), with the p-value of the
 * Kolmogorov limit distribution at √(nm/(n+m))·D (scipy.special.kolmogorov;
 * scipy's ks_2samp 'asymp' method uses a finite-n variant instead).
 */

export const PSI_EPSILON = 1e-4;

/** Inner bin edges from the reference: the values at the quantiles 1/bins … (bins−1)/bins. */
export function quantileEdges(reference: readonly number[], bins: number): number[] {
  const sorted = [...reference].sort((a, b) => a - b);
  const edges: number[] = [];
  for (let i = 1; i < bins; i++) {
    // Linear interpolation between order statistics (numpy's default "linear" method).
    const position = (i / bins) * (sorted.length - 1);
    const lower = Math.floor(position);
    const fraction = position - lower;
    const a = sorted[lower]!;
    const b = sorted[Math.min(lower + 1, sorted.length - 1)]!;
    edges.push(a + (b - a) * fraction);
  }
  // Repeated edges (a feature with few distinct values) would make empty bins: keep each once.
  return [...new Set(edges)];
}

/** Index of the bin of `value`: bin i holds edges[i-1] <= value < edges[i]. */
export function binOf(edges: readonly number[], value: number): number {
  let low = 0;
  let high = edges.length;
  while (low < high) {
    const mid = (low + high) >> 1;
    if (value < edges[mid]!) high = mid;
    else low = mid + 1;
  }
  return low;
}

export function histogram(edges: readonly number[], values: readonly number[]): number[] {
  const counts = new Array<number>(edges.length + 1).fill(0);
  for (const value of values) counts[binOf(edges, value)]!++;
  return counts;
}

export function psi(referenceCounts: readonly number[], currentCounts: readonly number[]): number | null {
  const referenceTotal = referenceCounts.reduce((a, b) => a + b, 0);
  const currentTotal = currentCounts.reduce((a, b) => a + b, 0);
  if (referenceTotal === 0 || currentTotal === 0) return null;
  let sum = 0;
  for (let i = 0; i < referenceCounts.length; i++) {
    const r = Math.max(referenceCounts[i]! / referenceTotal, PSI_EPSILON);
    const c = Math.max(currentCounts[i]! / currentTotal, PSI_EPSILON);
    sum += (c - r) * Math.log(c / r);
  }
  return sum;
}

/** Two-sample KS statistic D and its asymptotic p-value. */
export function kolmogorovSmirnov(reference: readonly number[], current: readonly number[]): { statistic: number; pValue: number } | null {
  const n = reference.length;
  const m = current.length;
  if (n === 0 || m === 0) return null;
  return kolmogorovSmirnovSorted([...reference].sort((x, y) => x - y), [...current].sort((x, y) => x - y));
}

/** kolmogorovSmirnov of two samples given ascending (a monitor sorts its fixed reference once). */
export function kolmogorovSmirnovSorted(a: ArrayLike<number>, b: ArrayLike<number>): { statistic: number; pValue: number } | null {
  const n = a.length;
  const m = b.length;
  if (n === 0 || m === 0) return null;
  let i = 0;
  let j = 0;
  let d = 0;
  while (i < n && j < m) {
    const value = Math.min(a[i]!, b[j]!);
    while (i < n && a[i]! <= value) i++;
    while (j < m && b[j]! <= value) j++;
    d = Math.max(d, Math.abs(i / n - j / m));
  }
  return { statistic: d, pValue: kolmogorovSurvival(d * Math.sqrt((n * m) / (n + m))) };
}

/**
 * P(K > x) for the Kolmogorov distribution (the limit of √(nm/(n+m))·D).
 * For x < 1 through the series of the distribution function,
 * P(K ≤ x) = √(2π)/x Σ_{k≥1} e^{−(2k−1)²π²/(8x²)}; above it through the
 * alternating series 2 Σ_{k≥1} (−1)^{k−1} e^{−2k²x²}. Both converge fast where used.
 */
export function kolmogorovSurvival(x: number): number {
  if (x <= 0) return 1;
  if (x < 1) {
    let cdf = 0;
    for (let k = 1; k < 50; k++) {
      const term = Math.exp(-((2 * k - 1) ** 2) * Math.PI * Math.PI / (8 * x * x));
      cdf += term;
      if (term < 1e-20) break;
    }
    return Math.min(1, Math.max(0, 1 - (Math.sqrt(2 * Math.PI) / x) * cdf));
  }
  let sum = 0;
  for (let k = 1; k < 100; k++) {
    const term = Math.exp(-2 * k * k * x * x);
    sum += (k % 2 === 1 ? 1 : -1) * term;
    if (term < 1e-20) break;
  }
  return Math.min(1, Math.max(0, 2 * sum));
}
