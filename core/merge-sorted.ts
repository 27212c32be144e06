/**
 * A k-way merge of sorted async sources (the run files of an external
 * sort): a binary heap of their heads, so a long replay's tens of runs
 * cost log(k) per item. Items equal by `compare` come out in source order
 * (the earlier source first), so a merge of stable runs is stable.
 */
interface Head<T> {
  item: T;
  source: number;
}

export async function* mergeSorted<T>(sources: ReadonlyArray<AsyncIterator<T>>, compare: (a: T, b: T) => number): AsyncGenerator<T> {
  const before = (a: Head<T>, b: Head<T>) => (compare(a.item, b.item) || a.source - b.source) < 0;
  const heap: Array<Head<T>> = [];
  const push = (head: Head<T>) => {
    heap.push(head);
    for (let i = heap.length - 1; i > 0; ) {
      const parent = (i - 1) >> 1;
      if (!before(heap[i]!, heap[parent]!)) break;
      [heap[parent], heap[i]] = [heap[i]!, heap[parent]!];
      i = parent;
    }
  };
  const pop = (): Head<T> => {
    const top = heap[0]!;
    const last = heap.pop()!;
    if (heap.length > 0) {
      heap[0] = last;
      for (let i = 0; ; ) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < heap.length && before(heap[l]!, heap[m]!)) m = l;
        if (r < heap.length && before(heap[r]!, heap[m]!)) m = r;
        if (m === i) break;
        [heap[m], heap[i]] = [heap[i]!, heap[m]!];
        i = m;
      }
    }
    return top;
  };
  for (let source = 0; source < sources.length; source++) {
    const first = await sources[source]!.next();
    if (!first.done) push({ item: first.value, source });
  }
  while (heap.length > 0) {
    const { item, source } = pop();
    yield item;
    const next = await sources[source]!.next();
    if (!next.done) push({ item: next.value, source });
  }
}
