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
 * One SparseVector is reused for every example: once the model has seen its
 * features, nothing here allocates. (V8 itself still boxes each double it
 * reads out of the caller's `features` object by name — 16 bytes a numeric
 * feature, short-lived — and a returned prediction when the call is not
 * inlined; bench/models/micro.ts measures both.)
 */
import type { FeatureSpec } from '../events.js';
import { checkExample, type Estimator, type ModelInput, type OnlineModel } from './model.js';
import { ColumnSpace, type Encoder } from './preprocessing.js';
import { SNAPSHOT_VERSION, type JsonObject, type ModelSnapshotData } from './snapshot.js';
import { SparseVector } from './vector.js';

export class Pipeline implements OnlineModel {
  readonly algorithm = 'pipeline';
  readonly encoders: readonly Encoder[];
  readonly estimator: Estimator;
  private readonly columns = new ColumnSpace();
  private readonly vector = new SparseVector(32);

  constructor(encoders: Encoder[], estimator: Estimator) {
    this.encoders = [...encoders];
    this.estimator = estimator;
    for (const encoder of this.encoders) encoder.attach(this.columns);
  }

  get task() {
    return this.estimator.task;
  }

  get trainingCount(): number {
    return this.estimator.trainingCount;
  }

  /**
   * Bounds the feature names each of its encoders learns (ColumnSpace.maxNames;
   * learner.max_model_features): later names are skipped when learning.
   */
  limitFeatureNames(max: number): this {
    this.columns.maxNames = max;
    return this;
  }

  /** Names skipped by the bound so far (each time an example had one). */
  get skippedFeatureNames(): number {
    return this.columns.skippedNames;
  }

  /** Columns in use (the width of the estimator's arrays). */
  get columnCount(): number {
    return this.columns.size;
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

  /** x as the estimator sees it: (column, value) pairs, without learning (allocates; for inspection). */
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

  /** The input features the model knows, for ModelSnapshot.feature_schema. */
  featureSchema(): FeatureSpec[] {
    return featureSchemaOf(this.encoders);
  }

  clone(): Pipeline {
    return new Pipeline(
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

  /** Loads a toSnapshot().state into a pipeline built from the same hyperparameters (used by `modelFromSnapshot`). */
  restoreState(columns: number, encoderStates: JsonObject[], estimatorState: JsonObject): void {
    this.columns.size = columns;
    encoderStates.forEach((state, i) => this.encoders[i]!.restoreState(state));
    this.estimator.restoreState(estimatorState);
  }
}

/** The input features a pipeline's encoders know, each once (also used by the multi-class pipeline). */
export function featureSchemaOf(encoders: readonly Encoder[]): FeatureSpec[] {
  const seen = new Set<string>();
  const out: FeatureSpec[] = [];
  for (const encoder of encoders) {
    for (const spec of encoder.featureSpecs()) {
      const key = `${spec.kind}:${spec.name}`;
      if (!seen.has(key)) {
        seen.add(key);
        out.push(spec);
      }
    }
  }
  return out;
}
