import type { FeatureSpec } from '../events.js';
import { attachOnce, present, unattached, type ColumnSpace, type Encoder } from './encoder.js';
import type { ModelInput } from './model.js';
import { FieldReader, ModelError, type JsonObject } from './snapshot.js';
import type { SparseVector } from './vector.js';

/**
 * Numeric feature names to local indices (0, 1, 2... in order of first
 * appearance) and to global columns. (Remembering the key order of the
 * previous example to skip the Map lookup was measured: no gain worth its
 * code — property names are internalized strings with cached hashes.)
 */
export class NumericIndex {
  readonly names: string[] = [];
  readonly columns: number[] = [];
  private readonly byName = new Map<string, number>();

  /** The local index of a feature, or -1 (unknown, and not learning or past the space's bound on names). */
  resolve(name: string, learn: boolean, space: ColumnSpace): number {
    const local = this.byName.get(name);
    if (local !== undefined) return local;
    return learn && space.admitsName(this.names.length) ? this.add(name, space.allocate()) : -1;
  }

  add(name: string, column: number): number {
    const local = this.names.length;
    this.names.push(name);
    this.columns.push(column);
    this.byName.set(name, local);
    return local;
  }

  restore(names: string[], columns: number[], what: string): void {
    if (names.length !== columns.length) throw new ModelError(`${what}: ${names.length} names but ${columns.length} columns`);
    for (let k = 0; k < names.length; k++) {
      if (this.byName.has(names[k]!)) throw new ModelError(`${what}: feature "${names[k]}" listed twice`);
      this.add(names[k]!, columns[k]!);
    }
  }
}

/** Every numeric feature, unscaled. */
export class NumericFeatures implements Encoder {
  readonly kind = 'numeric';
  private columns: ColumnSpace | null = null;
  private readonly index = new NumericIndex();

  attach(columns: ColumnSpace): void {
    this.columns = attachOnce(this.kind, this.columns, columns);
  }

  encode(x: ModelInput, out: SparseVector, learn: boolean): void {
    const space = this.columns ?? unattached(this.kind);
    const features = x.features;
    const index = this.index;
    for (const name in features) {
      const v = features[name];
      if (!present(v)) continue;
      const k = index.resolve(name, learn, space);
      if (k >= 0) {
        const slot = out.append(index.columns[k]!);
        out.values[slot] = v;
      }
    }
  }

  clone(): NumericFeatures {
    return new NumericFeatures();
  }

  hyperparameters(): JsonObject {
    return {};
  }

  state(): JsonObject {
    return { names: [...this.index.names], columns: [...this.index.columns] };
  }

  restoreState(state: JsonObject): void {
    const r = new FieldReader(state, `${this.kind}.state`);
    this.index.restore(r.strings('names'), r.integers('columns'), r.path);
  }

  featureSpecs(): FeatureSpec[] {
    return this.index.names.map((name) => ({ name, kind: 'NUMERIC' }));
  }
}
