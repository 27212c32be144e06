/**
 * PromotionPolicy.toState / fromState (the promoter's checkpoints): a policy
 * restored from the state taken at any point of a stream, through the
 * checkpoint's encoding (v8.serialize), goes on exactly as the one it was
 * taken from — same decisions, same state() — and a state is refused under
 * other settings.
 */
import { deserialize, serialize } from 'node:v8';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { delayedStream, HORIZON_MS } from '../../bench/promotion-delay-sim.js';
import { noisy, promotionStream, sigmoid, T0, type SimulatedChallenger } from '../../bench/promotion-sim.js';
import type { LabelledExample, PromotionDecision } from '../../core/events.js';
import { DECISIONS_KEPT, PolicyStateMismatch, PromotionPolicy, type PolicyData, type PolicyDecision, type PolicyOptions } from '../../core/promote/index.js';
import { propertyTimeout, runs } from '../support/properties.js';

const MINUTE = 60_000;

/** Through the checkpoint's encoding and back. */
const roundTrip = (data: PolicyData): PolicyData => deserialize(serialize(data)) as PolicyData;

/** A challenger whose noise on the log-odds is `before` until example `at`, then `after`. */
const switching =
  (at: number, before: number, after: number): SimulatedChallenger =>
  (logit, index, normal) =>
    sigmoid(logit + (index < at ? before : after) * normal());

function feed(policy: PromotionPolicy, examples: readonly LabelledExample[]): PolicyDecision[] {
  const out: PolicyDecision[] = [];
  for (const example of examples) for (const d of policy.observe(example)) out.push(d);
  return out;
}

function manual(decision: 'PIN' | 'UNPIN' | 'PROMOTE', at: number, to: string, id: string): PromotionDecision {
  return {
    decision_id: `manual:${id}`, model: 'fraud', from_version: 'v1', to_version: to, decision, policy: 'manual',
    statistic: null, p_value: null, bound: null, alpha: null, sample_size: 0, metric_deltas: {}, guardrails: {},
    reason: id, actor: 'user:test', at, decided_at: at,
  };
}

/** The example to restore at: a share of the stream, or `after` examples after a decision of the uninterrupted run. */
function splitPoint(
  where: { anywhere: number } | { decision: number; after: number },
  examples: readonly LabelledExample[],
  options: Partial<PolicyOptions>,
  requests: readonly PromotionDecision[],
): number {
  if ('anywhere' in where) return Math.floor(where.anywhere * examples.length);
  const scout = new PromotionPolicy('fraud', options);
  for (const r of requests) scout.request(r);
  const at: number[] = [];
  examples.forEach((example, i) => {
    if (scout.observe(example).length > 0) at.push(i);
  });
  if (at.length === 0) return Math.floor(examples.length / 2);
  return Math.min(examples.length, at[where.decision % at.length]! + where.after);
}

const scenario = fc.record({
  seed: fc.integer({ min: 1, max: 1_000_000 }),
  examples: fc.integer({ min: 400, max: 2500 }),
  /** Where to restore: anywhere, or this many examples after the k-th decision of the uninterrupted run (in its cool-down or watch). */
  split: fc.oneof(fc.record({ anywhere: fc.double({ min: 0, max: 1, noNaN: true }) }), fc.record({ decision: fc.nat(5), after: fc.integer({ min: 1, max: 300 }) })),
  minSamples: fc.integer({ min: 20, max: 150 }),
  watchExamples: fc.integer({ min: 0, max: 400 }),
  cooldownMinutes: fc.integer({ min: 0, max: 600 }),
  metric: fc.constantFrom('log_loss' as const, 'brier' as const, 'error_rate' as const),
  guardrails: fc.boolean(),
  lr: fc.tuple(fc.integer({ min: 0, max: 2500 }), fc.double({ min: 0.2, max: 1.2, noNaN: true }), fc.double({ min: 0.2, max: 3, noNaN: true })),
  ftrlFrom: fc.integer({ min: 0, max: 2500 }),
  pinAt: fc.option(fc.integer({ min: 0, max: 2500 }), { nil: undefined }),
  /** promoter.maturity: 0 (as labels arrive) or a horizon that keeps examples waiting in bins at the split. */
  maturityMinutes: fc.constantFrom(0, 0, 30, 200),
});

