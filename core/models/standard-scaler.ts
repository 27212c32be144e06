import type { FeatureSpec } from '../events.js';
import { attachOnce, present, unattached, type ColumnSpace, type Encoder } from './encoder.js';
import type { ModelInput } from './model.js';
import { NumericIndex } from './numeric.js';
import { encodeFloats, FieldReader, type JsonObject } from './snapshot.js';
import { ensureLength, type SparseVector } from './vector.js';

/**
 * Every numeric feature as (x - mean) / std, with the mean and population
 * variance of that feature over the examples learned so far, including the
 * current one when learning (River's order: update, then transform). A
 * feature whose variance is still 0 gives 0. Statistics count examples,
 * not sample weights (as River's).
 */
export class StandardScaler implements Encoder {
  readonly kind = 'standard_scaler';
  private columns: ColumnSpace | null = null;
  private readonly index = new NumericIndex();
  private counts: Float64Array = new Float64Array(0);
  private means: Float64Array = new Float64Array(0);
  private vars: Float64Array = new Float64Array(0);
  private stds: Float64Array = new Float64Array(0);

  attach(columns: ColumnSpace): void {
    this.columns = attachOnce(this.kind, this.columns, columns);
  }

  encode(x: ModelInput, out: SparseVector, learn: boolean): void {
    const space = this.columns ?? unattached(this.kind);
    const features = x.features;
    const index = this.index;
    const columns = index.columns;
    if (learn) {
      for (const name in features) {
        const v = features[name];
        if (!present(v)) continue;
        const k = index.resolve(name, true, space);
        if (k < 0) continue; // past the bound on names: skipped, as when predicting
        if (k >= this.counts.length) this.grow(k + 1);
        // River's update, operation for operation; the standard deviation is
        // kept so predicting needs no square root (same bits as sqrt(var)).
        const counts = this.counts;
        const means = this.means;
        const vars = this.vars;
        const n = (counts[k] = counts[k]! + 1);
        const before = means[k]!;
        const mean = (means[k] = before + (v - before) / n);
        const variance = (vars[k] = vars[k]! + ((v - before) * (v - mean) - vars[k]!) / n);
        const std = (this.stds[k] = Math.sqrt(variance));
        const slot = out.append(columns[k]!);
        out.values[slot] = variance ? (v - mean) / std : 0;
      }
    } else {
      const means = this.means;
      const vars = this.vars;
      const stds = this.stds;
      for (const name in features) {
        const v = features[name];
        if (!present(v)) continue;
        const k = index.resolve(name, false, space);
        if (k < 0) continue;
        const slot = out.append(columns[k]!);
        out.values[slot] = vars[k] ? (v - means[k]!) / stds[k]! : 0;
      }
    }
  }

  private grow(n: number): void {
    this.counts = ensureLength(this.counts, n);
    this.means = ensureLength(this.means, n);
    this.vars = ensureLength(this.vars, n);
    this.stds = ensureLength(this.stds, n);
  }

  /** Each feature it scales, with its column and the standard deviation it divides by now. */
  scaled(): Array<{ name: string; column: number; std: number }> {
    return this.index.names.map((name, k) => ({ name, column: this.index.columns[k]!, std: this.stds[k] ?? 0 }));
  }

  /** Running mean and variance of a feature, or null if never seen. */
  statistics(name: string): { count: number; mean: number; variance: number } | null {
    const k = this.index.names.indexOf(name);
    if (k < 0 || k >= this.counts.length) return null;
    return { count: this.counts[k]!, mean: this.means[k]!, variance: this.vars[k]! };
  }

  clone(): StandardScaler {
    return new StandardScaler();
  }

  hyperparameters(): JsonObject {
    return {};
  }

  state(): JsonObject {
    // Stats arrays are grown as soon as a name is added, so they cover every name.
    const n = this.index.names.length;
    return {
      names: [...this.index.names],
      columns: [...this.index.columns],
      counts: encodeFloats(this.counts, n),
      means: encodeFloats(this.means, n),
      vars: encodeFloats(this.vars, n),
    };
  }

  restoreState(state: JsonObject): void {
    const r = new FieldReader(state, `${this.kind}.state`);
    const names = r.strings('names');
    this.index.restore(names, r.integers('columns'), r.path);
    this.counts = r.floats('counts', names.length);
    this.means = r.floats('means', names.length);
    this.vars = r.floats('vars', names.length);
    this.stds = this.vars.map(Math.sqrt);
  }

  featureSpecs(): FeatureSpec[] {
    return this.index.names.map((name) => ({ name, kind: 'NUMERIC' }));
  }
}
