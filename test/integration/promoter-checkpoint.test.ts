/**
 * The promoter restarted after a long-ish history on real Kafka (issue 13):
 * it resumes from its checkpoint and re-reads only the examples after it,
 * and the decisions committed across the restart are exactly those of an
 * uninterrupted reference (one pure PromotionPolicy per model fed the same
 * examples in the same order), once each.
 *
 * 4 models × 12,000 examples (2 partitions; bench/promotion-sim.ts streams,
 * one minute of event time apart) with promoter.checkpoint_every 2,000. A
 * `feedbackloop run --only promoter` child reads the first 70% and is
 * SIGKILLed once 65% is committed; a second child (same group) takes over
 * after the session timeout, restores each partition from its checkpoint
 * (again at each rebalance while the group settles), then the rest is
 * produced. The decisions fall on both sides of the kill.
 * Its log lines `partition state restored ...` give what it re-read and how
 * long the restore took; figures are printed, logs are in .cache/test-logs/.
 */
import { readFileSync } from 'node:fs';
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { describe, expect, it } from 'vitest';
import { noisy, promotionStream, sigmoid, type SimulatedChallenger } from '../../bench/promotion-sim.js';
import { RegistryCodec } from '../../adapters/codec/codec.js';
import { buildConfig } from '../../adapters/config/index.js';
import { partitionForKey } from '../../adapters/transport/partitioner.js';
import type { OutgoingRecord } from '../../adapters/transport/transport.js';
import type { LabelledExample, PromotionDecision } from '../../core/events.js';
import { PromotionPolicy, toPromotionDecision } from '../../core/promote/index.js';
import { policyOptions } from '../../runtime/settings.js';
import { uniqueName } from '../support/collect.js';
import { failIfDied, JoinerProcess, joinerEnvironment, pipelineTopics } from '../support/joiner-process.js';
import { GroupProgress, pipelineTopicSpecs, produceHeldBack, readTopic, takeOver, waitGroupMembers } from '../support/joiner-kafka.js';
import { childSuite } from '../support/child-suite.js';
import { STACK } from '../support/stack.js';

const PARTITIONS = 2;
const EXAMPLES_PER_MODEL = 12_000;
const CHECKPOINT_EVERY = 2_000;
/** Produced before the kill, and committed when it comes (shares of all records). */
const BEFORE_KILL = 0.7;
const KILL_AT = 0.65;

const noise =
  (sd: (i: number) => number | null): SimulatedChallenger =>
  (logit, index, normal) => {
    const s = sd(index);
    return s === null ? null : sigmoid(logit + s * normal());
  };

/** Decisions early and late: fraud PROMOTE lr, ROLLBACK, PROMOTE ftrl (~9,550); spam PROMOTE lr, ftrl, lr again (~10,050); churn and credit none or late. */
const PLANS: Array<{ model: string; seed: number; challengers: Record<string, SimulatedChallenger> }> = [
  { model: 'fraud', seed: 11, challengers: { lr: noise((i) => (i < 1500 ? 0.3 : 3)), ftrl: noise((i) => (i < 9000 ? null : 0.3)) } },
  { model: 'spam', seed: 12, challengers: { lr: noise((i) => (i < 600 ? null : i < 2000 ? 0.3 : 1)), ftrl: noise((i) => (i < 2000 ? null : i < 8500 ? 0.2 : 3)) } },
  { model: 'churn', seed: 13, challengers: { lr: noise((i) => (i < 10_000 ? 1.4 : 0.2)) } },
  { model: 'credit', seed: 14, challengers: { lr: noise(() => 1.4) } },
];

const withoutInstance = (d: PromotionDecision) => ({ ...d, actor: '', decided_at: 0 });

/** The `partition state restored ...` lines of a child's log. */
function restoreLines(logFile: string): Array<{ partition: number; from: string; reread: number; ms: number; reason?: string }> {
  const out = [];
  for (const line of readFileSync(logFile, 'utf8').split('\n')) {
    if (line.includes('"msg":"partition state re')) out.push(JSON.parse(line) as { partition: number; from: string; reread: number; ms: number; reason?: string });
  }
  return out;
}

