/**
 * GET /v1/feedback/stats, the figures from the rows of feedback_stats
 * (runtime/api/feedback.ts reads them): pure. User feedback is
 * USER_CONFIRMED and USER_REJECTED; an expert review that overturns one of
 * its labels is counted on the overturned label's row (overturned_by_expert),
 * while one that agrees is not recorded there, so what experts thought of
 * user feedback shows as the share they overturned, not an accuracy. The
 * learning backlog (learning-backlog.ts) is passed through.
 */
import type { FeedbackCounts, FeedbackStatsAnswer, LearningBacklog } from '../../adapters/http/api/services.js';

export interface TypeRow {
  feedback_type: string;
  labels: number;
  corrections: number;
  overturned_by_expert: number;
}

export interface DayRow {
  day_ms: number;
  labels: number;
  corrections: number;
  confirmed: number;
  rejected: number;
}

export interface SourceRow {
  source: string;
  labels: number;
  corrections: number;
  overturned: number;
  overturned_by_expert: number;
}

const USER_TYPES = new Set(['USER_CONFIRMED', 'USER_REJECTED']);

const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);

export function feedbackStats(
  model: string,
  range: { from?: number; to?: number },
  rows: { types: readonly TypeRow[]; days: readonly DayRow[]; sources: readonly SourceRow[] },
  backlog: LearningBacklog,
): FeedbackStatsAnswer {
  const byType: Record<string, FeedbackCounts> = Object.create(null);
  let labels = 0;
  let corrections = 0;
  let userLabels = 0;
  let overturned = 0;
  for (const r of rows.types) {
    byType[r.feedback_type] = { labels: r.labels, corrections: r.corrections };
    labels += r.labels;
    corrections += r.corrections;
    if (USER_TYPES.has(r.feedback_type)) {
      userLabels += r.labels;
      overturned += r.overturned_by_expert;
    }
  }
  return {
    model,
    from: range.from === undefined ? null : new Date(range.from).toISOString(),
    to: range.to === undefined ? null : new Date(range.to).toISOString(),
    totals: { labels, corrections, by_type: { ...byType } },
    confirmed: byType.USER_CONFIRMED?.labels ?? 0,
    rejected: byType.USER_REJECTED?.labels ?? 0,
    user_feedback: { labels: userLabels, overturned_by_expert: overturned, overturned_by_expert_rate: userLabels > 0 ? overturned / userLabels : null },
    by_day: [...rows.days].sort((a, b) => a.day_ms - b.day_ms).map((d) => ({ day: day(d.day_ms), labels: d.labels, corrections: d.corrections, confirmed: d.confirmed, rejected: d.rejected })),
    top_contributors: rows.sources.map((s) => ({ ...s })),
    not_yet_learned: backlog,
  };
}
