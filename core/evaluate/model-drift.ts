/**
 * Drift per model: PSI and KS of each input feature and each role's score
 * against the stream's first N values, and ADWIN, Page-Hinkley and (binary)
 * DDM on each role's error stream. A binary model's errors (0/1) go to
 * ADWIN as they are; a regression model's |error| goes to ScaledAdwin
 * (ADWIN on "above the reference's median error"), whose alarms do not
 * depend on the label's units.
 */
import { ADWIN, DDM, ScaledAdwin, PageHinkley, type AdwinState, type DdmState, type DriftDetector, type ScaledAdwinState, type PageHinkleyState } from '../drift/index.js';
import { StateMismatchError } from '../errors.js';
import type { LabelledExample, ModelKind } from '../events.js';
import { keyOf, type Observation } from './cells.js';
import { DistributionMonitor, type DistributionMonitorState } from './distribution-monitor.js';
import type { EvaluatorOptions } from './options.js';
import type { DriftRecord } from './rows.js';

/** Role and version of the input-feature drift records (the inputs are no role's). */
const INPUTS = '*';

/** A score of an example under the role and version it is counted for. */
export interface Scored {
  role: string;
  version: string;
  score: number;
}

/** The state of one role's error detectors (a regression model's ADWIN on scaled errors; DDM's null for it). */
export interface ErrorDetectorsState {
  adwin: AdwinState | ScaledAdwinState;
  pageHinkley: PageHinkleyState;
  ddm: DdmState | null;
}

/** ADWIN, Page-Hinkley and (binary) DDM on one role's error stream. */
class ErrorDetectors {
  readonly detectors: Array<{ statistic: string; detector: DriftDetector; threshold: number; value: () => number | null }>;

  constructor(
    kind: ModelKind,
    private readonly adwin: ADWIN | ScaledAdwin = kind === 'binary' ? new ADWIN() : new ScaledAdwin(),
    private readonly pageHinkley = new PageHinkley(),
    private readonly ddm: DDM | null = kind === 'binary' ? new DDM() : null,
  ) {
    this.detectors = [
      { statistic: 'adwin', detector: adwin, threshold: adwin instanceof ADWIN ? adwin.options.delta : adwin.delta, value: () => adwin.estimation },
      { statistic: 'page_hinkley', detector: pageHinkley, threshold: pageHinkley.options.threshold, value: () => null },
    ];
    if (ddm !== null) this.detectors.push({ statistic: 'ddm', detector: ddm, threshold: ddm.options.driftLevel, value: () => null });
  }

  toState(): ErrorDetectorsState {
    return { adwin: this.adwin.toState(), pageHinkley: this.pageHinkley.toState(), ddm: this.ddm?.toState() ?? null };
  }

  static fromState(state: ErrorDetectorsState, kind: ModelKind): ErrorDetectors {
    if ((state.ddm !== null) !== (kind === 'binary')) {
      throw new StateMismatchError('the model task', `error detectors of a ${state.ddm === null ? 'regression' : 'binary'} model saved, the model is ${kind} now`);
    }
    const ddm = state.ddm === null ? null : DDM.fromState(state.ddm);
    const adwin = kind === 'binary' ? ADWIN.fromState(state.adwin as AdwinState) : ScaledAdwin.fromState(state.adwin as ScaledAdwinState);
    return new ErrorDetectors(kind, adwin, PageHinkley.fromState(state.pageHinkley), ddm);
  }
}

/** A ModelDrift's state: its distribution monitors and its error detectors by role and version (keyOf), each in the order they came. */
export interface ModelDriftState {
  monitors: DistributionMonitorState[];
  detectors: Array<[string, ErrorDetectorsState]>;
}

/** The drift monitors and detectors of one model's stream. */
export class ModelDrift {
  private readonly monitors = new Map<string, DistributionMonitor>();
  private readonly detectors = new Map<string, ErrorDetectors>();

  constructor(
    readonly model: string,
    readonly kind: ModelKind,
  ) {}

  private monitor(role: string, version: string, feature: string): DistributionMonitor {
    const key = keyOf(role, version, feature);
    let monitor = this.monitors.get(key);
    if (!monitor) this.monitors.set(key, (monitor = new DistributionMonitor(role, version, feature)));
    return monitor;
  }

  /** PSI and KS per input feature (role `*`) and per role's score, against each stream's reference; records go to out. */
  observeDistributions(example: LabelledExample, scored: Scored[], at: number, n: number, o: EvaluatorOptions['drift'], out: DriftRecord[]): void {
    if (o.referenceSize <= 0) return;
    for (const feature of Object.keys(example.features).sort()) {
      for (const r of this.monitor(INPUTS, INPUTS, feature).add(example.features[feature]!, example.timestamp, at, n, this.model, o)) out.push(r);
    }
    for (const { role, version, score } of scored) {
      for (const r of this.monitor(role, version, 'score').add(score, example.timestamp, at, n, this.model, o)) out.push(r);
    }
  }

  /** Feeds the role's error on this observation to its detectors; their alarms go to out. */
  detect(role: string, version: string, o: Observation, example: LabelledExample, at: number, n: number, options: EvaluatorOptions['drift'], out: DriftRecord[]): void {
    if (!options.detectors) return;
    const key = keyOf(role, version);
    let set = this.detectors.get(key);
    if (!set) this.detectors.set(key, (set = new ErrorDetectors(this.kind)));
    const error = this.kind === 'binary' ? Number((o.score >= o.threshold ? 1 : 0) !== o.label) : Math.abs(o.score - o.label);
    for (const d of set.detectors) {
      d.detector.update(error);
      if (!d.detector.driftDetected) continue;
      out.push({
        model: this.model, model_version: version, role, feature: 'error', statistic: d.statistic,
        value: d.value(), threshold: d.threshold, detected: true, window: 'stream',
        window_start: example.timestamp, window_end: example.timestamp, at, n,
      });
    }
  }

  toState(): ModelDriftState {
    const monitors: DistributionMonitorState[] = [];
    for (const monitor of this.monitors.values()) monitors.push(monitor.toState());
    const detectors: ModelDriftState['detectors'] = [];
    for (const [key, set] of this.detectors) detectors.push([key, set.toState()]);
    return { monitors, detectors };
  }

  /** The drift of a state, with the constructor's model and kind and the drift settings its monitors are checked against. */
  static fromState(state: ModelDriftState, model: string, kind: ModelKind, o: EvaluatorOptions['drift']): ModelDrift {
    const drift = new ModelDrift(model, kind);
    for (const m of state.monitors) drift.monitors.set(keyOf(m.role, m.version, m.feature), DistributionMonitor.fromState(m, o));
    for (const [key, set] of state.detectors) drift.detectors.set(key, ErrorDetectors.fromState(set, kind));
    return drift;
  }
}
