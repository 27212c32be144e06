/**
 * The promotion policy of one model (pure core): labelled examples in,
 * PROMOTE / ROLLBACK decisions out. No I/O and no clock of its own: time is
 * the examples' event time (feedback_timestamp, else the prediction's
 * timestamp), so the decisions are a function of the sequence of examples
 * alone.
 *
 * Who is compared (docs/architecture.md, "Event contracts", roles):
 *  - the champion: until the first promotion, what upstream served (the
 *    example's `score`, under its `model_version`, whatever that version is);
 *    after a promotion, the promoted challenger (see below);
 *  - challengers: every challenger shadow score (a snapshot version) except
 *    the champion's, identified by the version without its `@n`
 *    (versionIdentity), so a learning challenger is followed across its
 *    snapshots;
 *  - previous: after a promotion, the champion it replaced (during the
 *    rollback watch only).
 * A promoted challenger stays the champion *for the policy* even though
 * upstream goes on serving its own model until it acts on the decision: its
 * score on an example is the `score` when the example's model_version is one
 * of its snapshots (upstream serves it), else its shadow score, else its
 * shadow score as the previous champion. The replaced champion's score is,
 * for upstream's own model, the `score` while upstream has not switched
 * (model_version is not a snapshot of the new champion), else its shadow
 * score as the previous champion; for a replaced challenger, resolved as
 * above. An example where a side has no score is not paired for that
 * comparison.
 *
 * The test: for each challenger, a ConfidenceSequence (sequence.ts) on the
 * paired differences d = loss_champion − loss_challenger (positive: the
 * challenger is better), over the examples where both have a score, since
 * the challenger was first seen or the champion last changed. A challenger
 * is promoted on an example where it is paired and
 *  - n ≥ minSamples, and the lower bound at level alpha > minEffect;
 *  - binary guardrails on the same paired examples pass: the challenger's
 *    recall at the threshold is at most maxRecallDrop below the
 *    champion's (both need a positive label), and its expected calibration
 *    error (10 equal-width bins) is at most maxEce;
 *  - the policy is not pinned, and no decision was taken in the last
 *    cooldownMs of event time.
 * When several challengers qualify on one example, the one with the largest
 * lower bound wins (ties: the smaller identity). The decision names the
 * snapshot key the winner had on that example (`to_version`) and the
 * champion's version on it (`from_version`). Then every sequence starts
 * over, against the new champion.
 *
 * The sequence is cumulative since that start: after a long stretch where a
 * challenger was no better, it takes correspondingly longer for a later
 * improvement to lift the running mean above the boundary (it is detected,
 * later than a fresh test would). This is what makes the test valid when it
 * is looked at after every example.
 *
 * Rollback watch: for the first watchExamples examples after a promotion on
 * which both the new champion and the previous one have a score, a separate
 * sequence on e = loss_new − loss_previous. If it shows the new champion
 * significantly worse — n ≥ minSamples and the lower bound of e at level
 * alpha > 0 — a ROLLBACK restores the previous champion (from_version: the
 * new champion's version on that example, to_version: the previous one's).
 * The cool-down does not hold a rollback back (the watch is the safety valve
 * and has its own limit); it does start one.
 *
 * Corrections are used as they come: an example with correction_of is one
 * more observation of the same prediction under its new label; the
 * retracted label's difference stays in the sequence. The test is on the
 * labels as they arrived, which is what a policy acting in real time saw;
 * corrections are rare, and a wrong label adds a difference of the same
 * distribution, not a bias toward either model. Unlabelled examples (label
 * null) are skipped.
 *
 * Pinning (option or pin()) freezes the champion: no promotion and no
 * automatic rollback while pinned; the sequences keep accumulating, so
 * unpin() lets an already conclusive challenger through on its next paired
 * example (the cool-down still applies).
 *
 * Manual decisions (`feedbackloop promote | rollback | pin | unpin`, events
 * on `model-promotions` with a `manual:` decision id) are given to
 * request(); each takes effect just before the first example observed whose
 * event time is at or after the decision's `at`, in the order requested —
 * so the policy stays a function of the examples and the requests. A manual
 * PROMOTE makes the named version the champion (followed by its identity,
 * like an automatic one; the rollback watch starts unless pinned); a manual
 * ROLLBACK restores the previous champion when it names it, else makes the
 * named version the champion; both start the cool-down. PIN / UNPIN set and
 * clear the pin. Manual decisions are not returned by observe() (they are
 * published already); state().decisions lists them with the rest.
 */
