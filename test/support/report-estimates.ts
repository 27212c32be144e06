/**
 * A report input with the figures of arrival records, for the report's unit
 * and browser tests: one binary model `scored` over one day of hourly
 * windows (and the day, and `total`), champion v1 and challenger scored/lr,
 * each with its realised F1 and its estimated F1 (`estimated_f1`,
 * `estimate_trusted`), the champion with `predictions`, `labelled`,
 * `expired`, `pending` and the old `label_coverage`.
 *
 * The champion's estimate is not trusted in hours 0-3 and trusted from hour 4;
 * the challenger's is trusted throughout. Each hour has 100 predictions; hours
 * 0-17 are matured (90 labelled, 10 expired); in hours 18-23 the labels are
 * still arriving: labelled 80, 70, 60, 40, 20, 5, nothing expired, pending
 * 20, 30, 40, 60, 80, 95. So label coverage by predictions is 0.9 until hour
 * 17, then 0.8 … 0.05, where labelled / (labelled + expired) would climb to 1;
 * over the day 1895 labelled of 2400 predictions (79.0%), 180 expired, 325
 * pending.
 */
import type { MetricPoint } from '../../core/evaluate/index.js';
import type { ReportInput } from '../../report/index.js';

export const HOUR = 3_600_000;
export const DAY = 24 * HOUR;
export const T0 = Date.UTC(2025, 5, 2);
export const HOURS = 24;
/** The first hour whose labels are still arriving, and the first whose champion estimate is trusted. */
export const FIRST_IMMATURE = 18;
export const FIRST_TRUSTED = 4;

export const LABELLED = Array.from({ length: HOURS }, (_, h) => [80, 70, 60, 40, 20, 5][h - FIRST_IMMATURE] ?? 90);
export const EXPIRED: number[] = Array.from({ length: HOURS }, (_, h) => (h < FIRST_IMMATURE ? 10 : 0));
export const PENDING = LABELLED.map((labelled, h) => 100 - labelled - EXPIRED[h]!);
export const ESTIMATED_F1 = (h: number) => 0.6 + 0.005 * h;

type Metrics = Record<string, (h: number) => number | null>;

/** Hourly points of `metrics`, then the day's and the total's from `day`. */
function points(role: string, version: string, hourly: Metrics, day: Record<string, number>): MetricPoint[] {
  const base = { model: 'scored', model_version: version, role, segment: '*' };
  const out: MetricPoint[] = [];
  for (const [metric, f] of Object.entries(hourly)) {
    for (let h = 0; h < HOURS; h++) out.push({ ...base, window: '1h', window_start: T0 + h * HOUR, window_end: T0 + (h + 1) * HOUR, metric, value: f(h), count: 100 });
  }
  for (const [metric, value] of Object.entries(day)) {
    out.push({ ...base, window: '1d', window_start: T0, window_end: T0 + DAY, metric, value, count: 2400 });
    out.push({ ...base, window: 'total', window_start: 0, window_end: T0 + DAY, metric, value, count: 2400 });
  }
  return out;
}

export function estimatesInput(): ReportInput {
  const labelled = LABELLED.reduce((a, b) => a + b, 0);
  const expired = EXPIRED.reduce((a, b) => a + b, 0);
  const pending = PENDING.reduce((a, b) => a + b, 0);
  const champion = points(
    'champion', 'v1',
    {
      count: (h) => LABELLED[h]!, f1: () => 0.65, estimated_f1: ESTIMATED_F1, estimate_trusted: (h) => (h < FIRST_TRUSTED ? 0 : 1),
      predictions: () => 100, labelled: (h) => LABELLED[h]!, expired: (h) => EXPIRED[h]!, pending: (h) => PENDING[h]!,
      label_coverage: (h) => LABELLED[h]! / (LABELLED[h]! + EXPIRED[h]!),
    },
    { count: labelled, f1: 0.65, estimated_f1: 0.66, estimate_trusted: 1, predictions: 2400, labelled, expired, pending, label_coverage: labelled / (labelled + expired) },
  );
  const challenger = points(
    'challenger', 'scored/lr',
    { count: (h) => LABELLED[h]!, f1: () => 0.7, estimated_f1: () => 0.72, estimate_trusted: () => 1, predictions: () => 100 },
    { count: labelled, f1: 0.7, estimated_f1: 0.72, estimate_trusted: 1, predictions: 2400 },
  );
  return {
    summary: {
      predictions_read: 4800, feedback_read: 3790, labelled: 2 * labelled, corrections: 0, duplicates_ignored: 0, uncertain: 0, unmatched: 0, expired_unlabelled: 2 * expired, pending_at_end: 2 * pending, dead_letters: 0,
      by_model: { scored: { predictions: 2400, labelled, corrections: 0, expired_labelled: 0, expired_unlabelled: expired } },
    },
    points: [...champion, ...challenger],
    drift: [],
    feedback: [],
    decisions: [],
    kinds: new Map([['scored', 'binary']]),
  };
}
