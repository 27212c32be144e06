/**
 * Data quality and categorical drift of one model's inputs, per feature,
 * over windows of records (predictions; the arrival records when the input
 * has them): the model's first evaluator.drift_reference_size records form
 * the reference, each following evaluator.drift_window_size records a window
 * compared with it. At each window's end, per feature (the first
 * limits.max_features names the model's records had; later ones are ignored,
 * counted):
 *
 * - dq_missing_rate: share of the window's records without the feature (no
 *   numeric and no categorical value); alarm (detected) when it is more than
 *   evaluator.missing_rate_rise above dq_missing_rate_ref, the same share
 *   over the reference (its row never alarms);
 * - dq_out_of_range_rate (numeric features): share of the window's records
 *   whose value is below the reference's minimum or above its maximum;
 * - dq_unseen_rate (categorical features): share of the window's records
 *   whose category is not one of the reference's (kept) categories.
 *   The three dq rates share one denominator, the window's records, so
 *   together they are the share of records where the feature is missing or
 *   outside what the reference showed;
 * - cat_chi2, cat_chi2_p, cat_js, cat_new_rate (categorical features): the
 *   window's categories against the reference's (core/drift/categorical.ts),
 *   over the records that have the feature. Alarms: cat_chi2_p below
 *   evaluator.categorical_alpha, cat_js above evaluator.categorical_js_threshold,
 *   each over at least evaluator.categorical_min_count values; cat_chi2's
 *   threshold is the statistic's critical value at that level (its alarm is
 *   cat_chi2_p's row). Null when the reference or the window has no values.
 *
 * With `charts`: each categorical feature's counts per category in the
 * reference and the window (a `category_counts` chart).
 *
 * Rows that never alarm (dq_missing_rate_ref, dq_out_of_range_rate,
 * dq_unseen_rate, cat_chi2, cat_new_rate) have detected false, and threshold
 * 0 except cat_chi2. Role and version are `*`: the inputs are no role's.
 */
import { chiSquaredCritical } from '../drift/index.js';
import { StateMismatchError } from '../errors.js';
import type { LabelledExample } from '../events.js';
import { sortedKeys } from '../sorted-keys.js';
import { FirstSeen } from '../limits.js';
import { FeatureQuality, type FeatureQualityState, type FeatureValues } from './feature-quality.js';
import type { EvaluatorOptions } from './options.js';
import { featureChart } from './charts.js';
import type { ChartRow, DriftRecord } from './rows.js';

const INPUTS = '*';

/** A DataQuality's state: the reference's progress, the current window's, and each feature's. */
export interface DataQualityState {
  referenceRecords: number;
  frozen: boolean;
  records: number;
  firstTimestamp: number;
  lastTimestamp: number;
  features: FeatureQualityState[];
  droppedFeatures: number;
}

type Options = EvaluatorOptions['drift'];

/** The names of a record's features, numeric and categorical, each once, sorted, with their values (the two sorted name lists merged). */
function valuesOf(example: LabelledExample): Array<[string, FeatureValues]> {
  const numeric = sortedKeys(example.features);
  const categorical = sortedKeys(example.categorical);
  const out: Array<[string, FeatureValues]> = [];
  let i = 0;
  let j = 0;
  while (i < numeric.length || j < categorical.length) {
    const a = numeric[i];
    const b = categorical[j];
    const name = b === undefined || (a !== undefined && a <= b) ? a! : b;
    const value = name === a ? example.features[numeric[i++]!] : undefined;
    const category = name === b ? example.categorical[categorical[j++]!] : undefined;
    out.push([name, { value, category }]);
  }
  return out;
}

export class DataQuality {
  private referenceRecords = 0;
  private frozen = false;
  private records = 0;
  private firstTimestamp = Number.POSITIVE_INFINITY;
  private lastTimestamp = Number.NEGATIVE_INFINITY;
  private readonly features = new Map<string, FeatureQuality>();
  private names: FirstSeen;
  /** Feature values ignored because their name came past limits.max_features. */
  droppedFeatures = 0;

  constructor(
    readonly model: string,
    maxFeatures: number,
  ) {
    this.names = new FirstSeen(maxFeatures);
  }

  private feature(name: string, o: Options): FeatureQuality | undefined {
    let feature = this.features.get(name);
    if (feature) return feature;
    if (!this.names.admit(name)) {
      this.droppedFeatures++;
      return undefined;
    }
    this.features.set(name, (feature = new FeatureQuality(name, o.maxCategories)));
    if (this.frozen) feature.freeze();
    return feature;
  }

