/**
 * PSI and KS of one stream of values (an input feature, or a role's score)
 * against its first N values (the reference): each following window of N
 * values is compared with it. For an input feature, each window's counts
 * in the PSI bins beside the reference's (a `numeric_histogram` chart).
 */
import { binOf, histogram, kolmogorovSmirnovSorted, psi, quantileEdges } from '../drift/index.js';
import { StateMismatchError } from '../errors.js';
import type { EvaluatorOptions } from './options.js';
import { binLabels, featureChart } from './charts.js';
import type { ChartRow, DriftRecord } from './rows.js';

/**
 * A DistributionMonitor's state: its names, the reference (and the bin edges
 * fixed from it, null while it fills), the current window's values and
 * their first and last prediction timestamps.
 */
export interface DistributionMonitorState {
  role: string;
  version: string;
  feature: string;
  reference: Float64Array;
  edges: Float64Array | null;
  current: Float64Array;
  firstTimestamp: number;
  lastTimestamp: number;
}

/** What add() returns while no window completes: one empty list, never written to (no allocation per value). */
const NO_RECORDS: readonly DriftRecord[] = Object.freeze([]);

/** PSI and KS of windows of a stream of values against its first N values. */
export class DistributionMonitor {
  private reference: number[] = [];
  private edges: number[] | undefined;
  private referenceCounts: number[] | undefined;
  /** The reference ascending, once it is complete (it never changes then). */
  private sortedReference: Float64Array | undefined;
  private current: number[] = [];
  private firstTimestamp = Number.POSITIVE_INFINITY;
  private lastTimestamp = Number.NEGATIVE_INFINITY;

  constructor(
    readonly role: string,
    readonly version: string,
    readonly feature: string,
  ) {}

  /** Adds a value; returns the records of a completed window (and, given `charts`, its histogram against the reference's). */
  add(value: number, timestamp: number, at: number, n: number, model: string, o: EvaluatorOptions['drift'], charts?: ChartRow[]): readonly DriftRecord[] {
    if (!this.edges) {
      this.reference.push(value);
      if (this.reference.length === o.referenceSize) {
        this.edges = quantileEdges(this.reference, o.bins);
        this.referenceCounts = histogram(this.edges, this.reference);
      }
      return NO_RECORDS;
    }
    this.current.push(value);
    this.firstTimestamp = Math.min(this.firstTimestamp, timestamp);
    this.lastTimestamp = Math.max(this.lastTimestamp, timestamp);
    if (this.current.length < o.windowSize) return NO_RECORDS;
    const counts = new Array<number>(this.edges.length + 1).fill(0);
    for (const v of this.current) counts[binOf(this.edges, v)]!++;
    const psiValue = psi(this.referenceCounts!, counts);
    // Float64Array's sort is numeric ascending: the order kolmogorovSmirnov's comparator gives these finite values.
    const ks = kolmogorovSmirnovSorted((this.sortedReference ??= Float64Array.from(this.reference).sort()), Float64Array.from(this.current).sort());
    const m = this.reference.length;
    const k = this.current.length;
    // Asymptotic critical value of D at level alpha: c(alpha) * sqrt((m + k) / (m k)).
    const ksCritical = Math.sqrt(-Math.log(o.ksAlpha / 2) / 2) * Math.sqrt((m + k) / (m * k));
    const base = {
      model, model_version: this.version, role: this.role, feature: this.feature,
      window: `last_${o.windowSize}`, window_start: this.firstTimestamp, window_end: this.lastTimestamp, at, n,
    };
    if (charts && this.role === '*') charts.push(featureChart({ ...base, segment: '*' }, 'numeric_histogram', this.feature, binLabels(this.edges), this.referenceCounts!, counts));
    this.current = [];
    this.firstTimestamp = Number.POSITIVE_INFINITY;
    this.lastTimestamp = Number.NEGATIVE_INFINITY;
    return [
      { ...base, statistic: 'psi', value: psiValue, threshold: o.psiThreshold, detected: psiValue !== null && psiValue > o.psiThreshold },
      { ...base, statistic: 'ks', value: ks?.statistic ?? null, threshold: ksCritical, detected: ks !== null && ks.statistic > ksCritical },
    ];
  }

  toState(): DistributionMonitorState {
    const { role, version, feature, firstTimestamp, lastTimestamp } = this;
    const edges = this.edges === undefined ? null : Float64Array.from(this.edges);
    return { role, version, feature, reference: Float64Array.from(this.reference), edges, current: Float64Array.from(this.current), firstTimestamp, lastTimestamp };
  }

  /**
   * The monitor of a state under the drift settings `o` (its reference
   * counts computed again from the reference); throws a StateMismatchError
   * where the state does not fit them.
   */
  static fromState(state: DistributionMonitorState, o: EvaluatorOptions['drift']): DistributionMonitor {
    checkFits(state, o);
    const monitor = new DistributionMonitor(state.role, state.version, state.feature);
    monitor.reference = Array.from(state.reference);
    if (state.edges !== null) {
      monitor.edges = Array.from(state.edges);
      monitor.referenceCounts = histogram(monitor.edges, monitor.reference);
    }
    monitor.current = Array.from(state.current);
    monitor.firstTimestamp = state.firstTimestamp;
    monitor.lastTimestamp = state.lastTimestamp;
    return monitor;
  }
}

/** Throws unless the reference, its bins and the current window fit the drift settings. */
function checkFits(state: DistributionMonitorState, o: EvaluatorOptions['drift']): void {
  const frozen = state.edges !== null;
  const size = state.reference.length;
  if (frozen ? size !== o.referenceSize : size >= o.referenceSize) {
    throw new StateMismatchError('evaluator.drift_reference_size', `a ${frozen ? 'complete' : 'partial'} reference of ${size} values saved, ${o.referenceSize} now`);
  }
  if (state.current.length >= o.windowSize) throw new StateMismatchError('evaluator.drift_window_size', `a window of ${state.current.length} values saved, ${o.windowSize} now`);
  if (frozen && !sameValues(state.edges!, quantileEdges(Array.from(state.reference), o.bins))) {
    throw new StateMismatchError('evaluator.drift_bins', `the saved reference's ${state.edges!.length + 1} bins are not the ${o.bins} bins now`);
  }
}

function sameValues(a: Float64Array, b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return false;
  return true;
}
