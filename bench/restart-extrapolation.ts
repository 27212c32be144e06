/**
 * The restart benches' extrapolation (bench/evaluator-restart.ts,
 * bench/promoter-restart.ts): from the longest scaled-down history, the
 * cost of re-reading one item (the full re-read's time per item) and the
 * fixed cost of a restore from the checkpoint (its time less its tail at
 * that cost); then, at `targetRate` labels/s after 1 and 30 days, the full
 * re-read (cost × items) and the worst restore from the checkpoint (fixed
 * cost + a tail of `checkpointEvery`, a restart just before the next one).
 */
export interface RestartTimes {
  ms: number;
  reread: number;
}

export interface Extrapolation {
  perItemMs: number;
  fixedMs: number;
  at: Array<{ days: number; items: number; full_s: number; checkpoint_worst_s: number }>;
}

export function extrapolateRestart(full: RestartTimes, fromCheckpoint: RestartTimes, targetRate: number, checkpointEvery: number): Extrapolation {
  const perItemMs = full.ms / full.reread;
  const fixedMs = Math.max(0, fromCheckpoint.ms - fromCheckpoint.reread * perItemMs);
  const at = [1, 30].map((days) => {
    const items = days * 86_400 * targetRate;
    return { days, items, full_s: (perItemMs * items) / 1000, checkpoint_worst_s: (fixedMs + perItemMs * Math.min(items, checkpointEvery)) / 1000 };
  });
  return { perItemMs, fixedMs, at };
}
