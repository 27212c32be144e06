/**
 * The class (or label) list a multi-class or multi-label metric is built on:
 * 2 to MAX_CLASSES distinct names, in the order that indexes every per-class
 * array. The names are only compared, never used as object keys.
 */
export const MAX_CLASSES = 256;

/** A frozen copy of `classes`; throws a RangeError unless it holds 2 to MAX_CLASSES distinct names. */
export function classList(owner: string, classes: readonly string[]): readonly string[] {
  if (classes.length < 2 || classes.length > MAX_CLASSES) {
    throw new RangeError(`${owner}: needs 2 to ${MAX_CLASSES} classes, got ${classes.length}`);
  }
  const seen = new Set<string>();
  for (const name of classes) {
    if (typeof name !== 'string') throw new RangeError(`${owner}: a class name is not a string`);
    if (seen.has(name)) throw new RangeError(`${owner}: the class ${JSON.stringify(name)} is listed twice`);
    seen.add(name);
  }
  return Object.freeze(classes.slice());
}

/** Do the two lists name the same classes in the same order? */
export function sameClasses(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Throws a RangeError unless `weight` is finite and not negative. */
export function checkWeight(owner: string, weight: number): void {
  if (!(Number.isFinite(weight) && weight >= 0)) throw new RangeError(`${owner}: the weight must be finite and not negative, got ${weight}`);
}

/** Throws a RangeError unless `probabilities` has one value per class, each in [0, 1]. */
export function checkProbabilities(owner: string, probabilities: ArrayLike<number>, classes: number): void {
  if (probabilities.length !== classes) throw new RangeError(`${owner}: ${probabilities.length} probabilities for ${classes} classes`);
  for (let i = 0; i < classes; i++) {
    const p = probabilities[i]!;
    if (!(p >= 0 && p <= 1)) throw new RangeError(`${owner}: probability ${i} is ${p}, not in [0, 1]`);
  }
}
