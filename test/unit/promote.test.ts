import { describe, expect, it } from 'vitest';
import { noisy, promotionStream, sigmoid, T0, type PromotionStreamOptions, type SimulatedChallenger } from '../../bench/promotion-sim.js';
import type { LabelledExample } from '../../core/events.js';
import {
  ConfidenceSequence,
  PromotionPolicy,
  lossOf,
  plannedRho,
  toPromotionDecision,
  type PolicyDecision,
  type PolicyOptions,
} from '../../core/promote/index.js';

const HOUR = 3_600_000;

/** Feeds a stream to a policy; the decisions with the index of the example that made each. */
function run(policy: PromotionPolicy, stream: Iterable<LabelledExample>): Array<PolicyDecision & { index: number }> {
  const out: Array<PolicyDecision & { index: number }> = [];
  let index = 0;
  for (const example of stream) {
    for (const d of policy.observe(example)) out.push({ ...d, index });
    index++;
  }
  return out;
}

/** A challenger whose noise on the log-odds changes at example `at`. */
const changesAt =
  (at: number, before: number, after: number): SimulatedChallenger =>
  (logit, index, normal) =>
    sigmoid(logit + (index < at ? before : after) * normal());

/** Miscalibrated toward 0 by `shift` on the log-odds: fewer scores reach 0.5, so recall drops. */
const shifted =
  (shift: number, sd: number): SimulatedChallenger =>
  (logit, _index, normal) =>
    sigmoid(logit - shift + sd * normal());

const stream = (options: Partial<PromotionStreamOptions> & Pick<PromotionStreamOptions, 'challengers'>) =>
  promotionStream({ seed: 1, examples: 5000, champion: noisy(1), ...options });

describe('ConfidenceSequence', () => {
  it('keeps the running mean and variance (Welford) and the boundary of the asymptotic CS, by hand', () => {
    const cs = new ConfidenceSequence(); // t* = 1000, ρ tuned at α = 0.05
    expect(cs.count).toBe(0);
    expect(cs.lower(0.05)).toBe(Number.NEGATIVE_INFINITY);
    for (const d of [0.5, -0.25, 1, 0.25]) cs.update(d);
    expect(cs.count).toBe(4);
    // mean = 1.5 / 4; variance = (0.125² + 0.625² + 0.625² + 0.125²) / 4 = 0.8125 / 4
    expect(cs.mean).toBe(0.375);
    expect(cs.variance).toBeCloseTo(0.203125, 15);

    // ρ² = (−2 log α + log(−2 log α + 1)) / t*
    const rho2 = (-2 * Math.log(0.05) + Math.log(-2 * Math.log(0.05) + 1)) / 1000;
    expect(cs.rho ** 2).toBeCloseTo(rho2, 15);
    expect(cs.rho).toBeCloseTo(0.08908509752892212, 15); // Python, the same formula
    const t = 4;
    const spread = t * 0.203125 * rho2 + 1;
    const byHand = (alpha: number) => Math.sqrt(((2 * spread) / (t * t * rho2)) * Math.log(Math.sqrt(spread) / alpha));
    expect(cs.radius(0.05)).toBeCloseTo(byHand(0.05), 12);
    expect(cs.radius(0.05)).toBeCloseTo(6.894931665234737, 12); // Python
    expect(cs.lower(0.05)).toBeCloseTo(0.375 - 6.894931665234737, 12);
    expect(cs.upper(0.05)).toBeCloseTo(0.375 + 6.894931665234737, 12);
    expect(cs.radius(0.01)).toBeCloseTo(8.54712331159902, 12); // a smaller α, a wider sequence (same ρ)
  });

  it('shrinks like sqrt(log t / t)', () => {
    // d = ±1 alternately: mean 0 and variance exactly 1 at every even t.
    const cs = new ConfidenceSequence();
    const ratios: number[] = [];
    const radii: number[] = [];
    for (let t = 1; t <= 1_000_000; t++) {
      cs.update(t % 2 === 0 ? 1 : -1);
      if (t === 10_000 || t === 100_000 || t === 1_000_000) {
        expect(cs.variance).toBeCloseTo(1, 12);
        radii.push(cs.radius(0.05));
        ratios.push(cs.radius(0.05) / Math.sqrt(Math.log(t) / t));
      }
    }
    // B_t² = 2 (tρ² + 1) / (t² ρ²) · (½ log(tρ² + 1) + log(1/α)) ≈ (log t + 2 log(ρ/α)) / t for large t.
    expect(radii[0]! / radii[1]!).toBeGreaterThan(Math.sqrt(10) * Math.sqrt(Math.log(1e4) / Math.log(1e5)) * 0.99);
    expect(ratios[0]!).toBeGreaterThan(ratios[1]!);
    expect(ratios[1]!).toBeGreaterThan(ratios[2]!);
    expect(ratios[2]!).toBeGreaterThan(1);
    expect(ratios[2]!).toBeLessThan(1.05);
    expect(ratios.map((r) => Number(r.toFixed(4)))).toEqual([1.0682, 1.0497, 1.041]);
  });

  it('checks its inputs', () => {
    expect(() => new ConfidenceSequence({ plannedSamples: 0 })).toThrow(/plannedSamples/);
    expect(() => plannedRho(1, 1000)).toThrow(/alpha/);
    const cs = new ConfidenceSequence();
    expect(() => cs.update(Number.NaN)).toThrow(/finite/);
    expect(() => cs.lower(0)).toThrow(/alpha/);
  });
});

