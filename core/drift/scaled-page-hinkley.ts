/**
 * Page-Hinkley on values of any scale (a regression model's |error|, in the
 * label's units), in scale-free units. Page-Hinkley's δ (change tolerated)
 * and λ (threshold) are in the units of its values: on raw |error| of a
 * model whose labels are around 10⁵ the defaults (δ = 0.005, λ = 50) fire at
 * any noise, on labels around 10⁻³ never. This detector feeds Page-Hinkley
 *   x / m,  m = the running mean of the raw values since the last reset, x included
 * (0 when m is 0: then every value so far was 0). Scaling every value by
 * c > 0 scales m by c, so what Page-Hinkley sees, and its alarms, do not
 * depend on the label's units (up to rounding). The values fed have mean
 * about 1: δ and λ read as fractions of the model's mean error (a
 * coefficient of variation of |error| is about 0.76 for normal errors, close
 * to a 0/1 error stream's at a 30% error rate, the scale the defaults were
 * chosen for). m includes the values after a change too, so a lasting rise is
 * damped as m catches up, as Page-Hinkley's own running mean damps it; the
 * first alarm comes before m has moved much. After a detection both reset:
 * the next change is judged in the new regime's units.
 *
 * updateBatch(x, w): w values of mean x (a matured window's labels), m
 * updated as a weighted mean, then PageHinkley.updateBatch(x / m, w).
 */
import { PageHinkley, type DriftDetector, type PageHinkleyOptions, type PageHinkleyState } from './detectors.js';

export interface ScaledPageHinkleyState {
  /** The raw values' running mean (the scale) and how many it is over. */
  scale: number;
  scaled: number;
  pageHinkley: PageHinkleyState;
}

/** Page-Hinkley on values divided by their running mean (see the file header). */
export class ScaledPageHinkley implements DriftDetector {
  readonly options: Partial<PageHinkleyOptions>;
  private pageHinkley: PageHinkley;
  private scale = 0;
  private scaled = 0;

  constructor(options: Partial<PageHinkleyOptions> = {}) {
    this.options = options;
    this.pageHinkley = new PageHinkley(options);
  }

  get driftDetected(): boolean {
    return this.pageHinkley.driftDetected;
  }

  get count(): number {
    return this.pageHinkley.count;
  }

  /** The detection threshold λ (in units of the running mean). */
  get threshold(): number {
    return this.pageHinkley.options.threshold;
  }

  /** The running mean of the raw values (the unit of what Page-Hinkley sees). */
  get level(): number {
    return this.scale;
  }

  update(x: number): void {
    this.updateBatch(x, 1);
  }

  updateBatch(x: number, w: number): void {
    if (!(w > 0)) return;
    if (this.pageHinkley.driftDetected) this.reset();
    this.scaled += w;
    this.scale = this.scale + (w / this.scaled) * (x - this.scale);
    this.pageHinkley.updateBatch(this.scale > 0 ? x / this.scale : 0, w);
  }

  private reset(): void {
    this.pageHinkley = this.pageHinkley.clone();
    this.scale = 0;
    this.scaled = 0;
  }

  clone(): ScaledPageHinkley {
    return new ScaledPageHinkley(this.options);
  }

  toState(): ScaledPageHinkleyState {
    return { scale: this.scale, scaled: this.scaled, pageHinkley: this.pageHinkley.toState() };
  }

  static fromState(state: ScaledPageHinkleyState, options: Partial<PageHinkleyOptions> = {}): ScaledPageHinkley {
    const detector = new ScaledPageHinkley(options);
    detector.scale = state.scale;
    detector.scaled = state.scaled;
    detector.pageHinkley = PageHinkley.fromState(state.pageHinkley, options);
    return detector;
  }
}
