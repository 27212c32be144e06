/**
 * Two promoter instances on real Kafka, one SIGKILLed mid-stream: exactly
 * one decision per event (issue 6). Two `feedbackloop run --only promoter`
 * children with the same client id (one consumer group, transactional ids
 * `<client>-promoter-<partition>`) share 3 partitions of labelled examples
 * of 4 models. While the examples are produced, one child is SIGKILLed: its
 * open transaction (decisions, dead letters, input offset) is aborted when
 * the survivor, ~10 s later (session timeout), takes its partitions over,
 * fences their transactional ids and rebuilds the policies by re-reading
 * them.
 *
 * The committed decisions must be, model by model, exactly those of one
 * pure PromotionPolicy per model fed the same examples in the same order
 * (same options, from the same configuration): none missing, none twice,
 * every field equal but decided_at and actor (wall clock and instance);
 * decision ids `<model>#<k>` included, so the survivor counted on from the
 * decisions the killed child had committed. Undecodable records are dead
 * lettered once each. The test also checks that the takeover mattered: the
 * killed child's partitions hold decisions on both sides of its last
 * committed offset.
 *
 * The streams (bench/promotion-sim.ts: champion noise 1 on the log-odds;
 * shadow keys `<model>/<name>@<n>`, n moving every 200 examples; one
 * minute of event time apart, so the 6 h cool-down is 360 examples) are
 * steered by the policy they are generated with, so that the decisions fall
 * early and late in every partition:
 *  - fraud: lr better (noise 0.3) -> PROMOTE; from example 1,800 lr is
 *    bad (noise 3) -> ROLLBACK within the watch;
 *  - churn: lr better -> PROMOTE; then bad -> ROLLBACK; ftrl (noise 0.3)
 *    from example 1,800 -> PROMOTE;
 *  - spam: lr better -> PROMOTE; from example 1,700 lr is only as good as
 *    v1 and ftrl (noise 0.2) appears -> PROMOTE ftrl over lr;
 *  - credit: lr worse (noise 1.4): the champion stays, no decision.
 * About 25 s, most of it the ~10 s the group takes to drop the killed
 * member. Figures are printed; logs are in .cache/test-logs/.
 */
import { readFileSync } from 'node:fs';
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { describe, expect, it } from 'vitest';
import { noisy, promotionStream, sigmoid, type SimulatedChallenger } from '../../bench/promotion-sim.js';
import { RegistryCodec } from '../../adapters/codec/codec.js';
import { buildConfig } from '../../adapters/config/index.js';
import { partitionForKey } from '../../adapters/transport/partitioner.js';
import type { OutgoingRecord } from '../../adapters/transport/transport.js';
import { policyOptions } from '../../runtime/settings.js';
import type { DeadLetter, Decision, LabelledExample, PromotionDecision } from '../../core/events.js';
import { PromotionPolicy, toPromotionDecision, type PolicyOptions } from '../../core/promote/index.js';
import { uniqueName } from '../support/collect.js';
import { failIfDied, JoinerProcess, joinerEnvironment, pipelineTopics } from '../support/joiner-process.js';
import { GroupProgress, groupAssignments, pipelineTopicSpecs, produceHeldBack, readTopic, sleep, waitGroupMembers } from '../support/joiner-kafka.js';
import { childSuite } from '../support/child-suite.js';
import { STACK } from '../support/stack.js';

const PARTITIONS = 3;
const EXAMPLES_PER_MODEL = 3000;
const SNAPSHOT_EVERY = 200;
/** An undecodable record of the model after this many of its examples (dead lettered). */
const GARBAGE_AFTER = [1000, 2000];
/** Records per send and the pause between sends (the first 60% take ~4 s to produce). */
const CHUNK = 300;
const PAUSE_MS = 150;
/** SIGKILL one child once this share of the input is committed. */
const KILL_AT = 0.4;
/** The share of the records produced before the kill; the rest waits for it, so the kill always falls mid-stream. */
const BEFORE_KILL = 0.6;

/** A challenger's noise on example `index` given the decisions so far (null: no score), or its absence. */
type Noise = (index: number, decided: (kind: Decision) => boolean) => number | null;

interface Plan {
  model: string;
  seed: number;
  challengers: Record<string, Noise>;
  /** The decisions the scenario is built for: `<decision> <from identity> -> <to identity>`. */
  outline: string[];
}

