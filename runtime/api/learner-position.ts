/**
 * Where the learner of this config stands on a model's examples: the
 * partition of labelled-examples the model's records go to (keyed by model,
 * murmur2, as the joiner writes them) and the learner group's committed
 * offset there (`<kafka.client_id>-learner`), read from Kafka; and the rules
 * it learns by (learner.*, models.<name>.challengers). For
 * learning-backlog.ts.
 */
import type { Config } from '../../adapters/config/index.js';
import { modelChallengersOf, modelKindOf } from '../../adapters/config/models.js';
import type { LogTransport } from '../../adapters/transport/transport.js';
import { partitionForKey } from '../../adapters/transport/partitioner.js';
import { errorMessage, FeedbackloopError } from '../../core/errors.js';
import { challengerNames } from '../../core/learn/presets.js';
import { processorGroupId } from '../pipeline.js';
import type { LearnerPosition, LearnerRules } from './learning-backlog.js';

export interface LearnerSource {
  position(model: string): Promise<LearnerPosition>;
  rules(): LearnerRules;
  /** The challengers the learner trains for the model. */
  challengers(model: string): string[];
}

export function learnerSource(config: Config, transport: Pick<LogTransport, 'partitionCount' | 'committedOffsets'>): LearnerSource {
  const topic = config.topics.labelled_examples;
  const group = processorGroupId(config.kafka.client_id, 'learner');
  return {
    rules: () => ({ trainOnCorrections: config.learner.train_on_corrections, maxFeatureMagnitude: config.learner.max_feature_magnitude }),
    challengers: (model) => challengerNames(modelChallengersOf(config, model), modelKindOf(config, model)),
    position: async (model) => {
      const where = { topic, group, partition: null, offset: null };
      let partitions: number;
      try {
        partitions = await transport.partitionCount(topic);
      } catch (error) {
        // No such topic (the transports say so in these words; a refusal, e.g. by an ACL, is a problem).
        if (error instanceof FeedbackloopError && !error.retriable && error.message.includes(' does not exist')) return where;
        return { ...where, problem: `cannot read topic ${topic} on Kafka: ${errorMessage(error)}` };
      }
      const partition = partitionForKey(Buffer.from(model, 'utf8'), partitions);
      try {
        const committed = await transport.committedOffsets(group, topic);
        return { ...where, partition, offset: committed.find((c) => c.partition === partition)?.offset ?? null };
      } catch (error) {
        return { ...where, partition, problem: `cannot read the committed offsets of group ${group} on Kafka: ${errorMessage(error)}` };
      }
    },
  };
}
