/**
 * Encoders: from the named features of an event to the numbered columns of
 * a SparseVector. A pipeline runs its encoders side by side (like River's
 * TransformerUnion: each writes its own columns) and hands the vector to its
 * estimator.
 *
 *  - NumericFeatures: every numeric feature as it is.
 *  - StandardScaler: every numeric feature standardised by its running mean
 *    and variance (River's `preprocessing.StandardScaler`).
 *  - OneHotEncoder: low-cardinality categoricals, one column per value,
 *    up to `maxCategories` values per feature, then one shared "other"
 *    column for the rest.
 *  - FeatureHasher: high-cardinality categoricals (and optionally numerics)
 *    hashed into a fixed block of columns (River's `preprocessing.FeatureHasher`,
 *    same hash, same buckets, same signs for the same seed).
 *
 * Learning and predicting differ in one way: a feature (or category) never
 * seen before gets a new column when learning, and is skipped when
 * predicting — so a prediction never changes a model, and an unknown feature
 * contributes exactly what a weight of 0 would. Columns are never reused or
 * removed; estimators grow their arrays when a new column appears.
 */
import type { FeatureSpec } from '../events.js';
import { flag, positive, type ModelInput } from './model.js';
import { hashToken, murmur3 } from './murmur.js';
import { encodeFloats, FieldReader, ModelError, type JsonObject } from './snapshot.js';
import { ensureLength, type SparseVector } from './vector.js';

/** Hands out column numbers, in order; owned by a pipeline and shared by its encoders. */
export class ColumnSpace {
  size = 0;

  allocate(): number {
    return this.size++;
  }

  /** A contiguous block of n columns; returns its first column. */
  reserve(n: number): number {
    const first = this.size;
    this.size += n;
    return first;
  }
}

export interface Encoder {
  /** The name snapshots carry ("standard_scaler", ...). */
  readonly kind: string;
  /** Binds the encoder to its pipeline's columns (once, at construction: fixed blocks are reserved now, in pipeline order). */
  attach(columns: ColumnSpace): void;
  /** Appends x's entries to out; learns (new columns, running statistics) only when `learn` is true. */
  encode(x: ModelInput, out: SparseVector, learn: boolean): void;
  /** The same hyperparameters, unattached, nothing learned. */
  clone(): Encoder;
  hyperparameters(): JsonObject;
  state(): JsonObject;
  /** Loads a state() (after attach). */
  restoreState(state: JsonObject): void;
  /** The input features this encoder has learned about. */
  featureSpecs(): FeatureSpec[];
}

function attachOnce(kind: string, current: ColumnSpace | null, columns: ColumnSpace): ColumnSpace {
  if (current !== null) throw new ModelError(`${kind}: this encoder already belongs to a pipeline (use clone() for another)`);
  return columns;
}

function unattached(kind: string): never {
  throw new ModelError(`${kind}: the encoder is not attached to a pipeline`);
}

/**
 * Numeric feature names to local indices (0, 1, 2... in order of first
 * appearance) and to global columns. (Remembering the key order of the
 * previous example to skip the Map lookup was measured: no gain worth its
 * code — property names are internalized strings with cached hashes.)
 */
class NumericIndex {
  readonly names: string[] = [];
  readonly columns: number[] = [];
  private readonly byName = new Map<string, number>();

