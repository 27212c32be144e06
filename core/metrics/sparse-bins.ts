/**
 * Sparse form of parallel bin arrays (a partial's score bins and calibration
 * bins, docs/scale-out.md): the indices of the bins where any of the arrays
 * is non-zero, ascending, and each array's values at them. An hourly window
 * of a few hundred examples fills at most that many of 1,000 score bins, so
 * its row carries those, not 2 × 1,000 numbers.
 *
 * dense(sparse(arrays)) gives the arrays back value for value, except that a
 * -0 reads back as 0 (a zero is a zero: no figure tells them apart).
 */

export interface SparseBins {
  /** Indices of the bins kept, ascending. */
  bins: number[];
  /** Per input array, its values at `bins`. */
  values: number[][];
}

/** The bins where any of `arrays` (all of one length) is non-zero. */
export function sparseBins(arrays: readonly Float64Array[]): SparseBins {
  const length = sameLength(arrays);
  const bins: number[] = [];
  const values: number[][] = arrays.map(() => []);
  for (let b = 0; b < length; b++) {
    if (!arrays.some((a) => a[b] !== 0)) continue;
    bins.push(b);
    arrays.forEach((a, i) => values[i]!.push(a[b]!));
  }
  return { bins, values };
}

/** The dense arrays of `length` bins of a sparse form (throws on a bin out of range or arrays of unequal lengths). */
export function denseBins(sparse: SparseBins, length: number): Float64Array[] {
  const { bins, values } = sparse;
  const out = values.map(() => new Float64Array(length));
  values.forEach((v, i) => {
    if (v.length !== bins.length) throw new RangeError(`denseBins: ${bins.length} bins, ${v.length} values in array ${i}`);
  });
  bins.forEach((b, k) => {
    if (!(Number.isInteger(b) && b >= 0 && b < length)) throw new RangeError(`denseBins: bin ${b} outside 0..${length - 1}`);
    values.forEach((v, i) => (out[i]![b] = v[k]!));
  });
  return out;
}

function sameLength(arrays: readonly Float64Array[]): number {
  const length = arrays[0]?.length ?? 0;
  if (arrays.some((a) => a.length !== length)) throw new RangeError(`sparseBins: arrays of lengths ${arrays.map((a) => a.length).join(', ')}`);
  return length;
}
