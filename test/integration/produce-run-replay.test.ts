/**
 * Issue 15's "done when": `feedbackloop produce examples/...` followed by
 * `run` gives the same labelled examples as `replay` of the same files. The
 * example files hold the awkward cases on purpose (a duplicate, an expert
 * correction a day later, an uncertain review, feedback before its
 * prediction, an unknown id, a label out of range, malformed lines, a
 * regression model). On the real stack: produce into fresh topics, `run
 * --only joiner` until it caught up; what it committed to labelled-examples
 * (arrival records aside) is, example for example, replay's labelled.jsonl
 * and unlabelled.jsonl.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import type { Admin } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KafkaTransport } from '../../adapters/kafka/transport.js';
import { uniqueName } from '../support/collect.js';
import { CLI, failIfDied, JoinerProcess, joinerEnvironment, pipelineTopics, ROOT } from '../support/joiner-process.js';
import { GroupProgress, joinerCodecs, pipelineTopicSpecs, readTopic } from '../support/joiner-kafka.js';
import { canonicalJson } from '../support/streams.js';
import { STACK } from '../support/stack.js';
import { closeStackClients, openStackClients } from '../support/kafka-clients.js';

const PARTITIONS = 3;
const EXAMPLES = join(ROOT, 'examples');
const CONFIG = join(EXAMPLES, 'config.yaml');
const FILES = ['--predictions', join(EXAMPLES, 'predictions.jsonl'), '--feedback', join(EXAMPLES, 'feedback.jsonl')];

describe('produce, then run: the labelled examples of replay', () => {
  let transport: KafkaTransport;
  let admin: Admin;
  let child: JoinerProcess | undefined;

  beforeAll(async () => {
    ({ transport, admin } = await openStackClients('produce-run-test'));
  });

  afterAll(async () => {
    await child?.stop();
    await closeStackClients({ transport, admin });
  });

  it('every labelled and expired example of the example files, and nothing else', async () => {
    const prefix = uniqueName('produce-run');
    const dir = join(ROOT, '.cache', 'test-state', prefix);
    mkdirSync(dir, { recursive: true });
    const topics = pipelineTopics(prefix);
    await transport.ensureTopics(pipelineTopicSpecs(topics, PARTITIONS));
    const env = joinerEnvironment({ clientId: prefix, topics, partitions: PARTITIONS });

    // The reference: replay of the same files, the same config and partition count, no servers.
    const replayEnv = { ...(process.env as Record<string, string>), FEEDBACKLOOP_KAFKA_BROKERS: '', FEEDBACKLOOP_CLICKHOUSE_URL: '', FEEDBACKLOOP_TOPICS_PARTITIONS: String(PARTITIONS) };
    execFileSync(process.execPath, [CLI, 'replay', ...FILES, '--out', join(dir, 'replay'), '-c', CONFIG], { env: replayEnv, encoding: 'utf8' });
    const lines = (file: string) => readFileSync(join(dir, 'replay', file), 'utf8').split('\n').filter(Boolean).map((l) => canonicalJson(JSON.parse(l)));
    const expected = [...lines('labelled.jsonl'), ...lines('unlabelled.jsonl')].sort();
    expect(expected.length).toBeGreaterThan(5);

    execFileSync(process.execPath, [CLI, 'produce', '--quiet', ...FILES, '--dead-letters', join(dir, 'letters.jsonl'), '-c', CONFIG], { env, encoding: 'utf8' });
    child = await JoinerProcess.start({ name: `${prefix}-run`, env, config: CONFIG });
    const running = child;
    await new GroupProgress(admin, `${prefix}-joiner`, [topics.predictions, topics.feedback]).waitCaughtUp({
      timeoutMs: 60_000,
      check: () => failIfDied([running]),
    });
    await child.stop();
    child = undefined;

    const codecs = joinerCodecs(new SchemaRegistry({ host: STACK.registryUrl }), topics);
    const actual: string[] = [];
    for (const record of await readTopic(transport, topics.labelled, PARTITIONS)) {
      const example = await codecs.labelled.decode(record.value);
      if (!example.arrival) actual.push(canonicalJson(example));
    }
    expect(actual.sort()).toEqual(expected);
  });
});
