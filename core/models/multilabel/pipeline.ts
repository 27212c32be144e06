/**
 * The multi-label pipeline: encoders side by side, then a
 * MultilabelEstimator — multiclass/pipeline.ts's MulticlassPipeline for a
 * label set. It takes examples as events carry them (`ModelInput`) and the
 * true label set:
 *
 *   new MultilabelPipeline([new StandardScaler()], new BinaryRelevance(new LogisticRegression(), { classes: ['a', 'b'] }))
 *
 * As in River's `StandardScaler() | PerOutputClassifier(...)`, learnOne
 * updates the encoders first and the estimator sees the example transformed
 * with the updated statistics; predictProbaOne uses the statistics as they
 * are. The labels and weight are checked before the encoders learn, so a bad
 * example changes nothing. The encoders, the reused vector and the snapshot
 * are EncodedPipeline's (../encoded-pipeline.ts).
 */
import { EncodedPipeline } from '../encoded-pipeline.js';
import type { ModelInput } from '../model.js';
import type { MultilabelEstimator } from './model.js';

/** The decision threshold of predictOne when none is given (a label applies when its probability is at least this). */
export const DEFAULT_LABEL_THRESHOLD = 0.5;

export class MultilabelPipeline extends EncodedPipeline<MultilabelEstimator> {
  readonly algorithm = 'multilabel_pipeline';
  readonly task = 'multilabel' as const;

  /** The labels, in the order of predictProbaOne's probabilities. */
  classes(): readonly string[] {
    return this.estimator.classes();
  }

  learnOne(x: ModelInput, labels: ReadonlySet<string>, weight = 1): void {
    if (!this.estimator.checkExample(labels, weight)) return;
    this.estimator.learnOne(this.encode(x, true), labels, weight);
  }

  /** P(label applies) per label in classes() order (a fresh Float64Array). */
  predictProbaOne(x: ModelInput): Float64Array {
    return this.estimator.predictProbaOne(this.encode(x, false));
  }

  /** The decided labels: those whose probability is at least `threshold` (default 0.5), in label order. */
  predictOne(x: ModelInput, threshold = DEFAULT_LABEL_THRESHOLD): string[] {
    const p = this.predictProbaOne(x);
    const names = this.classes();
    return names.filter((_, l) => p[l]! >= threshold);
  }

  /** Is the model finite on the example the last learnOne learned (as Pipeline.learnedFinite)? */
  learnedFinite(): boolean {
    return this.estimator.finiteOn(this.vector);
  }

  clone(): MultilabelPipeline {
    return new MultilabelPipeline(
      this.encoders.map((e) => e.clone()),
      this.estimator.clone(),
    );
  }
}
