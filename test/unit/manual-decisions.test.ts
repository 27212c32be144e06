/**
 * Manual decisions (`feedbackloop promote | rollback | pin | unpin`): what the
 * command publishes (manualDecision, championHistory), how the policy applies
 * them (at the first example at or after their `at`, in request order), and
 * the promoter processor honouring them from the model-promotions topic on
 * the in-process log, live and after a restart.
 */
import { describe, expect, it } from 'vitest';
import { noisy, promotionStream, T0 } from '../../bench/promotion-sim.js';
import { LocalCodec } from '../../adapters/codec/codec.js';
import { MemoryTransport } from '../../adapters/transport/memory.js';
import { ManualClock } from '../../core/clock.js';
import { ConfigError } from '../../core/errors.js';
import type { DeadLetter, LabelledExample, PromotionDecision } from '../../core/events.js';
import { PromotionPolicy, type PolicyDecision } from '../../core/promote/index.js';
import { championHistory, manualDecision, type ManualDecision } from '../../runtime/manual-decisions.js';
import { PromoterProcessor } from '../../processors/promoter.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
/** Example i of promotionStream is at T0 + i minutes. */
const at = (i: number) => T0 + i * MINUTE;

/** A strong challenger `lr`: the automatic policy promotes it at example 499 (min samples 500). */
const examples = (n = 3000) => [...promotionStream({ seed: 1, examples: n, champion: noisy(1), challengers: { lr: noisy(0.3) } })];

function request(kind: ManualDecision, when: number, to: string, id: string, from = 'v1'): PromotionDecision {
  return {
    decision_id: `manual:${id}`, model: 'fraud', from_version: from, to_version: to, decision: kind, policy: 'manual',
    statistic: null, p_value: null, bound: null, alpha: null, sample_size: 0, metric_deltas: {}, guardrails: {},
    reason: `because ${id}`, actor: 'user:alice', at: when, decided_at: when,
  };
}

function run(policy: PromotionPolicy, stream: LabelledExample[], offset = 0): Array<[string, number, string, string]> {
  const out: Array<[string, number, string, string]> = [];
  stream.forEach((example, i) => {
    for (const d of policy.observe(example)) out.push([d.decision, offset + i, d.from_version, d.to_version]);
  });
  return out;
}

const summary = (d: PolicyDecision) => [d.decision, d.at, d.from_version, d.to_version, d.policy];

