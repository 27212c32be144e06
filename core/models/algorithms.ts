/**
 * Rebuilding models from snapshots: the algorithm name picks the class, the
 * hyperparameters go to its constructor, the state is loaded into it.
 * A snapshot survives JSON.stringify / JSON.parse and predicts bit-identically
 * afterwards (see snapshot.ts).
 */
import { FTRLLogisticRegression, type FTRLOptions } from './ftrl.js';
import { LinearRegression, LogisticRegression, type LinearOptions } from './linear.js';
import type { Estimator } from './model.js';
import { GaussianNB } from './naive-bayes.js';
import { PAClassifier, PARegressor, type PAClassifierOptions, type PARegressorOptions } from './pa.js';
import { Pipeline } from './pipeline.js';
import {
  FeatureHasher,
  NumericFeatures,
  OneHotEncoder,
  StandardScaler,
  type Encoder,
  type FeatureHasherHyperparameters,
  type OneHotHyperparameters,
} from './preprocessing.js';
import { asObject, FieldReader, ModelError, readEnvelope, type JsonObject } from './snapshot.js';

const ESTIMATORS: Record<string, (hyperparameters: JsonObject) => Estimator> = {
  logistic_regression: (h) => new LogisticRegression(h as LinearOptions),
  linear_regression: (h) => new LinearRegression(h as LinearOptions),
  ftrl_logistic_regression: (h) => new FTRLLogisticRegression(h as FTRLOptions),
  pa_classifier: (h) => new PAClassifier(h as PAClassifierOptions),
  pa_regressor: (h) => new PARegressor(h as PARegressorOptions),
  gaussian_nb: () => new GaussianNB(),
};

const ENCODERS: Record<string, (hyperparameters: JsonObject) => Encoder> = {
  numeric: () => new NumericFeatures(),
  standard_scaler: () => new StandardScaler(),
  one_hot: (h) => new OneHotEncoder(h as Partial<OneHotHyperparameters>),
  feature_hasher: (h) => new FeatureHasher(h as Partial<FeatureHasherHyperparameters>),
};

/** The algorithms modelFromSnapshot knows. */
export const ALGORITHMS: readonly string[] = [...Object.keys(ESTIMATORS), 'pipeline'];

function lookup<T>(table: Record<string, T>, name: string, what: string): T {
  if (!Object.prototype.hasOwnProperty.call(table, name)) {
    throw new ModelError(`${what}: unknown ${JSON.stringify(name)} (known: ${Object.keys(table).join(', ')})`);
  }
  return table[name]!;
}

/** A new, untrained estimator of that algorithm with those hyperparameters. */
export function createEstimator(algorithm: string, hyperparameters: JsonObject = {}): Estimator {
  return lookup(ESTIMATORS, algorithm, 'estimator algorithm')(hyperparameters);
}

/** The encoders of a pipeline's hyperparameters (`encoders`: [{ kind, ...hyperparameters }]); also used by the multi-class pipeline. */
export function encodersOf(r: FieldReader): Encoder[] {
  return r.array('encoders').map((entry, i) => {
    const e = new FieldReader(entry, `${r.path}.encoders[${i}]`);
    const { kind: _kind, ...rest } = entry as JsonObject;
    return lookup(ENCODERS, e.string('kind'), `${e.path}.kind`)(rest);
  });
}

function pipelineOf(hyperparameters: JsonObject): Pipeline {
  const r = new FieldReader(hyperparameters, 'pipeline.hyperparameters');
  const encoders = encodersOf(r);
  const estimator = r.child('estimator');
  return new Pipeline(encoders, createEstimator(estimator.string('algorithm'), estimator.object('hyperparameters')));
}

/**
 * The model a snapshot describes (after JSON.parse is fine): a Pipeline for
 * "pipeline", an Estimator otherwise. Throws a ModelError naming the field
 * when the algorithm, version or state is not what this build reads.
 */
export function modelFromSnapshot(snapshot: unknown): Pipeline | Estimator {
  const s = readEnvelope(snapshot);
  if (s.algorithm === 'pipeline') {
    const pipeline = pipelineOf(s.hyperparameters);
    const r = new FieldReader(s.state, 'pipeline.state');
    const encoderStates = r.array('encoders');
    if (encoderStates.length !== pipeline.encoders.length) {
      throw new ModelError(`pipeline.state.encoders: ${encoderStates.length} states for ${pipeline.encoders.length} encoders`);
    }
    pipeline.restoreState(
      r.count('columns'),
      encoderStates.map((state, i) => asObject(state, `pipeline.state.encoders[${i}]`)),
      r.object('estimator'),
    );
    return pipeline;
  }
  const estimator = createEstimator(s.algorithm, s.hyperparameters);
  estimator.restoreState(s.state);
  return estimator;
}

/** Like modelFromSnapshot, for callers that score events: the snapshot must be a pipeline. */
export function pipelineFromSnapshot(snapshot: unknown): Pipeline {
  const model = modelFromSnapshot(snapshot);
  if (!(model instanceof Pipeline)) {
    throw new ModelError(`snapshot: a "${model.algorithm}" estimator reads numbered columns; wrap it in a pipeline to score events`);
  }
  return model;
}
