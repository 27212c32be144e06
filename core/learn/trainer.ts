/**
 * The challenger trainer (pure core): labelled examples in, model snapshots out.
 *
 * Each model has challengers (named presets, see presets.ts), each an
 * OnlineModel pipeline trained online from the labelled examples of its
 * model, with the features as logged at prediction time. A correction
 * cannot be unlearned from an online model, so by default the corrected
 * label is learned as a new example (the model has then seen the
 * prediction twice, once with each label; `trainOnCorrections: false`
 * skips corrections instead). Expired, unlabelled predictions are skipped,
 * and so are arrival records (`arrival`: a prediction as it arrived, no
 * label), uncounted: the trainer is the same with or without them.
 *
 * Snapshots: `snapshot(at)` returns a ModelSnapshot for every challenger
 * that learned something since its last snapshot, with version
 * `<model>/<challenger>@<n>` (n counts that challenger's snapshots), the
 * parent version, the training count, and a data hash chained over the
 * example ids learned from, in order (equal hashes = the same examples in
 * the same order). `restore` loads a snapshot back, so a restarted trainer
 * goes on from exactly the published state.
 *
 * Two guards keep a challenger finite (issue 12: features around 1e308 turned
 * a logistic regression into NaN for good):
 *  - the bound: an example with a numeric feature, or (regression) a label,
 *    whose absolute value exceeds `maxFeatureMagnitude` is learned by no
 *    challenger; `learn` throws a ValidationError naming the model, the
 *    feature and the value (the learner processor dead-letters it);
 *  - the last guard: after each learn step the challenger scores the example
 *    it just learned, as the estimator saw it (`Pipeline.learnedFinite`: one
 *    sparse dot product on the vector already encoded, no allocation). A
 *    non-finite raw score (logit or value) means a weight it touched, the
 *    intercept or an encoded value overflowed; that challenger is then rebuilt
 *    from its last snapshot (published or restored; untrained if none), losing
 *    what it learned since, and `learn` returns a message saying so. Copying the
 *    state before every step would cost a snapshot per example; the score check
 *    costs one dot product. It does not read the optimizer's accumulators nor
 *    the encoders' statistics: the bound keeps those finite (squares of values
 *    up to 1e150 are finite; the config caps the bound there).
 *
 * Multiclass models (issue 16): the challengers are MulticlassPipelines built
 * with the model's configured classes (`classesOf`, models.<name>.classes)
 * and learn `label_class`, the true class; the numeric head (`label`, the
 * models.<name>.numeric_target) is not learned and not bounded. An example
 * that only says which class it was NOT (`rejected_class` without
 * `label_class`: a rejection without the right class) is skipped and counted
 * in `rejections_skipped`: softmax regression has no "not this class"
 * update, and learning it as a negative for one-vs-rest only would make the
 * presets learn from different examples.
 *
 * Multilabel models: the challengers are MultilabelPipelines (binary
 * relevance) built with the model's configured labels and learn `labels`,
 * the resolved true set (the empty set included: no label applies); the
 * numeric `label` is not read nor bounded.
 *
 * Feature names come from input, and each new one grows a challenger (a
 * column, its statistics, its weights), so each challenger's encoders learn
 * at most `maxModelFeatures` names each (Pipeline.limitFeatureNames); a later
 * name is ignored when learning, as an unknown name is when scoring, and the
 * example counts in `features_ignored`. The names learned are in the
 * snapshots, so a restarted challenger knows the same ones.
 */
import { isLabelled } from '../contracts/labelled.js';
import { parseSnapshotVersion, snapshotVersion } from '../contracts/index.js';
import { ValidationError } from '../errors.js';
import type { LabelledExample, ModelKind, ModelSnapshot } from '../events.js';
import { murmur3, type Pipeline } from '../models/index.js';
import { DEFAULT_MAX_MODEL_FEATURES } from '../limits.js';
import { challengerFromSnapshot, isClassModel, isMulticlass, isMultilabel, type ChallengerModel } from './challenger-model.js';
import { challengerNames, createChallenger } from './presets.js';

export interface TrainerOptions {
  kindOf: (model: string) => ModelKind;
  /** A multiclass model's classes, in order (models.<name>.classes); none for the others. */
  classesOf: (model: string) => readonly string[];
  /** Challenger preset names per model; empty: the default (presets.ts challengerNames); [none]: none. */
  challengersOf: (model: string) => string[];
  trainOnCorrections: boolean;
  /** Examples with a numeric feature (or a regression label) beyond ± this are not learned (see the file comment). */
  maxFeatureMagnitude: number;
  /** Feature names each challenger's encoders learn, each (see the file comment). */
  maxModelFeatures: number;
  /** Builds a challenger from its preset name, the model's kind and classes (tests may build others). */
  build: (name: string, kind: ModelKind, classes: readonly string[]) => ChallengerModel;
}

