/**
 * The error detectors of one role and version of a model: ADWIN,
 * Page-Hinkley and (binary) DDM on its error stream, fed in one of two
 * orders (EvaluatorOptions.drift.detectorOrder):
 *
 * - `arrival`: each label's error as the label comes. A binary model's
 *   0/1 error goes to ADWIN, Page-Hinkley and DDM as it is; a regression
 *   model's |error| to ScaledAdwin and ScaledPageHinkley, whose alarms do
 *   not depend on the label's units.
 * - `matured` (matured-windows.ts says when): each matured window of the
 *   smallest tumbling window once, in window-start order, as the window's
 *   error sum over its n labels (binary: errors = fp + fn; regression:
 *   Σ|error| = MAE·n):
 *   - DDM takes (errors, n) as a batch (DDM.updateBatch): p = E/N and
 *     s = sqrt(p(1 − p)/N) are functions of the cumulative counts, so after
 *     the batch they are what the n labels one by one give; the test runs
 *     at the window's end only.
 *   - Page-Hinkley takes the window's mean error with weight n
 *     (PageHinkley.updateBatch; a regression model's through
 *     ScaledPageHinkley: the window's MAE over the running MAE of the
 *     matured windows): its sum moves by n·(mean − running mean − δ), with
 *     the variance of n per-label steps, so δ and λ keep their per-label
 *     meaning and its defaults hold.
 *   - ADWIN (binary) takes the window's n errors as n values 0/1, its
 *     `errors` ones spread evenly among them (the j-th is 1 when
 *     ⌊(j+1)·errors/n⌋ > ⌊j·errors/n⌋): the labels' order within a window is
 *     not known (no example is kept) and carries nothing the window's counts
 *     do not; every stretch of the window then has the window's rate, so no
 *     change is made up inside it. ADWIN keeps its per-label bound (it
 *     assumes values in [0, 1] and counts them: one value per window would
 *     make its range term (2/3)·d/n₁ count windows, not labels, and a
 *     change of 0.1 in the error rate would wait some 60 windows). A cut
 *     found among a window's values is an alarm for that window (one per
 *     window at most); the values after it go to the emptied window.
 *   - ADWIN (regression) takes the window's MAE as one value, through
 *     ScaledAdwin (its scale from the first 30 windows), a cut looked for at
 *     every window (clock 1). The labels' |error| are not kept and the MAE
 *     cannot be split into them; repeating it n times would make ADWIN's
 *     variance that of window means while it counts labels (overconfident).
 *     One value per window is valid but slow: its range term counts
 *     windows (see above); Page-Hinkley is the quicker of the two here.
 *   Detection comes when a window matures: a join window after its end.
 *
 * Each detector resets after its alarm (core/drift), so one change gives
 * one alarm per detector.
 */
import {
  ADWIN, DDM, PageHinkley, ScaledAdwin, ScaledPageHinkley,
  type AdwinState, type DdmState, type DriftDetector, type PageHinkleyState, type ScaledAdwinOptions, type ScaledAdwinState, type ScaledPageHinkleyState,
} from '../drift/index.js';
import { StateMismatchError } from '../errors.js';
import type { ModelKind } from '../events.js';
import type { DetectorOrder } from './options.js';

/** ScaledAdwin on matured windows: the scale from the first 30 windows' MAE, a cut looked for at every window. */
const MATURED_SCALED_ADWIN: Partial<ScaledAdwinOptions> = { referenceSize: 30, adwin: { clock: 1 } };

/** The state of one role's error detectors (a regression model's scaled ADWIN and Page-Hinkley; DDM's null for it). */
export interface ErrorDetectorsState {
  adwin: AdwinState | ScaledAdwinState;
  pageHinkley: PageHinkleyState | ScaledPageHinkleyState;
  ddm: DdmState | null;
}

/** A detector that fired: its statistic, value (ADWIN's window mean) and threshold, as in a DriftRecord. */
export interface Alarm {
  statistic: string;
  value: number | null;
  threshold: number;
}

function newAdwin(kind: ModelKind, order: DetectorOrder): ADWIN | ScaledAdwin {
  if (kind === 'binary') return new ADWIN();
  return new ScaledAdwin(order === 'matured' ? MATURED_SCALED_ADWIN : {});
}

/** ADWIN, Page-Hinkley and (binary) DDM on one role's error stream, in one order. */
export class ErrorDetectors {
  private readonly detectors: Array<{ statistic: string; detector: DriftDetector; alarm: () => Alarm }>;

