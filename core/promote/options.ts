/** The promotion policy's options: what they mean, their defaults, their checks, and the policy in one line. */
import { formatDuration } from '../duration.js';
import type { ModelKind } from '../events.js';

export type PromotionMetric = 'log_loss' | 'brier' | 'error_rate' | 'squared_error' | 'multiclass_log_loss' | 'multilabel_log_loss';

const BINARY_METRICS: readonly PromotionMetric[] = ['log_loss', 'brier', 'error_rate'];

export interface PolicyOptions {
  /** The model's kind (binary, regression, multiclass or multilabel). Default binary. */
  kind: ModelKind;
  /** multiclass, multilabel: the model's classes (labels) in order (models.<name>.classes), what the `#<i>` of its shadow keys index. */
  classes: readonly string[];
  /** Level of every test (promotion and rollback). Default 0.05. */
  alpha: number;
  /** The loss compared. Default log_loss for a binary model, squared_error for a regression, multiclass_log_loss (the only one) for a multiclass model, multilabel_log_loss (the only one) for a multilabel model. */
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
  /**
   * The maturity horizon (ms of event time): a paired example enters the test once its prediction
   * is this much older than the policy's clock, in prediction-time order (maturity.ts). 0 = as labels
   * arrive (the test before maturity). Set it to the join window when label delay depends on the
   * outcome. Default 0.
   */
  maturityMs: number;
}

export const DEFAULT_POLICY_OPTIONS: Omit<PolicyOptions, 'metric'> = {
  kind: 'binary',
  classes: [],
  alpha: 0.05,
  minSamples: 500,
  minEffect: 0,
  maxRecallDrop: 0.05,
  maxEce: 0.15,
  cooldownMs: 6 * 3_600_000,
  watchExamples: 2000,
  pinned: false,
  plannedSamples: 1000,
  maturityMs: 0,
};

/** The options given over the defaults (undefined: the default); the metric defaults by kind. Checked. */
export function resolveOptions(options: Partial<PolicyOptions>): PolicyOptions {
  const kind = options.kind ?? DEFAULT_POLICY_OPTIONS.kind;
  const given = Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined)) as Partial<PolicyOptions>;
  const resolved: PolicyOptions = { ...DEFAULT_POLICY_OPTIONS, metric: DEFAULT_METRIC[kind] ?? 'squared_error', ...given, kind };
  checkOptions(resolved);
  return resolved;
}

const DEFAULT_METRIC: Record<ModelKind, PromotionMetric> = { binary: 'log_loss', regression: 'squared_error', multiclass: 'multiclass_log_loss', multilabel: 'multilabel_log_loss' };

const METRICS: Partial<Record<ModelKind, readonly PromotionMetric[]>> = {
  binary: BINARY_METRICS,
  regression: ['squared_error'],
  multiclass: ['multiclass_log_loss'],
  multilabel: ['multilabel_log_loss'],
};

function checkOptions(o: PolicyOptions): void {
  const fail = (key: string, what: string, value: unknown): never => {
    throw new RangeError(`promotion policy: ${key} must be ${what}, got ${String(value)}`);
  };
  const allowed = (Object.hasOwn(METRICS, o.kind) ? METRICS[o.kind] : undefined) ?? fail('kind', 'binary, regression, multiclass or multilabel', o.kind);
  if ((o.kind === 'multiclass' || o.kind === 'multilabel') && o.classes.length < 2) fail('classes', `the model's classes (2 or more) for a ${o.kind} model`, o.classes.length);
  if (!(o.alpha > 0 && o.alpha < 1)) fail('alpha', 'in (0, 1)', o.alpha);
  if (!allowed.includes(o.metric)) fail('metric', `one of ${allowed.join(', ')} for a ${o.kind} model`, o.metric);
  if (!Number.isInteger(o.minSamples) || o.minSamples < 1) fail('minSamples', 'a positive integer', o.minSamples);
  if (!Number.isFinite(o.minEffect)) fail('minEffect', 'a finite number', o.minEffect);
  if (!(o.maxRecallDrop >= 0)) fail('maxRecallDrop', 'a non-negative number (Infinity: no guardrail)', o.maxRecallDrop);
  if (!(o.maxEce >= 0)) fail('maxEce', 'a non-negative number (Infinity: no guardrail)', o.maxEce);
  if (!(o.cooldownMs >= 0) || !Number.isFinite(o.cooldownMs)) fail('cooldownMs', 'a non-negative number of milliseconds', o.cooldownMs);
  if (!Number.isInteger(o.watchExamples) || o.watchExamples < 0) fail('watchExamples', 'a non-negative integer', o.watchExamples);
  if (!(o.plannedSamples > 0) || !Number.isFinite(o.plannedSamples)) fail('plannedSamples', 'a positive number', o.plannedSamples);
  if (!Number.isInteger(o.maturityMs) || o.maturityMs < 0) fail('maturityMs', 'a non-negative integer number of milliseconds', o.maturityMs);
}

/** The policy in one line, for the decision's `policy` field. */
export function describePolicy(o: PolicyOptions): string {
  const guardrails = o.kind === 'binary' ? ` max_recall_drop=${o.maxRecallDrop} max_ece=${o.maxEce}` : '';
  // Named only when set, so the policies (and checkpoints) made before maturity keep their description.
  const maturity = o.maturityMs > 0 ? ` maturity=${formatDuration(o.maturityMs)}` : '';
  return (
    `asymptotic-cs alpha=${o.alpha} metric=${o.metric} min_samples=${o.minSamples} min_effect=${o.minEffect} ` +
    `planned_samples=${o.plannedSamples}${guardrails} cooldown=${formatDuration(o.cooldownMs)} watch=${o.watchExamples}${maturity}`
  );
}