import { formatDuration } from '../duration.js';
import { parseShadowKey, parseSnapshotVersion, versionIdentity } from '../contracts/index.js';
import type { Decision, LabelledExample, ModelKind, PromotionDecision } from '../events.js';
import { BinaryMetrics, LOG_LOSS_EPSILON } from '../metrics/index.js';
import { ConfidenceSequence } from './sequence.js';

export type PromotionMetric = 'log_loss' | 'brier' | 'error_rate' | 'squared_error';

const BINARY_METRICS: readonly PromotionMetric[] = ['log_loss', 'brier', 'error_rate'];

/** Equal-width calibration bins of the ECE guardrail (as the evaluator's default). */
export const ECE_BINS = 10;

export interface PolicyOptions {
  /** The model's kind. Default binary. */
  kind: ModelKind;
  /** Level of every test (promotion and rollback). Default 0.05. */
  alpha: number;
  /** The loss compared. Default log_loss for a binary model, squared_error for a regression. */
  metric: PromotionMetric;
  /** Paired examples before any decision. Default 500. */
  minSamples: number;
  /** The lower bound of the mean loss difference must exceed this to promote. Default 0. */
  minEffect: number;
  /** Binary: the challenger's recall may be at most this far below the champion's. Default 0.05. */
  maxRecallDrop: number;
  /** Binary: the challenger's expected calibration error may be at most this. Default 0.15. */
  maxEce: number;
  /** No promotion for this long (event time) after a decision. Default 6 h. */
  cooldownMs: number;
  /** Paired examples after a promotion during which a rollback is tested. 0 = no watch. Default 2000. */
  watchExamples: number;
  /** Start pinned (no automatic decisions). Default false. */
  pinned: boolean;
  /** Where the confidence sequences are tightest (t*, see sequence.ts). Default 1000. */
  plannedSamples: number;
}

export const DEFAULT_POLICY_OPTIONS: Omit<PolicyOptions, 'metric'> = {
  kind: 'binary',
  alpha: 0.05,
  minSamples: 500,
  minEffect: 0,
  maxRecallDrop: 0.05,
  maxEce: 0.15,
  cooldownMs: 6 * 3_600_000,
  watchExamples: 2000,
  pinned: false,
  plannedSamples: 1000,
};

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

/** One comparison as state() shows it. */
export interface ComparisonState {
  /** The challenger's identity (its snapshot keys without `@n`); for the watch, the previous champion. */
  identity: string;
  /** Its latest version seen. */
  version: string;
  n: number;
  /** Mean loss difference and its confidence sequence at level alpha. */
  mean: number;
  variance: number;
  lower: number;
  upper: number;
  champion_loss: number | null;
  challenger_loss: number | null;
  champion_recall: number | null;
  challenger_recall: number | null;
  challenger_ece: number | null;
  /** Why it is not promoted (null before its first paired example). */
  hold: string | null;
}

export interface ChampionState {
  /** upstream: what prediction events carry; shadow: a promoted challenger followed by its identity. */
  source: 'upstream' | 'shadow';
  identity: string | null;
  /** Latest version seen for it (null before any). */
  version: string | null;
}

export interface PolicyState {
  model: string;
  champion: ChampionState;
  previous: ChampionState | null;
  pinned: boolean;
  pin_reason: string | null;
  /** Latest event time seen. */
  event_time: number | null;
  /** No promotion before this event time (null: none pending). */
  cooldown_until: number | null;
  /** The rollback watch after a promotion; `previous` in the comparison's terms: d = loss_new − loss_previous. */
  watch: (ComparisonState & { remaining: number }) | null;
  challengers: ComparisonState[];
  decisions: PolicyDecision[];
  counters: { labelled: number; unlabelled: number; unpaired: number };
}

/** The loss of one prediction (lower is better). Log loss clips like the evaluator (1e-15). */
export function lossOf(metric: PromotionMetric, label: number, score: number, threshold: number): number {
  switch (metric) {
    case 'log_loss': {
      const p = Math.min(1 - LOG_LOSS_EPSILON, Math.max(LOG_LOSS_EPSILON, score));
      return label === 1 ? -Math.log(p) : -Math.log(1 - p);
    }
    case 'brier':
      return (score - label) ** 2;
    case 'error_rate':
      return (score >= threshold ? 1 : 0) === label ? 0 : 1;
    case 'squared_error':
      return (score - label) ** 2;
  }
}