export const DEFAULT_TRAINER_OPTIONS: TrainerOptions = {
  kindOf: () => 'binary',
  classesOf: () => [],
  challengersOf: () => [],
  trainOnCorrections: true,
  maxFeatureMagnitude: 1e9,
  maxModelFeatures: DEFAULT_MAX_MODEL_FEATURES,
  build: createChallenger,
};

interface Challenger {
  model: string;
  name: string;
  pipeline: ChallengerModel;
  /** Snapshots published so far (the next version is @sequence+1). */
  sequence: number;
  parent: string | null;
  dataHash: string;
  /** Learned since the last snapshot. */
  dirty: boolean;
  /** Event time of the newest example learned. */
  lastEventTime: number;
  /** The last snapshot made or restored (parameters text; null: none yet), what the last guard goes back to. */
  good: { parameters: string | null; dataHash: string; lastEventTime: number };
}

export interface TrainerCounters {
  learned: number;
  corrections_learned: number;
  corrections_skipped: number;
  unlabelled_skipped: number;
  /** Multiclass examples with only `rejected_class` (not which class was right): not learned. */
  rejections_skipped: number;
  /** Examples a challenger could not learn (ModelError: e.g. a label that is not 0/1 for a binary model). */
  rejected: number;
  /** Examples refused by the bound (a feature or label beyond maxFeatureMagnitude). */
  out_of_bounds: number;
  /** Challengers rebuilt from their last snapshot by the last guard (a learn step left them non-finite). */
  reverted: number;
  /** Examples with a feature name some challenger ignored, past maxModelFeatures. */
  features_ignored: number;
}

/** Chains an example id into a data hash (murmur3 of the previous hash and the id; 8 hex digits). */
export function chainHash(previous: string, exampleId: string): string {
  return (murmur3(`${previous}\u0000${exampleId}`, 0x5eed) >>> 0).toString(16).padStart(8, '0'); // murmur3 is signed
}

export const EMPTY_DATA_HASH = '00000000';

export class ChallengerTrainer {
  readonly options: TrainerOptions;
  private readonly challengers = new Map<string, Challenger[]>();
  readonly counters: TrainerCounters = { learned: 0, corrections_learned: 0, corrections_skipped: 0, unlabelled_skipped: 0, rejections_skipped: 0, rejected: 0, out_of_bounds: 0, reverted: 0, features_ignored: 0 };

  constructor(options: Partial<TrainerOptions> = {}) {
    this.options = { ...DEFAULT_TRAINER_OPTIONS, ...options };
  }

  private challengersOf(model: string): Challenger[] {
    let list = this.challengers.get(model);
    if (!list) {
      const kind = this.options.kindOf(model);
      const configured = this.options.challengersOf(model);
      const names = challengerNames(configured, kind);
      list = names.map((name) => ({
        model, name, pipeline: this.bounded(this.options.build(name, kind, this.options.classesOf(model))), sequence: 0, parent: null, dataHash: EMPTY_DATA_HASH, dirty: false, lastEventTime: Number.NEGATIVE_INFINITY,
        good: { parameters: null, dataHash: EMPTY_DATA_HASH, lastEventTime: Number.NEGATIVE_INFINITY },
      }));
      this.challengers.set(model, list);
    }
    return list;
  }

  /**
   * Trains every challenger of the example's model on it (see the file comment
   * for corrections and the guards). Throws a ValidationError for an example
   * beyond the bound (nothing learned); returns a message for each challenger
   * the last guard rebuilt (empty: none).
   */
  learn(example: LabelledExample): string[] {
    if (example.arrival) return []; // not a label: no learning, no counter (joiner.emit_arrivals changes nothing here)
    // isLabelled (core/contracts/labelled.ts): for binary and regression, `label` is set.
    const kind = this.options.kindOf(example.model);
    const label = labelOf(example, kind);
    if (label === null) {
      this.counters.unlabelled_skipped++;
      return [];
    }
    if (label === REJECTION_ONLY) {
      this.counters.rejections_skipped++;
      return [];
    }
    if (example.correction_of !== null && !this.options.trainOnCorrections) {
      this.counters.corrections_skipped++;
      return [];
    }
    this.checkBound(example, typeof label === 'number' ? label : null);
    const eventTime = example.feedback_timestamp ?? example.timestamp;
    const reverted: string[] = [];
    let learnedBy = 0;
    let ignored = false;
    for (const c of this.challengersOf(example.model)) {
      const skipped = c.pipeline.skippedFeatureNames;
      try {
        learnOne(c.pipeline, example, label);
      } catch {
        this.counters.rejected++;
        continue;
      }
      if (c.pipeline.skippedFeatureNames > skipped) ignored = true;
      if (!c.pipeline.learnedFinite()) {
        reverted.push(this.revert(c, example.example_id));
        continue;
      }
      learnedBy++;
      c.dataHash = chainHash(c.dataHash, example.example_id);
      c.dirty = true;
      c.lastEventTime = Math.max(c.lastEventTime, eventTime);
    }
    if (ignored) this.counters.features_ignored++;
    if (learnedBy > 0) { // else rejected or reverted by every challenger: not learned.
      if (example.correction_of !== null) this.counters.corrections_learned++;
      else this.counters.learned++;
    }
    return reverted;
  }

