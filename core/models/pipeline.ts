/**
 * A pipeline: encoders side by side, then an estimator — the model the
 * learner trains and scorers load. It takes examples as events carry them
 * (`ModelInput`: a Prediction or LabelledExample fits as is).
 *
 *   new Pipeline([new StandardScaler(), new OneHotEncoder({ features: ['plan'] }),
 *                 new FeatureHasher({ features: ['merchant'], buckets: 1 << 18 })],
 *                new LogisticRegression({ optimizer: adam(0.01) }))
 *
 * River's equivalent is `(Select(numeric) | StandardScaler()) + OneHotEncoder()
 * + FeatureHasher() | LogisticRegression()`. As in River, learnOne updates the
 * encoders first and the estimator sees the example transformed with the
 * updated statistics; predictOne uses the statistics as they are.
 *
 * The encoders, the reused vector and the snapshot are EncodedPipeline's
 * (encoded-pipeline.ts): once the model has seen its features, nothing here
 * allocates. (V8 itself still boxes each double it
 * reads out of the caller's `features` object by name — 16 bytes a numeric
 * feature, short-lived — and a returned prediction when the call is not
 * inlined; bench/models/micro.ts measures both.)
 */
import { EncodedPipeline } from './encoded-pipeline.js';
import { checkExample, type Estimator, type ModelInput, type OnlineModel } from './model.js';

export { featureSchemaOf } from './encoded-pipeline.js';

export class Pipeline extends EncodedPipeline<Estimator> implements OnlineModel {
  readonly algorithm = 'pipeline';

  get task() {
    return this.estimator.task;
  }

  learnOne(x: ModelInput, y: number, weight = 1): void {
    // Checked before the encoders learn, so a bad example changes nothing.
    if (!checkExample(this.estimator.algorithm, this.estimator.task, y, weight)) return;
    this.estimator.learnOne(this.encode(x, true), y, weight);
  }

  /**
   * Is the model finite where the last learnOne changed it? The raw score
   * (the logit, not the probability: sigmoid(±Infinity) is finite) of the
   * example just learned, as the estimator saw it (the reused vector): one
   * sparse dot product, nothing allocated. A weight it touched, the intercept
   * or an encoded value that overflowed makes it NaN or infinite. The
   * trainer's last guard (core/learn/trainer.ts). Meaningless before a
   * learnOne, or after one of weight 0.
   */
  learnedFinite(): boolean {
    const estimator = this.estimator;
    return Number.isFinite(estimator.rawOne ? estimator.rawOne(this.vector) : estimator.predictOne(this.vector));
  }

  predictOne(x: ModelInput): number {
    return this.estimator.predictOne(this.encode(x, false));
  }

  clone(): Pipeline {
    return new Pipeline(
      this.encoders.map((e) => e.clone()),
      this.estimator.clone(),
    );
  }
}
