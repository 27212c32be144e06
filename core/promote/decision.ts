/**
 * A decision of the promotion policy: what it holds, how a PROMOTE or a
 * ROLLBACK is written from the comparison behind it, and the
 * PromotionDecision event made of it.
 */
import type { Decision, PromotionDecision } from '../events.js';
import type { Comparison } from './comparison.js';
import { fmt } from './format.js';
import type { PolicyOptions, PromotionMetric } from './options.js';

/** A decision of the policy; toPromotionDecision makes the event of it. */
export interface PolicyDecision {
  decision: Decision;
  model: string;
  from_version: string;
  to_version: string;
  /** Event time of the example that completed the evidence (or of the latest example, for PIN / UNPIN). */
  at: number;
  /** Paired examples behind the decision. */
  n: number;
  /** The mean loss difference (PROMOTE: champion − challenger; ROLLBACK: new − previous). */
  statistic: number | null;
  /** The lower confidence bound of that mean. */
  bound: number | null;
  alpha: number;
  metric: PromotionMetric;
  metric_deltas: Record<string, number>;
  guardrails: Record<string, number>;
  /** The policy in one line (options that matter). */
  policy: string;
  reason: string;
}

/** What a decision takes from the policy that makes it. */
export interface DecisionMaker {
  readonly model: string;
  readonly options: PolicyOptions;
  /** The policy in one line (describePolicy). */
  readonly policy: string;
}

/** A decision with no evidence and no reason yet. */
export function blankDecision(maker: DecisionMaker, decision: Decision, from: string, to: string, at: number): PolicyDecision {
  return {
    decision,
    model: maker.model,
    from_version: from,
    to_version: to,
    at,
    n: 0,
    statistic: null,
    bound: null,
    alpha: maker.options.alpha,
    metric: maker.options.metric,
    metric_deltas: {},
    guardrails: {},
    policy: maker.policy,
    reason: '',
  };
}

/** The PROMOTE of the comparison's other side (the challenger), on the example at event time `at`. */
export function promotionDecision(maker: DecisionMaker, c: Comparison, at: number): PolicyDecision {
  const { alpha, metric, minEffect } = maker.options;
  const mean = c.sequence.mean;
  const lower = c.lower();
  const n = c.n;
  const from = c.baseVersion;
  const to = c.otherVersion;
  const f = c.figures();
  const guardrailText =
    f.baseRecall !== null && f.otherRecall !== null && f.otherEce !== null
      ? `; recall ${fmt(f.baseRecall)} → ${fmt(f.otherRecall)}, challenger ECE ${fmt(f.otherEce)}`
      : '';
  return {
    ...blankDecision(maker, 'PROMOTE', from, to, at),
    n,
    statistic: mean,
    bound: lower,
    metric_deltas: c.deltas(),
    guardrails: c.guardrails(),
    reason:
      `${to} beats ${from} on ${metric}: mean loss ${fmt(c.baseLoss / n)} → ${fmt(c.otherLoss / n)} ` +
      `(difference ${fmt(mean)}) over ${n} paired examples, lower bound ${fmt(lower)} > ${minEffect} at alpha ${alpha}${guardrailText}`,
  };
}

/** The ROLLBACK from the new champion `from` to the previous one `to` that the rollback watch calls for, at event time `at`. */
export function rollbackDecision(maker: DecisionMaker, watch: Comparison, from: string, to: string, at: number): PolicyDecision {
  const { alpha, metric } = maker.options;
  const mean = watch.sequence.mean;
  const lower = watch.lower();
  return {
    ...blankDecision(maker, 'ROLLBACK', from, to, at),
    n: watch.n,
    statistic: mean,
    bound: lower,
    metric_deltas: { ...watch.deltas(), mean_loss_difference: mean },
    guardrails: watch.guardrails(),
    reason:
      `${from} is worse than ${to} on ${metric} since its promotion: mean loss difference ` +
      `(new − previous) ${fmt(mean)} over ${watch.n} paired examples, lower bound ${fmt(lower)} > 0 at alpha ${alpha}; ` +
      `rolled back to ${to}`,
  };
}

/** The PromotionDecision event of a policy decision (the processor supplies id, actor and wall-clock time). */
export function toPromotionDecision(d: PolicyDecision, meta: { decision_id: string; actor: string; decided_at: number }): PromotionDecision {
  return {
    decision_id: meta.decision_id,
    model: d.model,
    from_version: d.from_version,
    to_version: d.to_version,
    decision: d.decision,
    policy: d.policy,
    statistic: d.statistic,
    p_value: null,
    bound: d.bound,
    alpha: d.alpha,
    sample_size: d.n,
    metric_deltas: d.metric_deltas,
    guardrails: d.guardrails,
    reason: d.reason,
    actor: meta.actor,
    at: d.at,
    decided_at: meta.decided_at,
  };
}
