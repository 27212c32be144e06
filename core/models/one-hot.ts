import type { FeatureSpec } from '../events.js';
import { attachOnce, unattached, type ColumnSpace, type Encoder } from './encoder.js';
import { positive, type ModelInput } from './model.js';
import { FieldReader, ModelError, type JsonObject } from './snapshot.js';
import type { SparseVector } from './vector.js';

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
      if (!learn || !space.admitsName(this.featureOrder.length)) return;
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