describe('PromotionPolicy toState / fromState', () => {
  // CPU-bound: 250 runs, 7.1 s of the unit project's 20 s under a load of 7 on 2 cores (helpers in parallel); 60 s for a loaded machine.
  it('a policy restored at a random point of a generated stream decides and reports exactly as the uninterrupted one', { timeout: propertyTimeout(60_000) }, () => {
    /** Runs whose restored policy had decisions to make, and those restored within a cool-down or a watch. */
    const seen = { decidedAfter: 0, inCooldown: 0, inWatch: 0 };
    fc.assert(
      fc.property(scenario, (s) => {
        const options: Partial<PolicyOptions> = {
          minSamples: s.minSamples, watchExamples: s.watchExamples, cooldownMs: s.cooldownMinutes * MINUTE, metric: s.metric,
          maturityMs: s.maturityMinutes * MINUTE,
          ...(s.guardrails ? {} : { maxRecallDrop: Infinity, maxEce: Infinity }),
        };
        const ftrl: SimulatedChallenger = (logit, index, normal) => (index < s.ftrlFrom ? null : sigmoid(logit + 0.5 * normal()));
        const examples = [...promotionStream({ seed: s.seed, examples: s.examples, champion: noisy(1), challengers: { lr: switching(...s.lr), ftrl }, snapshotEvery: 150 })];
        const requests = s.pinAt === undefined ? [] : [manual('PIN', T0 + s.pinAt * MINUTE, 'v1', 'pin'), manual('UNPIN', T0 + (s.pinAt + 300) * MINUTE, 'v1', 'unpin')];
        const split = splitPoint(s.split, examples, options, requests);

        const reference = new PromotionPolicy('fraud', options);
        for (const r of requests) reference.request(r);
        const before = feed(reference, examples.slice(0, split));
        const restored = PromotionPolicy.fromState('fraud', options, roundTrip(reference.toState()));
        const at = restored.state();
        expect(at).toEqual(reference.state());
        expect(restored.pendingRequests()).toEqual(reference.pendingRequests());
        if (at.cooldown_until !== null) seen.inCooldown++;
        if (at.watch !== null) seen.inWatch++;
        // A manual decision delivered again after the restore is a re-delivery: ignored by both.
        for (const r of requests) {
          restored.request(r);
          reference.request(r);
        }
        const rest = examples.slice(split);
        const after = feed(restored, rest);
        expect(after).toEqual(feed(reference, rest));
        expect(restored.state()).toEqual(reference.state());
        if (after.length > 0) seen.decidedAfter++;
      }),
      runs(250),
    );
    // The runs restored mid-way through what the state must carry, not only before or after it all.
    // Each run is restored in a watch with p ~ 0.13 (in a cool-down 0.14, after a decision 0.19:
    // 154, 164 and 228 of 1,200 fresh-seed runs), so with 250 runs P(at most 5) < 1e-8 for p >= 0.12;
    // at 40 runs under a fixed seed it was a coin toss for any other seed.
    expect(seen.decidedAfter).toBeGreaterThan(5);
    expect(seen.inCooldown).toBeGreaterThan(5);
    expect(seen.inWatch).toBeGreaterThan(5);
  });

  it('a regression policy (no binary metrics) round-trips too', () => {
    const examples = [...promotionStream({ seed: 5, examples: 1500, champion: noisy(1), challengers: { lr: noisy(0.3) } })];
    const options: Partial<PolicyOptions> = { kind: 'regression', minSamples: 100 };
    const reference = new PromotionPolicy('fraud', options);
    feed(reference, examples.slice(0, 700));
    const restored = PromotionPolicy.fromState('fraud', options, roundTrip(reference.toState()));
    const rest = examples.slice(700);
    expect(feed(restored, rest)).toEqual(feed(reference, rest));
    expect(restored.state()).toEqual(reference.state());
  });

  it('a delay-aware policy round-trips with examples waiting to mature, under outcome-dependent delays', () => {
    const examples = delayedStream({ seed: 4, predictions: 14_000, champion: noisy(1), challenger: noisy(0.7) });
    const options: Partial<PolicyOptions> = { maturityMs: HORIZON_MS, minSamples: 300 };
    const reference = new PromotionPolicy('fraud', options);
    feed(reference, examples.slice(0, 7000));
    const data = roundTrip(reference.toState());
    expect(data.comparisons[0]!.pending!.length).toBeGreaterThan(50);
    const restored = PromotionPolicy.fromState('fraud', options, data);
    expect(restored.state()).toEqual(reference.state());
    const rest = examples.slice(7000);
    const after = feed(restored, rest);
    expect(after).toEqual(feed(reference, rest));
    expect(after.filter((d) => d.decision === 'PROMOTE')).toHaveLength(1);
    expect(restored.state()).toEqual(reference.state());
    expect(() => PromotionPolicy.fromState('fraud', { minSamples: 300 }, data)).toThrow(/maturity=5d/);
  });

  it('refuses a state made under other settings, or of another model, with a clear error', () => {
    const policy = new PromotionPolicy('fraud', { minSamples: 100 });
    feed(policy, [...promotionStream({ seed: 2, examples: 300, champion: noisy(1), challengers: { lr: noisy(0.5) } })]);
    const data = roundTrip(policy.toState());
    expect(() => PromotionPolicy.fromState('fraud', { minSamples: 200 }, data)).toThrow(PolicyStateMismatch);
    expect(() => PromotionPolicy.fromState('fraud', { minSamples: 200 }, data)).toThrow(/other settings .*min_samples=100.*now.*min_samples=200/);
    expect(() => PromotionPolicy.fromState('fraud', { minSamples: 100, kind: 'regression' }, data)).toThrow(PolicyStateMismatch);
    expect(() => PromotionPolicy.fromState('churn', { minSamples: 100 }, data)).toThrow(/state is of model fraud/);
  });

  it(`keeps the latest ${DECISIONS_KEPT} decisions and counts them all, in state() and in the state`, () => {
    const policy = new PromotionPolicy('fraud');
    for (let i = 0; i < DECISIONS_KEPT + 20; i++) policy.pin(`p${i}`);
    const state = policy.state();
    expect(state.decisions).toHaveLength(DECISIONS_KEPT);
    expect(state.decisions_total).toBe(DECISIONS_KEPT + 20);
    expect(state.decisions[0]!.reason).toBe('pinned: p20');
    const data = roundTrip(policy.toState());
    expect(data.decisions).toHaveLength(DECISIONS_KEPT);
    expect(PromotionPolicy.fromState('fraud', {}, data).state()).toEqual(state);
  });
});
