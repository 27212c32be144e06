/**
 * `feedbackloop produce` on the real stack: the example files (with their
 * malformed, out-of-range and oddly stamped lines on purpose) go into fresh
 * topics. What is sent and refused is what `replay` accepts and refuses of
 * the same files (the same rules); every record is Avro through the
 * registry, keyed by prediction_id, on its murmur2 partition; the refused
 * lines are in the dead-letter file with file, line and reason. Records are
 * stamped when sent, so a backfill is not past the topics' time retention.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RegistryCodec } from '../../adapters/codec/codec.js';
import { KafkaTransport } from '../../adapters/kafka/transport.js';
import { partitionForKey } from '../../adapters/transport/partitioner.js';
import type { Feedback, Prediction } from '../../core/events.js';
import { uniqueName } from '../support/collect.js';
import { CLI, ROOT } from '../support/joiner-process.js';
import { readTopic } from '../support/joiner-kafka.js';
import { requireStack, STACK, stackEnvironment } from '../support/stack.js';

const PARTITIONS = 3;
const EXAMPLES = join(ROOT, 'examples');

function cli(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { env, timeout: 120_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

describe('feedbackloop produce', () => {
  let transport: KafkaTransport;

  beforeAll(async () => {
    await requireStack('kafka', 'registry');
    transport = new KafkaTransport({ brokers: STACK.brokers, clientId: uniqueName('produce-test'), kafka: { logLevel: logLevel.NOTHING } });
  });

  afterAll(async () => {
    await transport?.close();
  });

  it('sends what replay accepts of the example files, refuses what it refuses, keyed and placed by prediction_id', async () => {
    const prefix = uniqueName('produce');
    const dir = join(ROOT, '.cache', 'test-state', prefix);
    mkdirSync(dir, { recursive: true });
    const topics = { predictions: `${prefix}-predictions`, feedback: `${prefix}-feedback` };
    const env = stackEnvironment({ FEEDBACKLOOP_TOPICS_PREDICTIONS: topics.predictions, FEEDBACKLOOP_TOPICS_FEEDBACK: topics.feedback, FEEDBACKLOOP_TOPICS_PARTITIONS: String(PARTITIONS) });
    await transport.ensureTopics([{ name: topics.predictions, partitions: PARTITIONS }, { name: topics.feedback, partitions: PARTITIONS }]);

    const letters = join(dir, 'dead_letters.jsonl');
    const files = ['--predictions', join(EXAMPLES, 'predictions.jsonl'), '--feedback', join(EXAMPLES, 'feedback.jsonl')];
    const sending = Date.now();
    const produced = await cli(['produce', ...files, '--dead-letters', letters, '-c', join(EXAMPLES, 'config.yaml')], env);
    const sent = Date.now();
    expect(produced.stderr).toBe('');
    expect(produced.code).toBe(0);

    // The reference: replay of the same files (no servers).
    const replayEnv: Record<string, string> = { ...(process.env as Record<string, string>), FEEDBACKLOOP_KAFKA_BROKERS: '', FEEDBACKLOOP_CLICKHOUSE_URL: '' };
    const replayed = await cli(['replay', ...files, '--out', join(dir, 'replay'), '-c', join(EXAMPLES, 'config.yaml')], replayEnv);
    expect(replayed.code).toBe(0);
    const summary = JSON.parse(readFileSync(join(dir, 'replay', 'summary.json'), 'utf8')) as { predictions_read: number; feedback_read: number };
    const replayLetters = readFileSync(join(dir, 'replay', 'dead_letters.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { stage: string; line: number; error_message: string });
    const inputLetters = replayLetters.filter((l) => l.stage === 'replay-input');

    expect(produced.stdout).toBe(
      `sent ${summary.predictions_read} predictions to ${topics.predictions} and ${summary.feedback_read} feedback to ${topics.feedback}; ${inputLetters.length} lines refused: see ${letters}\n`,
    );
    const ours = readFileSync(letters, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { line: number; error_message: string });
    expect(ours.map((l) => `${l.line} ${l.error_message}`)).toEqual(inputLetters.map((l) => `${l.line} ${l.error_message}`));

    const registry = new SchemaRegistry({ host: STACK.registryUrl });
    const codecs = { predictions: new RegistryCodec<Prediction>(registry, 'Prediction', `${topics.predictions}-value`), feedback: new RegistryCodec<Feedback>(registry, 'Feedback', `${topics.feedback}-value`) };
    for (const side of ['predictions', 'feedback'] as const) {
      const records = await readTopic(transport, topics[side], PARTITIONS);
      expect(records.length).toBe(side === 'predictions' ? summary.predictions_read : summary.feedback_read);
      for (const record of records) {
        const event = await codecs[side].decode(record.value);
        expect(record.key!.toString('utf8')).toBe(event.prediction_id);
        expect(record.partition).toBe(partitionForKey(record.key!, PARTITIONS));
        expect(record.headers).toEqual({});
        // Stamped when sent, not with the event's time (November 2025): stamped so, the broker's retention check
        // deleted the whole topic between the send and this read (CI, stop 27: 0 records of 10).
        expect(record.timestamp).toBeGreaterThanOrEqual(sending);
        expect(record.timestamp).toBeLessThanOrEqual(sent);
      }
    }
  });

  it('refuses to run without a file or without brokers, saying what to give', async () => {
    const none = await cli(['produce'], stackEnvironment());
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('nothing to send: give --predictions <file>, --feedback <file>, or both');
    const noBrokers = await cli(['produce', '--predictions', join(EXAMPLES, 'predictions.jsonl')], { ...(process.env as Record<string, string>), FEEDBACKLOOP_KAFKA_BROKERS: '' });
    expect(noBrokers.code).toBe(2);
    expect(noBrokers.stderr).toContain('set kafka.brokers');
  });
});
