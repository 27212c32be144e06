/**
 * The binary guardrails of a paired comparison: both sides' recall at the
 * threshold and expected calibration error on the paired examples, and the
 * check of the other side's against maxRecallDrop and maxEce. A regression
 * has none.
 */
import { BinaryMetrics, type BinaryMetricsState } from '../metrics/index.js';
import { fmt } from './format.js';
import type { PolicyOptions } from './options.js';

/** Equal-width calibration bins of the ECE guardrail (as the evaluator's default). */
export const ECE_BINS = 10;

/** Recall and ECE of the base (champion) side and of the other side; null where undefined (always, for a regression). */
export interface Figures {
  baseRecall: number | null;
  otherRecall: number | null;
  baseEce: number | null;
  otherEce: number | null;
}

/** Both sides' binary metrics over the paired examples. */
export class PairedMetrics {
  constructor(
    // One exact score, then a single bin: only the confusion counts and calibration bins are read.
    private readonly base = new BinaryMetrics(ECE_BINS, { maxDistinctScores: 1, scoreBins: 1 }),
    private readonly other = new BinaryMetrics(ECE_BINS, { maxDistinctScores: 1, scoreBins: 1 }),
  ) {}

  toState(): { base: BinaryMetricsState; other: BinaryMetricsState } {
    return { base: this.base.toState(), other: this.other.toState() };
  }

  /** The metrics toState() described; a StateMismatchError when they are not this kind's (other bins). */
  static fromState(data: { base: BinaryMetricsState; other: BinaryMetricsState }): PairedMetrics {
    const settings = { maxDistinctScores: 1, scoreBins: 1 };
    return new PairedMetrics(BinaryMetrics.fromState(data.base, ECE_BINS, settings), BinaryMetrics.fromState(data.other, ECE_BINS, settings));
  }

  update(label: number, threshold: number, baseScore: number, otherScore: number): void {
    this.base.update({ label, score: baseScore, threshold });
    this.other.update({ label, score: otherScore, threshold });
  }

  figures(): Figures {
    const base = this.base.get();
    const other = this.other.get();
    return { baseRecall: base.recall ?? null, otherRecall: other.recall ?? null, baseEce: base.ece ?? null, otherEce: other.ece ?? null };
  }
}

/** The guardrail figures present (binary only). */
export function guardrailFigures(f: Figures): Record<string, number> {
  const out: Record<string, number> = {};
  if (f.otherRecall !== null) out.challenger_recall = f.otherRecall;
  if (f.baseRecall !== null) out.champion_recall = f.baseRecall;
  if (f.otherEce !== null) out.challenger_ece = f.otherEce;
  if (f.baseEce !== null) out.champion_ece = f.baseEce;
  return out;
}

/** Why the guardrails block the other side of a binary comparison, or null when they pass. */
export function guardrailBreach(f: Figures, options: Pick<PolicyOptions, 'maxRecallDrop' | 'maxEce'>): string | null {
  const { maxRecallDrop, maxEce } = options;
  if (Number.isFinite(maxRecallDrop)) {
    if (f.baseRecall === null || f.otherRecall === null) return 'guardrail: recall is undefined (no positive label among the paired examples)';
    const drop = f.baseRecall - f.otherRecall;
    // A tolerance for rounding: a drop of exactly maxRecallDrop passes.
    if (drop > maxRecallDrop + 1e-12) {
      return `guardrail: challenger recall ${fmt(f.otherRecall)} is ${fmt(drop)} below the champion's ${fmt(f.baseRecall)} (at most ${fmt(maxRecallDrop)} allowed)`;
    }
  }
  if (Number.isFinite(maxEce) && f.otherEce !== null && f.otherEce > maxEce) {
    return `guardrail: challenger ECE ${fmt(f.otherEce)} is above ${fmt(maxEce)}`;
  }
  return null;
}
