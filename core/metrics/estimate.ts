/**
 * Confidence-based performance estimation (CBPE) of a binary classifier:
 * its expected confusion matrix and ROC AUC from the scores of its
 * predictions alone, labelled or not, assuming the scores are calibrated
 * (a prediction with score p is positive with probability p).
 *
 * With p the score clamped to [0, 1] and t the threshold, a prediction is
 * predicted positive iff score >= t (BinaryMetrics' rule), and
 *   TP = Σ_pp p, FP = Σ_pp (1 − p), FN = Σ_pn p, TN = Σ_pn (1 − p)
 * (pp: predicted positive, pn: predicted negative). Precision TP / n_pp,
 * recall TP / (TP + FN), F1 2TP / (2TP + FP + FN), accuracy (TP + TN) / n.
 * ROC AUC from `bins` equal-width score bins over [0, 1] (binOf as
 * BinaryMetrics: outside values clamp, exactly 1 in the last), each holding
 * P_b = Σ p and N_b = Σ (1 − p) = n_b − P_b of its n_b scores (the counts
 * are kept, not N_b: small integers, they compress in a checkpoint):
 *   AUC = Σ_b P_b (N_<b + ½ N_b) / (P · N)
 * (pairs within a bin count one half, as the realised AUC's ties).
 *
 * Standard errors, assuming calibration: each label is an independent
 * Bernoulli(p), so A = TP (over pp) and B = FN (over pn) are independent
 * sums with variances vA = Σ_pp p(1 − p) and vB = Σ_pn p(1 − p); n_pp and
 * n_pn are fixed.
 *   precision: sqrt(vA) / n_pp (exact);
 *   accuracy:  sqrt(vA + vB) / n (exact: a correct prediction is Bernoulli(q),
 *              q = p if pp else 1 − p, and q(1 − q) = p(1 − p));
 *   recall R = A / (A + B), delta method:
 *              sqrt(B² vA + A² vB) / (A + B)²;
 *   F1 = 2A / (A + n_pp + B) = 2A / D, delta method:
 *              2 sqrt((n_pp + B)² vA + A² vB) / D².
 * They are the spread of the realised figure around the estimate when the
 * model is calibrated, not a bound on its miscalibration (see the trust
 * check, core/evaluate/trust.ts). Null wherever a denominator is 0.
 */
import { StateMismatchError } from '../errors.js';
import { Counts } from './counts.js';
import { ratio } from './metric.js';

export interface EstimatedFigures {
  estimated_precision: number | null;
  estimated_recall: number | null;
  estimated_f1: number | null;
  estimated_accuracy: number | null;
  estimated_roc_auc: number | null;
  estimated_precision_stderr: number | null;
  estimated_recall_stderr: number | null;
  estimated_f1_stderr: number | null;
  estimated_accuracy_stderr: number | null;
}

/** An EstimateSums' state: the sums per side of the threshold and per score bin. */
export interface EstimateSumsState {
  /** Predictions, Σ p and Σ p(1 − p) of the predicted positives. */
  pp: [number, number, number];
  /** The same of the predicted negatives. */
  pn: [number, number, number];
  /** Σ p per score bin. */
  positives: Float64Array;
  /** Predictions per score bin. */
  counts: Float64Array;
}

/** The bin of a score among `bins` equal-width bins over [0, 1] (as BinaryMetrics'). */
function binOf(score: number, bins: number): number {
  return Math.min(bins - 1, Math.max(0, Math.floor(score * bins)));
}

/** The CBPE sums of one window's predictions. */
export class EstimateSums {
  private readonly pp: [number, number, number] = [0, 0, 0];
  private readonly pn: [number, number, number] = [0, 0, 0];
  private readonly positives: Float64Array;
  /** Predictions per score bin (counts.ts: a byte each while they fit). */
  private counts: Counts;

  constructor(readonly bins = 50) {
    if (!Number.isInteger(bins) || bins < 1) throw new RangeError(`EstimateSums: bins must be a positive integer, got ${bins}`);
    this.positives = new Float64Array(bins);
    this.counts = new Counts(bins);
  }

  /** Counts a prediction with this score and threshold. */
  add(score: number, threshold: number): void {
    if (Number.isNaN(score)) throw new RangeError('EstimateSums: the score is NaN');
    const p = Math.min(1, Math.max(0, score));
    const side = score >= threshold ? this.pp : this.pn;
    side[0] += 1;
    side[1] += p;
    side[2] += p * (1 - p);
    const bin = binOf(score, this.bins);
    this.positives[bin] = this.positives[bin]! + p;
    this.counts.add(bin, 1);
  }

  /** Predictions counted. */
  count(): number {
    return this.pp[0] + this.pn[0];
  }

  get(): EstimatedFigures {
    const [npp, a, va] = this.pp;
    const [npn, b, vb] = this.pn;
    const n = npp + npn;
    const recallDenominator = a + b;
    const f1Denominator = a + npp + b;
    return {
      estimated_precision: ratio(a, npp),
      estimated_recall: ratio(a, recallDenominator),
      estimated_f1: ratio(2 * a, f1Denominator),
      estimated_accuracy: ratio(a + (npn - b), n),
      estimated_roc_auc: this.rocAuc(),
      estimated_precision_stderr: ratio(Math.sqrt(va), npp),
      estimated_recall_stderr: ratio(Math.sqrt(b * b * va + a * a * vb), recallDenominator ** 2),
      estimated_f1_stderr: ratio(2 * Math.sqrt((npp + b) ** 2 * va + a * a * vb), f1Denominator ** 2),
      estimated_accuracy_stderr: ratio(Math.sqrt(va + vb), n),
    };
  }

  /** Σ_b P_b (N_<b + ½ N_b) / (P · N); null when P or N is 0. */
  private rocAuc(): number | null {
    let below = 0;
    let positives = 0;
    let area = 0;
    for (let b = 0; b < this.bins; b++) {
      const pos = this.positives[b]!;
      const neg = this.counts.values[b]! - pos;
      area += pos * (below + 0.5 * neg);
      below += neg;
      positives += pos;
    }
    return positives === 0 || below === 0 ? null : area / (positives * below);
  }

  toState(): EstimateSumsState {
    return { pp: [...this.pp], pn: [...this.pn], positives: this.positives.slice(), counts: this.counts.toFloat64() };
  }

  /** The sums of a state, in `bins` bins; throws a StateMismatchError when it has others. */
  static fromState(state: EstimateSumsState, bins: number): EstimateSums {
    if (state.positives.length !== bins) throw new StateMismatchError('evaluator.estimate_bins', `${state.positives.length} saved, ${bins} now`);
    const sums = new EstimateSums(bins);
    for (let i = 0; i < 3; i++) {
      sums.pp[i] = state.pp[i]!;
      sums.pn[i] = state.pn[i]!;
    }
    sums.positives.set(state.positives);
    sums.counts = Counts.from(state.counts);
    return sums;
  }
}
