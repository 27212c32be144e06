/**
 * The challenger trainer (pure core): labelled examples in, model snapshots out.
 *
 * Each model has challengers (named presets, see presets.ts), each an
 * OnlineModel pipeline trained online from the labelled examples of its
 * model, with the features as logged at prediction time. A correction
 * cannot be unlearned from an online model, so by default the corrected
 * label is learned as a new example (the model has then seen the
 * prediction twice, once with each label; `trainOnCorrections: false`
 * skips corrections instead). Expired, unlabelled predictions are skipped.
 *
 * Snapshots: `snapshot(at)` returns a ModelSnapshot for every challenger
 * that learned something since its last snapshot, with version
 * `<model>/<challenger>@<n>` (n counts that challenger's snapshots), the
 * parent version, the training count, and a data hash chained over the
 * example ids learned from, in order (equal hashes = the same examples in
 * the same order). `restore` loads a snapshot back, so a restarted trainer
 * goes on from exactly the published state.
 */
import { parseSnapshotVersion, snapshotVersion } from '../contracts/index.js';
import type { LabelledExample, ModelKind, ModelSnapshot } from '../events.js';
import { murmur3, pipelineFromSnapshot, type Pipeline } from '../models/index.js';
import { createChallenger, defaultChallengers } from './presets.js';

export interface TrainerOptions {
  kindOf: (model: string) => ModelKind;
  /** Challenger preset names per model; default: defaultChallengers(kind). */
  challengersOf: (model: string) => string[];
  trainOnCorrections: boolean;
}

export const DEFAULT_TRAINER_OPTIONS: TrainerOptions = {
  kindOf: () => 'binary',
  challengersOf: () => [],
  trainOnCorrections: true,
};

interface Challenger {
  model: string;
  name: string;
  pipeline: Pipeline;
  /** Snapshots published so far (the next version is @sequence+1). */
  sequence: number;
  parent: string | null;
  dataHash: string;
  /** Learned since the last snapshot. */
  dirty: boolean;
  /** Event time of the newest example learned. */
  lastEventTime: number;
}

export interface TrainerCounters {
  learned: number;
  corrections_learned: number;
  corrections_skipped: number;
  unlabelled_skipped: number;
  /** Examples a challenger could not learn (ModelError: e.g. a label that is not 0/1 for a binary model). */
  rejected: number;
}

/** Chains an example id into a data hash (murmur3 of the previous hash and the id; 8 hex digits). */
export function chainHash(previous: string, exampleId: string): string {
  return (murmur3(`${previous}\u0000${exampleId}`, 0x5eed) >>> 0).toString(16).padStart(8, '0'); // murmur3 is signed
}

export const EMPTY_DATA_HASH = '00000000';

export class ChallengerTrainer {
  readonly options: TrainerOptions;
  private readonly challengers = new Map<string, Challenger[]>();
  readonly counters: TrainerCounters = { learned: 0, corrections_learned: 0, corrections_skipped: 0, unlabelled_skipped: 0, rejected: 0 };

  constructor(options: Partial<TrainerOptions> = {}) {
    this.options = { ...DEFAULT_TRAINER_OPTIONS, ...options };
  }

  private challengersOf(model: string): Challenger[] {
    let list = this.challengers.get(model);
    if (!list) {
      const kind = this.options.kindOf(model);
      const configured = this.options.challengersOf(model);
      const names = configured.length > 0 ? configured : defaultChallengers(kind);
      list = names.map((name) => ({
        model, name, pipeline: createChallenger(name, kind), sequence: 0, parent: null, dataHash: EMPTY_DATA_HASH, dirty: false, lastEventTime: Number.NEGATIVE_INFINITY,
      }));
      this.challengers.set(model, list);
    }
    return list;
  }

  /** Trains every challenger of the example's model on it (see the file comment for corrections). */
  learn(example: LabelledExample): void {
    if (example.label === null) {
      this.counters.unlabelled_skipped++;
      return;
    }
    if (example.correction_of !== null && !this.options.trainOnCorrections) {
      this.counters.corrections_skipped++;
      return;
    }
    const eventTime = example.feedback_timestamp ?? example.timestamp;
    let learnedBy = 0;
    for (const c of this.challengersOf(example.model)) {
      try {
        c.pipeline.learnOne(example, example.label);
      } catch {
        this.counters.rejected++;
        continue;
      }
      learnedBy++;
      c.dataHash = chainHash(c.dataHash, example.example_id);
      c.dirty = true;
      c.lastEventTime = Math.max(c.lastEventTime, eventTime);
    }
    if (learnedBy === 0) return; // Rejected by every challenger: not learned.
    if (example.correction_of !== null) this.counters.corrections_learned++;
    else this.counters.learned++;
  }

  /** True when some challenger learned since its last snapshot. */
  dirty(): boolean {
    for (const list of this.challengers.values()) if (list.some((c) => c.dirty)) return true;
    return false;
  }

  /**
   * A snapshot of every challenger that learned since its last one. `createdAt`
   * defaults to the event time of the newest example it learned (so a
   * replay's shadow scorer can tell which snapshots existed when a
   * prediction was made); pass the wall clock in `run`.
   */
  snapshot(createdAt?: number): ModelSnapshot[] {
    const out: ModelSnapshot[] = [];
    for (const list of this.challengers.values()) {
      for (const c of list) {
        if (!c.dirty) continue;
        c.sequence++;
        const version = snapshotVersion(c.model, c.name, c.sequence);
        out.push({
          model: c.model,
          version,
          challenger: c.name,
          algorithm: c.pipeline.estimator.algorithm,
          parameters: JSON.stringify(c.pipeline.toSnapshot()),
          feature_schema: c.pipeline.featureSchema(),
          training_count: c.pipeline.trainingCount,
          data_hash: c.dataHash,
          parent_version: c.parent,
          created_at: createdAt ?? c.lastEventTime,
        });
        c.parent = version;
        c.dirty = false;
      }
    }
    return out;
  }

  /** Loads a published snapshot back (on restart): that challenger goes on from it. A version without `@<n>` is ignored. */
  restore(snapshot: ModelSnapshot): void {
    const list = this.challengersOf(snapshot.model);
    const c = list.find((x) => x.name === snapshot.challenger);
    if (!c) return; // A challenger no longer configured.
    const sequence = parseSnapshotVersion(snapshot.version)?.sequence;
    if (sequence === undefined || sequence <= c.sequence) return; // Not a snapshot version, or older than what is loaded.
    c.pipeline = pipelineFromSnapshot(JSON.parse(snapshot.parameters));
    c.sequence = sequence;
    c.parent = snapshot.version;
    c.dataHash = snapshot.data_hash;
    c.dirty = false;
    c.lastEventTime = snapshot.created_at;
  }

  /** The current model of a challenger (for tests and the bench). */
  pipeline(model: string, challenger: string): Pipeline | undefined {
    return this.challengers.get(model)?.find((c) => c.name === challenger)?.pipeline;
  }
}