describe('promoter: a restart after a long history resumes from its checkpoint', () => {
  const suite = childSuite('promoter-checkpoint-test');

  it('re-reads only the examples after the checkpoint, and commits exactly the reference decisions, once each', async () => {
    const { transport, admin, processes, passed } = suite;
    const started = Date.now();
    const prefix = uniqueName('promoter-ckpt');
    const topics = pipelineTopics(prefix);
    const groupId = `${prefix}-promoter`;
    await transport.ensureTopics(pipelineTopicSpecs(topics, PARTITIONS).map((s) => (s.name === topics.labelled ? { ...s, keepForever: true } : s)));
    const env = joinerEnvironment({ clientId: prefix, topics, partitions: PARTITIONS, extra: { FEEDBACKLOOP_PROMOTER_CHECKPOINT_EVERY: String(CHECKPOINT_EVERY) } });
    const config = buildConfig({}, env);
    expect(config.promoter.checkpoint_every).toBe(CHECKPOINT_EVERY);

    // The examples, round robin over the models; the reference decisions of one pure policy per model.
    const registry = new SchemaRegistry({ host: STACK.registryUrl });
    const codec = new RegistryCodec<LabelledExample>(registry, 'LabelledExample', `${topics.labelled}-value`);
    const streams = PLANS.map((p) => promotionStream({ seed: p.seed, examples: EXAMPLES_PER_MODEL, model: p.model, champion: noisy(1), challengers: p.challengers, snapshotEvery: 200 }));
    const policies = new Map(PLANS.map((p) => [p.model, new PromotionPolicy(p.model, policyOptions(config, p.model))]));
    const expected: PromotionDecision[] = [];
    /** Record index (over all records) of the example behind each expected decision. */
    const decidedAt: number[] = [];
    const records: OutgoingRecord[] = [];
    for (let i = 0; i < EXAMPLES_PER_MODEL; i++) {
      for (const stream of streams) {
        const example = stream.next().value as LabelledExample;
        for (const d of policies.get(example.model)!.observe(example)) {
          const k = expected.filter((e) => e.model === d.model).length + 1;
          expected.push(toPromotionDecision(d, { decision_id: `${d.model}#${k}`, actor: '', decided_at: 0 }));
          decidedAt.push(records.length);
        }
        records.push({ topic: topics.labelled, key: Buffer.from(example.model), value: await codec.encode(example) });
      }
    }
    const killedAfter = Math.floor(KILL_AT * records.length);
    expect(decidedAt.filter((at) => at < killedAfter).length).toBeGreaterThan(0);
    expect(decidedAt.filter((at) => at >= BEFORE_KILL * records.length).length).toBeGreaterThan(0);

    // The first child reads the history and is killed.
    const first = await JoinerProcess.start({ name: `${prefix}-first`, env, processors: ['promoter'] });
    processes.push(first);
    const alive = () => failIfDied(processes);
    await waitGroupMembers(admin, groupId, 1, 60_000);
    const producer = await transport.producer();
    const producing = produceHeldBack(producer, records, { chunk: 1000, pauseMs: 0, held: Math.floor(BEFORE_KILL * records.length) });
    const progress = new GroupProgress(admin, groupId, [topics.labelled]);
    await progress.waitCommitted(killedAfter, { timeoutMs: 120_000, check: alive });
    first.kill('SIGKILL');
    const firstExit = await first.exited;
    const history = await progress.committed();

    // The second one takes over (after the session timeout drops the first) and restores from the checkpoints.
    const { child: second, caughtUpMs } = await takeOver({ admin, name: `${prefix}-second`, env, processors: ['promoter'], processes, producing, progress, alive });
    const secondExit = await second.stop('SIGTERM');
    await producer.close();

    const promotionCodec = new RegistryCodec<PromotionDecision>(registry, 'PromotionDecision', `${topics.promotions}-value`);
    const published: PromotionDecision[] = [];
    for (const record of await readTopic(transport, topics.promotions, PARTITIONS)) published.push(await promotionCodec.decode(record.value));
    const checkpointRecords = (await readTopic(transport, topics.checkpoints, PARTITIONS)).length;
    const restores = restoreLines(second.logFile);
    const partitionsWithData = new Set(PLANS.map((p) => partitionForKey(Buffer.from(p.model), PARTITIONS)));

    console.log('promoter-checkpoint figures:', JSON.stringify({
      records: records.length, checkpoint_every: CHECKPOINT_EVERY, checkpoint_records: checkpointRecords,
      committed_at_kill: Object.fromEntries(history), restores, first_restores: restoreLines(first.logFile),
      decisions: { expected: expected.length, published: published.length, before_kill: decidedAt.filter((at) => at < killedAfter).length },
      caught_up_after_takeover_ms: caughtUpMs, total_ms: Date.now() - started, exits: { first: firstExit, second: secondExit },
    }, null, 2));

    expect(firstExit).toEqual({ code: null, signal: 'SIGKILL' });
    expect(secondExit, `the second child stops cleanly; log ${second.logFile}`).toEqual({ code: 0, signal: null });

    // (a) Each partition restored from its checkpoint (at every rebalance: the group drops the killed member only
    // after its session timeout), re-reading less than checkpoint_every of its history.
    expect([...new Set(restores.map((r) => r.partition))].sort()).toEqual([...partitionsWithData].sort());
    for (const r of restores) {
      expect(r, `log ${second.logFile}`).toMatchObject({ from: 'checkpoint' });
      // Bounded by the checkpoint interval, not by the history (a partition with 8,400 committed may re-read up to 1,999).
      expect(r.reread).toBeLessThan(CHECKPOINT_EVERY);
    }
    // And far less than the history where the history is long: the longest partition re-read under a fifth of it.
    const longest = [...partitionsWithData].sort((a, b) => (history.get(`${topics.labelled}/${b}`) ?? 0) - (history.get(`${topics.labelled}/${a}`) ?? 0))[0]!;
    for (const r of restores.filter((x) => x.partition === longest)) expect(r.reread).toBeLessThan((history.get(`${topics.labelled}/${longest}`) ?? 0) / 5);

    // (b) Exactly the reference decisions, model by model in order, once each.
    for (const plan of PLANS) {
      expect({ model: plan.model, decisions: published.filter((d) => d.model === plan.model).map(withoutInstance) }).toEqual({
        model: plan.model, decisions: expected.filter((d) => d.model === plan.model),
      });
    }
    expect(published.length).toBe(expected.length);
    expect(new Set(published.map((d) => d.decision_id)).size).toBe(published.length);

    passed.push({ topics: Object.values(topics), groupId });
  }, 240_000);
});
