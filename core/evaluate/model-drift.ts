/**
 * Drift per model: PSI and KS of each input feature and each role's score
 * against the stream's first N values, and ADWIN, Page-Hinkley and (binary)
 * DDM on each role's error stream.
 */
import { ADWIN, DDM, PageHinkley, type DriftDetector } from '../drift/index.js';
import { binOf, kolmogorovSmirnov, psi, quantileEdges, histogram } from '../drift/index.js';
import type { LabelledExample, ModelKind } from '../events.js';
import { keyOf, type Observation } from './cells.js';
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

/** PSI and KS of windows of a stream of values against its first N values. */
class DistributionMonitor {
  private reference: number[] = [];
  private edges: number[] | undefined;
  private referenceCounts: number[] | undefined;
  private current: number[] = [];
  private firstTimestamp = Number.POSITIVE_INFINITY;
  private lastTimestamp = Number.NEGATIVE_INFINITY;

  constructor(
    readonly role: string,
    readonly version: string,
    readonly feature: string,
  ) {}

  /** Adds a value; returns the records of a completed window. */
  add(value: number, timestamp: number, at: number, n: number, model: string, o: EvaluatorOptions['drift']): DriftRecord[] {
    if (!this.edges) {
      this.reference.push(value);
      if (this.reference.length === o.referenceSize) {
        this.edges = quantileEdges(this.reference, o.bins);
        this.referenceCounts = histogram(this.edges, this.reference);
      }
      return [];
    }
    this.current.push(value);
    this.firstTimestamp = Math.min(this.firstTimestamp, timestamp);
    this.lastTimestamp = Math.max(this.lastTimestamp, timestamp);
    if (this.current.length < o.windowSize) return [];
    const counts = new Array<number>(this.edges.length + 1).fill(0);
    for (const v of this.current) counts[binOf(this.edges, v)]!++;
    const psiValue = psi(this.referenceCounts!, counts);
    const ks = kolmogorovSmirnov(this.reference, this.current);
    const m = this.reference.length;
    const k = this.current.length;
    // Asymptotic critical value of D at level alpha: c(alpha) * sqrt((m + k) / (m k)).
    const ksCritical = Math.sqrt(-Math.log(o.ksAlpha / 2) / 2) * Math.sqrt((m + k) / (m * k));
    const base = {
      model, model_version: this.version, role: this.role, feature: this.feature,
      window: `last_${o.windowSize}`, window_start: this.firstTimestamp, window_end: this.lastTimestamp, at, n,
    };
    this.current = [];
    this.firstTimestamp = Number.POSITIVE_INFINITY;
    this.lastTimestamp = Number.NEGATIVE_INFINITY;
    return [
      { ...base, statistic: 'psi', value: psiValue, threshold: o.psiThreshold, detected: psiValue !== null && psiValue > o.psiThreshold },
      { ...base, statistic: 'ks', value: ks?.statistic ?? null, threshold: ksCritical, detected: ks !== null && ks.statistic > ksCritical },
    ];
  }
}

/** ADWIN, Page-Hinkley and (binary) DDM on one role's error stream. */
class ErrorDetectors {
  readonly detectors: Array<{ statistic: string; detector: DriftDetector; threshold: number; value: () => number | null }>;

  constructor(kind: ModelKind) {
    const adwin = new ADWIN();
    const pageHinkley = new PageHinkley();
    this.detectors = [
      { statistic: 'adwin', detector: adwin, threshold: adwin.options.delta, value: () => adwin.estimation },
      { statistic: 'page_hinkley', detector: pageHinkley, threshold: pageHinkley.options.threshold, value: () => null },
    ];
    if (kind === 'binary') {
      const ddm = new DDM();
      this.detectors.push({ statistic: 'ddm', detector: ddm, threshold: ddm.options.driftLevel, value: () => null });
    }
  }
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
}
