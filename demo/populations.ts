/**
 * The two populations of the demo's world: what one prediction's features,
 * categories and segments are, the true log-odds of its label and the
 * upstream champion's log-odds (what it learned before the demo starts).
 *
 *   fraud-detector   transactions; the label follows a logistic model of the
 *                    features and the champion scores a noisy version of it.
 *                    From DEMO_CHANGE on, old accounts become the risky ones
 *                    (the sign of account_age_days flips) and amounts grow.
 *   churn-predictor  customers, a stable relation.
 */
import { gaussian, pick, type Random } from './random.js';
import { DEMO_CHANGE } from './scenario.js';

export interface Draw {
  features: Record<string, number>;
  categorical: Record<string, string>;
  segments: Record<string, string>;
  /** True log-odds of the label, and the champion's (what it learned before). */
  truth: number;
  champion: number;
}

export const round = (x: number, digits: number) => Math.round(x * 10 ** digits) / 10 ** digits;

const REGION: Record<string, string> = { DE: 'eu', FR: 'eu', ES: 'eu', US: 'us', BR: 'us', IN: 'apac', JP: 'apac' };

/** A transaction at event time `t`. */
export function fraudDraw(random: Random, t: number): Draw {
  const after = t >= DEMO_CHANGE;
  const country = pick(random, [['DE', 3], ['FR', 2], ['ES', 1], ['US', 4], ['BR', 1], ['IN', 2], ['JP', 1]]);
  const channel = pick(random, [['web', 5], ['app', 4], ['pos', 3]]);
  const logAmount = (after ? 4.4 : 3.5) + gaussian(random);
  const age = Math.round(-400 * Math.log(1 - random()));
  const txn = round(Math.exp(1 + 0.7 * gaussian(random)), 1);
  // Non-linear in the raw features (log amount, an interaction): the champion knows it, a linear challenger only approximates it.
  const base = -2.2 + 0.9 * (logAmount - 3.5) + 0.4 * (txn - 3) / 3 + (channel === 'web' ? 0.6 : 0) + (country === 'BR' ? 0.5 : 0) + (channel === 'pos' && txn > 5 ? 2.0 : 0) + (channel === 'web' && country === 'IN' ? 1.5 : 0);
  const ageTerm = 1.2 * (age / 400 - 1);
  return {
    features: { amount: round(Math.exp(logAmount), 2), account_age_days: age, txn_per_day: txn },
    categorical: { country, channel },
    segments: { region: REGION[country] ?? 'eu', customer_group: random() < 0.6 ? 'a' : 'b' },
    // The change: old accounts become the risky ones (account takeover), and amounts grow.
    truth: base + (after ? ageTerm - 1.0 : -ageTerm),
    champion: base - ageTerm + 0.2 * gaussian(random),
  };
}

/** A customer (the relation does not change over time). */
export function churnDraw(random: Random): Draw {
  const tenure = 1 + Math.floor(random() * 60);
  const spend = round(Math.max(5, 50 + 20 * gaussian(random)), 2);
  const tickets = Math.floor(-1.5 * Math.log(1 - random()));
  const plan = random() < 0.7 ? 'basic' : 'pro';
  const region = pick(random, [['eu', 5], ['us', 3], ['apac', 2]]);
  const truth = -1 - 0.05 * (tenure - 30) + 0.45 * tickets - 0.01 * (spend - 50) + (plan === 'pro' ? -0.4 : 0);
  return {
    features: { tenure_months: tenure, monthly_spend: spend, support_tickets: tickets },
    categorical: { plan },
    segments: { region, customer_group: random() < 0.5 ? 'a' : 'b' },
    truth,
    champion: truth + 0.2 * gaussian(random),
  };
}
