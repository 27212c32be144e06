/**
 * Rebuilding multi-class models from snapshots (algorithms.ts for the
 * multi-class learners): the algorithm name picks the class, the
 * hyperparameters go to its constructor, the state is loaded into it; the
 * result predicts bit-identically, also after JSON.stringify / JSON.parse.
 *
 * one_vs_rest's hyperparameters name its binary estimator
 * (`estimator: { algorithm, hyperparameters }`, any of algorithms.ts's).
 */
import { createEstimator, encodersOf } from '../algorithms.js';
import { asObject, FieldReader, ModelError, readEnvelope, type JsonObject } from '../snapshot.js';
import type { ClassOptions, MulticlassEstimator } from './model.js';
import { GaussianNBMulticlass } from './naive-bayes.js';
import { OneVsRest } from './one-vs-rest.js';
import { MulticlassPipeline } from './pipeline.js';
import { SoftmaxRegression, type SoftmaxOptions } from './softmax.js';

function classOptions(h: JsonObject): ClassOptions {
  return { classes: h['classes'] as string[] | undefined, maxClasses: h['maxClasses'] as number | undefined };
}

const ESTIMATORS = new Map<string, (hyperparameters: JsonObject) => MulticlassEstimator>([
  ['softmax_regression', (h) => new SoftmaxRegression(h as SoftmaxOptions)],
  [
    'one_vs_rest',
    (h) => {
      const e = new FieldReader(h, 'one_vs_rest.hyperparameters').child('estimator');
      return new OneVsRest(createEstimator(e.string('algorithm'), e.object('hyperparameters')), classOptions(h));
    },
  ],
  ['gaussian_nb_multiclass', (h) => new GaussianNBMulticlass(classOptions(h))],
]);

/** The multi-class algorithms multiclassFromSnapshot knows. */
export const MULTICLASS_ALGORITHMS: readonly string[] = [...ESTIMATORS.keys(), 'multiclass_pipeline'];

/** A new, untrained multi-class estimator of that algorithm with those hyperparameters. */
export function createMulticlassEstimator(algorithm: string, hyperparameters: JsonObject = {}): MulticlassEstimator {
  const make = ESTIMATORS.get(algorithm);
  if (make === undefined) throw new ModelError(`multi-class estimator algorithm: unknown ${JSON.stringify(algorithm)} (known: ${[...ESTIMATORS.keys()].join(', ')})`);
  return make(hyperparameters);
}

/**
 * The multi-class model a snapshot describes: a MulticlassPipeline for
 * "multiclass_pipeline", a MulticlassEstimator otherwise. Throws a
 * ModelError naming the field when something is not what this build reads.
 */
export function multiclassFromSnapshot(snapshot: unknown): MulticlassPipeline | MulticlassEstimator {
  const s = readEnvelope(snapshot);
  if (s.algorithm !== 'multiclass_pipeline') {
    const estimator = createMulticlassEstimator(s.algorithm, s.hyperparameters);
    estimator.restoreState(s.state);
    return estimator;
  }
  const h = new FieldReader(s.hyperparameters, 'multiclass_pipeline.hyperparameters');
  const e = h.child('estimator');
  const pipeline = new MulticlassPipeline(encodersOf(h), createMulticlassEstimator(e.string('algorithm'), e.object('hyperparameters')));
  const r = new FieldReader(s.state, 'multiclass_pipeline.state');
  const states = r.array('encoders');
  if (states.length !== pipeline.encoders.length) {
    throw new ModelError(`multiclass_pipeline.state.encoders: ${states.length} states for ${pipeline.encoders.length} encoders`);
  }
  pipeline.restoreState(
    r.count('columns'),
    states.map((state, i) => asObject(state, `multiclass_pipeline.state.encoders[${i}]`)),
    r.object('estimator'),
  );
  return pipeline;
}

/** Like multiclassFromSnapshot, for callers that score events: the snapshot must be a multi-class pipeline. */
export function multiclassPipelineFromSnapshot(snapshot: unknown): MulticlassPipeline {
  const model = multiclassFromSnapshot(snapshot);
  if (!(model instanceof MulticlassPipeline)) {
    throw new ModelError(`snapshot: a "${model.algorithm}" estimator reads numbered columns; wrap it in a multiclass_pipeline to score events`);
  }
  return model;
}
