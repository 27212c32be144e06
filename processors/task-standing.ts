/**
 * Where a partition task stands, and whether it may be kept across a new
 * assignment generation instead of restored (processors/partition-tasks.ts,
 * "keeping"; docs/architecture.md, "The partition task").
 *
 * A task's state reflects its inputs up to `processed`; `committed` is what
 * it knows the group committed for its partition (read when it was opened,
 * then each of its own commits). It may be kept only when
 *
 * - it is **settled**: for every input, what it processed is what it
 *   committed (no processed-but-uncommitted records: a learner between two
 *   publications, an evaluator between two flushes is not), and
 * - it is **unchanged**: the offsets committed now, read after fencing, are
 *   the ones it committed itself (nobody processed the partition meanwhile).
 *
 * Inputs with nothing committed fail both: such a task is simply restored.
 */
export interface Standing {
  /** The consumer's generation the task is of. */
  generation: number;
  /** The first offset of each input not reflected in the state when the task was opened or kept. */
  resume: Map<string, number>;
  /** The end of what the work processed, per input. */
  processed: Map<string, number>;
  /** The offsets committed for the task's partition as far as it knows, per input. */
  committed: Map<string, number>;
}

/** A task just opened: its state reflects `resume`; `committed` as read for the partition (inputs without a commit left out). */
export function openedStanding(generation: number, resume: Map<string, number>, committed: Map<string, number>): Standing {
  return { generation, resume, processed: new Map(resume), committed: new Map(committed) };
}

/** Everything the task processed of every input is committed. */
export function settled(standing: Standing, topics: readonly string[]): boolean {
  return topics.every((topic) => {
    const committed = standing.committed.get(topic);
    return committed !== undefined && standing.processed.get(topic) === committed;
  });
}

/** The offsets committed now are the task's own last commit, for every input. */
export function unchanged(standing: Standing, now: Map<string, number>, topics: readonly string[]): boolean {
  return topics.every((topic) => {
    const committed = now.get(topic);
    return committed !== undefined && standing.committed.get(topic) === committed;
  });
}

/** Records offsets of the task's partition into `into` (what it processed, or committed). */
export function record(into: Map<string, number>, partition: number, offsets: ReadonlyArray<{ topic: string; partition: number; offset: number }>): void {
  for (const o of offsets) if (o.partition === partition) into.set(o.topic, o.offset);
}
