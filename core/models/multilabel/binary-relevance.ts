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
import { checkWeight, type ClassOptions } from '../multiclass/model.js';
import { PerClassBinary } from '../multiclass/per-class-binary.js';
import { ModelError } from '../snapshot.js';
import type { SparseVector } from '../vector.js';
import type { MultilabelEstimator } from './model.js';

export class BinaryRelevance extends PerClassBinary implements MultilabelEstimator {
  readonly algorithm = 'binary_relevance';
  readonly task = 'multilabel' as const;

  constructor(base: Estimator, options: ClassOptions = {}) {
    super('binary_relevance', base, options, 'labels');
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
    for (const label of labels) if (this.set.indexOf(label) < 0) this.addClass(label);
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

  clone(): BinaryRelevance {
    return new BinaryRelevance(this.base, this.cloneOptions());
  }
}
