/**
 * The chi-squared distribution's survival function (scipy.stats.chi2.sf) and
 * its inverse, through the regularised upper incomplete gamma function
 * Q(a, x) = Γ(a, x) / Γ(a): P(χ²_k > x) = Q(k/2, x/2).
 *
 * Q is computed as in Numerical Recipes (§6.2): below x = a + 1 from the
 * series of the lower function P = 1 − Q, above it from the continued
 * fraction of Q (modified Lentz), both scaled by e^{−x} x^a / Γ(a) in
 * logarithms (ln Γ by Lanczos' approximation, g = 7, 9 terms: about 1e-15
 * relative), so a p-value of 1e-300 keeps its digits.
 */

const LANCZOS_G = 7;
const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905,
  -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
];
const EPSILON = 1e-16;
const TINY = 1e-300;
const MAX_ITERATIONS = 100_000;

/** ln Γ(a) for a > 0. */
export function logGamma(a: number): number {
  if (a < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * a)) - logGamma(1 - a);
  const z = a - 1;
  let sum = LANCZOS[0]!;
  for (let i = 1; i < LANCZOS.length; i++) sum += LANCZOS[i]! / (z + i);
  const t = z + LANCZOS_G + 0.5;
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(sum);
}

/** ln(e^{−x} x^a / Γ(a)): the factor both expansions share. */
function logPrefactor(a: number, x: number): number {
  return -x + a * Math.log(x) - logGamma(a);
}

/** P(a, x) by its series Σ x^n / (a (a+1) … (a+n)), for x < a + 1. */
function lowerSeries(a: number, x: number): number {
  let term = 1 / a;
  let sum = term;
  for (let n = 1; n < MAX_ITERATIONS; n++) {
    term *= x / (a + n);
    sum += term;
    if (Math.abs(term) < Math.abs(sum) * EPSILON) break;
  }
  return sum * Math.exp(logPrefactor(a, x));
}

/** Q(a, x) by its continued fraction, for x ≥ a + 1. */
function upperFraction(a: number, x: number): number {
  let b = x + 1 - a;
  let c = 1 / TINY;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < MAX_ITERATIONS; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < TINY) d = TINY;
    c = b + an / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < EPSILON) break;
  }
  return Math.exp(logPrefactor(a, x)) * h;
}

/** The regularised upper incomplete gamma function Q(a, x) (scipy.special.gammaincc), a > 0. */
export function gammaQ(a: number, x: number): number {
  if (!(x > 0)) return 1;
  if (x < a + 1) return Math.min(1, Math.max(0, 1 - lowerSeries(a, x)));
  return Math.min(1, Math.max(0, upperFraction(a, x)));
}

/** P(χ²_dof > x) (scipy.stats.chi2.sf(x, dof)); dof ≥ 1. */
export function chiSquaredSurvival(x: number, dof: number): number {
  return gammaQ(dof / 2, x / 2);
}

/**
 * The critical value of the chi-squared test at level `alpha`: the x with
 * P(χ²_dof > x) = alpha (scipy.stats.chi2.isf(alpha, dof)), by bisection to
 * a relative width of 1e-12.
 */
export function chiSquaredCritical(alpha: number, dof: number): number {
  if (!(alpha > 0)) return Number.POSITIVE_INFINITY;
  if (alpha >= 1) return 0;
  let low = 0;
  let high = Math.max(1, dof);
  while (chiSquaredSurvival(high, dof) > alpha) {
    low = high;
    high *= 2;
  }
  for (let i = 0; i < 200 && high - low > 1e-12 * high; i++) {
    const mid = (low + high) / 2;
    if (chiSquaredSurvival(mid, dof) > alpha) low = mid;
    else high = mid;
  }
  return (low + high) / 2;
}