const PLANS: Plan[] = [
  {
    model: 'fraud', seed: 11,
    challengers: { lr: (i, decided) => (!decided('PROMOTE') || i < 1800 ? 0.3 : decided('ROLLBACK') ? 1.5 : 3) },
    outline: ['PROMOTE v1 -> fraud/lr', 'ROLLBACK fraud/lr -> v1'],
  },
  {
    model: 'churn', seed: 12,
    challengers: { lr: (_i, decided) => (!decided('PROMOTE') ? 0.3 : decided('ROLLBACK') ? 1.5 : 3), ftrl: (i) => (i < 1800 ? null : 0.3) },
    outline: ['PROMOTE v1 -> churn/lr', 'ROLLBACK churn/lr -> v1', 'PROMOTE v1 -> churn/ftrl'],
  },
  {
    model: 'spam', seed: 13,
    challengers: { lr: (i) => (i < 1700 ? 0.3 : 1), ftrl: (i) => (i < 1700 ? null : 0.2) },
    outline: ['PROMOTE v1 -> spam/lr', 'PROMOTE spam/lr -> spam/ftrl'],
  },
  { model: 'credit', seed: 14, challengers: { lr: () => 1.4 }, outline: [] },
];

const identity = (version: string) => version.replace(/@\d+$/, '');

/** The plan's examples, generated while a policy with `options` follows them (the challengers react to its decisions). */
function planStream(plan: Plan, options: Partial<PolicyOptions>): LabelledExample[] {
  const driver = new PromotionPolicy(plan.model, options);
  const decided = (kind: Decision) => driver.state().decisions.some((d) => d.decision === kind);
  const challengers: Record<string, SimulatedChallenger> = {};
  for (const [name, noise] of Object.entries(plan.challengers)) {
    challengers[name] = (logit, index, normal) => {
      const sd = noise(index, decided);
      return sd === null ? null : sigmoid(logit + sd * normal());
    };
  }
  const out: LabelledExample[] = [];
  for (const example of promotionStream({ seed: plan.seed, examples: EXAMPLES_PER_MODEL, model: plan.model, champion: noisy(1), challengers, snapshotEvery: SNAPSHOT_EVERY })) {
    driver.observe(example);
    out.push(example);
  }
  return out;
}

interface Expected {
  decision: PromotionDecision;
  /** The example that completed it. */
  exampleId: string;
}

/** What one pure policy per model decides on these examples (in this order), as the promoter publishes it but for decided_at and actor. */
function expectedDecisions(examples: LabelledExample[], optionsOf: (model: string) => Partial<PolicyOptions>): Map<string, Expected[]> {
  const policies = new Map<string, PromotionPolicy>();
  const out = new Map<string, Expected[]>();
  for (const example of examples) {
    let policy = policies.get(example.model);
    if (!policy) policies.set(example.model, (policy = new PromotionPolicy(example.model, optionsOf(example.model))));
    let mine = out.get(example.model);
    if (!mine) out.set(example.model, (mine = []));
    for (const d of policy.observe(example)) {
      const decision = toPromotionDecision(d, { decision_id: `${d.model}#${mine.length + 1}`, actor: '', decided_at: 0 });
      mine.push({ decision, exampleId: example.example_id });
    }
  }
  return out;
}

const withoutInstance = (d: PromotionDecision) => ({ ...d, actor: '', decided_at: 0 });

/** The `promotion decision` lines of a child's log, per model. */
function loggedDecisions(logFile: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of readFileSync(logFile, 'utf8').split('\n')) {
    if (!line.includes('"msg":"promotion decision"')) continue;
    const { model } = JSON.parse(line) as { model: string };
    out[model] = (out[model] ?? 0) + 1;
  }
  return out;
}