describe('manual decisions in the policy', () => {
  it('a PIN holds a conclusive challenger until the UNPIN, which lets it through on the next paired example', () => {
    const policy = new PromotionPolicy('fraud');
    policy.request(request('PIN', at(100) - 1, 'v1', 'pin'));
    policy.request(request('UNPIN', at(2000) + 30_000, 'v1', 'unpin'));
    expect(run(policy, examples())).toEqual([['PROMOTE', 2001, 'v1', 'fraud/lr@5']]);
    const decisions = policy.state().decisions;
    expect(decisions.map(summary)).toEqual([
      ['PIN', at(100) - 1, 'v1', 'v1', 'manual'],
      ['UNPIN', at(2000) + 30_000, 'v1', 'v1', 'manual'],
      ['PROMOTE', at(2001), 'v1', 'fraud/lr@5', decisions[2]!.policy],
    ]);
    expect(decisions[0]!.reason).toBe('manual PIN by user:alice: because pin');
    expect(decisions[2]!.n).toBe(2002);
  });

  it('a manual PROMOTE makes the named version champion, starts the cool-down and the rollback watch', () => {
    const policy = new PromotionPolicy('fraud');
    policy.request(request('PROMOTE', at(50), 'fraud/lr@1', 'p'));
    const stream = examples(1000);
    expect(run(policy, stream.slice(0, 200))).toEqual([]);
    expect(policy.state().cooldown_until).toBe(at(50) + 6 * HOUR);
    // The challenger is the champion now: nothing left to promote, and lr is better than v1, so no rollback.
    expect(run(policy, stream.slice(200))).toEqual([]);
    const state = policy.state();
    expect(state.champion).toEqual({ source: 'shadow', identity: 'fraud/lr', version: 'fraud/lr@2' });
    expect(state.previous).toEqual({ source: 'upstream', identity: 'v1', version: 'v1' });
    expect(state.watch).toMatchObject({ identity: 'v1', n: 950 });
    expect(state.decisions.map(summary)).toEqual([['PROMOTE', at(50), 'v1', 'fraud/lr@1', 'manual']]);
  });

  it('a manual ROLLBACK restores the champion before the automatic promotion', () => {
    const policy = new PromotionPolicy('fraud');
    policy.request(request('ROLLBACK', at(600), 'v1', 'rb', 'fraud/lr@2'));
    const stream = examples(1200);
    expect(run(policy, stream.slice(0, 1000))).toEqual([['PROMOTE', 499, 'v1', 'fraud/lr@1']]);
    const state = policy.state();
    expect(state.decisions.map(summary)).toEqual([
      ['PROMOTE', at(499), 'v1', 'fraud/lr@1', state.decisions[0]!.policy],
      ['ROLLBACK', at(600), 'fraud/lr@2', 'v1', 'manual'],
    ]);
    expect(state.champion).toEqual({ source: 'upstream', identity: 'v1', version: 'v1' });
    expect(state.previous).toBeNull();
    // lr is judged again from the rollback on, from scratch.
    expect(state.challengers[0]).toMatchObject({ identity: 'fraud/lr', n: 400, hold: 'collecting: 400 of 500 paired examples' });
    // Out of the cool-down, with 500 new paired examples, the policy promotes it again.
    expect(run(policy, stream.slice(1000), 1000)).toEqual([['PROMOTE', 1099, 'v1', 'fraud/lr@3']]);
    expect(policy.state().decisions.at(-1)!.n).toBe(500);
  });

  it('applies requests by event time: given before the stream or just before they fall due, the decisions are the same', () => {
    const requests = [request('PIN', at(10), 'v1', 'a'), request('UNPIN', at(1500), 'v1', 'b'), request('PIN', at(2600), 'v1', 'c')];
    const early = new PromotionPolicy('fraud');
    for (const r of requests) early.request(r);
    const stream = examples();
    const first = run(early, stream);

    const late = new PromotionPolicy('fraud');
    const second: Array<[string, number, string, string]> = [];
    stream.forEach((example, i) => {
      for (const r of requests) if (r.at > (stream[i - 1]?.feedback_timestamp ?? 0) && r.at <= example.feedback_timestamp!) late.request(r);
      for (const d of late.observe(example)) second.push([d.decision, i, d.from_version, d.to_version]);
    });
    expect(second).toEqual(first);
    expect(first).toEqual([['PROMOTE', 1500, 'v1', 'fraud/lr@4']]);
    expect(late.state().decisions.map(summary)).toEqual(early.state().decisions.map(summary));
    expect(early.state().pinned).toBe(true);
    expect(early.pendingRequests()).toEqual([]);
  });

  it('ignores a re-delivered request and refuses what it cannot apply', () => {
    const policy = new PromotionPolicy('fraud');
    policy.request(request('PIN', at(5), 'v1', 'same'));
    policy.request(request('PIN', at(5), 'v1', 'same'));
    expect(policy.pendingRequests()).toHaveLength(1);
    expect(() => policy.request({ ...request('PIN', at(5), 'v1', 'x'), model: 'churn' })).toThrow('promotion policy of fraud was given a decision of model churn');
    expect(() => policy.request({ ...request('PIN', at(5), 'v1', 'y'), decision: 'HOLD' })).toThrow('a manual HOLD decision cannot be applied');
  });
});

describe('the manual command', () => {
  const history = (...ds: Array<[ManualDecision, string, string]>) =>
    championHistory(ds.map(([kind, from, to], i) => request(kind, at(i), to, String(i), from)));

  it('folds the topic into champion, previous and pin', () => {
    expect(history()).toEqual({ champion: null, previous: null, pinned: false });
    expect(history(['PROMOTE', 'v1', 'fraud/lr@3'], ['PIN', 'fraud/lr@3', 'fraud/lr@3'])).toEqual({ champion: 'fraud/lr@3', previous: 'v1', pinned: true });
    expect(history(['PROMOTE', 'v1', 'fraud/lr@3'], ['ROLLBACK', 'fraud/lr@3', 'v1'])).toEqual({ champion: 'v1', previous: null, pinned: false });
  });

  it('builds the decision: manual id, user actor, from the current champion, rollback to the previous one', () => {
    const promoted = history(['PROMOTE', 'v1', 'fraud/lr@3']);
    const d = manualDecision('ROLLBACK', { model: 'fraud', reason: ' complaints ', actor: 'bob' }, promoted, 1234);
    expect(d).toMatchObject({ model: 'fraud', decision: 'ROLLBACK', from_version: 'fraud/lr@3', to_version: 'v1', reason: 'complaints', actor: 'user:bob', at: 1234, decided_at: 1234, policy: 'manual', sample_size: 0 });
    expect(d.decision_id).toMatch(/^manual:[0-9a-f-]{36}$/);
    const p = manualDecision('PROMOTE', { model: 'fraud', reason: 'offline eval', to: 'fraud/ftrl@9', actor: 'bob' }, history(), 1);
    expect(p).toMatchObject({ from_version: 'upstream', to_version: 'fraud/ftrl@9', decision: 'PROMOTE' });
    expect(manualDecision('PIN', { model: 'fraud', reason: 'freeze', actor: 'bob' }, promoted, 1)).toMatchObject({ from_version: 'fraud/lr@3', to_version: 'fraud/lr@3' });
  });

  it('refuses requests that cannot be right, naming the option', () => {
    const none = history();
    const fail = (kind: ManualDecision, o: Partial<{ model: string; reason: string; to: string }>, h = none) => {
      try {
        manualDecision(kind, { model: 'fraud', reason: 'why', actor: 'bob', ...o }, h, 1);
      } catch (error) {
        expect(error).toBeInstanceOf(ConfigError);
        return (error as Error).message;
      }
      return 'no error';
    };
    expect(fail('PIN', { reason: '  ' })).toMatch(/^config: --reason: must say why/);
    expect(fail('PROMOTE', {})).toMatch(/^config: --to: name the version to promote/);
    expect(fail('PROMOTE', { to: 'churn/lr@2' })).toMatch(/^config: --to: churn\/lr@2 is a snapshot of another model/);
    expect(fail('ROLLBACK', {})).toMatch(/^config: --to: no promotion of fraud to roll back/);
    expect(fail('PROMOTE', { to: 'fraud/lr@3' }, history(['PROMOTE', 'v1', 'fraud/lr@3']))).toMatch(/already the champion/);
    expect(fail('UNPIN', {})).toMatch(/^config: unpin: fraud is not pinned/);
    expect(fail('PIN', {}, history(['PIN', 'v1', 'v1']))).toMatch(/already pinned/);
  });
});

