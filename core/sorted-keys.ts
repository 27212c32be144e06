/**
 * Sorting the few keys of one event (its features, segments, shadow scores)
 * without Array.prototype.sort: V8's sort allocates its work state on every
 * call (about half a kilobyte, even for two keys), a cost paid per example
 * and per processor; an insertion sort of a handful of items allocates
 * nothing and is several times faster. The order is sort()'s: strings by
 * code unit (`<`), numbers ascending.
 */

/** Up to this many items are sorted by insertion; a longer array by sort(). */
const INSERTION_MAX = 16;

/** Sorts `items` in place by `<` (strings or numbers, no NaN) and returns it. */
export function sortSmall<T extends string | number>(items: T[]): T[] {
  if (items.length > INSERTION_MAX) return items.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  for (let i = 1; i < items.length; i++) {
    const item = items[i]!;
    let j = i - 1;
    for (; j >= 0 && items[j]! > item; j--) items[j + 1] = items[j]!;
    items[j + 1] = item;
  }
  return items;
}

/** A record's own keys in sort() order (as Object.keys(record).sort()). */
export function sortedKeys(record: object): string[] {
  return sortSmall(Object.keys(record));
}
