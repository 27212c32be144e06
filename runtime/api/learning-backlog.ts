/**
 * GET /v1/feedback/stats's `not_yet_learned`, the labelled examples no
 * published snapshot of a challenger has learned yet: its queries and its
 * answer (pure; runtime/api/learner-position.ts reads where the learner is).
 *
 * Exact, not estimated, because of how the pieces fit:
 * - a model's labelled examples are all on one partition of labelled-examples
 *   (keyed by model), and each row of labelled_examples carries, as its
 *   `version`, the offset of its record there (processors/evaluator.ts);
 * - the learner moves its committed offset on that partition only in the
 *   transaction that publishes its snapshots (processors/learner.ts): every
 *   record below it is in a published snapshot, or was not learnable;
 * - every challenger of the model learns the same records and their
 *   snapshots are published together, so the count is the same for each.
 *
 * Counted: rows at or past the committed offset (from 0 when the learner
 * group committed nothing) that the learner would learn under its settings,
 * as ChallengerTrainer.learn decides: a label (not an expired prediction;
 * arrival records have no row, uncertain feedback makes none), not a
 * correction when learner.train_on_corrections is false, no numeric feature
 * nor label beyond learner.max_feature_magnitude. Not counted: records the
 * evaluator has not written to ClickHouse yet.
 */
import { bindParams } from '../../adapters/clickhouse/index.js';
import type { LearningBacklog } from '../../adapters/http/api/services.js';

/** Challengers listed at most (snapshots of challengers no longer configured included). */
export const MAX_BACKLOG_CHALLENGERS = 100;

/** What the learner does with a model's examples (its config). */
export interface LearnerRules {
  trainOnCorrections: boolean;
  maxFeatureMagnitude: number;
}

/** The two queries: learnable rows from `fromOffset` on, and each challenger's newest snapshot in the registry. */
export function backlogQueries(model: string, fromOffset: number, rules: LearnerRules): { examples: string; snapshots: string } {
  const corrections = rules.trainOnCorrections ? '' : "\n  AND correction_of = ''";
  const examples = `SELECT count() AS examples
FROM labelled_examples FINAL
WHERE model = {model:String}
  AND version >= {from_offset:UInt64}
  AND isNotNull(label)${corrections}
  AND abs(label) <= {bound:Float64}
  AND NOT arrayExists(v -> abs(v) > {bound:Float64}, feature_values)`;
  // The newest by (created_at_ms, training_count): a challenger's snapshots only grow in both.
  const snapshots = `SELECT challenger,
  argMax(version, (created_at_ms, training_count)) AS latest_version,
  argMax(training_count, (created_at_ms, training_count)) AS latest_training_count,
  max(created_at_ms) AS latest_created_at_ms
FROM model_versions FINAL
WHERE model = {model:String}
GROUP BY challenger
ORDER BY challenger
LIMIT ${MAX_BACKLOG_CHALLENGERS}`;
  const params = { model, from_offset: fromOffset, bound: rules.maxFeatureMagnitude };
  return { examples: bindParams(examples, params), snapshots: bindParams(snapshots, params) };
}

export interface SnapshotRow {
  challenger: string;
  latest_version: string;
  latest_training_count: number;
  latest_created_at_ms: number;
}

/** Where the learner stands on the model's partition (learner-position.ts); `problem`: it could not be read. */
export interface LearnerPosition {
  topic: string;
  group: string;
  partition: number | null;
  /** The group's committed offset there; null when it committed none. */
  offset: number | null;
  problem?: string;
}

/**
 * The answer: the challengers the learner trains for the model (its config),
 * then any other with a snapshot in the registry (no longer configured: it
 * learns nothing more, so its count is null), each with its newest snapshot.
 */
export function learningBacklog(input: {
  position: LearnerPosition;
  /** Learnable rows at or past the committed offset; null when not counted (the position could not be read). */
  examples: number | null;
  configured: readonly string[];
  snapshots: readonly SnapshotRow[];
}): LearningBacklog {
  const { position, examples, configured } = input;
  const latest = new Map(input.snapshots.map((s) => [s.challenger, s]));
  const snapshotOf = (name: string) => {
    const s = latest.get(name);
    return s ? { version: s.latest_version, training_count: s.latest_training_count, created_at: new Date(s.latest_created_at_ms).toISOString() } : null;
  };
  const trained = new Set(configured);
  const challengers = [
    ...configured.map((name) => ({ challenger: name, trained: true, examples, latest_snapshot: snapshotOf(name) })),
    ...input.snapshots.filter((s) => !trained.has(s.challenger)).map((s) => ({ challenger: s.challenger, trained: false, examples: null, latest_snapshot: snapshotOf(s.challenger) })),
  ];
  return {
    topic: position.topic,
    partition: position.partition,
    learner_group: position.group,
    committed_offset: position.offset,
    examples,
    challengers,
    note: noteOf(position, configured.length),
  };
}

function noteOf(position: LearnerPosition, configured: number): string | null {
  const notes: string[] = [];
  if (position.problem !== undefined) notes.push(`not counted: ${position.problem}`);
  else if (position.partition === null) notes.push(`topic ${position.topic} does not exist yet: no labelled example was written`);
  else if (position.offset === null) notes.push(`the learner (group ${position.group}) has committed nothing on partition ${position.partition} of ${position.topic}: every learnable example counts`);
  if (configured === 0) notes.push('the learner trains no challenger of this model (models.<name>.challengers: [none])');
  return notes.length > 0 ? notes.join('; ') : null;
}
