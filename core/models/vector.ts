/**
 * The transformed example every estimator reads: a sparse vector of
 * (column, value) entries over the pipeline's column space. Dense inputs
 * (20 numeric features) and hashed ones (a few of 2^20 buckets) go through
 * the same loop, and an estimator only touches the columns present in the
 * example — as River does with dicts, which is what makes L2, AdaGrad and
 * Adam "lazy" (a feature absent from an example keeps its weight and its
 * optimizer state).
 *
 * One vector is reused for every example: `clear()` only resets the size, so
 * the hot path allocates nothing once the buffers have grown to the widest
 * example seen.
 */
export class SparseVector {
  indices: Int32Array;
  values: Float64Array;
  /** Entries in use: indices[0..size) and values[0..size). */
  size = 0;
  /** The largest index pushed since the last clear (-1 when empty): estimators grow their arrays to it. */
  maxIndex = -1;

  constructor(capacity = 16) {
    this.indices = new Int32Array(Math.max(1, capacity));
    this.values = new Float64Array(Math.max(1, capacity));
  }

  /** A vector from (column, value) pairs, for tests and one-off use (allocates). */
  static of(entries: ReadonlyArray<readonly [number, number]>): SparseVector {
    const v = new SparseVector(entries.length);
    for (const [index, value] of entries) v.push(index, value);
    return v;
  }

  /** A dense vector: column i holds values[i]. */
  static dense(values: ArrayLike<number>): SparseVector {
    const v = new SparseVector(values.length);
    for (let i = 0; i < values.length; i++) v.push(i, values[i]!);
    return v;
  }

  clear(): void {
    this.size = 0;
    this.maxIndex = -1;
  }

  push(index: number, value: number): void {
    const k = this.append(index);
    this.values[k] = value;
  }

  /**
   * Adds an entry for column `index` and returns its slot; the caller writes
   * `values[slot]` (read `values` after the call: it may have grown). The hot
   * loops use this instead of push because V8 boxes a double argument into a
   * new heap number when it does not inline the call; an integer is free.
   */
  append(index: number): number {
    if (this.size === this.indices.length) this.grow();
    const k = this.size++;
    this.indices[k] = index;
    if (index > this.maxIndex) this.maxIndex = index;
    return k;
  }

  /** (column, value) pairs in insertion order (allocates; for tests and debugging). */
  entries(): Array<[number, number]> {
    const out: Array<[number, number]> = [];
    for (let k = 0; k < this.size; k++) out.push([this.indices[k]!, this.values[k]!]);
    return out;
  }

  private grow(): void {
    const capacity = this.indices.length * 2;
    const indices = new Int32Array(capacity);
    indices.set(this.indices);
    const values = new Float64Array(capacity);
    values.set(this.values);
    this.indices = indices;
    this.values = values;
  }
}

/**
 * `array` if it already holds `length` elements, else a copy at least twice as
 * large (amortised O(1) growth when features keep appearing); new slots hold
 * `fill`.
 */
export function ensureLength(array: Float64Array, length: number, fill = 0): Float64Array {
  if (array.length >= length) return array;
  const grown = new Float64Array(Math.max(length, array.length * 2, 8));
  grown.set(array);
  if (fill !== 0) grown.fill(fill, array.length);
  return grown;
}
