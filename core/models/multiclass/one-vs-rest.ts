/**
 * One-vs-rest over any of our binary estimators (logistic regression, FTRL,
 * PA, naive Bayes...): one binary model per class, learning "is it this
 * class?". River's `multiclass.OneVsRestClassifier`, figure for figure:
 *
 *  - a class first seen gets a fresh clone of the base estimator (untrained:
 *    it has missed the examples before), then every class's model learns
 *    the example with label 1 for its class and 0 for the others;
 *  - the probability of class c is p_c / Σ p (the binary models' P(y = 1),
 *    summed in class order), or 1 / K for every class when Σ p is 0.
 *
 * With `classes` given up front, every class has its model from the start
 * (each then predicts its untrained P(y = 1), typically 0.5: uniform).
 * Sample weights go to the binary models as they are.
 */
import type { Estimator } from '../model.js';
import { asObject, FieldReader, ModelError, SNAPSHOT_VERSION, type JsonObject, type ModelSnapshotData } from '../snapshot.js';
import type { SparseVector } from '../vector.js';
import { checkClassOptions, checkWeight, classHyperparameters, ClassSet, type ClassOptions, type MulticlassEstimator } from './model.js';

export class OneVsRest implements MulticlassEstimator {
  readonly algorithm = 'one_vs_rest';
  readonly task = 'multiclass' as const;
  /** The untrained binary model every class's model is a clone of. */
  readonly base: Estimator;
  private readonly set: ClassSet;
  private models: Estimator[] = [];
  private count = 0;

  constructor(base: Estimator, options: ClassOptions = {}) {
    if (base?.task !== 'binary') throw new ModelError(`one_vs_rest: the base estimator must be a binary model, got ${JSON.stringify(base?.algorithm)} (${base?.task})`);
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

  /** The binary model of each class, in class order (live objects: for inspection). */
  estimators(): readonly Estimator[] {
    return this.models;
  }

  checkExample(y: string, weight: number): boolean {
    this.set.check(y);
    return checkWeight(this.algorithm, weight);
  }

  learnOne(x: SparseVector, y: string, weight = 1): void {
    if (!this.checkExample(y, weight)) return;
    let target = this.set.indexOf(y);
    if (target < 0) {
      target = this.set.add(y);
      this.models.push(this.base.clone());
    }
    const models = this.models;
    for (let c = 0; c < models.length; c++) models[c]!.learnOne(x, c === target ? 1 : 0, weight);
    this.count++;
  }

  predictProbaOne(x: SparseVector): Float64Array {
    const models = this.models;
    const out = new Float64Array(models.length);
    let total = 0;
    for (let c = 0; c < models.length; c++) {
      const p = models[c]!.predictOne(x);
      out[c] = p;
      total += p;
    }
    // River tests `if total:` — NaN is true there, so only an exact 0 falls back to uniform.
    if (total !== 0) for (let c = 0; c < out.length; c++) out[c] = out[c]! / total;
    else out.fill(1 / out.length);
    return out;
  }

  finiteOn(x: SparseVector): boolean {
    for (const model of this.models) if (!Number.isFinite(model.rawOne ? model.rawOne(x) : model.predictOne(x))) return false;
    return true;
  }

  clone(): OneVsRest {
    const fixed = this.set.fixed;
    return new OneVsRest(this.base, fixed === null ? { maxClasses: this.set.maxClasses } : { classes: fixed, maxClasses: this.set.maxClasses });
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
    if (states.length !== names.length) throw new ModelError(`${r.path}.estimators: ${states.length} states for ${names.length} classes`);
    this.set.restore(names, `${r.path}.classes`);
    this.models = states.map((s, c) => {
      const model = this.base.clone();
      model.restoreState(asObject(s, `${r.path}.estimators[${c}]`));
      return model;
    });
    this.count = r.count('count');
  }
}
