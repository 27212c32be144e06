/**
 * The evaluator settings a checkpointed state was made under, kept in the
 * state so that a restore under other settings is refused (and the input
 * re-read) rather than carried on with a state those settings would not
 * have built. Only settings that shape the state are kept: the windows and
 * their grace, the join window, segmentation and its limits, fairness
 * attributes, the AUC and calibration binning, the drift reference and
 * windows, the categories a categorical reference keeps and the features a
 * model's data-quality monitor follows, the detectors and the order they are
 * fed in, whether the input has arrival records and the estimate's bins and
 * trust windows. Thresholds that only decide what a finished window reports
 * (psi_threshold, ks_alpha, categorical_alpha, categorical_js_threshold,
 * categorical_min_count, missing_rate_rise, the estimate's
 * max_calibration_error and min_labels) may change freely.
 */
import { StateMismatchError } from '../errors.js';
import type { EvaluatorOptions } from './options.js';

/** Setting name (as in the config) -> its value under some options. */
const SETTINGS: ReadonlyArray<[string, (o: EvaluatorOptions) => unknown]> = [
  ['evaluator.windows', (o) => o.windows.map((w) => w.ms)],
  ['evaluator.window_grace', (o) => o.graceMs],
  ['joiner.join_window', (o) => o.joinWindowMs],
  ['evaluator.rolling_size', (o) => o.rollingSize],
  ['evaluator.rolling_emit_every', (o) => o.rollingEmitEvery],
  ['evaluator.segments', (o) => o.segments],
  ['evaluator.max_segment_values', (o) => o.maxSegmentValues],
  ['evaluator.max_segment_attributes', (o) => o.maxSegmentAttributes],
  ['evaluator.fairness_attributes', (o) => o.fairnessAttributes],
  ['evaluator.calibration_bins', (o) => o.calibrationBins],
  ['evaluator.auc_exact_limit', (o) => o.aucExactLimit],
  ['evaluator.auc_bins', (o) => o.aucBins],
  ['label delay quantile accuracy', (o) => o.delayAccuracy],
  ['evaluator.drift_reference_size', (o) => o.drift.referenceSize],
  ['evaluator.drift_window_size', (o) => o.drift.windowSize],
  ['evaluator.drift_bins', (o) => o.drift.bins],
  ['evaluator.max_categories', (o) => o.drift.maxCategories],
  ['limits.max_features', (o) => o.drift.maxFeatures],
  ['evaluator.drift_detectors', (o) => o.drift.detectors],
  ['evaluator.drift_detector_order', (o) => o.drift.detectorOrder],
  ['joiner.emit_arrivals', (o) => o.arrivals],
  ['evaluator.estimate_bins', (o) => o.estimate.bins],
  ['evaluator.estimate_trust_windows', (o) => o.estimate.trustWindows],
];

/** The settings of `options` that shape an evaluator's state, as JSON text per setting name. */
export function settingsOf(options: EvaluatorOptions): Array<[string, string]> {
  return SETTINGS.map(([name, of]) => [name, JSON.stringify(of(options))]);
}

/** Throws a StateMismatchError naming every setting that differs between a state's and `options`. */
export function checkSettings(saved: ReadonlyArray<[string, string]>, options: EvaluatorOptions): void {
  const was = new Map(saved);
  const changed = settingsOf(options).filter(([name, now]) => was.get(name) !== now);
  if (changed.length === 0) return;
  const names = changed.map(([name]) => name).join(', ');
  throw new StateMismatchError(names, changed.map(([name, now]) => `${name} ${was.get(name) ?? '(not saved)'} → ${now}`).join('; '));
}

/**
 * The settings checkpoint format 3 did not save: those of the data-quality
 * monitors format 4 added. A format-3 state has none of them, so any value fits.
 */
const SINCE_FORMAT_4 = new Set(['evaluator.max_categories', 'limits.max_features']);

/**
 * The state of an evaluator checkpoint of format 3 as format 4 reads it: the
 * settings it lacks as they are now (its models have no data-quality
 * monitor: each starts afresh at the restore, its reference the model's
 * records from there). The rest is format 4's.
 */
export function fromFormat3<S extends { settings: Array<[string, string]> }>(state: S, options: EvaluatorOptions): S {
  const saved = new Set(state.settings.map(([name]) => name));
  const added = settingsOf(options).filter(([name]) => SINCE_FORMAT_4.has(name) && !saved.has(name));
  return { ...state, settings: state.settings.concat(added) };
}
