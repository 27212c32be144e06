/**
 * The correction memory: what is kept of each counted example, for as long
 * as a correction may name it (the horizon), to revert it from every window
 * that still holds it; and the shared strings and segment lists that keep
 * that memory small.
 */
import type { Observation } from './cells.js';
import type { CountedFeedback } from './feedback.js';

/** What is remembered of a counted example, to revert it when corrected. */
export interface Counted extends CountedFeedback {
  timestamp: number;
  /** Its segments as segmentsOf() gave them (one shared array per combination). */
  segments: readonly string[];
  label: number;
  observations: Array<{ role: string; version: string; observation: Observation }>;
}

/** The counted examples of one model by example id. */
export class CorrectionMemory {
  private readonly counted = new Map<string, Counted>();

  get size(): number {
    return this.counted.size;
  }

  /**
   * The counted example a correction names, no longer remembered after this;
   * undefined when it is unknown.
   */
  take(id: string, watermark: number, horizon: number): Counted | undefined {
    let old = this.counted.get(id);
    // Deterministic whether or not it is still in memory: past the horizon it is gone.
    if (old && old.timestamp + horizon < watermark) old = undefined;
    if (old) this.counted.delete(id);
    return old;
  }

  remember(id: string, counted: Counted): void {
    this.counted.set(id, counted);
  }

  /** Frees the examples predicted before the limit (they can no longer be corrected). */
  forget(limit: number): void {
    for (const [id, counted] of this.counted) if (counted.timestamp < limit) this.counted.delete(id);
  }
}

/** One copy of each text and segment list that many remembered examples share. */
export class Interner {
  /** Strings many examples share (versions, feedback types): one copy each. */
  private readonly strings = new Map<string, string>();
  /** Segment lists by their joined text: one array per combination. */
  private readonly segmentLists = new Map<string, readonly string[]>();

  text(text: string): string {
    const known = this.strings.get(text);
    if (known !== undefined) return known;
    this.strings.set(text, text);
    return text;
  }

  segments(list: string[]): readonly string[] {
    const key = list.join('\u0000');
    const known = this.segmentLists.get(key);
    if (known !== undefined) return known;
    this.segmentLists.set(key, list);
    return list;
  }
}
