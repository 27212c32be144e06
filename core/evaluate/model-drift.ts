/**
 * Drift per model: PSI and KS of each input feature and each role's score
 * against the stream's first N values, data quality and categorical drift
 * of the inputs (data-quality.ts), and ADWIN, Page-Hinkley and (binary)
 * DDM on each role's error stream (error-detectors.ts), fed per label in
 * arrival order or per matured window (matured-windows.ts).
 */
import type { LabelledExample, ModelKind } from '../events.js';
import { sortedKeys } from '../sorted-keys.js';
import { keyOf, keyOf3, type Observation } from './cells.js';
import type { ClassObservation } from './class-metric.js';
import { DataQuality, type DataQualityState } from './data-quality.js';
import { KeyIndex } from './key-index.js';
import { DistributionMonitor, type DistributionMonitorState } from './distribution-monitor.js';
import { ErrorDetectors, type Alarm, type ErrorDetectorsState } from './error-detectors.js';
import type { EvaluatorOptions } from './options.js';
import type { ChartRow, DriftRecord } from './rows.js';

/** Role and version of the input-feature drift records (the inputs are no role's). */
const INPUTS = '*';

/** The feature name of a multi-class model's decided class in the categorical drift (issue 16). */
export const CLASS_FEATURE = '__class__';

/** The window a detector's record is about: a matured tumbling window, or (arrival order) `stream` at the example's timestamp. */
export interface DetectorWindow {
  window: string;
  start: number;
  end: number;
}

/** A score of an example under the role and version it is counted for. */
export interface Scored {
  role: string;
  version: string;
  score: number;
}

/**
 * A ModelDrift's state: its distribution monitors and its error detectors by
 * role and version (keyOf), each in the order they came, and its data-quality
 * monitor (null before its first record; absent in checkpoint format 3).
 */
export interface ModelDriftState {
  monitors: DistributionMonitorState[];
  detectors: Array<[string, ErrorDetectorsState]>;
  quality?: DataQualityState | null;
}

/** The kind of a model's error stream: a multi-class or multi-label model's is a binary one (a decision is wrong or right). */
function errorKind(kind: ModelKind): ModelKind {
  return kind === 'regression' ? 'regression' : 'binary';
}

/** Is a class observation's decision wrong (multi-class: not the true class, or rejected; multi-label: not the true set)? */
function wrong(o: ClassObservation): boolean {
  if ('labels' in o) {
    for (let i = 0; i < o.labels.length; i++) if (o.labels[i] !== o.predicted[i]) return true;
    return false;
  }
  return o.label !== o.predicted;
}

/** The drift monitors and detectors of one model's stream. */
export class ModelDrift {
  private readonly monitors = new Map<string, DistributionMonitor>();
  /** The same monitors by role, version and feature, for the lookups per example. */
  private readonly monitorIndex = new KeyIndex<DistributionMonitor>();
  private readonly detectors = new Map<string, ErrorDetectors>();
  private quality: DataQuality | undefined;

  constructor(
    readonly model: string,
    readonly kind: ModelKind,
  ) {}

  private monitor(role: string, version: string, feature: string): DistributionMonitor {
    return this.monitorIndex.get(role, version, feature) ?? this.addMonitor(new DistributionMonitor(role, version, feature));
  }

  private addMonitor(monitor: DistributionMonitor): DistributionMonitor {
    this.monitors.set(keyOf3(monitor.role, monitor.version, monitor.feature), monitor);
    this.monitorIndex.set(monitor.role, monitor.version, monitor.feature, monitor);
    return monitor;
  }

  /**
   * PSI and KS per input feature (role `*`) and per role's score, against
   * each stream's reference, and the inputs' data quality and categorical
   * drift; records go to out, the input features' histograms to charts.
   */
  observeDistributions(example: LabelledExample, scored: Scored[], at: number, n: number, o: EvaluatorOptions['drift'], out: DriftRecord[], charts?: ChartRow[]): void {
    if (o.referenceSize <= 0) return;
    (this.quality ??= new DataQuality(this.model, o.maxFeatures)).observe(this.withClass(example), at, n, o, out, charts);
    for (const feature of sortedKeys(example.features)) {
      for (const r of this.monitor(INPUTS, INPUTS, feature).add(example.features[feature]!, example.timestamp, at, n, this.model, o, charts)) out.push(r);
    }
    for (const { role, version, score } of scored) {
      if (!Number.isFinite(score)) continue; // a multi-class role without a numeric head, a multi-label one
      for (const r of this.monitor(role, version, 'score').add(score, example.timestamp, at, n, this.model, o)) out.push(r);
    }
  }