describe('the promoter processor honours manual decisions on the topic', () => {
  const TOPICS = { labelled: 'labelled', promotions: 'promotions', deadLetters: 'dead', checkpoints: 'checkpoints' };
  const codecs = {
    labelled: new LocalCodec<LabelledExample>('LabelledExample'),
    promotion: new LocalCodec<PromotionDecision>('PromotionDecision'),
    deadLetter: new LocalCodec<DeadLetter>('DeadLetter'),
  };
  /** Manual decisions each processor reported reading (for the decisions counter of `run`). */
  const manualSeen: string[][] = [];
  const processor = (log: MemoryTransport) => {
    const seen: string[] = [];
    manualSeen.push(seen);
    return new PromoterProcessor({
      transport: log, topics: TOPICS, groupId: 'promoter', transactionalIdPrefix: 'promoter', codecs,
      policyOf: () => ({}), actor: 'promoter', clock: new ManualClock(T0), checkpointEvery: 500,
      observer: { manual: (d) => seen.push(`${d.decision} ${d.decision_id}`) },
    });
  };
  const send = async (log: MemoryTransport, topic: string, values: Array<LabelledExample | PromotionDecision>) => {
    const producer = await log.producer();
    await producer.send(await Promise.all(values.map(async (v) => ({
      topic, key: Buffer.from(v.model),
      value: topic === TOPICS.labelled ? await codecs.labelled.encode(v as LabelledExample) : await codecs.promotion.encode(v as PromotionDecision),
    }))));
    await log.whenIdle();
  };
  const decisionsOn = async (log: MemoryTransport) =>
    Promise.all(log.records(TOPICS.promotions).map(async (r) => codecs.promotion.decode(r.value)));

  it('no automatic decision while pinned; the restarted promoter rebuilds with the pin and decides once after the unpin', async () => {
    const log = new MemoryTransport();
    await log.ensureTopics([{ name: TOPICS.labelled, partitions: 2 }, { name: TOPICS.promotions, partitions: 2 }, { name: TOPICS.deadLetters, partitions: 1 }, { name: TOPICS.checkpoints, partitions: 2, compacted: true }]);
    const stream = examples();
    const first = processor(log);
    await first.start();
    await send(log, TOPICS.promotions, [request('PIN', at(100) - 1, 'v1', 'pin')]);
    await send(log, TOPICS.labelled, stream.slice(0, 1200));
    expect(first.published).toEqual([]);
    expect(first.policies()[0]!.state()).toMatchObject({ pinned: true, pin_reason: 'user:alice: because pin' });
    await first.stop();

    // A new instance rebuilds from the topic (the pin included) and goes on.
    const second = processor(log);
    await second.start();
    await send(log, TOPICS.labelled, stream.slice(1200, 2000));
    expect(second.published).toEqual([]);
    await send(log, TOPICS.promotions, [request('UNPIN', at(2000) + 30_000, 'v1', 'unpin')]);
    await send(log, TOPICS.labelled, stream.slice(2000));
    await second.stop();
    expect(second.published.map((d) => [d.decision, d.at, d.from_version, d.to_version])).toEqual([['PROMOTE', at(2001), 'v1', 'fraud/lr@5']]);
    // The history on the topic: the two manual decisions and the automatic one, once each.
    expect((await decisionsOn(log)).map((d) => [d.decision, d.actor])).toEqual([
      ['PIN', 'user:alice'], ['UNPIN', 'user:alice'], ['PROMOTE', 'promoter'],
    ]);
    // Each instance reports every manual decision once (the second read the PIN back at its start).
    expect(manualSeen).toEqual([['PIN manual:pin'], ['PIN manual:pin', 'UNPIN manual:unpin']]);
  });
});
