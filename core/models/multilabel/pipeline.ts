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
 * example changes nothing. One SparseVector is reused for every example.
 */
import type { FeatureSpec } from '../../events.js';
import type { ModelInput } from '../model.js';
import { featureSchemaOf } from '../pipeline.js';
import { ColumnSpace, type Encoder } from '../preprocessing.js';
import { SNAPSHOT_VERSION, type JsonObject, type ModelSnapshotData } from '../snapshot.js';
import { SparseVector } from '../vector.js';
import type { MultilabelEstimator } from './model.js';

/** The decision threshold of predictOne when none is given (a label applies when its probability is at least this). */
export const DEFAULT_LABEL_THRESHOLD = 0.5;

export class MultilabelPipeline {
  readonly algorithm = 'multilabel_pipeline';
  readonly task = 'multilabel' as const;
  readonly encoders: readonly Encoder[];
  readonly estimator: MultilabelEstimator;
  private readonly columns = new ColumnSpace();
  private readonly vector = new SparseVector(32);

  constructor(encoders: Encoder[], estimator: MultilabelEstimator) {
    this.encoders = [...encoders];
    this.estimator = estimator;
    for (const encoder of this.encoders) encoder.attach(this.columns);
  }

  get trainingCount(): number {
    return this.estimator.trainingCount;
  }

  /** The labels, in the order of predictProbaOne's probabilities. */
  classes(): readonly string[] {
    return this.estimator.classes();
  }

  /** Bounds the feature names each encoder learns (as Pipeline.limitFeatureNames). */
  limitFeatureNames(max: number): this {
    this.columns.maxNames = max;
    return this;
  }

  get skippedFeatureNames(): number {
    return this.columns.skippedNames;
  }

  get columnCount(): number {
    return this.columns.size;
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

  /** x as the estimator sees it (allocates; for inspection). */
  transformOne(x: ModelInput): Array<[number, number]> {
    return this.encode(x, false).entries();
  }

  private encode(x: ModelInput, learn: boolean): SparseVector {
    const v = this.vector;
    v.clear();
    const encoders = this.encoders;
    for (let e = 0; e < encoders.length; e++) encoders[e]!.encode(x, v, learn);
    return v;
  }

  featureSchema(): FeatureSpec[] {
    return featureSchemaOf(this.encoders);
  }

  clone(): MultilabelPipeline {
    return new MultilabelPipeline(
      this.encoders.map((e) => e.clone()),
      this.estimator.clone(),
    );
  }

  hyperparameters(): JsonObject {
    return {
      encoders: this.encoders.map((e) => ({ kind: e.kind, ...e.hyperparameters() })),
      estimator: { algorithm: this.estimator.algorithm, hyperparameters: this.estimator.hyperparameters() },
    };
  }

  toSnapshot(): ModelSnapshotData {
    return {
      algorithm: this.algorithm,
      version: SNAPSHOT_VERSION,
      hyperparameters: this.hyperparameters(),
      state: {
        columns: this.columns.size,
        encoders: this.encoders.map((e) => e.state()),
        estimator: this.estimator.toSnapshot().state,
      },
    };
  }

  /** Loads a toSnapshot().state into a pipeline built from the same hyperparameters. */
  restoreState(columns: number, encoderStates: JsonObject[], estimatorState: JsonObject): void {
    this.columns.size = columns;
    encoderStates.forEach((state, i) => this.encoders[i]!.restoreState(state));
    this.estimator.restoreState(estimatorState);
  }
}
