/**
 * What the data-quality monitor (data-quality.ts) keeps of one input
 * feature: over the reference, how often it was present, the range of its
 * numeric values and the counts of its categories (CategoryTable: the first
 * evaluator.max_categories, the rest in `other`); over the current window,
 * how often it was present, out of the reference's range, of a category
 * outside the reference's, and its category counts. A name can carry a
 * numeric value (features) and a categorical one (categorical): present
 * when it has either.
 */
import { CategoryTable, categoricalDrift, type CategoricalFigures } from '../drift/index.js';

/** A FeatureQuality's state (see the class). */
export interface FeatureQualityState {
  name: string;
  numeric: boolean;
  categorical: boolean;
  referencePresent: number;
  min: number;
  max: number;
  categories: string[];
  referenceCounts: Float64Array;
  referenceOther: number;
  present: number;
  outOfRange: number;
  unseen: number;
  counts: Float64Array;
  other: number;
}

/** The values one record has for a feature name (either may be absent). */
export interface FeatureValues {
  value: number | undefined;
  category: string | undefined;
}

export class FeatureQuality {
  /** Ever had a numeric / a categorical value (which figures it has). */
  numeric = false;
  categorical = false;
  referencePresent = 0;
  min = Number.POSITIVE_INFINITY;
  max = Number.NEGATIVE_INFINITY;
  private table: CategoryTable;
  /** Reference counts per category index while the reference fills (then frozen in the same array). */
  private referenceCounts: number[] = [];
  private referenceOther = 0;
  present = 0;
  outOfRange = 0;
  unseen = 0;
  private counts = new Float64Array(0);
  private other = 0;

  constructor(
    readonly name: string,
    maxCategories: number,
  ) {
    this.table = new CategoryTable(maxCategories);
  }

  /** A record of the reference with this feature. */
  addReference({ value, category }: FeatureValues): void {
    this.referencePresent++;
    if (value !== undefined) {
      this.numeric = true;
      this.min = Math.min(this.min, value);
      this.max = Math.max(this.max, value);
    }
    if (category !== undefined) {
      this.categorical = true;
      const index = this.table.indexOf(category, true);
      if (index < 0) this.referenceOther++;
      else this.referenceCounts[index] = (this.referenceCounts[index] ?? 0) + 1;
    }
  }

  /** The reference is complete: the categories are fixed, the current window's counts made to fit them. */
  freeze(): void {
    this.counts = new Float64Array(this.table.size);
  }

  /** A record of the current window with this feature. */
  add({ value, category }: FeatureValues): void {
    this.present++;
    if (value !== undefined) {
      this.numeric = true;
      if (!(value >= this.min && value <= this.max)) this.outOfRange++;
    }
    if (category !== undefined) {
      this.categorical = true;
      const index = this.table.indexOf(category, false);
      if (index < 0) {
        this.other++;
        this.unseen++;
      } else this.counts[index]!++;
    }
  }

  /** The current window's categories against the reference's (null when either has none). */
  categoricalFigures(): CategoricalFigures | null {
    return categoricalDrift({ counts: this.referenceCounts, other: this.referenceOther }, { counts: this.counts, other: this.other });
  }

  /** The reference's and the current window's counts per category (in the reference's order), then `(other)` when either has some. */
  categoryCounts(): { labels: string[]; reference: number[]; current: number[] } {
    const labels = [...this.table.names()];
    const reference = labels.map((_, i) => this.referenceCounts[i] ?? 0);
    const current = labels.map((_, i) => this.counts[i] ?? 0);
    if (this.referenceOther > 0 || this.other > 0) {
      labels.push('(other)');
      reference.push(this.referenceOther);
      current.push(this.other);
    }
    return { labels, reference, current };
  }

  /** Starts the next window. */
  reset(): void {
    this.present = 0;
    this.outOfRange = 0;
    this.unseen = 0;
    this.counts.fill(0);
    this.other = 0;
  }

  toState(): FeatureQualityState {
    const { name, numeric, categorical, referencePresent, min, max, referenceOther, present, outOfRange, unseen, other } = this;
    return {
      name, numeric, categorical, referencePresent, min, max, categories: [...this.table.names()], referenceCounts: Float64Array.from(this.referenceCounts),
      referenceOther, present, outOfRange, unseen, counts: Float64Array.from(this.counts), other,
    };
  }

  static fromState(state: FeatureQualityState, maxCategories: number): FeatureQuality {
    const feature = new FeatureQuality(state.name, maxCategories);
    feature.table = CategoryTable.of(state.categories, maxCategories);
    feature.referenceCounts = Array.from(state.referenceCounts);
    feature.counts = Float64Array.from(state.counts);
    const { numeric, categorical, referencePresent, min, max, referenceOther, present, outOfRange, unseen, other } = state;
    Object.assign(feature, { numeric, categorical, referencePresent, min, max, referenceOther, present, outOfRange, unseen, other });
    return feature;
  }
}