  /**
   * A multi-class record with its decided class as the categorical feature
   * `__class__` (its shares drift like any category's; it replaces a feature
   * of that name); any other record as it is.
   */
  private withClass(example: LabelledExample): LabelledExample {
    if (this.kind !== 'multiclass' || example.predicted_class === null) return example;
    return { ...example, categorical: { ...example.categorical, [CLASS_FEATURE]: example.predicted_class } };
  }

  private errorDetectors(role: string, version: string, order: EvaluatorOptions['drift']['detectorOrder']): ErrorDetectors {
    const key = keyOf(role, version);
    let set = this.detectors.get(key);
    if (!set) this.detectors.set(key, (set = new ErrorDetectors(errorKind(this.kind), order)));
    return set;
  }

  /** Feeds the role's error on this observation to its detectors (order `arrival` only); their alarms go to out. */
  detect(role: string, version: string, o: Observation, example: LabelledExample, at: number, n: number, options: EvaluatorOptions['drift'], out: DriftRecord[]): void {
    if (!options.detectors || options.detectorOrder !== 'arrival') return;
    const error = o.cls ? Number(wrong(o.cls)) : this.kind === 'binary' ? Number((o.score >= o.threshold ? 1 : 0) !== o.label) : Math.abs(o.score - o.label);
    const alarms = this.errorDetectors(role, version, options.detectorOrder).observe(error);
    for (const a of alarms) out.push(this.record(role, version, a, { window: 'stream', start: example.timestamp, end: example.timestamp }, at, n));
  }

  /**
   * Feeds a matured window of the role (order `matured`: matured-windows.ts)
   * to its detectors: `sum` its errors (binary: wrong predictions;
   * regression: Σ|error|) over its n labels. Alarms go to out, for the
   * window, at its end.
   */
  detectWindow(role: string, version: string, sum: number, count: number, window: DetectorWindow, n: number, options: EvaluatorOptions['drift'], out: DriftRecord[]): void {
    if (!options.detectors || options.detectorOrder !== 'matured' || !(count > 0)) return;
    const alarms = this.errorDetectors(role, version, options.detectorOrder).observeWindow(sum, count);
    for (const a of alarms) out.push(this.record(role, version, a, window, window.end, n));
  }

  private record(role: string, version: string, a: Alarm, window: DetectorWindow, at: number, n: number): DriftRecord {
    return {
      model: this.model, model_version: version, role, feature: 'error', statistic: a.statistic,
      value: a.value, threshold: a.threshold, detected: true, window: window.window,
      window_start: window.start, window_end: window.end, at, n,
    };
  }

  toState(): ModelDriftState {
    const monitors: DistributionMonitorState[] = [];
    for (const monitor of this.monitors.values()) monitors.push(monitor.toState());
    const detectors: ModelDriftState['detectors'] = [];
    for (const [key, set] of this.detectors) detectors.push([key, set.toState()]);
    return { monitors, detectors, quality: this.quality?.toState() ?? null };
  }

  /** Feature values the data-quality monitor ignored (names past limits.max_features). */
  get droppedFeatures(): number {
    return this.quality?.droppedFeatures ?? 0;
  }

  /** The drift of a state, with the constructor's model and kind and the drift settings its monitors are checked against. */
  static fromState(state: ModelDriftState, model: string, kind: ModelKind, o: EvaluatorOptions['drift']): ModelDrift {
    const drift = new ModelDrift(model, kind);
    for (const m of state.monitors) drift.addMonitor(DistributionMonitor.fromState(m, o));
    for (const [key, set] of state.detectors) drift.detectors.set(key, ErrorDetectors.fromState(set, errorKind(kind), o.detectorOrder));
    if (state.quality) drift.quality = DataQuality.fromState(state.quality, model, o);
    return drift;
  }
}
