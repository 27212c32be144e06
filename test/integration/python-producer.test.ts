/**
 * The README's "Connect your app", on the real stack: predictions through
 * `feedbackloop produce` (Avro through the registry, murmur2 partitioner, as
 * Java's client) and feedback from the Python example (examples/python/produce.py:
 * confluent-kafka, JSON values) with librdkafka's default partitioner (CRC32),
 * which puts most feedback on another partition than its prediction's.
 * `feedbackloop run --only joiner` must make every join: each misplaced
 * feedback is forwarded to its murmur2(prediction_id) partition and joined
 * there; none is unmatched or dead-lettered. Then the example's recommended
 * partitioner (murmur2_random) places every record right: nothing forwarded.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import type { Admin } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KafkaTransport } from '../../adapters/kafka/transport.js';
import { partitionForKey } from '../../adapters/transport/partitioner.js';
import { type Feedback, noFeedbackClasses, noPredictionClasses, type Prediction } from '../../core/events.js';
import { REROUTED_FROM_HEADER } from '../../processors/joiner.js';
import { uniqueName } from '../support/collect.js';
import { CLI, failIfDied, JoinerProcess, joinerEnvironment, pipelineTopics, ROOT } from '../support/joiner-process.js';
import { GroupProgress, joinerCodecs, pipelineTopicSpecs, readTopic } from '../support/joiner-kafka.js';
import { STACK } from '../support/stack.js';
import { closeStackClients, openStackClients } from '../support/kafka-clients.js';

const PREDICTIONS = 2_000;
const PARTITIONS = 3;
const PYTHON = join(ROOT, '.venv', 'bin', 'python');

describe('Connect your app: feedback from the Python example', () => {
  let transport: KafkaTransport;
  let admin: Admin;
  let child: JoinerProcess | undefined;

  beforeAll(async () => {
    execFileSync('bash', [join(ROOT, 'scripts/python-env.sh')], { stdio: 'inherit' });
    ({ transport, admin } = await openStackClients('python-producer-test'));
  });

  afterAll(async () => {
    await child?.stop();
    await closeStackClients({ transport, admin });
  });

  /** Sends the feedback through the Python example; returns its stdout. */
  function pythonProduce(file: string, topic: string, partitioner?: string): string {
    const args = [join(ROOT, 'examples/python/produce.py'), '--bootstrap-servers', STACK.brokers.join(','), '--topic', topic, '--file', file];
    if (partitioner) args.push('--partitioner', partitioner);
    return execFileSync(PYTHON, args, { encoding: 'utf8' });
  }

  it.each([
    ['consistent_random', 'librdkafka\'s default: misplaced feedback is forwarded and joined'],
    ['murmur2_random', 'the recommended setting: nothing to forward'],
  ])('%s (%s): every prediction labelled, nothing unmatched or dead-lettered', async (partitioner) => {
    const prefix = uniqueName(`python-${partitioner.replace('_', '-')}`);
    const topics = pipelineTopics(prefix);
    await transport.ensureTopics(pipelineTopicSpecs(topics, PARTITIONS));
    const codecs = joinerCodecs(new SchemaRegistry({ host: STACK.registryUrl }), topics);
    const start = Date.now() - 3 * 3_600_000;
    const predictions: Prediction[] = [];
    const feedback: Feedback[] = [];
    for (let i = 0; i < PREDICTIONS; i++) {
      const id = `${prefix}-p${i}`;
      predictions.push({ prediction_id: id, model: 'fraud', model_version: 'v1', timestamp: start + i * 1_000, features: { x: i % 7 }, categorical: {}, segments: {}, score: (i % 10) / 10, threshold: 0.5, shadow_scores: {}, ...noPredictionClasses() });
      feedback.push({ prediction_id: id, timestamp: start + i * 1_000 + 60_000, feedback_type: 'AUTO_VALIDATED', label: i % 3 === 0 ? 1 : 0, uncertain: false, source: null, notes: null, ...noFeedbackClasses() });
    }
    const dir = join(ROOT, '.cache', 'test-state', prefix);
    mkdirSync(dir, { recursive: true });
    const predictionsFile = join(dir, 'predictions.jsonl');
    writeFileSync(predictionsFile, predictions.map((p) => JSON.stringify(p)).join('\n') + '\n');
    const env = joinerEnvironment({ clientId: prefix, topics, partitions: PARTITIONS });
    const produced = execFileSync(process.execPath, [CLI, 'produce', '--quiet', '--predictions', predictionsFile, '--dead-letters', join(dir, 'letters.jsonl')], { env, encoding: 'utf8' });
    expect(produced).toBe(`sent ${PREDICTIONS} predictions to ${topics.predictions} and 0 feedback to ${topics.feedback}; no line refused\n`);
    const file = join(dir, 'feedback.jsonl');
    writeFileSync(file, feedback.map((f) => JSON.stringify(f)).join('\n') + '\n');
    expect(pythonProduce(file, topics.feedback, partitioner === 'murmur2_random' ? undefined : partitioner)).toContain(`${PREDICTIONS} records delivered`);

    child = await JoinerProcess.start({ name: `${prefix}-run`, env });
    const running = child;
    await new GroupProgress(admin, `${prefix}-joiner`, [topics.predictions, topics.feedback]).waitCaughtUp({
      timeoutMs: 120_000,
      check: () => failIfDied([running]),
    });
    await child.stop();
    child = undefined;

    const labels = new Map<string, number | null>();
    for (const record of await readTopic(transport, topics.labelled, PARTITIONS)) {
      const example = await codecs.labelled.decode(record.value);
      if (!example.arrival) labels.set(example.prediction_id, example.label);
    }
    expect(labels.size).toBe(PREDICTIONS);
    expect(feedback.every((f) => labels.get(f.prediction_id) === f.label)).toBe(true);
    expect((await readTopic(transport, topics.unmatched, PARTITIONS)).length).toBe(0);
    expect((await readTopic(transport, topics.deadLetters, PARTITIONS)).length).toBe(0);

    const feedbackRecords = await readTopic(transport, topics.feedback, PARTITIONS);
    const forwarded = feedbackRecords.filter((r) => r.headers[REROUTED_FROM_HEADER] !== undefined);
    for (const record of forwarded) expect(record.partition).toBe(partitionForKey(record.key!, PARTITIONS));
    expect(feedbackRecords.length).toBe(PREDICTIONS + forwarded.length);
    if (partitioner === 'murmur2_random') expect(forwarded.length).toBe(0);
    // CRC32 and murmur2 agree on about a third of the ids with 3 partitions.
    else expect(forwarded.length).toBeGreaterThan(PREDICTIONS / 3);
  });
});
