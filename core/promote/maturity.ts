/**
 * Maturity: the delay-aware promotion test's bookkeeping (policy.ts, "The
 * test under label delay"). With a horizon H > 0, a paired difference does
 * not enter its confidence sequence when its label arrives: it waits in the
 * bin of its prediction time, and a bin enters the sequence once every
 * prediction in it is older than H behind the policy's event-time clock
 * (matured). Bins enter in prediction-time order, so the sequence sees the
 * differences in prediction-time order, whatever order their labels came in.
 *
 * A bin keeps count, mean and M2 of its differences (Welford) and the two
 * loss sums; a released bin is merged into the sequence exactly (Chan et
 * al.'s pairwise update), which gives the same count, mean and variance as
 * adding its differences one by one in any order. The sequence is looked at
 * only after whole bins, i.e. at a subset of the times of the
 * prediction-time-ordered sequence: a confidence sequence holds at every
 * time at once, so it holds at these.
 *
 * Bounded: bin width is H / MATURITY_BINS; bins are kept from the first
 * unreleased one up to the clock (the clock is at least every prediction
 * time seen), so at most MATURITY_BINS + 2 bins wait per comparison,
 * whatever the rate.
 */
import type { BinData } from './data.js';

/** Bins per horizon: the width of a bin is the horizon divided by this (rounded up to a millisecond). */
export const MATURITY_BINS = 100;

/** The width of a prediction-time bin for a horizon (ms). */
export function binWidth(maturityMs: number): number {
  return Math.max(1, Math.ceil(maturityMs / MATURITY_BINS));
}

/** The bin of a prediction time. */
export function binOf(timestamp: number, maturityMs: number): number {
  return Math.floor(timestamp / binWidth(maturityMs));
}

/** The first bin not matured at clock `clock`: every bin below it holds only predictions older than the horizon. */
export function maturedBefore(clock: number, maturityMs: number): number {
  return Math.floor((clock - maturityMs) / binWidth(maturityMs));
}

/** The differences of one comparison waiting for their prediction-time bin to mature. */
export class MaturingBins {
  private bins = new Map<number, BinData>();

  static fromState(data: readonly BinData[]): MaturingBins {
    const m = new MaturingBins();
    for (const b of data) m.bins.set(b.bin, { ...b });
    return m;
  }

  toState(): BinData[] {
    return [...this.bins.values()].sort((a, b) => a.bin - b.bin).map((b) => ({ ...b }));
  }

  /** Differences waiting (all bins). */
  get waiting(): number {
    let n = 0;
    for (const b of this.bins.values()) n += b.n;
    return n;
  }

  add(bin: number, baseLoss: number, otherLoss: number): void {
    let b = this.bins.get(bin);
    if (b === undefined) this.bins.set(bin, (b = { bin, n: 0, mean: 0, squares: 0, baseLoss: 0, otherLoss: 0 }));
    const d = baseLoss - otherLoss;
    b.n += 1;
    const delta = d - b.mean;
    b.mean += delta / b.n;
    b.squares += delta * (d - b.mean);
    b.baseLoss += baseLoss;
    b.otherLoss += otherLoss;
  }

  /** Removes and returns the bins below `frontier`, oldest first. */
  release(frontier: number): BinData[] {
    const out: BinData[] = [];
    for (const [bin, b] of this.bins) {
      if (bin < frontier) out.push(b);
    }
    for (const b of out) this.bins.delete(b.bin);
    return out.sort((a, b) => a.bin - b.bin);
  }
}
