/**
 * ADWIN on values of any scale (a regression model's |error|, in the
 * label's units). ADWIN's bound holds for values in [0, 1]: raw errors of
 * large labels raise false alarms, and errors scaled by 0.01 hide a change
 * for over a thousand examples. This detector feeds ADWIN instead
 *   min(1, x / s),  s = 4 × the median of the first `referenceSize` values
 * since the last reset (the reference's largest value when its median is 0;
 * when that is 0 too, every x > 0 counts 1). Scaling every value by c > 0
 * scales s by c, so what ADWIN sees, and its alarms, do not depend on the
 * label's units (up to rounding: (c·x)/(c·s) may differ from x/s in the
 * last bit). 4 × the median is about the 99th percentile of normal errors'
 * |error|: clipping is rare, and ADWIN's bound holds. The reference is
 * kept (at most referenceSize values) until full, then goes to ADWIN at
 * once, so ADWIN's window includes the reference period. After a
 * detection the detector resets, reference included: the next change is
 * judged against the new regime's errors.
 */
import { StateMismatchError } from '../errors.js';
import { ADWIN, type AdwinOptions, type AdwinState, type DriftDetector } from './detectors.js';

export interface ScaledAdwinOptions {
  /** Values whose median sets the scale, taken after each reset. */
  referenceSize: number;
  /** The scale as a multiple of the reference's median. */
  medians: number;
  adwin: Partial<AdwinOptions>;
}

export interface ScaledAdwinState {
  driftDetected: boolean;
  /** The reference so far while it fills; empty once the scale is set. */
  reference: number[];
  scale: number | null;
  adwin: AdwinState;
}

/** The scale of a full reference (see the file header). */
function scaleOf(reference: number[], medians: number): number {
  const sorted = reference.slice().sort((a, b) => a - b);
  const median = sorted[Math.floor((sorted.length - 1) / 2)]!;
  return median > 0 ? medians * median : sorted[sorted.length - 1]!;
}

/** ADWIN on values divided by a scale of their own and clipped to [0, 1] (see the file header). */
export class ScaledAdwin implements DriftDetector {
  readonly options: ScaledAdwinOptions;
  driftDetected = false;
  private reference: number[] = [];
  private scale: number | null = null;
  private adwin: ADWIN;

  constructor(options: Partial<ScaledAdwinOptions> = {}) {
    this.options = { referenceSize: 100, medians: 4, adwin: {}, ...options };
    this.adwin = new ADWIN(this.options.adwin);
  }

  get count(): number {
    return this.scale === null ? this.reference.length : this.adwin.count;
  }

  /** Mean of ADWIN's window, in units of the scale (0 while the reference fills). */
  get estimation(): number {
    return this.adwin.estimation;
  }

  /** ADWIN's confidence δ. */
  get delta(): number {
    return this.adwin.options.delta;
  }

  /** The scale, once the reference is full. */
  get level(): number | null {
    return this.scale;
  }

  update(x: number): void {
    if (this.driftDetected) this.reset();
    if (this.scale !== null) {
      this.feed(x);
      return;
    }
    this.reference.push(x);
    if (this.reference.length < this.options.referenceSize) return;
    this.scale = scaleOf(this.reference, this.options.medians);
    for (const value of this.reference.splice(0)) if (this.feed(value)) return;
  }

  /** One scaled value to ADWIN; true on a detection. */
  private feed(x: number): boolean {
    const s = this.scale!;
    this.adwin.update(s > 0 ? Math.min(1, x / s) : x > 0 ? 1 : 0);
    this.driftDetected = this.adwin.driftDetected;
    return this.driftDetected;
  }

  private reset(): void {
    this.reference = [];
    this.scale = null;
    this.adwin = this.adwin.clone();
    this.driftDetected = false;
  }

  clone(): ScaledAdwin {
    return new ScaledAdwin(this.options);
  }

  toState(): ScaledAdwinState {
    return { driftDetected: this.driftDetected, reference: this.reference.slice(), scale: this.scale, adwin: this.adwin.toState() };
  }

  /** The detector of a state, with the constructor's options; a reference longer than referenceSize is refused. */
  static fromState(state: ScaledAdwinState, options: Partial<ScaledAdwinOptions> = {}): ScaledAdwin {
    const detector = new ScaledAdwin(options);
    if (state.reference.length >= detector.options.referenceSize) {
      throw new StateMismatchError('the error detector reference size', `${state.reference.length} values saved filling, ${detector.options.referenceSize} now`);
    }
    detector.driftDetected = state.driftDetected;
    detector.reference = state.reference.slice();
    detector.scale = state.scale;
    detector.adwin = ADWIN.fromState(state.adwin, detector.options.adwin);
    return detector;
  }
}
