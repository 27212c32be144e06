/**
 * A challenger's model, whatever its task: a Pipeline (binary, regression:
 * one number per example) or a MulticlassPipeline (multiclass: one
 * probability per class, in the order of models.<name>.classes). A snapshot's
 * parameters say which (`algorithm`: "pipeline" or "multiclass_pipeline"), so
 * the trainer's restore, the shadow scorer and the scorer library rebuild
 * either from the text alone. A MultilabelPipeline (multilabel: one
 * independent probability per label, `multilabel_pipeline`) likewise.
 */
import {
  MulticlassPipeline, MultilabelPipeline, multiclassPipelineFromSnapshot, multilabelPipelineFromSnapshot, pipelineFromSnapshot, type Pipeline,
} from '../models/index.js';

export type ChallengerModel = Pipeline | MulticlassPipeline | MultilabelPipeline;

/** A model with one probability per class or label (multiclass, multilabel). */
export type ClassModel = MulticlassPipeline | MultilabelPipeline;

/** The model a snapshot's parsed parameters describe (a ModelError naming the field when they are not one). */
export function challengerFromSnapshot(parsed: unknown): ChallengerModel {
  const algorithm = parsed !== null && typeof parsed === 'object' ? (parsed as { algorithm?: unknown }).algorithm : undefined;
  if (algorithm === 'multiclass_pipeline') return multiclassPipelineFromSnapshot(parsed);
  if (algorithm === 'multilabel_pipeline') return multilabelPipelineFromSnapshot(parsed);
  return pipelineFromSnapshot(parsed);
}

export function isMulticlass(model: ChallengerModel): model is MulticlassPipeline {
  return model instanceof MulticlassPipeline;
}

export function isMultilabel(model: ChallengerModel): model is MultilabelPipeline {
  return model instanceof MultilabelPipeline;
}

/** A multiclass or multilabel model: probabilities by class (label) position. */
export function isClassModel(model: ChallengerModel): model is ClassModel {
  return model instanceof MulticlassPipeline || model instanceof MultilabelPipeline;
}
