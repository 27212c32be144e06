import type { FeatureSpec } from '../events.js';
import { attachOnce, present, unattached, type ColumnSpace, type Encoder } from './encoder.js';
import { flag, positive, type ModelInput } from './model.js';
import { hashToken, murmur3 } from './murmur.js';
import { FieldReader, ModelError, type JsonObject } from './snapshot.js';
import type { SparseVector } from './vector.js';

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
