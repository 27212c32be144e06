/** Feedback statistics of a model: labels per day and feedback type, and the sources most often overturned. */
import type { FeedbackStat } from '../../core/evaluate/rows.js';
import { esc, int, isoDay, pct } from '../format.js';
import { table } from '../html.js';
import type { ModelData } from '../input.js';

interface SourceCounts {
  labels: number;
  overturned: number;
  expert: number;
}

/** The statistics by UTC day. */
function byDay(feedback: FeedbackStat[]): Map<number, FeedbackStat[]> {
  const days = new Map<number, FeedbackStat[]>();
  for (const f of feedback) {
    if (!days.has(f.day)) days.set(f.day, []);
    days.get(f.day)!.push(f);
  }
  return days;
}

/** The five sources overturned most (by an expert first), with their counts. */
function mostOverturned(feedback: FeedbackStat[]): Array<[string, SourceCounts]> {
  const sources = new Map<string, SourceCounts>();
  for (const f of feedback) {
    const s = sources.get(f.source) ?? { labels: 0, overturned: 0, expert: 0 };
    s.labels += f.labels;
    s.overturned += f.overturned;
    s.expert += f.overturned_by_expert;
    sources.set(f.source, s);
  }
  return [...sources.entries()]
    .filter(([, s]) => s.overturned > 0)
    .sort((a, b) => b[1].expert - a[1].expert || b[1].overturned - a[1].overturned || (a[0] < b[0] ? -1 : 1))
    .slice(0, 5);
}

/** A row per day and one for all days: labels per feedback type, then the totals. */
function daysTable(feedback: FeedbackStat[]): string {
  const typeName = (t: string) => (t === '' ? '(none)' : t);
  const types = [...new Set(feedback.map((f) => f.feedback_type))].sort();
  const days = byDay(feedback);
  const sum = (rows: FeedbackStat[], field: 'labels' | 'corrections' | 'overturned' | 'overturned_by_expert', type?: string) =>
    rows.filter((r) => type === undefined || r.feedback_type === type).reduce((s, r) => s + r[field], 0);
  const line = (label: string, rows: FeedbackStat[]) => [
    label,
    ...types.map((t) => int(sum(rows, 'labels', t))),
    int(sum(rows, 'labels')),
    int(sum(rows, 'corrections')),
    int(sum(rows, 'overturned')),
    int(sum(rows, 'overturned_by_expert')),
  ];
  const rows = [...days.keys()].sort((a, b) => a - b).map((day) => line(esc(isoDay(day)), days.get(day)!));
  rows.push(line('all days', feedback));
  const headers = ['day of the label (UTC)', ...types.map((t) => `${esc(typeName(t))}`), 'labels', 'corrections made', 'overturned', 'overturned by an expert'];
  return table(headers, rows, 'feedback');
}

function sourcesTable(feedback: FeedbackStat[]): string {
  const worst = mostOverturned(feedback).map(([source, s]) => [
    esc(source === '' ? '(none)' : source),
    int(s.labels),
    int(s.overturned),
    int(s.expert),
    pct(s.labels ? s.overturned / s.labels : null),
  ]);
  return worst.length
    ? `<h4>Sources most often overturned</h4>${table(['source', 'labels', 'overturned', 'by an expert', 'overturned / labels'], worst, 'sources')}`
    : '<p class="none">No source was overturned.</p>';
}

export function feedbackSection(m: ModelData): string {
  if (m.feedback.length === 0) return '<p class="none">No feedback statistics.</p>';
  return `<p>Labels counted per UTC day of the feedback that gave them, by feedback type; a correction replaces an earlier label (overturned) of another source.</p>${daysTable(m.feedback)}${sourcesTable(m.feedback)}`;
}
