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
import type { SparseVector } from '../vector.js';
import { checkWeight, type ClassOptions, type MulticlassEstimator } from './model.js';
import { PerClassBinary } from './per-class-binary.js';

export class OneVsRest extends PerClassBinary implements MulticlassEstimator {
  readonly algorithm = 'one_vs_rest';
  readonly task = 'multiclass' as const;

  constructor(base: Estimator, options: ClassOptions = {}) {
    super('one_vs_rest', base, options, 'classes');
  }

  checkExample(y: string, weight: number): boolean {
    this.set.check(y);
    return checkWeight(this.algorithm, weight);
  }

  learnOne(x: SparseVector, y: string, weight = 1): void {
    if (!this.checkExample(y, weight)) return;
    let target = this.set.indexOf(y);
    if (target < 0) target = this.addClass(y);
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

  clone(): OneVsRest {
    return new OneVsRest(this.base, this.cloneOptions());
  }
}
