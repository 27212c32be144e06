import type { LabelledExample } from '../events.js';
import { PolicyStateMismatch, type ComparisonData } from './data.js';
import { guardrailBreach, guardrailFigures, PairedMetrics, type Figures } from './guardrails.js';
import { lossOf } from './loss.js';
import { MaturingBins } from './maturity.js';
import type { PolicyOptions } from './options.js';
import type { Scored } from './scores.js';
import { ConfidenceSequence } from './sequence.js';
import type { ComparisonState } from './state.js';

function sequenceOptions(options: PolicyOptions): { plannedSamples: number; plannedAlpha: number } {
  return { plannedSamples: options.plannedSamples, plannedAlpha: options.alpha };
}

/**
 * A paired comparison: loss sums of both sides, the sequence of differences, and (binary) both sides'
 * metrics. With a maturity horizon, differences wait in prediction-time bins (maturity.ts) and enter
 * the sequence and the loss sums when released; the guardrail metrics take every paired example as
 * it arrives.
 */
export class Comparison {
  readonly sequence: ConfidenceSequence;
  private pending: MaturingBins;
  /** The sequence grew since takeFresh() last looked. */
  private fresh = false;
  baseLoss = 0;
  otherLoss = 0;
  /** Latest versions seen of the base (champion) and of the other side. */
  baseVersion = '';
  otherVersion = '';
  hold: string | null = null;
  private readonly metrics: PairedMetrics | null;

  constructor(
    readonly identity: string,
    private readonly options: PolicyOptions,
    restored?: { sequence: ConfidenceSequence; metrics: PairedMetrics | null; pending: MaturingBins },
  ) {
    this.sequence = restored?.sequence ?? new ConfidenceSequence(sequenceOptions(options));
    this.pending = restored?.pending ?? new MaturingBins();
    this.metrics = restored ? restored.metrics : options.kind === 'binary' ? new PairedMetrics() : null;
  }

  /** Plain data (promoter checkpoints); the options are not in it. */
  toState(): ComparisonData {
    return {
      identity: this.identity,
      sequence: this.sequence.toState(),
      baseLoss: this.baseLoss,
      otherLoss: this.otherLoss,
      baseVersion: this.baseVersion,
      otherVersion: this.otherVersion,
      hold: this.hold,
      metrics: this.metrics === null ? null : this.metrics.toState(),
      pending: this.pending.toState(),
    };
  }

  /** The comparison toState() described, under `options`; a PolicyStateMismatch when its metrics are not the kind's. */
  static fromState(data: ComparisonData, options: PolicyOptions): Comparison {
    if ((data.metrics === null) !== (options.kind !== 'binary')) {
      throw new PolicyStateMismatch(`comparison ${data.identity}: state ${data.metrics === null ? 'without' : 'with'} binary metrics, the model is ${options.kind}`);
    }
    const sequence = ConfidenceSequence.fromState(data.sequence, sequenceOptions(options));
    const metrics = data.metrics === null ? null : PairedMetrics.fromState(data.metrics);
    const c = new Comparison(data.identity, options, { sequence, metrics, pending: MaturingBins.fromState(data.pending ?? []) });
    c.baseLoss = data.baseLoss;
    c.otherLoss = data.otherLoss;
    c.baseVersion = data.baseVersion;
    c.otherVersion = data.otherVersion;
    c.hold = data.hold;
    return c;
  }

  /** One paired example: into the sequence now (bin null), or into the prediction-time bin `bin` to wait for maturity. */
  add(example: LabelledExample, label: number, base: Scored, other: Scored, bin: number | null): void {
    const { metric } = this.options;
    const threshold = example.threshold;
    const baseLoss = lossOf(metric, label, base.score, threshold);
    const otherLoss = lossOf(metric, label, other.score, threshold);
    if (bin === null) {
      this.baseLoss += baseLoss;
      this.otherLoss += otherLoss;
      this.sequence.update(baseLoss - otherLoss);
      this.fresh = true;
    } else {
      this.pending.add(bin, baseLoss, otherLoss);
    }
    this.metrics?.update(label, threshold, base.score, other.score);
    this.baseVersion = base.version;
    this.otherVersion = other.version;
  }

  /** Merges the matured bins (those below `frontier`) into the sequence, oldest first. */
  release(frontier: number): void {
    for (const b of this.pending.release(frontier)) {
      this.sequence.merge(b.n, b.mean, b.squares);
      this.baseLoss += b.baseLoss;
      this.otherLoss += b.otherLoss;
      this.fresh = true;
    }
  }

  /** Whether the sequence grew since the last call (a decision is looked for only then). */
  takeFresh(): boolean {
    const fresh = this.fresh;
    this.fresh = false;
    return fresh;
  }

  get n(): number {
    return this.sequence.count;
  }

  lower(): number {
    return this.sequence.lower(this.options.alpha);
  }

  figures(): Figures {
    return this.metrics === null ? { baseRecall: null, otherRecall: null, baseEce: null, otherEce: null } : this.metrics.figures();
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
    return guardrailFigures(this.figures());
  }

  /** Why the guardrails block the other side, or null when they pass (always null for a regression). */
  guardrailBreach(): string | null {
    return this.metrics === null ? null : guardrailBreach(this.figures(), this.options);
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
      maturing: this.pending.waiting,
      hold: this.hold,
    };
  }
}
