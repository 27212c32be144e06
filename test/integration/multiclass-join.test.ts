/**
 * A multi-class model through `feedbackloop run --only joiner` on the real
 * stack (Kafka, the schema registry): predictions with class scores and a
 * numeric target (severity), a user's rejection corrected by an expert's
 * class and severity, and a prediction naming a class the model does not have.
 * The labelled-examples topic holds exactly the examples and correction the
 * contract says (Avro through the registry, LabelledExample schema version 4);
 * the unknown class is a dead letter naming it and the setting. And `run`
 * refuses to build the learner for such a model, saying why.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import type { Admin } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KafkaTransport } from '../../adapters/kafka/transport.js';
import { noFeedbackClasses, type Feedback, type LabelledExample, type Prediction } from '../../core/events.js';
import { uniqueName } from '../support/collect.js';
import { JoinerProcess, joinerEnvironment, pipelineTopics, STATE_DIR } from '../support/joiner-process.js';
import { GroupProgress, joinerCodecs, pipelineTopicSpecs, readTopic } from '../support/joiner-kafka.js';
import { STACK } from '../support/stack.js';
import { closeStackClients, openStackClients } from '../support/kafka-clients.js';

const HOUR = 3_600_000;
const CONFIG = `models:
  anomaly-type:
    task: multiclass
    classes: [spike, drift, outage]
    numeric_target: severity
`;

describe('a multi-class model through run --only joiner (real Kafka and registry)', () => {
  let transport: KafkaTransport;
  let admin: Admin;
  let child: JoinerProcess | undefined;

  beforeAll(async () => {
    ({ transport, admin } = await openStackClients('multiclass-join-test'));
  });

  afterAll(async () => {
    await child?.stop();
    await closeStackClients({ transport, admin });
  });

  it('joins a class-correcting feedback into the right labelled examples, and dead-letters an unknown class', async () => {
    const prefix = uniqueName('multiclass');
    const topics = pipelineTopics(prefix);
    await transport.ensureTopics(pipelineTopicSpecs(topics, 1));
    const folder = join(STATE_DIR, prefix);
    mkdirSync(folder, { recursive: true });
    const config = join(folder, 'config.yaml');
    writeFileSync(config, CONFIG);
    const codecs = joinerCodecs(new SchemaRegistry({ host: STACK.registryUrl }), topics);
    const t0 = Date.now() - 2 * HOUR;
    const prediction = (id: string, scores: Record<string, number>): Prediction => ({
      prediction_id: id, model: 'anomaly-type', model_version: 'v1', timestamp: t0, features: { latency: 812 }, categorical: { host: 'db-2' }, segments: {},
      score: 2.5, threshold: 0.5, shadow_scores: {}, class_scores: scores, predicted_class: null, predicted_labels: null,
    });
    const feedback = (id: string, at: number, fields: Partial<Feedback>): Feedback => ({
      prediction_id: id, timestamp: t0 + at, feedback_type: 'USER_REJECTED', label: null, uncertain: false, source: `s${at}`, notes: null, ...noFeedbackClasses(), ...fields,
    });
    const producer = await transport.producer();
    const send = async (topic: string, key: string, value: Buffer) => producer.send([{ topic, key: Buffer.from(key), value }]);
    await send(topics.predictions, 'a-1', await codecs.prediction.encode(prediction('a-1', { spike: 0.6, drift: 0.3, outage: 0.1 })));
    await send(topics.predictions, 'a-2', await codecs.prediction.encode(prediction('a-2', { spike: 0.5, surge: 0.5 })));
    await send(topics.feedback, 'a-1', await codecs.feedback.encode(feedback('a-1', 60_000, { feedback_type: 'USER_REJECTED' })));
    await send(topics.feedback, 'a-1', await codecs.feedback.encode(feedback('a-1', HOUR, { feedback_type: 'EXPERT_REVIEW', label_class: 'drift', label: 4 })));
    await producer.close();

    const env = joinerEnvironment({ clientId: prefix, topics, partitions: 1 });
    child = await JoinerProcess.start({ name: `${prefix}-run`, env, config });
    const running = child;
    await new GroupProgress(admin, `${prefix}-joiner`, [topics.predictions, topics.feedback]).waitCaughtUp({
      timeoutMs: 120_000,
      check: () => {
        if (running.diedOnItsOwn()) throw new Error(`${running.name} exited (${JSON.stringify(running.exit)}); log ${running.logFile}:\n${running.tail()}`);
      },
    });
    const examples: LabelledExample[] = [];
    for (const record of await readTopic(transport, topics.labelled, 1)) examples.push(await codecs.labelled.decode(record.value));
    const base = {
      prediction_id: 'a-1', model: 'anomaly-type', model_version: 'v1', timestamp: t0, features: { latency: 812 }, categorical: { host: 'db-2' }, segments: {},
      score: 2.5, threshold: 0.5, shadow_scores: {}, class_scores: { spike: 0.6, drift: 0.3, outage: 0.1 }, predicted_class: 'spike', predicted_labels: null, labels: null,
    };
    expect(examples).toEqual([
      {
        ...base, example_id: 'a-1#arrival', arrival: true, label: null, label_class: null, rejected_class: null,
        feedback_type: null, source: null, feedback_timestamp: null, label_delay_ms: null, correction_of: null, replaces: null,
      },
      {
        ...base, example_id: 'a-1#1', arrival: false, label: null, label_class: null, rejected_class: 'spike',
        feedback_type: 'USER_REJECTED', source: 's60000', feedback_timestamp: t0 + 60_000, label_delay_ms: 60_000, correction_of: null, replaces: null,
      },
      {
        ...base, example_id: 'a-1#2', arrival: false, label: 4, label_class: 'drift', rejected_class: null,
        feedback_type: 'EXPERT_REVIEW', source: `s${HOUR}`, feedback_timestamp: t0 + HOUR, label_delay_ms: HOUR, correction_of: 'a-1#1',
        replaces: { label: null, feedback_type: 'USER_REJECTED', source: 's60000', feedback_timestamp: t0 + 60_000, label_class: null, rejected_class: 'spike', labels: null },
      },
    ]);
    const letters = [];
    for (const record of await readTopic(transport, topics.deadLetters, 1)) letters.push(await codecs.deadLetter.decode(record.value));
    expect(letters.map((l) => [l.topic, l.stage, l.error_message])).toEqual([
      [topics.predictions, 'joiner', 'class_scores names "surge", which is not one of models.anomaly-type.classes ("spike", "drift", "outage")'],
    ]);
    await child.stop();
    child = undefined;
  }, 240_000);
});