  /** A challenger's pipeline with the bound on feature names (not part of its snapshot: set on every pipeline made or restored). */
  private bounded(pipeline: ChallengerModel): ChallengerModel {
    return pipeline.limitFeatureNames(this.options.maxModelFeatures);
  }

  /** The bound: throws (nothing learned) when a numeric feature or a regression label is beyond ± maxFeatureMagnitude. */
  private checkBound(example: LabelledExample, label: number | null): void {
    const max = this.options.maxFeatureMagnitude;
    const refuse = (what: string, value: number) => {
      this.counters.out_of_bounds++;
      throw new ValidationError(
        `model ${example.model}: ${what} = ${value} is beyond learner.max_feature_magnitude (${max}); example ${example.example_id} of prediction ${example.prediction_id} not learned`,
      );
    };
    const features = example.features;
    for (const name in features) {
      const v = features[name]!;
      if (v > max || v < -max) refuse(`feature ${JSON.stringify(name)}`, v);
    }
    if (label !== null && (label > max || label < -max)) refuse('label', label);
  }

  /** The last guard: challenger c goes back to its last snapshot (or starts untrained), and the message says so. */
  private revert(c: Challenger, exampleId: string): string {
    this.counters.reverted++;
    const kind = this.options.kindOf(c.model);
    c.pipeline = this.bounded(c.good.parameters === null ? this.options.build(c.name, kind, this.options.classesOf(c.model)) : challengerFromSnapshot(JSON.parse(c.good.parameters)));
    c.dataHash = c.good.dataHash;
    c.lastEventTime = c.good.lastEventTime;
    c.dirty = false;
    const back = c.parent ?? 'untrained';
    return `model ${c.model}: challenger ${c.name} turned non-finite learning example ${exampleId}; rebuilt from ${back} (what it learned since is lost)`;
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
        const parameters = JSON.stringify(c.pipeline.toSnapshot());
        c.good = { parameters, dataHash: c.dataHash, lastEventTime: c.lastEventTime };
        out.push({
          model: c.model,
          version,
          challenger: c.name,
          algorithm: c.pipeline.estimator.algorithm,
          parameters,
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
    c.pipeline = this.bounded(challengerFromSnapshot(JSON.parse(snapshot.parameters)));
    c.sequence = sequence;
    c.parent = snapshot.version;
    c.dataHash = snapshot.data_hash;
    c.dirty = false;
    c.lastEventTime = snapshot.created_at;
    c.good = { parameters: snapshot.parameters, dataHash: snapshot.data_hash, lastEventTime: snapshot.created_at };
  }

  /** The current model of a challenger (for tests and the bench). */
  pipeline(model: string, challenger: string): Pipeline | undefined {
    const m = this.model(model, challenger);
    return m === undefined || isClassModel(m) ? undefined : m;
  }

  /** The current model of a challenger, whatever its task. */
  model(model: string, challenger: string): ChallengerModel | undefined {
    return this.challengers.get(model)?.find((c) => c.name === challenger)?.pipeline;
  }
}

/** A multiclass example that names only the class it was not (see the file comment). */
const REJECTION_ONLY = Symbol('rejection only');

/** What a challenger learns: a number (binary, regression), a class (multiclass) or the true label set (multilabel). */
type Label = number | string | ReadonlySet<string>;

/** What a challenger of `kind` learns from the example: a label, a rejection only, or null (unlabelled). */
function labelOf(example: LabelledExample, kind: ModelKind): Label | typeof REJECTION_ONLY | null {
  // isLabelled (core/contracts/labelled.ts): for binary and regression, `label` is set; multiclass: label_class or rejected_class.
  if (!isLabelled(example, kind)) return null;
  if (kind === 'multiclass') return example.label_class ?? REJECTION_ONLY;
  if (kind === 'multilabel') return new Set(example.labels);
  return example.label;
}

function learnOne(model: ChallengerModel, example: LabelledExample, label: Label): void {
  if (isMulticlass(model)) {
    if (typeof label !== 'string') throw new ValidationError('a multiclass challenger learns a class name');
    model.learnOne(example, label);
  } else if (isMultilabel(model)) {
    if (!(label instanceof Set)) throw new ValidationError('a multilabel challenger learns a label set');
    model.learnOne(example, label);
  } else {
    if (typeof label !== 'number') throw new ValidationError(`a ${model.estimator.task} challenger learns a number`);
    model.learnOne(example, label);
  }
}
