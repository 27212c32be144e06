/**
 * The scorer library (feedbackloop/scorer) as an upstream app uses it:
 * `ChampionScorer.connect` on real Kafka and the schema registry. 60
 * snapshots of one challenger over 30 days (on one partition, as the learner
 * writes a model's snapshots), an undecodable record on each topic, and
 * decisions published while it runs: it follows the newest snapshot, keeps
 * only the snapshots of its 7-day retention, serves a promoted snapshot that
 * had been dropped (re-read from the topic), swaps back to the one before at
 * once on a rollback, and reports the garbage instead of stopping.
 */
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RegistryCodec } from '../../adapters/codec/codec.js';
import { KafkaTransport } from '../../adapters/kafka/transport.js';
import type { ModelSnapshot, PromotionDecision } from '../../core/events.js';
import { ChallengerTrainer } from '../../core/learn/index.js';
import { pipelineFromSnapshot } from '../../core/models/index.js';
import { ChampionScorer } from '../../scorer/index.js';
import { sleep, uniqueName } from '../support/collect.js';
import { labelledStream } from '../support/labelled.js';
import { SAMPLES } from '../support/samples.js';
import { requireStack, STACK } from '../support/stack.js';

const DAY = 86_400_000;
const T0 = Date.UTC(2026, 0, 1);

async function until(what: string, check: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

describe('scorer library on real Kafka and the schema registry', () => {
  let transport: KafkaTransport;
  let scorer: ChampionScorer | undefined;
  const topics = { snapshots: uniqueName('scorer-snapshots'), promotions: uniqueName('scorer-promotions') };

  beforeAll(async () => {
    await requireStack('kafka', 'registry');
    transport = new KafkaTransport({ brokers: STACK.brokers, clientId: uniqueName('scorer-library-test'), kafka: { logLevel: logLevel.NOTHING } });
    await transport.ensureTopics([
      { name: topics.snapshots, partitions: 2, compacted: true },
      { name: topics.promotions, partitions: 1 },
    ]);
  });

  afterAll(async () => {
    await scorer?.close();
    await transport?.close();
  });

  it('follows, keeps 7 days of snapshots, serves a dropped one on promotion, rolls back at once, skips garbage', async () => {
    const registry = new SchemaRegistry({ host: STACK.registryUrl });
    const codecs = {
      snapshot: new RegistryCodec<ModelSnapshot>(registry, 'ModelSnapshot', `${topics.snapshots}-value`),
      promotion: new RegistryCodec<PromotionDecision>(registry, 'PromotionDecision', `${topics.promotions}-value`),
    };
    const learner = new ChallengerTrainer({ challengersOf: () => ['logreg'] });
    const examples = labelledStream(3000, 4).filter((e) => e.model === 'fraud');
    const published: ModelSnapshot[] = [];
    for (let k = 0; k < 60; k++) {
      for (let j = 0; j < 10; j++) learner.learn(examples[k * 10 + j]!);
      published.push(...learner.snapshot(T0 + (k * DAY) / 2));
    }
    const producer = await transport.producer();
    await producer.send([
      { topic: topics.snapshots, partition: 0, key: Buffer.from('garbage'), value: Buffer.from([0xde, 0xad, 0xbe, 0xef]) },
      ...(await Promise.all(published.map(async (s) => ({ topic: topics.snapshots, partition: 0, key: Buffer.from(s.version), value: await codecs.snapshot.encode(s) })))),
    ]);
    await producer.send([{ topic: topics.promotions, key: Buffer.from('fraud'), value: Buffer.from('not avro') }]);

    const errors: string[] = [];
    const swaps: string[] = [];
    scorer = await ChampionScorer.connect({
      brokers: STACK.brokers, schemaRegistryUrl: STACK.registryUrl, clientId: uniqueName('scorer'), model: 'fraud', follow: 'logreg', topics,
      retainMs: 7 * DAY, onError: (e) => errors.push(e.message), onSwap: (v) => swaps.push(v),
    });
    const newest = published[59]!;
    await until('the newest logreg snapshot', () => scorer!.version() === newest.version);
    await until('both garbage records reported', () => errors.length === 2);
    expect(errors.sort()).toEqual([
      `skipped ${topics.promotions}/0@0: record does not start with the Confluent magic byte 0 (got 0x6e)`,
      `skipped ${topics.snapshots}/0@0: record is 4 bytes, too short for the Confluent wire format (5-byte header)`,
    ]);
    // Created within 7 days of the newest (day 29.5): days 22.5 .. 29.5.
    expect(scorer.keptSnapshots()).toBe(15);

    // A manual promotion of a day-1 snapshot, long dropped: re-read from the topic and served.
    const old = published[2]!;
    const probe = examples[0]!;
    const decide = async (d: Partial<PromotionDecision>) =>
      producer.send([{ topic: topics.promotions, key: Buffer.from('fraud'), value: await codecs.promotion.encode({ ...SAMPLES.PromotionDecision, model: 'fraud', ...d }) }]);
    await decide({ decision_id: 'manual:1', decision: 'PROMOTE', from_version: newest.version, to_version: old.version, actor: 'user:test', reason: 'test' });
    await until(`${old.version} served`, () => scorer!.version() === old.version);
    expect(scorer.score(probe)).toEqual({ score: pipelineFromSnapshot(JSON.parse(old.parameters)).predictOne(probe), version: old.version });

    // A rollback to the one served before: kept, so it is back as soon as the decision is read.
    await decide({ decision_id: 'manual:2', decision: 'ROLLBACK', from_version: old.version, to_version: newest.version, actor: 'user:test', reason: 'test' });
    await until(`${newest.version} served again`, () => scorer!.version() === newest.version);
    expect(swaps.slice(-2)).toEqual([old.version, newest.version]);
    expect(errors).toHaveLength(2);
    await producer.close();
  }, 90_000);
});
