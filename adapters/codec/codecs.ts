/**
 * The codec of every event topic: Avro in the Confluent wire format through
 * the schema registry (subject `<topic>-value`) on Kafka, the same Avro
 * without a registry on the in-process log. The input topics (predictions,
 * feedback) also take JSON values, recognised per record (json-values.ts).
 */
import type { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import type { DeadLetter, Feedback, LabelledExample, ModelSnapshot, Prediction, PromotionDecision } from '../../core/events.js';
import { LocalCodec, RegistryCodec, type Codec } from './codec.js';
import { JsonOrAvroCodec } from './json-values.js';
import type { SchemaName } from './schemas.js';

export interface Codecs {
  prediction: Codec<Prediction>;
  feedback: Codec<Feedback>;
  labelled: Codec<LabelledExample>;
  snapshot: Codec<ModelSnapshot>;
  promotion: Codec<PromotionDecision>;
  deadLetter: Codec<DeadLetter>;
}

/** The topic names the codecs' subjects are named after. */
export interface CodecTopics {
  predictions: string;
  feedback: string;
  labelled_examples: string;
  model_snapshots: string;
  model_promotions: string;
  dead_letters: string;
}

export function makeCodecs(topics: CodecTopics, registry: SchemaRegistry | undefined): Codecs {
  const make = <T>(schema: SchemaName, topic: string): Codec<T> =>
    registry ? new RegistryCodec<T>(registry, schema, `${topic}-value`) : new LocalCodec<T>(schema);
  return {
    prediction: new JsonOrAvroCodec(make<Prediction>('Prediction', topics.predictions)),
    feedback: new JsonOrAvroCodec(make<Feedback>('Feedback', topics.feedback)),
    labelled: make('LabelledExample', topics.labelled_examples),
    snapshot: make('ModelSnapshot', topics.model_snapshots),
    promotion: make('PromotionDecision', topics.model_promotions),
    deadLetter: make('DeadLetter', topics.dead_letters),
  };
}
