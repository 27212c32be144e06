/**
 * Manual control on the real stack (issue 6): `feedbackloop pin | unpin |
 * rollback | promote` run as CLI processes (dist/) against real Kafka and the
 * schema registry; a PromoterProcessor on Kafka honours them; the registry
 * processor records them in ClickHouse's champion_history.
 *
 * Event time follows the wall clock here, as in production: each example is
 * stamped when it is produced, so a command's `at` (its wall clock) falls
 * between the examples produced before and after it. The stream has a
 * challenger the policy would promote after 500 paired examples:
 *  1. `pin`, then 2,000 examples: no decision;
 *  2. the promoter is replaced by a new instance (it rebuilds with the pin
 *     from the topic), `unpin`, 1,000 more: one PROMOTE, on the first
 *     example after the unpin;
 *  3. `rollback` with no --to returns to the champion before it;
 *  4. usage errors exit 2 with a message that says what to do;
 *  5. champion_history holds the four decisions in order, with the actor and
 *     the reason, and the current champion is the rollback's.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { noisy, promotionStream } from '../../bench/promotion-sim.js';
import { RegistryCodec } from '../../adapters/codec/codec.js';
import { ClickHouseStore } from '../../adapters/clickhouse/index.js';
import { KafkaTransport } from '../../adapters/kafka/transport.js';
import { systemClock } from '../../core/clock.js';
import type { DeadLetter, LabelledExample, ModelSnapshot, PromotionDecision } from '../../core/events.js';
import { PromoterProcessor } from '../../processors/promoter.js';
import { RegistryProcessor, registryQueries } from '../../processors/registry.js';
import { ClickHouseDeadLetterSink } from '../../sinks/index.js';
import { sleep, uniqueName } from '../support/collect.js';
import { readTopic } from '../support/joiner-kafka.js';
import { requireStack, STACK, stackEnvironment } from '../support/stack.js';

const ROOT = join(import.meta.dirname, '..', '..');
const MODEL = 'fraud';

describe('manual promote, rollback, pin and unpin on real Kafka, registry and ClickHouse', () => {
  const prefix = uniqueName('manual');
  const topics = { labelled: `${prefix}-labelled`, promotions: `${prefix}-promotions`, deadLetters: `${prefix}-dead`, snapshots: `${prefix}-snapshots`, checkpoints: `${prefix}-checkpoints` };
  const database = uniqueName('test_manual').replace(/-/g, '_');
  let transport: KafkaTransport;
  let store: ClickHouseStore;
  let codecs: { labelled: RegistryCodec<LabelledExample>; promotion: RegistryCodec<PromotionDecision>; deadLetter: RegistryCodec<DeadLetter>; snapshot: RegistryCodec<ModelSnapshot> };
  const promoters: PromoterProcessor[] = [];
  const stream = [...promotionStream({ seed: 3, examples: 3000, model: MODEL, champion: noisy(1), challengers: { lr: noisy(0.3) } })];
  let lastStamp = 0;

  /** Runs a CLI command (dist/) against the stack with this test's topics. */
  function cli(...args: string[]): { status: number | null; stdout: string; stderr: string } {
    const result = spawnSync(process.execPath, [join(ROOT, 'dist', 'cli', 'main.js'), ...args], {
      env: stackEnvironment({ FEEDBACKLOOP_TOPICS_MODEL_PROMOTIONS: topics.promotions, FEEDBACKLOOP_CLICKHOUSE_URL: '' }),
      encoding: 'utf8',
      timeout: 60_000,
    });
    return { status: result.status, stdout: result.stdout, stderr: result.stderr };
  }

  /** Produces examples stamped with the wall clock now (strictly increasing); returns the first stamp. */
  async function produce(examples: LabelledExample[]): Promise<number> {
    let first = 0;
    const producer = await transport.producer();
    const records = [];
    for (const example of examples) {
      lastStamp = Math.max(lastStamp + 1, Date.now());
      first ||= lastStamp;
      const stamped = { ...example, timestamp: lastStamp - 1000, feedback_timestamp: lastStamp };
      records.push({ topic: topics.labelled, key: Buffer.from(MODEL), value: await codecs.labelled.encode(stamped) });
    }
    await producer.send(records);
    await producer.close();
    // The next command's wall clock is after these stamps (they run ahead of it when 1 ms per example is faster than encoding).
    await sleep(Math.max(5, lastStamp + 5 - Date.now()));
    return first;
  }

  async function untilCommitted(groupId: string, topicList: string[]): Promise<void> {
    const deadline = Date.now() + 60_000;
    for (;;) {
      let behind = 0;
      for (const topic of topicList) {
        const committed = new Map((await transport.committedOffsets(groupId, topic)).map((o) => [o.partition, o.offset]));
        for (const end of await transport.endOffsets(topic)) behind += Math.max(0, end.offset - (committed.get(end.partition) ?? 0));
      }
      if (behind === 0) return;
      if (Date.now() > deadline) throw new Error(`group ${groupId} still ${behind} records behind after 60 s`);
      await sleep(200);
    }
  }

  async function promoter(): Promise<PromoterProcessor> {
    const p = new PromoterProcessor({
      transport, topics: { labelled: topics.labelled, promotions: topics.promotions, deadLetters: topics.deadLetters, checkpoints: topics.checkpoints },
      groupId: `${prefix}-promoter`, transactionalIdPrefix: `${prefix}-promoter`, codecs,
      policyOf: () => ({}), actor: 'feedbackloop-promoter (test)', clock: systemClock, checkpointEvery: 10_000,
    });
    promoters.push(p);
    await p.start();
    return p;
  }

  const decisionsOnTopic = async () =>
    Promise.all((await readTopic(transport, topics.promotions, 2)).map(async (r) => codecs.promotion.decode(r.value!)));

  beforeAll(async () => {
    await requireStack('kafka', 'registry', 'clickhouse');
    transport = new KafkaTransport({ brokers: STACK.brokers, clientId: 'manual-test', sessionTimeoutMs: 6000, heartbeatIntervalMs: 500, kafka: { logLevel: logLevel.NOTHING } });
    await transport.ensureTopics([
      { name: topics.labelled, partitions: 2 },
      { name: topics.promotions, partitions: 2 },
      { name: topics.deadLetters, partitions: 1 },
      { name: topics.snapshots, partitions: 1 },
      { name: topics.checkpoints, partitions: 2, compacted: true },
    ]);
    const registry = new SchemaRegistry({ host: STACK.registryUrl });
    codecs = {
      labelled: new RegistryCodec(registry, 'LabelledExample', `${topics.labelled}-value`),
      promotion: new RegistryCodec(registry, 'PromotionDecision', `${topics.promotions}-value`),
      deadLetter: new RegistryCodec(registry, 'DeadLetter', `${topics.deadLetters}-value`),
      snapshot: new RegistryCodec(registry, 'ModelSnapshot', `${topics.snapshots}-value`),
    };
    store = await ClickHouseStore.open({ url: STACK.clickhouseUrl, database, username: 'default', password: '', requestTimeoutMs: 30_000 });
  });

  afterAll(async () => {
    for (const p of promoters) await p.stop().catch(() => {});
    await transport?.close();
    await store?.command(`DROP DATABASE IF EXISTS ${database}`).catch(() => {});
    await store?.close();
  });

  it('a pin holds the promoter across a restart; the unpin lets the challenger through on the next example', async () => {
    const pin = cli('pin', '--model', MODEL, '--reason', 'holiday freeze', '--actor', 'alice');
    expect(pin.stderr).toBe('');
    expect(pin.status).toBe(0);
    expect(pin.stdout).toMatch(/^recorded PIN of fraud: champion upstream, by user:alice \(manual:[0-9a-f-]{36}\)\n  reason: holiday freeze\n/);

    // `status` shows the pin, with who and why (no ClickHouse here: only the topic is asked).
    const status = cli('status', '--json', '--metrics', 'http://127.0.0.1:9/metrics');
    expect(status.status).toBe(0);
    const report = JSON.parse(status.stdout) as { champions: Array<{ model: string; pinned: { actor: string; reason: string } | null }> };
    expect(report.champions.map((c) => [c.model, c.pinned?.actor, c.pinned?.reason])).toEqual([[MODEL, 'user:alice', 'holiday freeze']]);

    const first = await promoter();
    await produce(stream.slice(0, 2000));
    await untilCommitted(`${prefix}-promoter`, [topics.labelled]);
    expect(first.published).toEqual([]);
    expect(first.policies().map((p) => p.state().pin_reason)).toEqual(['user:alice: holiday freeze']);
    await first.stop();

    const second = await promoter();
    const unpin = cli('unpin', '--model', MODEL, '--reason', 'freeze over', '--actor', 'alice');
    expect(unpin.status).toBe(0);
    const afterUnpin = await produce(stream.slice(2000));
    await untilCommitted(`${prefix}-promoter`, [topics.labelled]);
    expect(second.published.map((d) => [d.decision, d.from_version, d.to_version, d.sample_size, d.actor])).toEqual([
      ['PROMOTE', 'v1', `${MODEL}/lr@5`, 2001, 'feedbackloop-promoter (test)'],
    ]);
    expect(second.published[0]!.at).toBe(afterUnpin); // the first example after the unpin
    await second.stop();
  });

  it('rollback returns to the champion before the promotion; usage errors say what to do', () => {
    const rollback = cli('rollback', '--model', MODEL, '--reason', 'false declines reported', '--actor', 'bob');
    expect(rollback.status).toBe(0);
    expect(rollback.stdout).toContain(`recorded ROLLBACK of fraud: ${MODEL}/lr@5 → v1, by user:bob`);

    const noReason = cli('promote', '--model', MODEL, '--to', `${MODEL}/lr@5`);
    expect(noReason.status).toBe(2);
    expect(noReason.stderr).toContain("required option '--reason <text>' not specified");
    const nothingToRollBack = cli('rollback', '--model', 'churn', '--reason', 'x');
    expect(nothingToRollBack.status).toBe(2);
    expect(nothingToRollBack.stderr).toContain('no promotion of churn to roll back on the promotions topic; name the version to return to with --to');
    const noKafka = spawnSync(process.execPath, [join(ROOT, 'dist', 'cli', 'main.js'), 'pin', '--model', MODEL, '--reason', 'x'], {
      env: { ...process.env, FEEDBACKLOOP_KAFKA_BROKERS: '' }, encoding: 'utf8',
    });
    expect(noKafka.status).toBe(2);
    expect(noKafka.stderr).toContain('set kafka.brokers');
  });

  it('champion_history records every move with who and why', async () => {
    expect((await decisionsOnTopic()).map((d) => [d.decision, d.actor])).toEqual([
      ['PIN', 'user:alice'], ['UNPIN', 'user:alice'], ['PROMOTE', 'feedbackloop-promoter (test)'], ['ROLLBACK', 'user:bob'],
    ]);
    const registry = new RegistryProcessor({
      transport, topics: { snapshots: topics.snapshots, promotions: topics.promotions }, groupId: `${prefix}-registry`,
      codecs, store, deadLetters: new ClickHouseDeadLetterSink(store), clock: systemClock,
    });
    await registry.start();
    await untilCommitted(`${prefix}-registry`, [topics.promotions]);
    await registry.stop();
    const history = await store.select<Record<string, unknown>>(registryQueries.history(MODEL));
    expect(history.map((r) => [r.decision, r.from_version, r.to_version, r.actor, r.reason])).toEqual([
      ['PIN', 'upstream', 'upstream', 'user:alice', 'holiday freeze'],
      ['UNPIN', 'upstream', 'upstream', 'user:alice', 'freeze over'],
      ['PROMOTE', 'v1', `${MODEL}/lr@5`, 'feedbackloop-promoter (test)', expect.stringMatching(/^fraud\/lr@5 beats v1 on log_loss/)],
      ['ROLLBACK', `${MODEL}/lr@5`, 'v1', 'user:bob', 'false declines reported'],
    ]);
    expect(await store.select(registryQueries.champions(MODEL))).toEqual([
      expect.objectContaining({ model: MODEL, champion: 'v1', deployed_by: 'user:bob', why: 'false declines reported' }),
    ]);
  });
});