/** The `@n` of a snapshot key, -1 when it is not a snapshot version (so the newest snapshot of an identity wins). */
function snapshotNumber(key: string): number {
  return parseSnapshotVersion(key)?.sequence ?? -1;
}

interface Scored {
  score: number;
  version: string;
}

/** Where a champion's (or previous champion's) score comes from. */
type Holder = { kind: 'upstream' } | { kind: 'model'; identity: string };

/** A paired comparison: loss sums of both sides, the sequence of differences, and (binary) both sides' metrics. */
class Comparison {
  readonly sequence: ConfidenceSequence;
  baseLoss = 0;
  otherLoss = 0;
  /** Latest versions seen of the base (champion) and of the other side. */
  baseVersion = '';
  otherVersion = '';
  hold: string | null = null;
  private readonly base: BinaryMetrics | null;
  private readonly other: BinaryMetrics | null;

  constructor(
    readonly identity: string,
    private readonly options: PolicyOptions,
  ) {
    this.sequence = new ConfidenceSequence({ plannedSamples: options.plannedSamples, plannedAlpha: options.alpha });
    const binary = options.kind === 'binary';
    // One exact score, then a single bin: only the confusion counts and calibration bins are read.
    this.base = binary ? new BinaryMetrics(ECE_BINS, { maxDistinctScores: 1, scoreBins: 1 }) : null;
    this.other = binary ? new BinaryMetrics(ECE_BINS, { maxDistinctScores: 1, scoreBins: 1 }) : null;
  }

  add(example: LabelledExample, label: number, base: Scored, other: Scored): void {
    const { metric } = this.options;
    const threshold = example.threshold;
    const baseLoss = lossOf(metric, label, base.score, threshold);
    const otherLoss = lossOf(metric, label, other.score, threshold);
    this.baseLoss += baseLoss;
    this.otherLoss += otherLoss;
    this.sequence.update(baseLoss - otherLoss);
    this.base?.update({ label, score: base.score, threshold });
    this.other?.update({ label, score: other.score, threshold });
    this.baseVersion = base.version;
    this.otherVersion = other.version;
  }

  get n(): number {
    return this.sequence.count;
  }

  lower(): number {
    return this.sequence.lower(this.options.alpha);
  }

  figures(): { baseRecall: number | null; otherRecall: number | null; baseEce: number | null; otherEce: number | null } {
    const base = this.base?.get();
    const other = this.other?.get();
    return { baseRecall: base?.recall ?? null, otherRecall: other?.recall ?? null, baseEce: base?.ece ?? null, otherEce: other?.ece ?? null };
  }

  /** Mean losses and, for a binary model, recall and ECE deltas (other − base). */
  deltas(): Record<string, number> {
    const n = this.n;
    const out: Record<string, number> = { mean_loss_difference: this.sequence.mean };
    if (n > 0) {
      out.champion_loss = this.baseLoss / n;
      out.challenger_loss = this.otherLoss / n;
    }
    const f = this.figures();
    if (f.baseRecall !== null && f.otherRecall !== null) out.recall_delta = f.otherRecall - f.baseRecall;
    if (f.baseEce !== null && f.otherEce !== null) out.ece_delta = f.otherEce - f.baseEce;
    return out;
  }

  /** The guardrail figures present (binary only). */
  guardrails(): Record<string, number> {
    const f = this.figures();
    const out: Record<string, number> = {};
    if (f.otherRecall !== null) out.challenger_recall = f.otherRecall;
    if (f.baseRecall !== null) out.champion_recall = f.baseRecall;
    if (f.otherEce !== null) out.challenger_ece = f.otherEce;
    if (f.baseEce !== null) out.champion_ece = f.baseEce;
    return out;
  }

