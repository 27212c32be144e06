/**
 * What every pipeline shares (pipeline.ts for binary and regression models,
 * multiclass/pipeline.ts for class labels): encoders side by side over one
 * ColumnSpace, one SparseVector reused for every example, and an estimator
 * that reads it. A subclass adds only what its label is: learnOne,
 * predictOne and clone.
 *
 * As in River, learnOne updates the encoders first (`encode(x, true)`) and
 * the estimator sees the example transformed with the updated statistics;
 * predicting uses the statistics as they are (`encode(x, false)`). Once the
 * model has seen its features, encoding allocates nothing.
 */
import type { FeatureSpec } from '../events.js';
import type { ModelInput } from './model.js';
import { ColumnSpace, type Encoder } from './preprocessing.js';
import { SNAPSHOT_VERSION, type JsonObject, type ModelSnapshotData } from './snapshot.js';
import { SparseVector } from './vector.js';

/** The part of an estimator a pipeline snapshots and restores. */
export interface PipelineEstimator {
  readonly algorithm: string;
  readonly trainingCount: number;
  hyperparameters(): JsonObject;
  toSnapshot(): ModelSnapshotData;
  restoreState(state: JsonObject): void;
}

export abstract class EncodedPipeline<E extends PipelineEstimator> {
  abstract readonly algorithm: string;
  readonly encoders: readonly Encoder[];
  readonly estimator: E;
  private readonly columns = new ColumnSpace();
  /** The vector the last encode() filled (the example the last learnOne learned, after it). */
  protected readonly vector = new SparseVector(32);

  constructor(encoders: Encoder[], estimator: E) {
    this.encoders = [...encoders];
    this.estimator = estimator;
    for (const encoder of this.encoders) encoder.attach(this.columns);
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

  /** x as the estimator sees it: (column, value) pairs, without learning (allocates; for inspection). */
  transformOne(x: ModelInput): Array<[number, number]> {
    return this.encode(x, false).entries();
  }

  /** Fills the reused vector with x's encoding; `learn`: the encoders update their statistics first. */
  protected encode(x: ModelInput, learn: boolean): SparseVector {
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

  /** Loads a toSnapshot().state into a pipeline built from the same hyperparameters (used by the snapshot readers). */
  restoreState(columns: number, encoderStates: JsonObject[], estimatorState: JsonObject): void {
    this.columns.size = columns;
    encoderStates.forEach((state, i) => this.encoders[i]!.restoreState(state));
    this.estimator.restoreState(estimatorState);
  }
}

/** The input features a pipeline's encoders know, each once. */
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
