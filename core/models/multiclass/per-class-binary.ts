/**
 * One of our binary estimators per class (or label), each a clone of an
 * untrained base: what one-vs-rest (one-vs-rest.ts) and binary relevance
 * (../multilabel/binary-relevance.ts) share — the class set, the models in
 * class order, the count of examples learned, and their hyperparameters,
 * snapshot and restore. A subclass says how an example teaches the models
 * and how their probabilities combine.
 */
import type { Estimator } from '../model.js';
import { asObject, FieldReader, ModelError, SNAPSHOT_VERSION, type JsonObject, type ModelSnapshotData } from '../snapshot.js';
import type { SparseVector } from '../vector.js';
import { checkClassOptions, classHyperparameters, ClassSet, type ClassOptions } from './model.js';

export abstract class PerClassBinary {
  abstract readonly algorithm: string;
  /** The untrained binary model every class's model is a clone of. */
  readonly base: Estimator;
  protected readonly set: ClassSet;
  protected models: Estimator[] = [];
  protected count = 0;

  /** `noun`: what a class is called in messages ("classes", "labels"). */
  constructor(algorithm: string, base: Estimator, options: ClassOptions, private readonly noun: string) {
    if (base?.task !== 'binary') throw new ModelError(`${algorithm}: the base estimator must be a binary model, got ${JSON.stringify(base?.algorithm)} (${base?.task})`);
    this.base = base.clone();
    const c = checkClassOptions(algorithm, options);
    this.set = new ClassSet(algorithm, c.classes, c.maxClasses);
    for (let k = 0; k < this.set.size; k++) this.models.push(this.base.clone());
  }

  get trainingCount(): number {
    return this.count;
  }

  classes(): readonly string[] {
    return this.set.list();
  }

  /** The binary model of each class, in class order (live objects: for inspection). */
  estimators(): readonly Estimator[] {
    return this.models;
  }

  /** Adds a class first seen, with a fresh clone of the base (it has missed the examples before); returns its index. */
  protected addClass(name: string): number {
    const index = this.set.add(name);
    this.models.push(this.base.clone());
    return index;
  }

  finiteOn(x: SparseVector): boolean {
    for (const model of this.models) if (!Number.isFinite(model.rawOne ? model.rawOne(x) : model.predictOne(x))) return false;
    return true;
  }

  /** The options a clone is built with: the same fixed classes (or none) and bound. */
  protected cloneOptions(): ClassOptions {
    const fixed = this.set.fixed;
    return fixed === null ? { maxClasses: this.set.maxClasses } : { classes: fixed, maxClasses: this.set.maxClasses };
  }

  hyperparameters(): JsonObject {
    return {
      estimator: { algorithm: this.base.algorithm, hyperparameters: this.base.hyperparameters() },
      ...classHyperparameters(this.set.fixed, this.set.maxClasses),
    };
  }

  toSnapshot(): ModelSnapshotData {
    return {
      algorithm: this.algorithm,
      version: SNAPSHOT_VERSION,
      hyperparameters: this.hyperparameters(),
      state: { classes: [...this.set.list()], estimators: this.models.map((m) => m.toSnapshot().state), count: this.count },
    };
  }

  restoreState(state: JsonObject): void {
    const r = new FieldReader(state, `${this.algorithm}.state`);
    const names = r.strings('classes');
    const states = r.array('estimators');
    if (states.length !== names.length) throw new ModelError(`${r.path}.estimators: ${states.length} states for ${names.length} ${this.noun}`);
    this.set.restore(names, `${r.path}.classes`);
    this.models = states.map((s, c) => {
      const model = this.base.clone();
      model.restoreState(asObject(s, `${r.path}.estimators[${c}]`));
      return model;
    });
    this.count = r.count('count');
  }
}