  /** Adds a record; the rows of a completed window go to out. */
  observe(example: LabelledExample, at: number, n: number, o: Options, out: DriftRecord[], charts?: ChartRow[]): void {
    if (o.referenceSize <= 0) return;
    const values = valuesOf(example);
    if (!this.frozen) {
      for (const [name, v] of values) this.feature(name, o)?.addReference(v);
      if (++this.referenceRecords === o.referenceSize) {
        this.frozen = true;
        for (const feature of this.features.values()) feature.freeze();
      }
      return;
    }
    for (const [name, v] of values) this.feature(name, o)?.add(v);
    this.firstTimestamp = Math.min(this.firstTimestamp, example.timestamp);
    this.lastTimestamp = Math.max(this.lastTimestamp, example.timestamp);
    if (++this.records < o.windowSize) return;
    const base = {
      model: this.model, model_version: INPUTS, role: INPUTS, window: `last_${o.windowSize}`,
      window_start: this.firstTimestamp, window_end: this.lastTimestamp, at, n,
    };
    for (const feature of this.features.values()) {
      this.rows(feature, o, (row) => out.push({ ...base, feature: feature.name, ...row }));
      if (charts && feature.categorical) {
        const c = feature.categoryCounts();
        charts.push(featureChart({ ...base, segment: INPUTS }, 'category_counts', feature.name, c.labels, c.reference, c.current));
      }
      feature.reset();
    }
    this.records = 0;
    this.firstTimestamp = Number.POSITIVE_INFINITY;
    this.lastTimestamp = Number.NEGATIVE_INFINITY;
  }

  /** A feature's rows of the window just completed. */
  private rows(f: FeatureQuality, o: Options, emit: (row: Pick<DriftRecord, 'statistic' | 'value' | 'threshold' | 'detected'>) => void): void {
    const missing = (this.records - f.present) / this.records;
    const missingRef = (this.referenceRecords - f.referencePresent) / this.referenceRecords;
    const limit = missingRef + o.missingRateRise;
    emit({ statistic: 'dq_missing_rate', value: missing, threshold: limit, detected: missing > limit });
    emit({ statistic: 'dq_missing_rate_ref', value: missingRef, threshold: 0, detected: false });
    if (f.numeric) emit({ statistic: 'dq_out_of_range_rate', value: f.outOfRange / this.records, threshold: 0, detected: false });
    if (!f.categorical) return;
    emit({ statistic: 'dq_unseen_rate', value: f.unseen / this.records, threshold: 0, detected: false });
    const c = f.categoricalFigures();
    const enough = c !== null && c.n >= o.categoricalMinCount;
    emit({ statistic: 'cat_chi2', value: c?.chi2 ?? null, threshold: c && c.dof > 0 ? chiSquaredCritical(o.categoricalAlpha, c.dof) : 0, detected: false });
    emit({ statistic: 'cat_chi2_p', value: c?.pValue ?? null, threshold: o.categoricalAlpha, detected: enough && c.pValue < o.categoricalAlpha });
    emit({ statistic: 'cat_js', value: c?.js ?? null, threshold: o.categoricalJsThreshold, detected: enough && c.js > o.categoricalJsThreshold });
    emit({ statistic: 'cat_new_rate', value: c?.newRate ?? null, threshold: 0, detected: false });
  }

  toState(): DataQualityState {
    const features: FeatureQualityState[] = [];
    for (const feature of this.features.values()) features.push(feature.toState());
    const { referenceRecords, frozen, records, firstTimestamp, lastTimestamp, droppedFeatures } = this;
    return { referenceRecords, frozen, records, firstTimestamp, lastTimestamp, features, droppedFeatures };
  }

  /** The monitor of a state under the drift settings `o`; throws a StateMismatchError where the state does not fit them. */
  static fromState(state: DataQualityState, model: string, o: Options): DataQuality {
    if (state.frozen ? state.referenceRecords !== o.referenceSize : state.referenceRecords >= o.referenceSize) {
      throw new StateMismatchError('evaluator.drift_reference_size', `a data-quality reference of ${state.referenceRecords} records saved, ${o.referenceSize} now`);
    }
    if (state.records >= o.windowSize) throw new StateMismatchError('evaluator.drift_window_size', `a data-quality window of ${state.records} records saved, ${o.windowSize} now`);
    const quality = new DataQuality(model, o.maxFeatures);
    const { referenceRecords, frozen, records, firstTimestamp, lastTimestamp, droppedFeatures } = state;
    Object.assign(quality, { referenceRecords, frozen, records, firstTimestamp, lastTimestamp, droppedFeatures });
    for (const f of state.features) {
      quality.names.add(f.name);
      quality.features.set(f.name, FeatureQuality.fromState(f, o.maxCategories));
    }
    return quality;
  }
}