  /** Why the guardrails block the other side, or null when they pass (always null for a regression). */
  guardrailBreach(): string | null {
    if (this.base === null) return null;
    const { maxRecallDrop, maxEce } = this.options;
    const f = this.figures();
    if (Number.isFinite(maxRecallDrop)) {
      if (f.baseRecall === null || f.otherRecall === null) return 'guardrail: recall is undefined (no positive label among the paired examples)';
      const drop = f.baseRecall - f.otherRecall;
      // A tolerance for rounding: a drop of exactly maxRecallDrop passes.
      if (drop > maxRecallDrop + 1e-12) {
        return `guardrail: challenger recall ${fmt(f.otherRecall)} is ${fmt(drop)} below the champion's ${fmt(f.baseRecall)} (at most ${fmt(maxRecallDrop)} allowed)`;
      }
    }
    if (Number.isFinite(maxEce) && f.otherEce !== null && f.otherEce > maxEce) {
      return `guardrail: challenger ECE ${fmt(f.otherEce)} is above ${fmt(maxEce)}`;
    }
    return null;
  }

  state(): ComparisonState {
    const n = this.n;
    const f = this.figures();
    const { alpha } = this.options;
    return {
      identity: this.identity,
      version: this.otherVersion,
      n,
      mean: this.sequence.mean,
      variance: this.sequence.variance,
      lower: this.sequence.lower(alpha),
      upper: this.sequence.upper(alpha),
      champion_loss: n > 0 ? this.baseLoss / n : null,
      challenger_loss: n > 0 ? this.otherLoss / n : null,
      champion_recall: f.baseRecall,
      challenger_recall: f.otherRecall,
      challenger_ece: f.otherEce,
      hold: this.hold,
    };
  }
}

/** Four significant digits, for reasons. */
function fmt(x: number): string {
  return String(Number(x.toPrecision(4)));
}

function checkOptions(o: PolicyOptions): void {
  const fail = (key: string, what: string, value: unknown) => {
    throw new RangeError(`promotion policy: ${key} must be ${what}, got ${String(value)}`);
  };
  if (o.kind !== 'binary' && o.kind !== 'regression') fail('kind', 'binary or regression', o.kind);
  if (!(o.alpha > 0 && o.alpha < 1)) fail('alpha', 'in (0, 1)', o.alpha);
  const allowed = o.kind === 'binary' ? BINARY_METRICS : (['squared_error'] as const);
  if (!allowed.includes(o.metric)) fail('metric', `one of ${allowed.join(', ')} for a ${o.kind} model`, o.metric);
  if (!Number.isInteger(o.minSamples) || o.minSamples < 1) fail('minSamples', 'a positive integer', o.minSamples);
  if (!Number.isFinite(o.minEffect)) fail('minEffect', 'a finite number', o.minEffect);
  if (!(o.maxRecallDrop >= 0)) fail('maxRecallDrop', 'a non-negative number (Infinity: no guardrail)', o.maxRecallDrop);
  if (!(o.maxEce >= 0)) fail('maxEce', 'a non-negative number (Infinity: no guardrail)', o.maxEce);
  if (!(o.cooldownMs >= 0) || !Number.isFinite(o.cooldownMs)) fail('cooldownMs', 'a non-negative number of milliseconds', o.cooldownMs);
  if (!Number.isInteger(o.watchExamples) || o.watchExamples < 0) fail('watchExamples', 'a non-negative integer', o.watchExamples);
  if (!(o.plannedSamples > 0) || !Number.isFinite(o.plannedSamples)) fail('plannedSamples', 'a positive number', o.plannedSamples);
}

/** The policy in one line, for the decision's `policy` field. */
export function describePolicy(o: PolicyOptions): string {
  const guardrails = o.kind === 'binary' ? ` max_recall_drop=${o.maxRecallDrop} max_ece=${o.maxEce}` : '';
  return (
    `asymptotic-cs alpha=${o.alpha} metric=${o.metric} min_samples=${o.minSamples} min_effect=${o.minEffect} ` +
    `planned_samples=${o.plannedSamples}${guardrails} cooldown=${formatDuration(o.cooldownMs)} watch=${o.watchExamples}`
  );
}

export class PromotionPolicy {
  readonly options: PolicyOptions;
  readonly policy: string;
  private champion: Holder = { kind: 'upstream' };
  private championVersion: string | null = null;
  private previous: Holder | null = null;
  private previousVersion: string | null = null;
  /** Challenger identity -> its comparison with the current champion (insertion order: first seen). */
  private comparisons = new Map<string, Comparison>();
  /** The rollback watch: base = the new champion, other = the previous one. */
  private watch: Comparison | null = null;
  private pinReason: string | null;
  private eventTime: number | null = null;
  private cooldownUntil: number | null = null;
  private readonly decisions: PolicyDecision[] = [];
  private readonly counters = { labelled: 0, unlabelled: 0, unpaired: 0 };
  /** Manual decisions requested and not applied yet, in request order. */
  private requests: PromotionDecision[] = [];
  private readonly requested = new Set<string>();

