/**
 * The evaluator's options and their defaults (see evaluator.ts for what
 * they shape).
 */
import type { ModelKind } from '../events.js';
import { DEFAULT_MAX_SEGMENT_ATTRIBUTES, DEFAULT_MAX_SEGMENT_VALUES, DEFAULT_RECORD_LIMITS } from '../limits.js';

export interface TumblingWindow {
  /** As written in the points' `window` column, e.g. `1h`. */
  name: string;
  ms: number;
}

/** The order the error detectors see a model's errors in (EvaluatorOptions.drift.detectorOrder). */
export type DetectorOrder = 'matured' | 'arrival';

export interface EvaluatorOptions {
  kindOf: (model: string) => ModelKind;
  /** A multi-class or multi-label model's classes (models.<name>.classes), in order. Default none. */
  classesOf: (model: string) => readonly string[];
  /** A multi-class model's numeric head (models.<name>.numeric_target), or null. Default null. */
  numericTargetOf: (model: string) => string | null;
  /** Tumbling windows by prediction timestamp. Default 1h and 1d. */
  windows: TumblingWindow[];
  /** Size of the sliding count window; 0 = none. Default 1000. */
  rollingSize: number;
  /** A sliding-window point is written every this many updates of its cell. Default 100. */
  rollingEmitEvery: number;
  /** How long a prediction may wait for its label (the joiner's join window). */
  joinWindowMs: number;
  /** Extra time a tumbling window stays open after the join window (late joiner partitions). Default 1 day. */
  graceMs: number;
  /** Figures per value of each segments attribute. Default true. */
  segments: boolean;
  /** Distinct values per model and attribute kept apart; later ones count in `<attribute>=other`. Default 100. */
  maxSegmentValues: number;
  /** Distinct segment attributes per model; later ones are not segmented. Default 32. */
  maxSegmentAttributes: number;
  /** Attributes to compute fairness gaps across. Default none. */
  fairnessAttributes: string[];
  calibrationBins: number;
  /** Exact AUC up to this many distinct scores per window, then score histograms (see BinaryMetrics). */
  aucExactLimit: number;
  aucBins: number;
  /** Relative accuracy of the label-delay quantiles. */
  delayAccuracy: number;
  drift: {
    /** The first N examples (per stream) form the reference. 0 = no distribution drift. */
    referenceSize: number;
    /** Compare each following window of N examples with the reference. */
    windowSize: number;
    bins: number;
    psiThreshold: number;
    /** Significance level of the two-sample KS test. */
    ksAlpha: number;
    /** Categories of a categorical feature's reference kept apart (the first seen); the rest pooled in `other`. Default 100. */
    maxCategories: number;
    /** Feature names per model the data-quality monitor follows (the first seen; limits.max_features). Default 1000. */
    maxFeatures: number;
    /** Categorical drift alarm when the chi-squared p-value is below this ... Default 0.001. */
    categoricalAlpha: number;
    /** ... or the Jensen–Shannon distance (base 2) above this ... Default 0.1. */
    categoricalJsThreshold: number;
    /** ... over at least this many values in the window. Default 100. */
    categoricalMinCount: number;
    /** Data-quality alarm when a feature's missing rate is more than this above its reference's. Default 0.1. */
    missingRateRise: number;
    /** ADWIN, Page-Hinkley and DDM on each model's error stream. */
    detectors: boolean;
    /**
     * What the error detectors are fed: `matured` (default) each matured window
     * of the smallest tumbling window, in window-start order (matured-windows.ts);
     * `arrival` each label as it comes.
     */
    detectorOrder: DetectorOrder;
  };
  /**
   * The input holds arrival records (joiner.emit_arrivals): every prediction
   * as it was made. They count `predictions`, feed the estimated figures and
   * the input/score drift (then observed on them, in prediction order, instead
   * of on labelled examples). Default false.
   */
  arrivals: boolean;
  /** Estimated performance (CBPE) of binary models from the arrivals' scores (core/metrics/estimate.ts), and its trust check (trust.ts). */
  estimate: {
    /** Equal-width score bins of the estimated ROC AUC. */
    bins: number;
    /** Matured windows of the smallest tumbling window whose calibration the trust check reads. */
    trustWindows: number;
    /** The estimate is trusted while that calibration error is at most this... */
    maxCalibrationError: number;
    /** ... over at least this many matured labels. */
    minLabels: number;
  };
}

export const DEFAULT_EVALUATOR_OPTIONS: EvaluatorOptions = {
  kindOf: () => 'binary',
  classesOf: () => [],
  numericTargetOf: () => null,
  windows: [
    { name: '1h', ms: 3_600_000 },
    { name: '1d', ms: 86_400_000 },
  ],
  rollingSize: 1000,
  rollingEmitEvery: 100,
  joinWindowMs: 7 * 86_400_000,
  graceMs: 86_400_000,
  segments: true,
  maxSegmentValues: DEFAULT_MAX_SEGMENT_VALUES,
  maxSegmentAttributes: DEFAULT_MAX_SEGMENT_ATTRIBUTES,
  fairnessAttributes: [],
  calibrationBins: 10,
  aucExactLimit: 200,
  aucBins: 1_000,
  delayAccuracy: 0.01,
  drift: {
    referenceSize: 1000, windowSize: 1000, bins: 10, psiThreshold: 0.2, ksAlpha: 0.01,
    maxCategories: 100, maxFeatures: DEFAULT_RECORD_LIMITS.maxFeatures, categoricalAlpha: 0.001, categoricalJsThreshold: 0.1, categoricalMinCount: 100, missingRateRise: 0.1,
    detectors: true, detectorOrder: 'matured',
  },
  arrivals: false,
  estimate: { bins: 50, trustWindows: 24, maxCalibrationError: 0.05, minLabels: 500 },
};

/** Options with every one not given (and every drift and estimate option not given) at its default. */
export function resolveOptions(options: Partial<EvaluatorOptions>): EvaluatorOptions {
  const defaults = DEFAULT_EVALUATOR_OPTIONS;
  return { ...defaults, ...options, drift: { ...defaults.drift, ...options.drift }, estimate: { ...defaults.estimate, ...options.estimate } };
}
