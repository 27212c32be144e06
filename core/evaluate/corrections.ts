/**
 * Corrections: what a correction reverts, rebuilt from what it carries
 * (`replaces`: the replaced label, feedback type, source and time; its
 * prediction, scores and segments are the correction's own), so the
 * evaluator remembers no example.
 */
import type { LabelledExample, ReplacedLabel } from '../events.js';
import type { Observation } from './cells.js';
import { dayOf, type CountedFeedback } from './feedback.js';

/** A role's observation of one label. */
export interface RoleObservation {
  role: string;
  version: string;
  observation: Observation;
}

/** What a correction reverts: the replaced example, rebuilt from the correction (its `replaces` and its own prediction). */
export interface Replaced extends CountedFeedback {
  timestamp: number;
  /** Its segments: the correction's (the same prediction). */
  segments: readonly string[];
  observations: RoleObservation[];
}

/**
 * The example a correction replaces, or undefined when there is nothing to
 * revert: a correction from a joiner before schema version 2 (no
 * `replaces`), one whose prediction is past the horizon (its windows
 * closed and, before, its memory freed; deterministic either way), or one
 * whose replaced label says nothing `observe` can count (no number for a
 * binary or regression model, no class for a multi-class or multi-label one).
 * `observe` makes the roles' observations of label fields at a label time
 * under an example id (the evaluator's, for a new label too).
 */
export function replacedBy(
  example: LabelledExample,
  segments: readonly string[],
  observe: (fields: ReplacedLabel, at: number, id: string) => RoleObservation[] | undefined,
  watermark: number,
  horizon: number,
): Replaced | undefined {
  const replaces = example.replaces;
  if (example.correction_of === null || replaces === null || example.timestamp + horizon < watermark) return undefined;
  const observations = observe(replaces, replaces.feedback_timestamp, example.correction_of);
  if (!observations) return undefined;
  return {
    timestamp: example.timestamp,
    segments,
    feedbackDay: dayOf(replaces.feedback_timestamp),
    feedbackType: replaces.feedback_type,
    source: replaces.source ?? '',
    observations,
  };
}