  constructor(
    readonly model: string,
    options: Partial<PolicyOptions> = {},
  ) {
    const kind = options.kind ?? DEFAULT_POLICY_OPTIONS.kind;
    const given = Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined)) as Partial<PolicyOptions>;
    this.options = { ...DEFAULT_POLICY_OPTIONS, metric: kind === 'binary' ? 'log_loss' : 'squared_error', ...given, kind };
    checkOptions(this.options);
    this.policy = describePolicy(this.options);
    this.pinReason = this.options.pinned ? 'pinned by configuration' : null;
  }

  /** Applies one labelled example of this model; returns the decisions it completes (at most one). */
  observe(example: LabelledExample): PolicyDecision[] {
    if (example.model !== this.model) {
      throw new Error(`promotion policy of ${this.model} was given an example of model ${example.model}`);
    }
    const at = example.feedback_timestamp ?? example.timestamp;
    this.applyRequests(at);
    this.eventTime = this.eventTime === null ? at : Math.max(this.eventTime, at);
    const label = example.label;
    if (label === null) {
      this.counters.unlabelled++;
      return [];
    }
    this.counters.labelled++;

    const champion = this.scoreOf(this.champion, example);
    if (champion === null) {
      this.counters.unpaired++;
      return [];
    }
    this.championVersion = champion.version;

    const rollback = this.watchStep(example, label, champion, at);
    if (rollback !== null) return [this.decide(rollback)];

    const paired: Comparison[] = [];
    for (const [identity, challenger] of this.challengersOf(example)) {
      let comparison = this.comparisons.get(identity);
      if (comparison === undefined) {
        comparison = new Comparison(identity, this.options);
        this.comparisons.set(identity, comparison);
      }
      comparison.add(example, label, champion, challenger);
      paired.push(comparison);
    }
    if (paired.length === 0) this.counters.unpaired++;

    let winner: Comparison | null = null;
    for (const comparison of paired) {
      comparison.hold = this.holdReason(comparison);
      if (comparison.hold !== null) continue;
      if (winner === null || comparison.lower() > winner.lower() || (comparison.lower() === winner.lower() && comparison.identity < winner.identity)) {
        winner = comparison;
      }
    }
    return winner === null ? [] : [this.decide(this.promotion(winner, at))];
  }

  /** Freezes the champion (no automatic decision) until unpin(). */
  pin(reason: string): PolicyDecision {
    this.pinReason = reason.length > 0 ? reason : 'pinned';
    return this.decide(this.manual('PIN', `pinned: ${this.pinReason}`));
  }

  unpin(): PolicyDecision {
    const was = this.pinReason;
    this.pinReason = null;
    return this.decide(this.manual('UNPIN', was === null ? 'unpinned (was not pinned)' : `unpinned (was pinned: ${was})`));
  }

  /**
   * Queues a manual decision of this model (see the file comment); a decision id seen before is
   * ignored (a re-delivery). Throws on another model's decision or a decision that is not
   * PROMOTE, ROLLBACK, PIN or UNPIN.
   */
  request(decision: PromotionDecision): void {
    if (decision.model !== this.model) {
      throw new Error(`promotion policy of ${this.model} was given a decision of model ${decision.model}`);
    }
    if (!['PROMOTE', 'ROLLBACK', 'PIN', 'UNPIN'].includes(decision.decision)) {
      throw new Error(`promotion policy: a manual ${decision.decision} decision cannot be applied`);
    }
    if (this.requested.has(decision.decision_id)) return;
    this.requested.add(decision.decision_id);
    this.requests.push(decision);
  }

  /** Manual decisions requested but not applied yet (no example at or after their `at` so far). */
  pendingRequests(): PromotionDecision[] {
    return [...this.requests];
  }

  state(): PolicyState {
    const watch = this.watch;
    return {
      model: this.model,
      champion: this.describe(this.champion, this.championVersion),
      previous: this.previous === null ? null : this.describe(this.previous, this.previousVersion),
      pinned: this.pinReason !== null,
      pin_reason: this.pinReason,
      event_time: this.eventTime,
      cooldown_until: this.cooldownUntil !== null && this.eventTime !== null && this.eventTime < this.cooldownUntil ? this.cooldownUntil : null,
      watch: watch === null ? null : { ...watch.state(), remaining: this.options.watchExamples - watch.n },
      challengers: [...this.comparisons.values()].map((c) => c.state()),
      decisions: [...this.decisions],
      counters: { ...this.counters },
    };
  }

  // ------------------------------------------------------------ scores

  /** The score of a champion (or previous champion) on an example, or null when it has none there. */
  private scoreOf(holder: Holder, example: LabelledExample): Scored | null {
    if (holder.kind === 'model') return this.scoreOfIdentity(holder.identity, example);
    // Upstream's own model: the served score, unless upstream now serves the policy's champion.
    const champion = this.champion;
    if (champion.kind === 'upstream' || versionIdentity(example.model_version) !== champion.identity) {
      return { score: example.score, version: example.model_version };
    }
    const key = Object.keys(example.shadow_scores).sort().find((k) => parseShadowKey(k).role === 'previous');
    return key === undefined ? null : { score: example.shadow_scores[key]!, version: parseShadowKey(key).version };
  }

  /** A model followed by identity: as served, else its newest shadow snapshot, else as a previous champion. */
  private scoreOfIdentity(identity: string, example: LabelledExample): Scored | null {
    if (versionIdentity(example.model_version) === identity) return { score: example.score, version: example.model_version };
    let best: string | null = null;
    let fallback: Scored | null = null;
    for (const key of Object.keys(example.shadow_scores).sort()) {
      const { role, version } = parseShadowKey(key);
      if (versionIdentity(version) !== identity) continue;
      if (role === 'challenger') {
        if (best === null || snapshotNumber(key) > snapshotNumber(best)) best = key;
      } else {
        fallback ??= { score: example.shadow_scores[key]!, version };
      }
    }
    return best !== null ? { score: example.shadow_scores[best]!, version: best } : fallback;
  }

  /** The challengers scored on an example (newest snapshot per identity), the champion excluded. */
  private challengersOf(example: LabelledExample): Array<[string, Scored]> {
    const byIdentity = new Map<string, string>();
    for (const key of Object.keys(example.shadow_scores).sort()) {
      const { role, version } = parseShadowKey(key);
      if (role !== 'challenger') continue;
      const identity = versionIdentity(version);
      if (this.champion.kind === 'model' && identity === this.champion.identity) continue;
      const seen = byIdentity.get(identity);
      if (seen === undefined || snapshotNumber(key) > snapshotNumber(seen)) byIdentity.set(identity, key);
    }
    return [...byIdentity].map(([identity, key]) => [identity, { score: example.shadow_scores[key]!, version: key }]);
  }

  // ------------------------------------------------------------ decisions

  /** Applies, in request order, the manual decisions due at event time `at`. */
  private applyRequests(at: number): void {
    if (this.requests.length === 0) return;
    const due = this.requests.filter((r) => r.at <= at);
    if (due.length === 0) return;
    this.requests = this.requests.filter((r) => r.at > at);
    for (const r of due) this.applyManual(r);
  }

  private applyManual(r: PromotionDecision): void {
    const by = `${r.actor}: ${r.reason}`;
    const current = this.currentVersion();
    const applied = (decision: Decision, from: string, to: string): PolicyDecision => ({
      ...this.base(decision, from, to, r.at),
      policy: 'manual',
      reason: `manual ${decision} by ${by}`,
    });
    switch (r.decision) {
      case 'PIN':
        this.pinReason = by;
        this.decisions.push(applied('PIN', current, current));
        return;
      case 'UNPIN':
        this.pinReason = null;
        this.decisions.push(applied('UNPIN', current, current));
        return;
      case 'PROMOTE':
        this.decide(applied('PROMOTE', current, r.to_version));
        if (this.pinReason !== null) this.watch = null;
        break;
      case 'ROLLBACK': {
        const target = versionIdentity(r.to_version);
        const restoresPrevious = this.previous !== null && this.previousVersion !== null && versionIdentity(this.previousVersion) === target;
        if (!restoresPrevious) this.previous = { kind: 'model', identity: target };
        this.decide(applied('ROLLBACK', current, r.to_version));
        break;
      }
      default:
        return;
    }
    // A request applied late (its time already passed) cools down from now, not from its time.
    this.cooldownUntil = Math.max(r.at, this.eventTime ?? r.at) + this.options.cooldownMs;
  }

  /** The champion's latest version seen, else its identity, else `upstream` (before any example). */
  private currentVersion(): string {
    return this.championVersion ?? (this.champion.kind === 'model' ? this.champion.identity : 'upstream');
  }

  /** Adds the example to the rollback watch; a ROLLBACK when the new champion is significantly worse. */
  private watchStep(example: LabelledExample, label: number, champion: Scored, at: number): PolicyDecision | null {
    const watch = this.watch;
    if (watch === null || this.previous === null) return null;
    const previous = this.scoreOf(this.previous, example);
    if (previous === null) return null;
    this.previousVersion = previous.version;
    watch.add(example, label, champion, previous);
    const { alpha, minSamples, watchExamples, metric } = this.options;
    const lower = watch.lower();
    if (watch.n >= minSamples && lower > 0 && this.pinReason === null) {
      const mean = watch.sequence.mean;
      return {
        ...this.base('ROLLBACK', champion.version, previous.version, at),
        n: watch.n,
        statistic: mean,
        bound: lower,
        metric_deltas: { ...watch.deltas(), mean_loss_difference: mean },
        guardrails: watch.guardrails(),
        reason:
          `${champion.version} is worse than ${previous.version} on ${metric} since its promotion: mean loss difference ` +
          `(new − previous) ${fmt(mean)} over ${watch.n} paired examples, lower bound ${fmt(lower)} > 0 at alpha ${alpha}; ` +
          `rolled back to ${previous.version}`,
      };
    }
    watch.hold = lower > 0 && this.pinReason !== null ? `pinned: ${this.pinReason}` : null;
    if (watch.n >= watchExamples) this.watch = null; // passed
    return null;
  }

  /** Why a comparison does not promote now, or null when it may. */
  private holdReason(c: Comparison): string | null {
    const { alpha, minSamples, minEffect } = this.options;
    if (c.n < minSamples) return `collecting: ${c.n} of ${minSamples} paired examples`;
    const lower = c.lower();
    if (!(lower > minEffect)) return `not significant: lower bound ${fmt(lower)} ≤ ${minEffect} at alpha ${alpha}`;
    const breach = c.guardrailBreach();
    if (breach !== null) return breach;
    if (this.pinReason !== null) return `pinned: ${this.pinReason}`;
    if (this.cooldownUntil !== null && this.eventTime !== null && this.eventTime < this.cooldownUntil) {
      return `cool-down until ${new Date(this.cooldownUntil).toISOString()} (event time)`;
    }
    return null;
  }

  private promotion(c: Comparison, at: number): PolicyDecision {
    const { alpha, metric, minEffect } = this.options;
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
      ...this.base('PROMOTE', from, to, at),
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

  private manual(decision: 'PIN' | 'UNPIN', reason: string): PolicyDecision {
    const version = this.currentVersion();
    return { ...this.base(decision, version, version, this.eventTime ?? 0), reason };
  }

  private base(decision: Decision, from: string, to: string, at: number): PolicyDecision {
    return {
      decision,
      model: this.model,
      from_version: from,
      to_version: to,
      at,
      n: 0,
      statistic: null,
      bound: null,
      alpha: this.options.alpha,
      metric: this.options.metric,
      metric_deltas: {},
      guardrails: {},
      policy: this.policy,
      reason: '',
    };
  }

  /** Records a decision and applies it to the roles. */
  private decide(d: PolicyDecision): PolicyDecision {
    this.decisions.push(d);
    if (d.decision === 'PROMOTE') {
      this.previous = this.champion;
      this.previousVersion = d.from_version;
      this.champion = { kind: 'model', identity: versionIdentity(d.to_version) };
      this.championVersion = d.to_version;
      this.watch = this.options.watchExamples > 0 ? new Comparison(versionIdentity(d.from_version), this.options) : null;
    } else if (d.decision === 'ROLLBACK') {
      this.champion = this.previous ?? { kind: 'upstream' };
      this.championVersion = d.to_version;
      this.previous = null;
      this.previousVersion = null;
      this.watch = null;
    } else {
      return d;
    }
    this.comparisons = new Map();
    this.cooldownUntil = d.at + this.options.cooldownMs;
    return d;
  }

  private describe(holder: Holder, version: string | null): ChampionState {
    return holder.kind === 'upstream'
      ? { source: 'upstream', identity: version === null ? null : versionIdentity(version), version }
      : { source: 'shadow', identity: holder.identity, version };
  }
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
