/**
 * From the validated config to each processor's topics and options: the one
 * place a config key becomes a processor setting (run and replay both build
 * their pipeline from these).
 */
import { modelChallengersOf, modelClassesOf, modelKindOf, modelNumericTargetOf, type Config } from '../adapters/config/index.js';
import type { EvaluatorOptions } from '../core/evaluate/index.js';
import type { TimeBounds } from '../core/join/index.js';
import type { ModelKind } from '../core/events.js';
import type { TrainerOptions } from '../core/learn/index.js';
import type { RecordLimits } from '../core/limits.js';
import type { PolicyOptions } from '../core/promote/index.js';
import { parseDuration } from '../core/duration.js';
import type { JoinerTopics } from '../processors/joiner.js';
import type { LearnerTopics } from '../processors/learner.js';
import type { PromoterTopics } from '../processors/promoter.js';

/** The joiner's topics, from the config's topic names. */
export function joinerTopics(config: Config): JoinerTopics {
  const t = config.topics;
  return {
    predictions: t.predictions,
    feedback: t.feedback,
    labelled: t.labelled_examples,
    unmatched: t.unmatched_feedback,
    deadLetters: t.dead_letters,
    changelog: t.joiner_changelog,
  };
}

/** topics.sharded_examples when the joiner writes it (evaluator.shard_by: prediction), else nothing. */
export function shardedExamplesOf(config: Config): string[] {
  return config.evaluator.shard_by === 'prediction' ? [config.topics.sharded_examples] : [];
}

/** The topic `run`'s evaluator reads: labelled_examples (key model), or with evaluator.shard_by: prediction its copy keyed by prediction_id. */
export function evaluatorInput(config: Config): string {
  return shardedExamplesOf(config)[0] ?? config.topics.labelled_examples;
}

/** The joiner's plausible event times (joiner.min_timestamp, joiner.max_future): run and replay apply the same bounds. */
export function joinerTimeBounds(config: Config): TimeBounds {
  return { minTimestamp: config.joiner.min_timestamp, maxFutureMs: config.joiner.max_future };
}

/** The bounds on each input record (limits.*): every processor reads its input with the same. */
export function recordLimits(config: Config): RecordLimits {
  const l = config.limits;
  return { maxIdLength: l.max_id_length, maxNameLength: l.max_name_length, maxFeatures: l.max_features, maxSegments: l.max_segments, maxClasses: l.max_classes };
}

/** The task of each model as the joiner checks and resolves its events (models.<name>.task, classes, numeric_target). */
export function joinerTasks(config: Config): { kindOf: (model: string) => ModelKind; classesOf: (model: string) => readonly string[]; numericTargetOf: (model: string) => string | null } {
  return {
    kindOf: (model) => modelKindOf(config, model),
    classesOf: (model) => modelClassesOf(config, model),
    numericTargetOf: (model) => modelNumericTargetOf(config, model),
  };
}

/** The joiner's bound on distinct models (limits.max_models): configured models always pass. */
export function joinerModelBound(config: Config): { maxModels: number; configuredModel: (model: string) => boolean } {
  return { maxModels: config.limits.max_models, configuredModel: (model) => Object.hasOwn(config.models, model) };
}

/** The evaluator core's options from the config (windows were checked to be durations at load). */
export function evaluatorOptions(config: Config): Partial<EvaluatorOptions> {
  const e = config.evaluator;
  return {
    kindOf: (model) => modelKindOf(config, model),
    classesOf: (model) => modelClassesOf(config, model),
    numericTargetOf: (model) => modelNumericTargetOf(config, model),
    windows: e.windows.map((name) => ({ name, ms: parseDuration(name)! })),
    rollingSize: e.rolling_size,
    rollingEmitEvery: e.rolling_emit_every,
    joinWindowMs: config.joiner.join_window,
    graceMs: e.window_grace,
    segments: e.segments,
    maxSegmentValues: e.max_segment_values,
    maxSegmentAttributes: e.max_segment_attributes,
    fairnessAttributes: e.fairness_attributes,
    calibrationBins: e.calibration_bins,
    aucExactLimit: e.auc_exact_limit,
    aucBins: e.auc_bins,
    drift: {
      referenceSize: e.drift_reference_size,
      windowSize: e.drift_window_size,
      bins: e.drift_bins,
      psiThreshold: e.psi_threshold,
      ksAlpha: e.ks_alpha,
      maxCategories: e.max_categories,
      maxFeatures: config.limits.max_features,
      categoricalAlpha: e.categorical_alpha,
      categoricalJsThreshold: e.categorical_js_threshold,
      categoricalMinCount: e.categorical_min_count,
      missingRateRise: e.missing_rate_rise,
      detectors: e.drift_detectors,
      detectorOrder: e.drift_detector_order,
    },
    arrivals: config.joiner.emit_arrivals,
    estimate: {
      bins: e.estimate_bins,
      trustWindows: e.estimate_trust_windows,
      maxCalibrationError: e.estimate_max_calibration_error,
      minLabels: e.estimate_min_labels,
    },
  };
}

/** The learner's topics and options from the config. */
export function learnerSettings(config: Config): { topics: LearnerTopics; learner: Partial<TrainerOptions> } {
  const t = config.topics;
  return {
    topics: { labelled: t.labelled_examples, snapshots: t.model_snapshots, deadLetters: t.dead_letters },
    learner: {
      kindOf: (model) => modelKindOf(config, model),
      classesOf: (model) => modelClassesOf(config, model),
      challengersOf: (model) => modelChallengersOf(config, model),
      trainOnCorrections: config.learner.train_on_corrections,
      maxFeatureMagnitude: config.learner.max_feature_magnitude,
      maxModelFeatures: config.learner.max_model_features,
    },
  };
}

/** The promoter's topics from the config. */
export function promoterTopics(config: Config): PromoterTopics {
  const t = config.topics;
  return { labelled: t.labelled_examples, promotions: t.model_promotions, deadLetters: t.dead_letters, checkpoints: t.promoter_checkpoints };
}

/** A model's promotion policy from the config (a multiclass or multilabel model's with its classes). */
export function policyOptions(config: Config, model: string): Partial<PolicyOptions> {
  const p = config.promoter;
  const kind = modelKindOf(config, model);
  // A multiclass (multilabel) model always compares the multi-class (multi-label) log loss (promoter.metric is for binary and regression models).
  const multi = kind === 'multiclass' || kind === 'multilabel';
  const metric = p.metric === 'default' || multi ? {} : { metric: p.metric };
  return {
    kind,
    ...(multi ? { classes: modelClassesOf(config, model) } : {}),
    alpha: p.alpha,
    ...metric,
    minSamples: p.min_samples,
    minEffect: p.min_effect,
    maxRecallDrop: p.max_recall_drop,
    maxEce: p.max_ece,
    cooldownMs: p.cooldown,
    watchExamples: p.watch_examples,
    maturityMs: p.maturity,
  };
}
