/**
 * A fixed number of weighted counts (score bins) in the narrowest typed
 * array that holds every value exactly: bytes while each count is an
 * integer up to 255, then 16-bit, then 32-bit unsigned integers, and 64-bit
 * floats once a value is not a non-negative integer below 2^32 (a
 * fractional weight, a count driven negative). It only widens. Each value
 * is the number a Float64Array would hold after the same additions (an
 * integer below 2^32 is exact in both), so every figure read from it is
 * the same; a window's 1,000 bins of label counts take 1 KB instead of 8.
 */
type Store = Uint8Array | Uint16Array | Uint32Array | Float64Array;

const WIDER: Array<{ max: number; make: (n: number) => Store }> = [
  { max: 0xff, make: (n) => new Uint8Array(n) },
  { max: 0xffff, make: (n) => new Uint16Array(n) },
  { max: 0xffffffff, make: (n) => new Uint32Array(n) },
  { max: Number.POSITIVE_INFINITY, make: (n) => new Float64Array(n) },
];

/** Whether an array of integers up to `max` holds `value` as it is (`>>> 0`: an integer in [0, 2^32); -0 keeps its sign only in floats). */
function fits(value: number, max: number): boolean {
  return max === Number.POSITIVE_INFINITY || (value >>> 0 === value && value <= max && (value !== 0 || !Object.is(value, -0)));
}

export class Counts {
  /** The counts, read as numbers (any typed array); written only through add and set. */
  values: Store;
  /** The largest integer the current array holds; Infinity once it is the Float64Array. */
  private max = 0xff;

  constructor(readonly length: number) {
    this.values = new Uint8Array(length);
  }

  /** The counts of `values` (e.g. a restored state's), in the narrowest array that holds them. */
  static from(values: ArrayLike<number>): Counts {
    const counts = new Counts(values.length);
    for (let i = 0; i < values.length; i++) counts.set(i, values[i]!);
    return counts;
  }

  add(i: number, w: number): void {
    this.set(i, this.values[i]! + w);
  }

  set(i: number, value: number): void {
    if (!fits(value, this.max)) this.widen(value);
    this.values[i] = value;
  }

  /** A copy `length` long (as wide as these) holding these counts from index `at` on, zeros around them. */
  placed(length: number, at: number): Counts {
    const out = new Counts(length);
    out.values = WIDER.find((w) => w.max === this.max)!.make(length);
    out.values.set(this.values, at);
    out.max = this.max;
    return out;
  }

  /** The values as 64-bit floats (a copy: a state, a partial). */
  toFloat64(): Float64Array {
    return Float64Array.from(this.values);
  }

  /** Moves the values to the narrowest wider array that holds `value` too. */
  private widen(value: number): void {
    const next = WIDER.find((w) => w.max > this.max && fits(value, w.max))!;
    const values = next.make(this.length);
    values.set(this.values);
    this.values = values;
    this.max = next.max;
  }
}