  /** The local index of a feature, or -1 (unknown, and not learning). */
  resolve(name: string, learn: boolean, space: ColumnSpace): number {
    const local = this.byName.get(name);
    if (local !== undefined) return local;
    return learn ? this.add(name, space.allocate()) : -1;
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

/** A finite number (not missing, NaN or infinite). */
function present(v: unknown): v is number {
  return typeof v === 'number' && v - v === 0;
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

export type OneHotHyperparameters = {
  /** The categorical features to encode; null: all of them. */
  features: string[] | null;
  /** Values per feature with their own column; later values share the feature's "other" column. */
  maxCategories: number;
};

class Categories {
  readonly values = new Map<string, number>();
  readonly order: string[] = [];
  other = -1;
}

/**
 * One column per (feature, value), value 1 when the example has that value
 * (River's `OneHotEncoder(drop_zeros=True)`: only the present value is
 * written). The first `maxCategories` values of a feature get their own
 * column; values after that share one "other" column, so a feature that
 * turns out to be high-cardinality cannot grow the model without bound
 * (use FeatureHasher for those). When predicting, a value never learned is
 * skipped, unless the feature is full, in which case it is "other".
 */
export class OneHotEncoder implements Encoder {
  readonly kind = 'one_hot';
  readonly options: Readonly<OneHotHyperparameters>;
  private columns: ColumnSpace | null = null;
  private readonly byFeature = new Map<string, Categories>();
  private readonly featureOrder: string[] = [];

  constructor(options: Partial<OneHotHyperparameters> = {}) {
    const features = options.features ?? null;
    if (features !== null && (!Array.isArray(features) || !features.every((f) => typeof f === 'string'))) {
      throw new ModelError('one_hot: features must be an array of feature names or null');
    }
    const maxCategories = positive('one_hot', 'maxCategories', options.maxCategories ?? 64);
    if (!Number.isInteger(maxCategories)) throw new ModelError(`one_hot: maxCategories must be an integer, got ${maxCategories}`);
    this.options = { features: features === null ? null : [...features], maxCategories };
  }

  attach(columns: ColumnSpace): void {
    this.columns = attachOnce(this.kind, this.columns, columns);
  }

  encode(x: ModelInput, out: SparseVector, learn: boolean): void {
    const space = this.columns ?? unattached(this.kind);
    const categorical = x.categorical;
    if (categorical === undefined || categorical === null) return;
    const only = this.options.features;
    if (only !== null) {
      for (let f = 0; f < only.length; f++) {
        const name = only[f]!;
        const value = categorical[name];
        if (typeof value === 'string') this.one(name, value, out, learn, space);
      }
    } else {
      for (const name in categorical) {
        const value = categorical[name];
        if (typeof value === 'string') this.one(name, value, out, learn, space);
      }
    }
  }

  private one(name: string, value: string, out: SparseVector, learn: boolean, space: ColumnSpace): void {
    let categories = this.byFeature.get(name);
    if (categories === undefined) {
      if (!learn) return;
      categories = new Categories();
      this.byFeature.set(name, categories);
      this.featureOrder.push(name);
    }
    let column = categories.values.get(value);
    if (column === undefined) {
      if (categories.order.length < this.options.maxCategories) {
        if (!learn) return;
        column = space.allocate();
        categories.values.set(value, column);
        categories.order.push(value);
      } else {
        if (categories.other < 0) {
          if (!learn) return;
          categories.other = space.allocate();
        }
        column = categories.other;
      }
    }
    out.append(column);
    out.values[out.size - 1] = 1;
  }

  /** The values of a feature that have their own column, in order of first appearance. */
  categoriesOf(name: string): string[] {
    return [...(this.byFeature.get(name)?.order ?? [])];
  }

  clone(): OneHotEncoder {
    return new OneHotEncoder(this.options);
  }

  hyperparameters(): JsonObject {
    return { features: this.options.features === null ? null : [...this.options.features], maxCategories: this.options.maxCategories };
  }

  state(): JsonObject {
    return {
      features: this.featureOrder.map((name) => {
        const c = this.byFeature.get(name)!;
        return { name, values: [...c.order], columns: c.order.map((v) => c.values.get(v)!), other: c.other };
      }),
    };
  }

  restoreState(state: JsonObject): void {
    const r = new FieldReader(state, `${this.kind}.state`);
    r.array('features').forEach((entry, i) => {
      const f = new FieldReader(entry, `${r.path}.features[${i}]`);
      const name = f.string('name');
      const values = f.strings('values');
      const columns = f.integers('columns');
      if (values.length !== columns.length) throw new ModelError(`${f.path}: ${values.length} values but ${columns.length} columns`);
      const c = new Categories();
      values.forEach((v, k) => {
        c.values.set(v, columns[k]!);
        c.order.push(v);
      });
      const other = f.raw('other');
      if (typeof other !== 'number' || !Number.isInteger(other)) throw new ModelError(`${f.path}.other: expected an integer`);
      c.other = other;
      this.byFeature.set(name, c);
      this.featureOrder.push(name);
    });
  }

  featureSpecs(): FeatureSpec[] {
    return this.featureOrder.map((name) => ({ name, kind: 'CATEGORICAL' }));
  }
}

export type FeatureHasherHyperparameters = {
  /** Size of the column block; a power of two is customary. River's default: 2^20. */
  buckets: number;
  /** MurmurHash3 seed (River: FeatureHasher(seed=s) uses `np.random.RandomState(s).randint(0, 2**32)`; pass that value to hash identically). */
  seed: number;
  /** Negate the entries whose hash is negative, so collisions cancel on average. */
  alternateSign: boolean;
  /** The categorical features to hash; null: all of them. */
  features: string[] | null;
  /** Also hash numeric features (under their name, with their value). */
  includeNumeric: boolean;
};

/**
 * The hashing trick: "name=value" (categorical, value 1) or "name"
 * (numeric, its value) goes to column offset + (h mod buckets), h the
 * signed MurmurHash3 of the token and mod the floor modulo (always >= 0),
 * negated when h is negative — River's Rust `feature_hash`, bucket for
 * bucket (scikit-learn uses |h| mod buckets instead). Entries of one
 * example that land in the same bucket are summed into one (as River's dict
 * does), using a per-bucket stamp instead of a Map.
 *
 * Nothing is learned: a new value hashes like any other, so an encoder has
 * no state beyond its place in the column space.
 */
export class FeatureHasher implements Encoder {
  readonly kind = 'feature_hasher';
  readonly options: Readonly<FeatureHasherHyperparameters>;
  private columns: ColumnSpace | null = null;
  private offset = 0;
  private stamp: Int32Array | null = null;
  private slot: Int32Array | null = null;
  private epoch = 0;

  constructor(options: Partial<FeatureHasherHyperparameters> = {}) {
    const buckets = positive('feature_hasher', 'buckets', options.buckets ?? 1 << 20);
    if (!Number.isInteger(buckets) || buckets > 2 ** 30) throw new ModelError(`feature_hasher: buckets must be an integer up to 2^30, got ${buckets}`);
    const seed = options.seed ?? 0;
    if (!Number.isInteger(seed) || seed < 0 || seed >= 2 ** 32) throw new ModelError(`feature_hasher: seed must be an integer in [0, 2^32), got ${seed}`);
    const features = options.features ?? null;
    if (features !== null && (!Array.isArray(features) || !features.every((f) => typeof f === 'string'))) {
      throw new ModelError('feature_hasher: features must be an array of feature names or null');
    }
    this.options = {
      buckets,
      seed,
      alternateSign: flag('feature_hasher', 'alternateSign', options.alternateSign ?? true),
      features: features === null ? null : [...features],
      includeNumeric: flag('feature_hasher', 'includeNumeric', options.includeNumeric ?? false),
    };
  }

  attach(columns: ColumnSpace): void {
    this.columns = attachOnce(this.kind, this.columns, columns);
    this.offset = columns.reserve(this.options.buckets);
  }

  encode(x: ModelInput, out: SparseVector): void {
    if (this.columns === null) unattached(this.kind);
    if (this.stamp === null) {
      this.stamp = new Int32Array(this.options.buckets);
      this.slot = new Int32Array(this.options.buckets);
    }
    if (++this.epoch === 0x7fffffff) {
      this.stamp.fill(0);
      this.epoch = 1;
    }
    const seed = this.options.seed;
    const categorical = x.categorical;
    if (categorical !== undefined && categorical !== null) {
      const only = this.options.features;
      if (only !== null) {
        for (let f = 0; f < only.length; f++) {
          const value = categorical[only[f]!];
          if (typeof value === 'string') this.add(hashToken(only[f]!, value, seed), out, 1);
        }
      } else {
        for (const name in categorical) {
          const value = categorical[name];
          if (typeof value === 'string') this.add(hashToken(name, value, seed), out, 1);
        }
      }
    }
    if (this.options.includeNumeric) {
      const features = x.features;
      for (const name in features) {
        const v = features[name];
        if (present(v)) {
          const h = murmur3(name, seed);
          const k = this.slotFor(h, out);
          out.values[k] = out.values[k]! + (this.options.alternateSign && h < 0 ? -v : v);
        }
      }
    }
  }

  /** Adds ±value (an integer, so the call boxes nothing) at the hash's bucket. */
  private add(hash: number, out: SparseVector, value: number): void {
    const k = this.slotFor(hash, out);
    out.values[k] = out.values[k]! + (this.options.alternateSign && hash < 0 ? -value : value);
  }

  /** The slot of this example's entry for the hash's bucket, appended (at 0) if it has none yet. */
  private slotFor(hash: number, out: SparseVector): number {
    const n = this.options.buckets;
    const bucket = ((hash % n) + n) % n;
    const stamp = this.stamp!;
    const slot = this.slot!;
    if (stamp[bucket] === this.epoch) return slot[bucket]!;
    stamp[bucket] = this.epoch;
    const k = out.append(this.offset + bucket);
    out.values[k] = 0;
    slot[bucket] = k;
    return k;
  }

  /** The column a categorical value lands in and its sign (for inspection and tests). */
  columnOf(name: string, value: string): { column: number; sign: 1 | -1 } {
    const h = hashToken(name, value, this.options.seed);
    const n = this.options.buckets;
    return { column: this.offset + (((h % n) + n) % n), sign: this.options.alternateSign && h < 0 ? -1 : 1 };
  }

  clone(): FeatureHasher {
    return new FeatureHasher(this.options);
  }

  hyperparameters(): JsonObject {
    return { ...this.options, features: this.options.features === null ? null : [...this.options.features] };
  }

  state(): JsonObject {
    return { offset: this.offset };
  }

  restoreState(state: JsonObject): void {
    const r = new FieldReader(state, `${this.kind}.state`);
    const offset = r.count('offset');
    if (offset !== this.offset) throw new ModelError(`${r.path}.offset: the snapshot's block starts at column ${offset}, the rebuilt pipeline's at ${this.offset}`);
  }

  featureSpecs(): FeatureSpec[] {
    return (this.options.features ?? []).map((name) => ({ name, kind: 'CATEGORICAL' }));
  }
}
