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
 * is promoted on an example where it is paired (with a maturity horizon:
 * where one of its bins matures, see below) and
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
 * The test under label delay (option maturityMs, `promoter.maturity`).
 * The sequence assumes its differences share one mean. In label-arrival
 * order they do not when the delay depends on the outcome (chargebacks take
 * weeks, cleared transactions an hour): the first labels are mostly
 * negatives, so a challenger better on negatives only (and worse overall)
 * leads early and is promoted — bench/promotion-delay-sim.ts measures 100%
 * of such streams. With a horizon H > 0 a paired example enters the
 * sequences (the challengers' and the rollback watch's) only once its
 * prediction time is H older than the policy's clock (the latest feedback
 * or prediction time seen), in prediction-time order, by prediction-time
 * bins of width H / MATURITY_BINS merged exactly (maturity.ts); decisions
 * are looked for only when a bin enters. Why it is valid: if the predictions
 * are exchangeable in prediction time (the stationarity today's test assumes
 * of the labels) and every label comes within H, the matured examples are
 * all the labelled predictions up to a time, in their own order, so the
 * differences in the sequence again share one mean whatever the delays;
 * looking only at bin boundaries is looking at some of the times of a
 * confidence sequence, which holds at all of them. Its assumptions:
 *  - H covers the label delays (set it to joiner.join_window): a label that
 *    comes after its prediction matured is dropped and counted as `late`;
 *    if those are mostly of one outcome, the bias is back in proportion;
 *  - a prediction that never gets a label (the joiner's expiry emits it with
 *    label null) is not compared, as before: the test is on the labelled
 *    predictions. Where silence means an outcome (no chargeback = genuine),
 *    upstream should send that label, or the compared population lacks it;
 *  - the guardrails (recall, ECE) are point estimates over the paired
 *    examples as they arrive, matured or not: recall is conditional on the
 *    positives, which a delay that depends only on the outcome leaves an
 *    unbiased sample of;
 *  - the cost: a decision waits H (plus up to one bin) of event time after
 *    the evidence it uses, so it takes more labels read than today's test.
 *
 * Several challengers: each is tested against the champion at level alpha
 * with no multiplicity correction. Under the null each lower bound errs
 * with probability at most alpha (about alpha / 2: the sequence is
 * two-sided, sequence.ts), so by the union bound k challengers falsely
 * promote with probability at most k·alpha (about k·alpha / 2) until the
 * champion changes. For a family-wise rate alpha with k challengers, set
 * `promoter.alpha` to alpha / k (Bonferroni).
 *
 * Corrections are used as they come: an example with correction_of is one
 * more observation of the same prediction under its new label; the
 * retracted label's difference stays in the sequence. The test is on the
 * labels as they arrived, which is what a policy acting in real time saw;
 * corrections are rare, and a wrong label adds a difference of the same
 * distribution, not a bias toward either model. Unlabelled examples (label
 * null) are skipped, and arrival records (joiner.emit_arrivals) are not
 * observed at all: the policy is the same with or without them.
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
 * published already); state().decisions lists them with the rest (the
 * latest DECISIONS_KEPT; decisions_total counts them all).
 *
 * Multiclass models (issue 16, multiclass.ts): the paired test compares the
 * multi-class log loss −log p(true class) of each side, the champion's
 * probabilities being the prediction's class_scores and the others' their
 * `<key>#<i>` shadow scores; an example with only rejected_class (no true
 * class) is not compared (counted in `rejections`). No guardrail applies to a
 * multiclass model (nor to a regression): the test alone decides. The rest —
 * maturity, the rollback watch, pinning, manual decisions — is as for binary.
 *
 * Multilabel models (multilabel.ts): the paired test compares each side's
 * multi-label log loss (the mean over labels of the binary log loss), the
 * champion's probabilities being the prediction's class_scores and the
 * others' their `<key>#<i>` shadow scores. No guardrail applies either.
 *
 * toState() / fromState() turn the policy into plain data and back (the
 * promoter's checkpoints, data.ts): a restored policy goes on exactly as the
 * one it was taken from, given the same settings; other settings are refused.
 */
import { isLabelled } from '../contracts/labelled.js';
import { versionIdentity } from '../contracts/index.js';
import type { Decision, LabelledExample, PromotionDecision } from '../events.js';
import { Comparison } from './comparison.js';
import { PolicyStateMismatch, type PolicyCounters, type PolicyData } from './data.js';
import { blankDecision, promotionDecision, rollbackDecision, type PolicyDecision } from './decision.js';
import { fmt } from './format.js';
import { ManualRequests } from './manual.js';
import { binOf, maturedBefore } from './maturity.js';
import { describePolicy, resolveOptions, type PolicyOptions } from './options.js';
import { trueClassView } from './multiclass.js';
import { labelSetView } from './multilabel.js';
import { challengersOf, scoreOf, type Holder, type Scored } from './scores.js';
import { describeHolder, type PolicyState } from './state.js';

/** Decisions state() lists (and a checkpoint keeps): the latest ones; `decisions_total` counts them all. */
export const DECISIONS_KEPT = 100;

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
  /** The latest DECISIONS_KEPT decisions, oldest first. */
  private decisions: PolicyDecision[] = [];
  private decisionCount = 0;
  private counters: PolicyCounters = { labelled: 0, unlabelled: 0, unpaired: 0, late: 0, rejections: 0 };
  /** The maturity clock: the latest feedback or prediction time seen (every prediction seen is at or before it). */
  private clock: number | null = null;
  /** The frontier last released (not state: a restored policy releases again at its first example, to the same effect). */
  private releasedTo = Number.NEGATIVE_INFINITY;
  /** Manual decisions requested and not applied yet. */
  private requests: ManualRequests;

  constructor(
    readonly model: string,
    options: Partial<PolicyOptions> = {},
  ) {
    this.options = resolveOptions(options);
    this.policy = describePolicy(this.options);
    this.pinReason = this.options.pinned ? 'pinned by configuration' : null;
    this.requests = new ManualRequests(model);
  }

  /** The policy as plain data (for checkpoints), without its options: fromState takes them. */
  toState(): PolicyData {
    return {
      model: this.model,
      kind: this.options.kind,
      policy: this.policy,
      champion: { ...this.champion },
      championVersion: this.championVersion,
      previous: this.previous === null ? null : { ...this.previous },
      previousVersion: this.previousVersion,
      comparisons: Array.from(this.comparisons.values(), (c) => c.toState()),
      watch: this.watch === null ? null : this.watch.toState(),
      pinReason: this.pinReason,
      eventTime: this.eventTime,
      clock: this.clock,
      cooldownUntil: this.cooldownUntil,
      decisions: this.decisions.map((d) => ({ ...d, metric_deltas: { ...d.metric_deltas }, guardrails: { ...d.guardrails } })),
      decisionCount: this.decisionCount,
      counters: { ...this.counters },
      requests: this.requests.toState(),
    };
  }

  /**
   * The policy toState() described, under `options`. Throws a PolicyStateMismatch when the state
   * is another model's or was made under other settings (kind, or anything describePolicy names):
   * its sums would not be what these settings make of the same examples.
   */
  static fromState(model: string, options: Partial<PolicyOptions>, data: PolicyData): PromotionPolicy {
    const policy = new PromotionPolicy(model, options);
    if (data.model !== model) throw new PolicyStateMismatch(`promotion policy of ${model}: the state is of model ${data.model}`);
    if (data.kind !== policy.options.kind || data.policy !== policy.policy) {
      throw new PolicyStateMismatch(`promotion policy of ${model}: the state was made under other settings (${data.kind}: ${data.policy}; now ${policy.options.kind}: ${policy.policy})`);
    }
    policy.champion = data.champion;
    policy.championVersion = data.championVersion;
    policy.previous = data.previous;
    policy.previousVersion = data.previousVersion;
    for (const c of data.comparisons) policy.comparisons.set(c.identity, Comparison.fromState(c, policy.options));
    policy.watch = data.watch === null ? null : Comparison.fromState(data.watch, policy.options);
    policy.pinReason = data.pinReason;
    policy.eventTime = data.eventTime;
    policy.clock = data.clock ?? data.eventTime;
    policy.cooldownUntil = data.cooldownUntil;
    policy.decisions = data.decisions.slice(-DECISIONS_KEPT);
    policy.decisionCount = data.decisionCount;
    policy.counters = { ...data.counters, late: data.counters.late ?? 0, rejections: data.counters.rejections ?? 0 }; // absent before maturity, multiclass
    policy.requests = ManualRequests.fromState(model, data.requests);
    return policy;
  }

  /**
   * Applies one labelled example of this model; returns the decisions it completes (at most one).
   * An arrival record (`arrival`: a prediction as it arrived, no label) changes nothing: not the
   * clock, the maturity frontier, the counters nor a pending manual request.
   */
  observe(example: LabelledExample): PolicyDecision[] {
    if (example.model !== this.model) {
      throw new Error(`promotion policy of ${this.model} was given an example of model ${example.model}`);
    }
    if (example.arrival) return [];
    const at = example.feedback_timestamp ?? example.timestamp;
    this.applyRequests(at);
    this.eventTime = this.eventTime === null ? at : Math.max(this.eventTime, at);
    this.clock = Math.max(this.clock ?? at, at, example.timestamp);
    this.take(example);
    if (this.options.maturityMs > 0) this.release();
    const rollback = this.watchDecision(at);
    if (rollback !== null) return [this.decide(rollback)];
    const winner = this.winner();
    return winner === null ? [] : [this.decide(promotionDecision(this, winner, at))];
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
    this.requests.add(decision);
  }

  /** Manual decisions requested but not applied yet (no example at or after their `at` so far). */
  pendingRequests(): PromotionDecision[] {
    return this.requests.pending();
  }

  state(): PolicyState {
    const watch = this.watch;
    return {
      model: this.model,
      champion: describeHolder(this.champion, this.championVersion),
      previous: this.previous === null ? null : describeHolder(this.previous, this.previousVersion),
      pinned: this.pinReason !== null,
      pin_reason: this.pinReason,
      event_time: this.eventTime,
      cooldown_until: this.cooldownUntil !== null && this.eventTime !== null && this.eventTime < this.cooldownUntil ? this.cooldownUntil : null,
      watch: watch === null ? null : { ...watch.state(), remaining: this.options.watchExamples - watch.n },
      challengers: [...this.comparisons.values()].map((c) => c.state()),
      decisions: [...this.decisions],
      decisions_total: this.decisionCount,
      counters: { ...this.counters },
    };
  }

  // ------------------------------------------------------------ decisions

  /** Applies, in request order, the manual decisions due at event time `at`. */
  private applyRequests(at: number): void {
    for (const r of this.requests.due(at)) this.applyManual(r);
  }

  private applyManual(r: PromotionDecision): void {
    const by = `${r.actor}: ${r.reason}`;
    const current = this.currentVersion();
    const applied = (decision: Decision, from: string, to: string): PolicyDecision => ({
      ...blankDecision(this, decision, from, to, r.at),
      policy: 'manual',
      reason: `manual ${decision} by ${by}`,
    });
    switch (r.decision) {
      case 'PIN':
        this.pinReason = by;
        this.record(applied('PIN', current, current));
        return;
      case 'UNPIN':
        this.pinReason = null;
        this.record(applied('UNPIN', current, current));
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

  /** The example as the paired test sees it: a multiclass or multilabel one projected (multiclass.ts, multilabel.ts); undefined: not compared. */
  private view(given: LabelledExample): LabelledExample | undefined {
    if (this.options.kind === 'multiclass') return trueClassView(given, this.options.classes);
    if (this.options.kind === 'multilabel') return labelSetView(given, this.options.classes);
    return given;
  }

  /** Counts the example and adds it, paired, to the rollback watch and to the comparisons (now, or to wait for maturity). */
  private take(given: LabelledExample): void {
    // isLabelled (core/contracts/labelled.ts): for binary and regression, `label` is set; multiclass: label_class or rejected_class.
    if (!isLabelled(given, this.options.kind)) {
      this.counters.unlabelled++;
      return;
    }
    this.counters.labelled++;
    const example = this.view(given);
    if (example === undefined) {
      this.counters.rejections++;
      return;
    }
    const label = example.label;
    if (label === null) {
      // binary and regression: isLabelled said `label` is set
      this.counters.unlabelled++;
      return;
    }
    const bin = this.options.maturityMs > 0 ? binOf(example.timestamp, this.options.maturityMs) : null;
    if (bin !== null && bin < this.frontier()) {
      this.counters.late++;
      return;
    }
    const champion = scoreOf(this.champion, this.champion, example);
    if (champion === null) {
      this.counters.unpaired++;
      return;
    }
    this.championVersion = champion.version;
    this.watchAdd(example, label, champion, bin);
    let paired = 0;
    for (const [identity, challenger] of challengersOf(this.champion, example)) {
      let comparison = this.comparisons.get(identity);
      if (comparison === undefined) {
        comparison = new Comparison(identity, this.options);
        this.comparisons.set(identity, comparison);
      }
      comparison.add(example, label, champion, challenger, bin);
      paired++;
    }
    if (paired === 0) this.counters.unpaired++;
  }

  /** The first prediction-time bin not matured at the clock (maturity.ts). */
  private frontier(): number {
    return maturedBefore(this.clock ?? Number.NEGATIVE_INFINITY, this.options.maturityMs);
  }

  /**
   * Moves the matured bins of the watch and of every comparison into their sequences, when the
   * frontier moved (a bin below a frontier already released from never fills again: its examples
   * are late), so an example that does not move it costs no scan of the bins.
   */
  private release(): void {
    const frontier = this.frontier();
    if (frontier <= this.releasedTo) return;
    this.releasedTo = frontier;
    this.watch?.release(frontier);
    for (const comparison of this.comparisons.values()) comparison.release(frontier);
  }

  private watchAdd(example: LabelledExample, label: number, champion: Scored, bin: number | null): void {
    if (this.watch === null || this.previous === null) return;
    const previous = scoreOf(this.previous, this.champion, example);
    if (previous === null) return;
    this.previousVersion = previous.version;
    this.watch.add(example, label, champion, previous, bin);
  }

  /** When the watch's sequence grew: a ROLLBACK if the new champion is significantly worse; ends a passed watch. */
  private watchDecision(at: number): PolicyDecision | null {
    const watch = this.watch;
    if (watch === null || this.previous === null || !watch.takeFresh()) return null;
    const { minSamples, watchExamples } = this.options;
    const lower = watch.lower();
    if (watch.n >= minSamples && lower > 0 && this.pinReason === null) {
      return rollbackDecision(this, watch, watch.baseVersion, watch.otherVersion, at);
    }
    watch.hold = lower > 0 && this.pinReason !== null ? `pinned: ${this.pinReason}` : null;
    if (watch.n >= watchExamples) this.watch = null; // passed
    return null;
  }

  /** Among the comparisons whose sequence grew, the one to promote (largest lower bound, then smallest identity), or null. */
  private winner(): Comparison | null {
    let winner: Comparison | null = null;
    for (const comparison of this.comparisons.values()) {
      if (!comparison.takeFresh()) continue;
      comparison.hold = this.holdReason(comparison);
      if (comparison.hold !== null) continue;
      if (winner === null || comparison.lower() > winner.lower() || (comparison.lower() === winner.lower() && comparison.identity < winner.identity)) {
        winner = comparison;
      }
    }
    return winner;
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

  private manual(decision: 'PIN' | 'UNPIN', reason: string): PolicyDecision {
    const version = this.currentVersion();
    return { ...blankDecision(this, decision, version, version, this.eventTime ?? 0), reason };
  }

  /** Keeps a decision for state() (the latest DECISIONS_KEPT) and counts it. */
  private record(d: PolicyDecision): void {
    this.decisions.push(d);
    if (this.decisions.length > DECISIONS_KEPT) this.decisions.shift();
    this.decisionCount++;
  }

  /** Records a decision and applies it to the roles. */
  private decide(d: PolicyDecision): PolicyDecision {
    this.record(d);
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
}
