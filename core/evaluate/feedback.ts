/**
 * Feedback statistics of one model: labels and corrections per UTC day of
 * the feedback, feedback type and source, and the labels they overturned.
 */
import { keyOf } from './cells.js';
import type { FeedbackStat } from './rows.js';

export const DAY_MS = 86_400_000;

/** The UTC day start of an event time. */
export const dayOf = (at: number) => Math.floor(at / DAY_MS) * DAY_MS;

/** Where an earlier label was counted (the one a correction overturns). */
export interface CountedFeedback {
  feedbackDay: number;
  feedbackType: string;
  source: string;
}

/** A FeedbackStats' state: its statistics (rows) in the order they came, and the keys changed since the last drain, in order. */
export interface FeedbackStatsState {
  stats: FeedbackStat[];
  dirty: string[];
}

export class FeedbackStats {
  private readonly stats = new Map<string, FeedbackStat>();
  /** Keys of the statistics changed since the last drain. */
  private readonly dirty = new Set<string>();

  constructor(readonly model: string) {}

  private stat(day: number, feedbackType: string, source: string): FeedbackStat {
    const key = keyOf(day, feedbackType, source);
    let stat = this.stats.get(key);
    if (!stat) {
      stat = { model: this.model, day, feedback_type: feedbackType, source, labels: 0, corrections: 0, overturned: 0, overturned_by_expert: 0 };
      this.stats.set(key, stat);
    }
    this.dirty.add(key);
    return stat;
  }

  /** Counts a label, or (old given) a correction and the label it overturned. */
  count(day: number, feedbackType: string, source: string, old: CountedFeedback | undefined): void {
    const stat = this.stat(day, feedbackType, source);
    if (old) {
      stat.corrections++;
      const overturned = this.stat(old.feedbackDay, old.feedbackType, old.source);
      overturned.overturned++;
      if (feedbackType === 'EXPERT_REVIEW') overturned.overturned_by_expert++;
    } else {
      stat.labels++;
    }
  }

  /** Appends a copy of each statistic changed since the last drain; then none is. */
  drain(out: FeedbackStat[]): void {
    for (const key of this.dirty) out.push({ ...this.stats.get(key)! });
    this.dirty.clear();
  }

  /** Marks every change as written. */
  discard(): void {
    this.dirty.clear();
  }

  /** Frees the statistics whose day started more than two days before the limit, unless changed since the last drain. */
  forget(limit: number): void {
    for (const [key, stat] of this.stats) if (stat.day + 2 * DAY_MS < limit && !this.dirty.has(key)) this.stats.delete(key);
  }

  toState(): FeedbackStatsState {
    const stats: FeedbackStat[] = [];
    for (const stat of this.stats.values()) stats.push({ ...stat });
    return { stats, dirty: [...this.dirty] };
  }

  static fromState(state: FeedbackStatsState, model: string): FeedbackStats {
    const feedback = new FeedbackStats(model);
    for (const stat of state.stats) feedback.stats.set(keyOf(stat.day, stat.feedback_type, stat.source), { ...stat, model });
    for (const key of state.dirty) feedback.dirty.add(key);
    return feedback;
  }
}