describe('promoter: two instances on real Kafka, one SIGKILLed mid-stream', () => {
  const suite = childSuite('promoter-instances-test');

  it('exactly the decisions of the pure policies, once each: none lost, none twice across the takeover', async () => {
    const { transport, admin, processes, passed } = suite;
    const started = Date.now();
    const prefix = uniqueName('promoters');
    const topics = pipelineTopics(prefix);
    const groupId = `${prefix}-promoter`;
    await transport.ensureTopics(pipelineTopicSpecs(topics, PARTITIONS).map((s) => (s.name === topics.labelled ? { ...s, keepForever: true } : s)));
    const env = joinerEnvironment({ clientId: prefix, topics, partitions: PARTITIONS });
    const config = buildConfig({}, env);
    const optionsOf = (model: string) => policyOptions(config, model);

    // The examples, round robin over the models, with a few undecodable records.
    const streams = PLANS.map((plan) => planStream(plan, optionsOf(plan.model)));
    const registry = new SchemaRegistry({ host: STACK.registryUrl });
    const codec = new RegistryCodec<LabelledExample>(registry, 'LabelledExample', `${topics.labelled}-value`);
    const examples: LabelledExample[] = [];
    const records: OutgoingRecord[] = [];
    const garbage: string[] = [];
    /** Where each example lands: the producer is idempotent and sends in order, so offsets count up per partition. */
    const position = new Map<string, { partition: number; offset: number }>();
    const ends = new Array<number>(PARTITIONS).fill(0);
    const add = (model: string, value: Buffer, exampleId?: string) => {
      const key = Buffer.from(model);
      const partition = partitionForKey(key, PARTITIONS);
      if (exampleId) position.set(exampleId, { partition, offset: ends[partition]! });
      else garbage.push(`${partition}/${ends[partition]}`);
      ends[partition]!++;
      records.push({ topic: topics.labelled, key, value });
    };
    for (let i = 0; i < EXAMPLES_PER_MODEL; i++) {
      for (const stream of streams) {
        const example = stream[i]!;
        if (GARBAGE_AFTER.includes(i)) add(example.model, Buffer.from(`not avro ${example.model} ${i}`));
        examples.push(example);
        add(example.model, await codec.encode(example), example.example_id);
      }
    }

    const expected = expectedDecisions(examples, optionsOf);
    const outline = (model: string) => (expected.get(model) ?? []).map(({ decision: d }) => `${d.decision} ${identity(d.from_version)} -> ${identity(d.to_version)}`);
    for (const plan of PLANS) expect({ model: plan.model, decisions: outline(plan.model) }).toEqual({ model: plan.model, decisions: plan.outline });
    const partitionOf = (model: string) => partitionForKey(Buffer.from(model), PARTITIONS);
    // Every partition holds a model with decisions.
    expect(new Set(PLANS.filter((p) => p.outline.length > 0).map((p) => partitionOf(p.model))).size).toBe(PARTITIONS);
    const allExpected = [...expected.values()].flat();

    // Two instances, one group; the input arrives once both are in it.
    const childrenStarted = Date.now();
    const [survivor, leaver] = await Promise.all(['survivor', 'leaver'].map((name) => JoinerProcess.start({ name: `${prefix}-${name}`, env, processors: ['promoter'] })));
    processes.push(survivor!, leaver!);
    const alive = () => failIfDied(processes);
    await waitGroupMembers(admin, groupId, 2, 60_000);
    const groupOfTwoMs = Date.now() - childrenStarted;

    const producer = await transport.producer();
    const producingStarted = Date.now();
    const producing = produceHeldBack(producer, records, { chunk: CHUNK, pauseMs: PAUSE_MS, held: Math.floor(BEFORE_KILL * records.length) });

    const progress = new GroupProgress(admin, groupId, [topics.labelled]);
    await progress.waitCommitted(Math.ceil(KILL_AT * records.length), { timeoutMs: 60_000, check: alive });
    const beforeKill = await groupAssignments(admin, groupId, topics.labelled);
    expect([...beforeKill.values()].map((ps) => ps.length).sort()).toEqual([1, 2]);
    leaver!.kill('SIGKILL');
    const leaverExit = await leaver!.exited;
    const killedAt = Date.now();
    // What the leaver committed (a commit it had sent completes on the broker within moments).
    await sleep(1_000);
    const handover = await progress.committed();
    producing.release();

    // The group drops the leaver after its session timeout; the survivor then holds every partition.
    await waitGroupMembers(admin, groupId, 1, 60_000);
    const after = await groupAssignments(admin, groupId, topics.labelled);
    expect([...after.values()]).toEqual([[0, 1, 2]]);
    const leaverMember = [...beforeKill.keys()].find((id) => !after.has(id))!;
    const leaverPartitions = beforeKill.get(leaverMember)!;
    const committedAt = (p: number) => handover.get(`${topics.labelled}/${p}`) ?? 0;

    // Taken over: every partition of the leaver with input left has moved on.
    await producing.done;
    const pending = leaverPartitions.filter((p) => committedAt(p) < ends[p]!);
    for (;;) {
      alive();
      const now = await progress.committed();
      if (pending.every((p) => (now.get(`${topics.labelled}/${p}`) ?? 0) > committedAt(p))) break;
      if (Date.now() - killedAt > 120_000) throw new Error(`the survivor did not take over partitions ${pending.join(', ')} within 120 s; log ${survivor!.logFile}`);
      await sleep(50);
    }
    const takeoverMs = Date.now() - killedAt;
    await progress.waitCaughtUp({ timeoutMs: 120_000, check: alive });
    const caughtUpAfterKillMs = Date.now() - killedAt;
    const survivorExit = await survivor!.stop('SIGTERM');
    await producer.close();

    // What was committed: the decisions (read_committed) and the dead letters.
    const promotionCodec = new RegistryCodec<PromotionDecision>(registry, 'PromotionDecision', `${topics.promotions}-value`);
    const deadLetterCodec = new RegistryCodec<DeadLetter>(registry, 'DeadLetter', `${topics.deadLetters}-value`);
    const published: PromotionDecision[] = [];
    const wrongKeys: string[] = [];
    for (const record of await readTopic(transport, topics.promotions, PARTITIONS)) {
      const d = await promotionCodec.decode(record.value);
      if (record.key?.toString('utf8') !== d.model) wrongKeys.push(d.decision_id);
      published.push(d);
    }
    const letters = await Promise.all((await readTopic(transport, topics.deadLetters, PARTITIONS)).map((r) => deadLetterCodec.decode(r.value)));

    // The takeover mattered: on the leaver's partitions, decisions it committed and decisions only the survivor could make.
    const onLeaverPartitions = allExpected.filter((e) => leaverPartitions.includes(position.get(e.exampleId)!.partition));
    const byLeaver = onLeaverPartitions.filter((e) => position.get(e.exampleId)!.offset < committedAt(position.get(e.exampleId)!.partition));
    const afterTakeover = onLeaverPartitions.length - byLeaver.length;
    const endsOnKafka = await progress.ends();
    const endOf = (p: number) => endsOnKafka.get(`${topics.labelled}/${p}`);

    console.log('promoter-instances figures:', JSON.stringify({
      examples: examples.length, garbage: garbage.length, records_per_partition: ends,
      models: Object.fromEntries(PLANS.map((p) => [p.model, { partition: partitionOf(p.model), decisions: outline(p.model) }])),
      decisions: { expected: allExpected.length, published: published.length, dead_letters: letters.length },
      prepare_ms: childrenStarted - started, group_of_two_ms: groupOfTwoMs, produce_ms: producing.producedAt() - producingStarted, killed_after_ms: killedAt - producingStarted,
      leaver_partitions: leaverPartitions, handover: Object.fromEntries(leaverPartitions.map((p) => [p, `${committedAt(p)}/${ends[p]}`])),
      leaver_partition_decisions: { committed_by_leaver: byLeaver.length, after_takeover: afterTakeover },
      takeover_after_kill_ms: takeoverMs, caught_up_after_kill_ms: caughtUpAfterKillMs, total_ms: Date.now() - started,
      logged_decisions: { survivor: loggedDecisions(survivor!.logFile), leaver: loggedDecisions(leaver!.logFile) },
      exits: { survivor: survivorExit, leaver: leaverExit },
      problems: Object.fromEntries(processes.map((p) => [p.name, p.problemSummary()])),
    }, null, 2));

    expect(ends.map((_, p) => endOf(p))).toEqual(ends);
    expect(leaverExit).toEqual({ code: null, signal: 'SIGKILL' });
    expect(survivorExit, `the survivor stops cleanly on SIGTERM; log ${survivor!.logFile}`).toEqual({ code: 0, signal: null });
    expect(allExpected.length).toBe(7);
    expect(byLeaver.length).toBeGreaterThan(0);
    expect(afterTakeover).toBeGreaterThan(0);

    // Per model, exactly the expected decisions in publication order: same count, same fields but decided_at and actor.
    for (const plan of PLANS) {
      const actual = published.filter((d) => d.model === plan.model).map(withoutInstance);
      expect({ model: plan.model, decisions: actual }).toEqual({ model: plan.model, decisions: (expected.get(plan.model) ?? []).map((e) => e.decision) });
    }
    expect(published.length).toBe(allExpected.length);
    expect(new Set(published.map((d) => d.decision_id)).size).toBe(published.length);
    expect(wrongKeys).toEqual([]);
    for (const d of published) {
      expect(d.actor).toBe(`feedbackloop-promoter (${prefix})`);
      expect(d.decided_at).toBeGreaterThanOrEqual(producingStarted);
      expect(d.decided_at).toBeLessThanOrEqual(Date.now());
    }

    // Each undecodable record dead lettered once, by the promoter.
    expect(letters.map((l) => `${l.partition}/${l.offset}`).sort()).toEqual([...garbage].sort());
    expect(letters.every((l) => l.topic === topics.labelled && l.stage === 'promoter' && l.error_class === 'decode')).toBe(true);

    passed.push({ topics: Object.values(topics), groupId });
  }, 180_000);
});
