/**
 * An upgrade in place, on the real stack: the changelog topic holds what a
 * joiner before the binary changelog wrote (each pending entry as JSON, the
 * watermark, an admitted model, a deleted entry's tombstone), produced here
 * byte for byte as it wrote them. `feedbackloop run --only joiner` (this
 * build) restores it from Kafka: the feedback for those predictions joins
 * them, and their entries are written back binary (0x00 0x01). A second
 * process then restores the mixed changelog (JSON records followed by binary
 * ones of the same keys) and a more trusted feedback corrects the first
 * label, naming what it replaces.
 */
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import type { Admin } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KafkaTransport } from '../../adapters/kafka/transport.js';
import type { OutgoingRecord } from '../../adapters/transport/transport.js';
import { noFeedbackClasses, type Feedback, type LabelledExample } from '../../core/events.js';
import { MODEL_KEY_PREFIX, WATERMARK_KEY } from '../../processors/joiner-changelog.js';
import { uniqueName } from '../support/collect.js';
import { JoinerProcess, joinerEnvironment, pipelineTopics, type PipelineTopics } from '../support/joiner-process.js';
import { GroupProgress, joinerCodecs, pipelineTopicSpecs, readTopic, type JoinerCodecs } from '../support/joiner-kafka.js';
import { STACK } from '../support/stack.js';
import { closeStackClients, openStackClients } from '../support/kafka-clients.js';

const OLD = 50;
const HOUR = 3_600_000;

describe('joiner: a changelog written as JSON by an older joiner', () => {
  let transport: KafkaTransport;
  let admin: Admin;
  const children: JoinerProcess[] = [];

  beforeAll(async () => {
    ({ transport, admin } = await openStackClients('joiner-changelog-upgrade-test'));
  });

  afterAll(async () => {
    for (const child of children) await child.stop();
    await closeStackClients({ transport, admin });
  });

  /** Runs this build's joiner until it has committed every input record, then stops it (SIGTERM). */
  async function runJoiner(prefix: string, topics: PipelineTopics, n: number): Promise<void> {
    const child = await JoinerProcess.start({ name: `${prefix}-run${n}`, env: joinerEnvironment({ clientId: prefix, topics, partitions: 1 }) });
    children.push(child);
    await new GroupProgress(admin, `${prefix}-joiner`, [topics.predictions, topics.feedback]).waitCaughtUp({
      timeoutMs: 120_000,
      check: () => {
        if (child.diedOnItsOwn()) throw new Error(`${child.name} exited (${JSON.stringify(child.exit)}); log ${child.logFile}:\n${child.tail()}`);
      },
    });
    expect((await child.stop()).code).toBe(0);
  }

  const examples = async (codecs: JoinerCodecs, topics: PipelineTopics): Promise<LabelledExample[]> => {
    const out: LabelledExample[] = [];
    for (const r of await readTopic(transport, topics.labelled, 1)) out.push(await codecs.labelled.decode(r.value));
    return out.filter((e) => !e.arrival);
  };

  it(`restores ${OLD} JSON entries, joins their feedback, rewrites them binary, and a second restore reads both formats`, async () => {
    const prefix = uniqueName('clupgrade');
    const topics = pipelineTopics(prefix);
    await transport.ensureTopics(pipelineTopicSpecs(topics, 1));
    const codecs = joinerCodecs(new SchemaRegistry({ host: STACK.registryUrl }), topics);
    const t0 = Date.now() - 2 * HOUR;
    const feedback = (id: string, at: number, type: Feedback['feedback_type'], label: number | null): Feedback => ({ prediction_id: id, timestamp: at, feedback_type: type, label, uncertain: false, source: 'u', notes: null, ...noFeedbackClasses() });

    // What the older joiner left: JSON.stringify of each entry (predictions without the class fields, as before them), the
    // watermark and the admitted model as JSON, and a tombstone after an entry.
    const changelog: OutgoingRecord[] = [];
    for (let i = 0; i < OLD; i++) {
      const prediction = { prediction_id: `old-${i}`, model: 'fraud', model_version: 'v1', timestamp: t0 + i * 1000, features: { x: i / 4 }, categorical: {}, segments: { region: 'eu' }, score: i % 2 === 0 ? 0.9 : 0.1, threshold: 0.5, shadow_scores: {} };
      const entry = { prediction, shadow_scores: {}, early: [], resolved: null, seq: 0, seen: [], expires_at: prediction.timestamp + 7 * 24 * HOUR };
      changelog.push({ topic: topics.changelog, partition: 0, key: Buffer.from(prediction.prediction_id), value: Buffer.from(JSON.stringify(entry)) });
    }
    changelog.push({ topic: topics.changelog, partition: 0, key: Buffer.from('gone'), value: Buffer.from(JSON.stringify({ prediction: null, shadow_scores: {}, early: [], resolved: null, seq: 0, seen: [7], expires_at: t0 + HOUR })) });
    changelog.push({ topic: topics.changelog, partition: 0, key: Buffer.from('gone'), value: null });
    changelog.push({ topic: topics.changelog, partition: 0, key: Buffer.from(`${MODEL_KEY_PREFIX}fraud`), value: Buffer.from('{}') });
    changelog.push({ topic: topics.changelog, partition: 0, key: Buffer.from(WATERMARK_KEY), value: Buffer.from(JSON.stringify({ watermark: t0 + OLD * 1000 })) });
    const producer = await transport.producer();
    await producer.send(changelog);
    const confirmations: OutgoingRecord[] = [];
    for (let i = 0; i < OLD; i++) {
      const f = feedback(`old-${i}`, t0 + HOUR + i, 'USER_CONFIRMED', null);
      confirmations.push({ topic: topics.feedback, partition: 0, key: Buffer.from(f.prediction_id), value: await codecs.feedback.encode(f) });
    }
    await producer.send(confirmations);

    await runJoiner(prefix, topics, 1);
    const first = await examples(codecs, topics);
    // USER_CONFIRMED without a label on a binary model: the predicted class (score 0.9 -> 1, 0.1 -> 0).
    expect(first.map((e) => [e.example_id, e.label, e.features, e.segments])).toEqual(
      Array.from({ length: OLD }, (_, i) => [`old-${i}#1`, i % 2 === 0 ? 1 : 0, { x: i / 4 }, { region: 'eu' }]),
    );
    const rewritten = (await readTopic(transport, topics.changelog, 1)).filter((r) => r.key!.toString().startsWith('old-'));
    expect(rewritten.length).toBe(2 * OLD);
    expect(rewritten.slice(OLD).every((r) => r.value!.subarray(0, 2).equals(Buffer.from([0x00, 0x01])))).toBe(true);
    expect(rewritten.slice(OLD).every((r) => r.value!.length * 2 < rewritten[0]!.value!.length)).toBe(true);

    // Restored again from JSON and binary records of the same keys: an expert's other label corrects old-0's.
    const f = feedback('old-0', t0 + 2 * HOUR, 'EXPERT_REVIEW', 0);
    await producer.send([{ topic: topics.feedback, partition: 0, key: Buffer.from(f.prediction_id), value: await codecs.feedback.encode(f) }]);
    await producer.close();
    await runJoiner(prefix, topics, 2);
    const second = (await examples(codecs, topics)).slice(OLD);
    expect(second.map((e) => [e.example_id, e.label, e.replaces?.label, e.replaces?.feedback_type])).toEqual([['old-0#2', 0, 1, 'USER_CONFIRMED']]);
    expect(await readTopic(transport, topics.deadLetters, 1)).toEqual([]);
    expect(await readTopic(transport, topics.unmatched, 1)).toEqual([]);
  });
});