  constructor(
    readonly kind: ModelKind,
    readonly order: DetectorOrder,
    private readonly adwin: ADWIN | ScaledAdwin = newAdwin(kind, order),
    private readonly pageHinkley: PageHinkley | ScaledPageHinkley = kind === 'binary' ? new PageHinkley() : new ScaledPageHinkley(),
    private readonly ddm: DDM | null = kind === 'binary' ? new DDM() : null,
  ) {
    const adwinDelta = adwin instanceof ADWIN ? adwin.options.delta : adwin.delta;
    const phThreshold = pageHinkley instanceof PageHinkley ? pageHinkley.options.threshold : pageHinkley.threshold;
    this.detectors = [
      { statistic: 'adwin', detector: adwin, alarm: () => ({ statistic: 'adwin', value: adwin.estimation, threshold: adwinDelta }) },
      { statistic: 'page_hinkley', detector: pageHinkley, alarm: () => ({ statistic: 'page_hinkley', value: null, threshold: phThreshold }) },
    ];
    if (ddm !== null) this.detectors.push({ statistic: 'ddm', detector: ddm, alarm: () => ({ statistic: 'ddm', value: null, threshold: ddm.options.driftLevel }) });
  }

  /** One label's error (binary: 1 wrong, 0 right; regression: |error|), in arrival order; the detectors that fired. */
  observe(error: number): Alarm[] {
    this.adwin.update(error);
    this.pageHinkley.update(error);
    this.ddm?.update(error);
    return this.fired();
  }

  /**
   * One matured window: `sum` its errors (binary: how many wrong; regression:
   * Σ|error|) over its n labels; the detectors that fired. A window without
   * labels feeds nothing.
   */
  observeWindow(sum: number, n: number): Alarm[] {
    if (!(n > 0)) return [];
    const mean = sum / n;
    const adwin = this.adwin instanceof ADWIN ? this.spread(this.adwin, sum, n) : this.scaled(this.adwin, mean);
    this.pageHinkley.updateBatch(mean, n);
    this.ddm?.updateBatch(sum, n);
    const out = adwin === null ? [] : [adwin];
    for (const a of this.fired()) if (a.statistic !== 'adwin') out.push(a);
    return out;
  }

  /** A binary window's `errors` of n as n values 0/1, the ones spread evenly; its alarm, if ADWIN cut among them. */
  private spread(adwin: ADWIN, errors: number, n: number): Alarm | null {
    let alarm: Alarm | null = null;
    for (let j = 0; j < n; j++) {
      adwin.update(Math.floor(((j + 1) * errors) / n) > Math.floor((j * errors) / n) ? 1 : 0);
      if (adwin.driftDetected && alarm === null) alarm = this.detectors[0]!.alarm();
    }
    return alarm;
  }

  /** A regression window's MAE as one value to ScaledAdwin; its alarm, if any. */
  private scaled(adwin: ScaledAdwin, mean: number): Alarm | null {
    adwin.update(mean);
    return adwin.driftDetected ? this.detectors[0]!.alarm() : null;
  }

  private fired(): Alarm[] {
    const out: Alarm[] = [];
    for (const d of this.detectors) if (d.detector.driftDetected) out.push(d.alarm());
    return out;
  }

  toState(): ErrorDetectorsState {
    return { adwin: this.adwin.toState(), pageHinkley: this.pageHinkley.toState(), ddm: this.ddm?.toState() ?? null };
  }

  static fromState(state: ErrorDetectorsState, kind: ModelKind, order: DetectorOrder): ErrorDetectors {
    if ((state.ddm !== null) !== (kind === 'binary')) {
      throw new StateMismatchError('the model task', `error detectors of a ${state.ddm === null ? 'regression' : 'binary'} model saved, the model is ${kind} now`);
    }
    if (kind === 'binary') {
      const adwin = ADWIN.fromState(state.adwin as AdwinState);
      return new ErrorDetectors(kind, order, adwin, PageHinkley.fromState(state.pageHinkley as PageHinkleyState), DDM.fromState(state.ddm!));
    }
    const adwin = ScaledAdwin.fromState(state.adwin as ScaledAdwinState, order === 'matured' ? MATURED_SCALED_ADWIN : {});
    return new ErrorDetectors(kind, order, adwin, ScaledPageHinkley.fromState(state.pageHinkley as ScaledPageHinkleyState), null);
  }
}