describe('PromotionPolicy', () => {
  it('computes losses like the evaluator (log loss clipped at 1e-15)', () => {
    expect(lossOf('log_loss', 1, 0, 0.5)).toBeCloseTo(-Math.log(1e-15), 12);
    expect(lossOf('log_loss', 0, 0.25, 0.5)).toBeCloseTo(-Math.log(0.75), 15);
    expect(lossOf('brier', 1, 0.25, 0.5)).toBe(0.5625);
    expect(lossOf('error_rate', 1, 0.5, 0.5)).toBe(0);
    expect(lossOf('error_rate', 0, 0.5, 0.5)).toBe(1);
    expect(lossOf('squared_error', 3, 5, 0.5)).toBe(4);
  });

  it('promotes after a change and not before it (the sequence is cumulative since the start)', () => {
    // Equal to the champion (noise 1) for the first 3,000 examples, then better (noise 0.5).
    // Expected: no PROMOTE on the first 3,000 (the mean difference is about 0 there);
    // after the change the running mean climbs and crosses the boundary: a PROMOTE
    // some time after 3,000, later than a fresh test would (it carries the 3,000 equal ones).
    const policy = new PromotionPolicy('fraud');
    const decisions = run(policy, stream({ examples: 12_000, challengers: { lr: changesAt(3000, 1, 0.5) } }));
    expect(decisions.map((d) => [d.decision, d.index, d.from_version, d.to_version])).toEqual([['PROMOTE', 6451, 'v1', 'fraud/lr@13']]);
    const [d] = decisions;
    expect(d!.n).toBe(6452);
    expect(d!.at).toBe(T0 + 6451 * 60_000);
    expect(d!.bound).toBeGreaterThan(0);
    expect(d!.statistic).toBe(d!.metric_deltas.mean_loss_difference);
    expect(Object.keys(d!.metric_deltas).sort()).toEqual(['challenger_loss', 'champion_loss', 'ece_delta', 'mean_loss_difference', 'recall_delta']);
    expect(Object.keys(d!.guardrails).sort()).toEqual(['challenger_ece', 'champion_ece', 'challenger_recall', 'champion_recall'].sort());
    expect(d!.reason).toMatch(/^fraud\/lr@13 beats v1 on log_loss: .* over 6452 paired examples, lower bound 0\.\d+ > 0 at alpha 0\.05; recall/);
    expect(d!.policy).toBe(
      'asymptotic-cs alpha=0.05 metric=log_loss min_samples=500 min_effect=0 planned_samples=1000 max_recall_drop=0.05 max_ece=0.15 cooldown=6h watch=2000',
    );

    // A challenger that was this much better from the start is promoted far sooner: the 3,000 equal examples cost time.
    const fresh = run(new PromotionPolicy('fraud'), stream({ examples: 12_000, challengers: { lr: noisy(0.5) } }));
    expect(fresh.map((x) => [x.decision, x.index])).toEqual([['PROMOTE', 531]]); // vs 3,451 examples after the change above

    // The same on other seeds: never before the change, always after it.
    for (let seed = 2; seed <= 11; seed++) {
      const other = run(new PromotionPolicy('fraud'), stream({ seed, examples: 12_000, challengers: { lr: changesAt(3000, 1, 0.5) } }));
      expect(other.length, `seed ${seed}`).toBeGreaterThan(0);
      expect(other[0]!.index, `seed ${seed}`).toBeGreaterThanOrEqual(3000);
    }
  });

  it('never promotes a noisier challenger of the true model (20 seeds)', () => {
    for (let seed = 1; seed <= 20; seed++) {
      const policy = new PromotionPolicy('fraud');
      const decisions = run(policy, stream({ seed, examples: 10_000, champion: noisy(0), challengers: { lr: noisy(0.5) } }));
      expect(decisions, `seed ${seed}`).toEqual([]);
      const [challenger] = policy.state().challengers;
      expect(challenger!.n).toBe(10_000);
      expect(challenger!.mean).toBeLessThan(0);
      expect(challenger!.hold).toMatch(/^not significant/);
    }
  });

  it('a guardrail blocks a challenger with better log loss whose recall drops 10 points', () => {
    const policy = new PromotionPolicy('fraud');
    const decisions = run(policy, stream({ examples: 5000, challengers: { lr: shifted(0.4, 0.3) } }));
    expect(decisions).toEqual([]);
    const [challenger] = policy.state().challengers;
    expect(challenger!.lower).toBeGreaterThan(0.03); // far better on log loss
    expect(challenger!.champion_recall! - challenger!.challenger_recall!).toBeGreaterThan(0.09);
    expect(challenger!.hold).toMatch(/^guardrail: challenger recall 0\.\d+ is 0\.1\d* below the champion's 0\.\d+ \(at most 0\.05 allowed\)$/);

    // Without the recall guardrail it is promoted, once its bound crosses.
    const loose = run(new PromotionPolicy('fraud', { maxRecallDrop: Infinity }), stream({ examples: 5000, challengers: { lr: shifted(0.4, 0.3) } }));
    expect(loose.map((d) => [d.decision, d.index])).toEqual([['PROMOTE', 510]]);
    // The ECE guardrail, made strict, blocks it too.
    const strict = new PromotionPolicy('fraud', { maxRecallDrop: Infinity, maxEce: 0.01 });
    expect(run(strict, stream({ examples: 1000, challengers: { lr: shifted(0.4, 0.3) } }))).toEqual([]);
    expect(strict.state().challengers[0]!.hold).toMatch(/^guardrail: challenger ECE 0\.\d+ is above 0\.01$/);
  });

  it('takes the challenger with the largest lower bound when several cross on one example', () => {
    const challengers = { a: noisy(0.3), b: noisy(0.5) };
    // Recall guardrail off: at 500 examples the recalls of such noisy models differ by more than 5 points by chance.
    const watcher = new PromotionPolicy('fraud', { pinned: true, maxRecallDrop: Infinity });
    run(watcher, stream({ examples: 500, champion: noisy(2), challengers }));
    const lowers = Object.fromEntries(watcher.state().challengers.map((c) => [c.identity.slice('fraud/'.length), c.lower]));
    expect(lowers.a).toBeGreaterThan(0);
    expect(lowers.b).toBeGreaterThan(0);
    const winner = lowers.a! > lowers.b! ? 'a' : 'b';
    const decisions = run(new PromotionPolicy('fraud', { maxRecallDrop: Infinity }), stream({ examples: 500, champion: noisy(2), challengers }));
    expect(decisions.map((d) => [d.decision, d.index, d.to_version, d.bound])).toEqual([['PROMOTE', 499, `fraud/${winner}@1`, lowers[winner]]]);
  });

  it('judges new challengers against the promoted one, and holds them during the cool-down', () => {
    // Champion noise 2; a (noise 1) from the start; b (noise 0.2) from example 1,500. Examples 10 s apart: 6 h = 2,160 examples.
    const challengers = { a: noisy(1), b: ((logit, index, normal) => (index < 1500 ? null : sigmoid(logit + 0.2 * normal()))) as SimulatedChallenger };
    const options = { examples: 6000, gapMs: 10_000, champion: noisy(2), challengers };

    const eager = run(new PromotionPolicy('fraud', { cooldownMs: 0 }), stream(options));
    expect(eager.map((d) => [d.decision, d.index, d.from_version, d.to_version])).toEqual([
      ['PROMOTE', 499, 'v1', 'fraud/a@1'],
      ['PROMOTE', 1999, 'fraud/a@4', 'fraud/b@4'],
    ]);

    const policy = new PromotionPolicy('fraud');
    const held: string[] = [];
    const decisions: PolicyDecision[] = [];
    for (const example of stream(options)) {
      decisions.push(...policy.observe(example));
      const b = policy.state().challengers.find((c) => c.identity === 'fraud/b');
      if (decisions.length === 1 && b?.hold?.startsWith('cool-down')) held.push(b.hold);
    }
    expect(decisions.map((d) => [d.decision, d.from_version, d.to_version])).toEqual([
      ['PROMOTE', 'v1', 'fraud/a@1'],
      ['PROMOTE', 'fraud/a@6', 'fraud/b@6'],
    ]);
    expect(decisions[1]!.at - decisions[0]!.at).toBe(6 * HOUR); // the first example out of the cool-down
    expect(held.length).toBeGreaterThan(0);
    expect(held[0]).toBe(`cool-down until ${new Date(decisions[0]!.at + 6 * HOUR).toISOString()} (event time)`);
    expect(policy.state().champion).toEqual({ source: 'shadow', identity: 'fraud/b', version: 'fraud/b@12' });
    expect(policy.state().previous).toEqual({ source: 'shadow', identity: 'fraud/a', version: 'fraud/a@10' });
  });

  it('pinned: no decision; unpin lets a conclusive challenger through', () => {
    const policy = new PromotionPolicy('fraud', { pinned: true });
    const examples = [...stream({ examples: 3000, challengers: { lr: noisy(0.3) } })];
    expect(run(policy, examples.slice(0, 2000))).toEqual([]);
    const state = policy.state();
    expect(state.pinned).toBe(true);
    expect(state.challengers[0]!.lower).toBeGreaterThan(0);
    expect(state.challengers[0]!.hold).toBe('pinned: pinned by configuration');

    const pin = policy.pin('incident 42');
    expect(pin).toMatchObject({ decision: 'PIN', from_version: 'v1', to_version: 'v1', at: T0 + 1999 * 60_000, reason: 'pinned: incident 42' });
    expect(run(policy, examples.slice(2000, 2500))).toEqual([]);
    expect(policy.state().challengers[0]!.hold).toBe('pinned: incident 42');
    expect(policy.unpin()).toMatchObject({ decision: 'UNPIN', reason: 'unpinned (was pinned: incident 42)' });
    const after = run(policy, examples.slice(2500));
    expect(after.map((d) => [d.decision, d.index, d.n, d.to_version])).toEqual([['PROMOTE', 0, 2501, 'fraud/lr@6']]);
    expect(policy.state().decisions.map((d) => d.decision)).toEqual(['PIN', 'UNPIN', 'PROMOTE']);
  });

  it('rolls back automatically when the promoted model degrades within the watch', () => {
    // a is better (noise 0.3) until it is promoted, then bad (noise 3). 10 s apart, so the rollback falls in the cool-down.
    let promoted = Number.POSITIVE_INFINITY;
    const a: SimulatedChallenger = (logit, index, normal) => sigmoid(logit + (index > promoted ? 3 : 0.3) * normal());
    const policy = new PromotionPolicy('fraud');
    const decisions: Array<PolicyDecision & { index: number }> = [];
    let index = 0;
    for (const example of stream({ examples: 6000, gapMs: 10_000, challengers: { a } })) {
      for (const d of policy.observe(example)) {
        decisions.push({ ...d, index });
        if (d.decision === 'PROMOTE') promoted = index;
        if (d.decision === 'PROMOTE') expect(policy.state().watch).toMatchObject({ identity: 'v1', n: 0, remaining: 2000 });
      }
      index++;
    }
    expect(decisions.map((d) => [d.decision, d.index, d.n, d.from_version, d.to_version])).toEqual([
      ['PROMOTE', 499, 500, 'v1', 'fraud/a@1'],
      ['ROLLBACK', 999, 500, 'fraud/a@2', 'v1'],
    ]);
    const rollback = decisions[1]!;
    expect(rollback.at - decisions[0]!.at).toBeLessThan(6 * HOUR);
    expect(rollback.statistic).toBeGreaterThan(0); // loss_new − loss_previous
    expect(rollback.bound).toBeGreaterThan(0);
    expect(rollback.reason).toMatch(/^fraud\/a@2 is worse than v1 on log_loss since its promotion: .* over 500 paired examples, lower bound 0\.\d+ > 0 at alpha 0\.05; rolled back to v1$/);
    const state = policy.state();
    expect(state.champion).toEqual({ source: 'upstream', identity: 'v1', version: 'v1' });
    expect(state.previous).toBeNull();
    expect(state.watch).toBeNull();
    expect(state.challengers[0]).toMatchObject({ identity: 'fraud/a', n: 5000 });
    expect(state.challengers[0]!.mean).toBeLessThan(0);
  });

  it('closes the watch after watchExamples paired examples without a rollback', () => {
    const policy = new PromotionPolicy('fraud', { watchExamples: 1000 });
    const decisions = run(policy, stream({ examples: 1499, challengers: { a: noisy(0.3) } }));
    expect(decisions.map((d) => d.decision)).toEqual(['PROMOTE']);
    expect(policy.state().watch).toMatchObject({ n: 999, remaining: 1 });
    policy.observe([...stream({ examples: 1500, challengers: { a: noisy(0.3) } })][1499]!);
    expect(policy.state().watch).toBeNull();
  });

  it('skips unlabelled examples and counts corrections as new observations', () => {
    const policy = new PromotionPolicy('fraud');
    const [x] = [...stream({ examples: 1, challengers: { a: noisy(0.3) } })];
    expect(policy.observe({ ...x!, label: null })).toEqual([]);
    policy.observe(x!);
    policy.observe({ ...x!, example_id: `${x!.prediction_id}#2`, label: 1 - x!.label!, correction_of: x!.example_id });
    expect(policy.state().counters).toEqual({ labelled: 2, unlabelled: 1, unpaired: 0, late: 0, rejections: 0 });
    expect(policy.state().challengers[0]!.n).toBe(2);
    expect(() => policy.observe({ ...x!, model: 'churn' })).toThrow(/given an example of model churn/);
  });

  it('runs a regression model on squared error, without guardrails', () => {
    const policy = new PromotionPolicy('eta', { kind: 'regression' });
    expect(policy.options.metric).toBe('squared_error');
    const examples = [...stream({ examples: 2000, model: 'eta', challengers: { gbm: noisy(0.2) } })].map((x) => ({
      ...x,
      label: 10 * x.features.x!,
      score: 10 * x.features.x! + 3 * Math.sin(x.score * 1000),
      shadow_scores: Object.fromEntries(Object.entries(x.shadow_scores).map(([k, v]) => [k, 10 * x.features.x! + Math.sin(v * 1000)])),
    }));
    const decisions = run(policy, examples);
    expect(decisions.map((d) => [d.decision, d.index, d.to_version, d.guardrails])).toEqual([['PROMOTE', 499, 'eta/gbm@1', {}]]);
    expect(() => new PromotionPolicy('eta', { kind: 'regression', metric: 'log_loss' })).toThrow(/metric must be one of squared_error/);
    expect(() => new PromotionPolicy('fraud', { alpha: 1 } as Partial<PolicyOptions>)).toThrow(/alpha must be in \(0, 1\)/);
  });

  it('is deterministic and maps to the PromotionDecision event', () => {
    const make = () => run(new PromotionPolicy('fraud'), stream({ examples: 3000, challengers: { a: noisy(0.6), b: noisy(0.7) } }));
    const first = make();
    expect(first.length).toBe(1);
    expect(make()).toEqual(first);
    const event = toPromotionDecision(first[0]!, { decision_id: 'd-1', actor: 'promoter', decided_at: 5 });
    expect(event).toMatchObject({
      decision_id: 'd-1', model: 'fraud', decision: 'PROMOTE', from_version: 'v1', sample_size: first[0]!.n, bound: first[0]!.bound,
      statistic: first[0]!.statistic, p_value: null, alpha: 0.05, actor: 'promoter', at: first[0]!.at, decided_at: 5,
    });
  });
});
