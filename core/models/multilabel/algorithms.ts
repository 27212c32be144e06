/**
 * Rebuilding multi-label models from snapshots (as multiclass/algorithms.ts):
 * the algorithm name picks the class, the hyperparameters go to its
 * constructor, the state is loaded into it; the result predicts
 * bit-identically, also after JSON.stringify / JSON.parse.
 *
 * binary_relevance's hyperparameters name its binary estimator
 * (`estimator: { algorithm, hyperparameters }`, any of algorithms.ts's).
 */
import { createEstimator, encodersOf } from '../algorithms.js';
import type { ClassOptions } from '../multiclass/model.js';
import { asObject, FieldReader, ModelError, readEnvelope, type JsonObject } from '../snapshot.js';
import { BinaryRelevance } from './binary-relevance.js';
import type { MultilabelEstimator } from './model.js';
import { MultilabelPipeline } from './pipeline.js';

function classOptions(h: JsonObject): ClassOptions {
  return { classes: h['classes'] as string[] | undefined, maxClasses: h['maxClasses'] as number | undefined };
}

const ESTIMATORS = new Map<string, (hyperparameters: JsonObject) => MultilabelEstimator>([
  [
    'binary_relevance',
    (h) => {
      const e = new FieldReader(h, 'binary_relevance.hyperparameters').child('estimator');
      return new BinaryRelevance(createEstimator(e.string('algorithm'), e.object('hyperparameters')), classOptions(h));
    },
  ],
]);

/** The multi-label algorithms multilabelFromSnapshot knows. */
export const MULTILABEL_ALGORITHMS: readonly string[] = [...ESTIMATORS.keys(), 'multilabel_pipeline'];

/** A new, untrained multi-label estimator of that algorithm with those hyperparameters. */
export function createMultilabelEstimator(algorithm: string, hyperparameters: JsonObject = {}): MultilabelEstimator {
  const make = ESTIMATORS.get(algorithm);
  if (make === undefined) throw new ModelError(`multi-label estimator algorithm: unknown ${JSON.stringify(algorithm)} (known: ${[...ESTIMATORS.keys()].join(', ')})`);
  return make(hyperparameters);
}

/** The multi-label model a snapshot describes (a MultilabelPipeline for "multilabel_pipeline"); a ModelError naming the field otherwise. */
export function multilabelFromSnapshot(snapshot: unknown): MultilabelPipeline | MultilabelEstimator {
  const s = readEnvelope(snapshot);
  if (s.algorithm !== 'multilabel_pipeline') {
    const estimator = createMultilabelEstimator(s.algorithm, s.hyperparameters);
    estimator.restoreState(s.state);
    return estimator;
  }
  const h = new FieldReader(s.hyperparameters, 'multilabel_pipeline.hyperparameters');
  const e = h.child('estimator');
  const pipeline = new MultilabelPipeline(encodersOf(h), createMultilabelEstimator(e.string('algorithm'), e.object('hyperparameters')));
  const r = new FieldReader(s.state, 'multilabel_pipeline.state');
  const states = r.array('encoders');
  if (states.length !== pipeline.encoders.length) {
    throw new ModelError(`multilabel_pipeline.state.encoders: ${states.length} states for ${pipeline.encoders.length} encoders`);
  }
  pipeline.restoreState(
    r.count('columns'),
    states.map((state, i) => asObject(state, `multilabel_pipeline.state.encoders[${i}]`)),
    r.object('estimator'),
  );
  return pipeline;
}

/** Like multilabelFromSnapshot, for callers that score events: the snapshot must be a multi-label pipeline. */
export function multilabelPipelineFromSnapshot(snapshot: unknown): MultilabelPipeline {
  const model = multilabelFromSnapshot(snapshot);
  if (!(model instanceof MultilabelPipeline)) {
    throw new ModelError(`snapshot: a "${model.algorithm}" estimator reads numbered columns; wrap it in a multilabel_pipeline to score events`);
  }
  return model;
}
