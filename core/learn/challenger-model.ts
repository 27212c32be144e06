/**
 * A challenger's model, whatever its task: a Pipeline (binary, regression:
 * one number per example) or a MulticlassPipeline (multiclass: one
 * probability per class, in the order of models.<name>.classes). A snapshot's
 * parameters say which (`algorithm`: "pipeline" or "multiclass_pipeline"), so
 * the trainer's restore, the shadow scorer and the scorer library rebuild
 * either from the text alone.
 */
import { MulticlassPipeline, multiclassPipelineFromSnapshot, pipelineFromSnapshot, type Pipeline } from '../models/index.js';

export type ChallengerModel = Pipeline | MulticlassPipeline;

/** The model a snapshot's parsed parameters describe (a ModelError naming the field when they are not one). */
export function challengerFromSnapshot(parsed: unknown): ChallengerModel {
  const algorithm = parsed !== null && typeof parsed === 'object' ? (parsed as { algorithm?: unknown }).algorithm : undefined;
  return algorithm === 'multiclass_pipeline' ? multiclassPipelineFromSnapshot(parsed) : pipelineFromSnapshot(parsed);
}

export function isMulticlass(model: ChallengerModel): model is MulticlassPipeline {
  return model instanceof MulticlassPipeline;
}
