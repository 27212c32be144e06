/**
 * Binary relevance: one of our binary estimators (logistic regression, FTRL,
 * PA, naive Bayes...) per label, each learning "does this label apply?"
 * independently. River's `multioutput.PerOutputClassifier`, figure for
 * figure (test/integration/multilabel-reference.test.ts):
 *
 *  - a label first seen (discovered labels only) gets a fresh clone of the
 *    base estimator (untrained: it has missed the examples before; River
 *    deep-copies its classifier for an output key first seen), then every
 *    known label's model learns the example, label 1 when the label is in the
 *    true set and 0 when not (River given y = {label: label in set} over the
 *    labels known so far);
 *  - the probability of label l is its model's P(y = 1), unnormalised: the
 *    labels are independent (each in [0, 1], their sum anything).
 *
 * With `classes` given up front (the configured labels), every label has its
 * model from the start. Sample weights go to the binary models as they are.
 */
import type { Estimator } from '../model.js';
import { checkClassOptions, checkWeight, classHyperparameters, ClassSet, type ClassOptions } from '../multiclass/model.js';
import { asObject, FieldReader, ModelError, SNAPSHOT_VERSION, type JsonObject, type ModelSnapshotData } from '../snapshot.js';
import type { SparseVector } from '../vector.js';
import type { MultilabelEstimator } from './model.js';

export class BinaryRelevance implements MultilabelEstimator {
  readonly algorithm = 'binary_relevance';
  readonly task = 'multilabel' as const;
  /** The untrained binary model every label's model is a clone of. */
  readonly base: Estimator;
  private readonly set: ClassSet;
  private models: Estimator[] = [];
  private count = 0;

  constructor(base: Estimator, options: ClassOptions = {}) {
    if (base?.task !== 'binary') throw new ModelError(`binary_relevance: the base estimator must be a binary model, got ${JSON.stringify(base?.algorithm)} (${base?.task})`);
    this.base = base.clone();
    const c = checkClassOptions(this.algorithm, options);
    this.set = new ClassSet(this.algorithm, c.classes, c.maxClasses);
    for (let k = 0; k < this.set.size; k++) this.models.push(this.base.clone());
  }

  get trainingCount(): number {
    return this.count;
  }

  classes(): readonly string[] {
    return this.set.list();
  }

  /** The binary model of each label, in label order (live objects: for inspection). */
  estimators(): readonly Estimator[] {
    return this.models;
  }

  checkExample(labels: ReadonlySet<string>, weight: number): boolean {
    if (!(labels instanceof Set)) throw new ModelError(`${this.algorithm}: the true labels must be a Set of label names`);
    let unseen = 0;
    for (const label of labels) {
      if (this.set.indexOf(label) >= 0) continue;
      this.set.check(label); // not a string, or outside the fixed labels
      unseen++;
    }
    if (this.set.size + unseen > this.set.maxClasses) {
      throw new ModelError(`${this.algorithm}: ${unseen} new labels would make ${this.set.size + unseen}, beyond maxClasses (${this.set.maxClasses})`);
    }
    return checkWeight(this.algorithm, weight);
  }

  learnOne(x: SparseVector, labels: ReadonlySet<string>, weight = 1): void {
    if (!this.checkExample(labels, weight)) return;
    for (const label of labels) {
      if (this.set.indexOf(label) >= 0) continue;
      this.set.add(label);
      this.models.push(this.base.clone());
    }
    const models = this.models;
    const names = this.set.list();
    for (let l = 0; l < models.length; l++) models[l]!.learnOne(x, labels.has(names[l]!) ? 1 : 0, weight);
    this.count++;
  }

  predictProbaOne(x: SparseVector): Float64Array {
    const models = this.models;
    const out = new Float64Array(models.length);
    for (let l = 0; l < models.length; l++) out[l] = models[l]!.predictOne(x);
    return out;
  }

  finiteOn(x: SparseVector): boolean {
    for (const model of this.models) if (!Number.isFinite(model.rawOne ? model.rawOne(x) : model.predictOne(x))) return false;
    return true;
  }

  clone(): BinaryRelevance {
    const fixed = this.set.fixed;
    return new BinaryRelevance(this.base, fixed === null ? { maxClasses: this.set.maxClasses } : { classes: fixed, maxClasses: this.set.maxClasses });
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
    if (states.length !== names.length) throw new ModelError(`${r.path}.estimators: ${states.length} states for ${names.length} labels`);
    this.set.restore(names, `${r.path}.classes`);
    this.models = states.map((s, l) => {
      const model = this.base.clone();
      model.restoreState(asObject(s, `${r.path}.estimators[${l}]`));
      return model;
    });
    this.count = r.count('count');
  }
}
