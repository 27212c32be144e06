/**
 * Corrections: what a correction reverts, rebuilt from what it carries
 * (`replaces`: the replaced label, feedback type, source and time; its
 * prediction, scores and segments are the correction's own), so the
 * evaluator remembers no example.
 */
import type { LabelledExample } from '../events.js';
import type { Observation } from './cells.js';
import { dayOf, type CountedFeedback } from './feedback.js';

/** What a correction reverts: the replaced example, rebuilt from the correction (its `replaces` and its own prediction). */
export interface Replaced extends CountedFeedback {
  timestamp: number;
  /** Its segments: the correction's (the same prediction). */
  segments: readonly string[];
  label: number;
  observations: Array<{ role: string; version: string; observation: Observation }>;
}

/**
 * The example a correction replaces, or undefined when there is nothing to
 * revert: a correction from a joiner before schema version 2 (no
 * `replaces`), one whose prediction is past the horizon (its windows
 * closed and, before, its memory freed; deterministic either way), or one
 * whose replaced label has no number (a multi-class or multi-label model,
 * which this evaluator does not evaluate yet: issue 16).
 */
export function replacedBy(
  example: LabelledExample,
  segments: readonly string[],
  scored: Array<{ role: string; version: string; score: number }>,
  watermark: number,
  horizon: number,
): Replaced | undefined {
  const replaces = example.replaces;
  if (example.correction_of === null || replaces === null || replaces.label === null || example.timestamp + horizon < watermark) return undefined;
  const id = example.correction_of;
  const label = replaces.label;
  const observation: Observation = { label, score: 0, threshold: example.threshold, at: replaces.feedback_timestamp, id };
  return {
    timestamp: example.timestamp,
    segments,
    label,
    feedbackDay: dayOf(replaces.feedback_timestamp),
    feedbackType: replaces.feedback_type,
    source: replaces.source ?? '',
    observations: scored.map(({ role, version, score }) => ({ role, version, observation: { ...observation, score } })),
  };
}
