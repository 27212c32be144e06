/**
 * The multi-class pipeline: encoders side by side, then a
 * MulticlassEstimator — pipeline.ts's Pipeline for a class label. It takes
 * examples as events carry them (`ModelInput`) and a class name:
 *
 *   new MulticlassPipeline([new StandardScaler()], new SoftmaxRegression({ classes: ['a', 'b', 'c'] }))
 *
 * As in River's `StandardScaler() | SoftmaxRegression()`, learnOne updates
 * the encoders first and the estimator sees the example transformed with
 * the updated statistics; predictProbaOne uses the statistics as they are.
 * The class and weight are checked before the encoders learn, so a bad
 * example changes nothing. The encoders, the reused vector and the snapshot
 * are EncodedPipeline's (../encoded-pipeline.ts).
 */
import { EncodedPipeline } from '../encoded-pipeline.js';
import type { ModelInput } from '../model.js';
import type { MulticlassEstimator } from './model.js';

export class MulticlassPipeline extends EncodedPipeline<MulticlassEstimator> {
  readonly algorithm = 'multiclass_pipeline';
  readonly task = 'multiclass' as const;

  /** The classes, in the order of predictProbaOne's probabilities. */
  classes(): readonly string[] {
    return this.estimator.classes();
  }

  learnOne(x: ModelInput, y: string, weight = 1): void {
    if (!this.estimator.checkExample(y, weight)) return;
    this.estimator.learnOne(this.encode(x, true), y, weight);
  }

  /** Probability per class in classes() order (a fresh Float64Array). */
  predictProbaOne(x: ModelInput): Float64Array {
    return this.estimator.predictProbaOne(this.encode(x, false));
  }

  /**
   * The decided class: the arg-max of the probabilities, the first class in
   * order on a tie; null before any class is known.
   */
  predictOne(x: ModelInput): string | null {
    const p = this.predictProbaOne(x);
    let best = -1;
    for (let c = 0; c < p.length; c++) if (best < 0 || p[c]! > p[best]!) best = c;
    return best < 0 ? null : this.classes()[best]!;
  }

  /** Is the model finite on the example the last learnOne learned (as Pipeline.learnedFinite)? */
  learnedFinite(): boolean {
    return this.estimator.finiteOn(this.vector);
  }

  clone(): MulticlassPipeline {
    return new MulticlassPipeline(
      this.encoders.map((e) => e.clone()),
      this.estimator.clone(),
    );
  }
}
