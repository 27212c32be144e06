/**
 * The expiry index of an in-memory join store: a binary min-heap on
 * (at, id), kept in two parallel arrays (no object per item).
 */

/** When each entry expires: items (at, id) taken back in (at, id) order once the watermark reaches them. */
export interface ExpiryIndex {
  add(at: number, id: string): void;
  /** Removes and returns the items with at <= watermark, ordered by (at, id). */
  takeUpTo(watermark: number): Array<{ at: number; id: string }>;
  close?(): void;
}
export class ExpiryHeap implements ExpiryIndex {
  private readonly heapAt: number[] = [];
  private readonly heapId: string[] = [];

  /** Items held. */
  get size(): number {
    return this.heapAt.length;
  }

  add(at: number, id: string): void {
    this.heapAt.push(at);
    this.heapId.push(id);
    let i = this.heapAt.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.less(i, parent)) break;
      this.swap(i, parent);
      i = parent;
    }
  }

  /** Removes and returns the items with at <= watermark, ordered by (at, id). */
  takeUpTo(watermark: number): Array<{ at: number; id: string }> {
    const out: Array<{ at: number; id: string }> = [];
    while (this.heapAt.length > 0 && this.heapAt[0]! <= watermark) {
      out.push({ at: this.heapAt[0]!, id: this.heapId[0]! });
      this.pop();
    }
    return out;
  }

  private less(a: number, b: number): boolean {
    const atA = this.heapAt[a]!;
    const atB = this.heapAt[b]!;
    return atA < atB || (atA === atB && this.heapId[a]! < this.heapId[b]!);
  }

  private swap(a: number, b: number): void {
    const at = this.heapAt[a]!;
    this.heapAt[a] = this.heapAt[b]!;
    this.heapAt[b] = at;
    const id = this.heapId[a]!;
    this.heapId[a] = this.heapId[b]!;
    this.heapId[b] = id;
  }

  private pop(): void {
    const lastAt = this.heapAt.pop()!;
    const lastId = this.heapId.pop()!;
    if (this.heapAt.length === 0) return;
    this.heapAt[0] = lastAt;
    this.heapId[0] = lastId;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      const right = left + 1;
      let smallest = i;
      if (left < this.heapAt.length && this.less(left, smallest)) smallest = left;
      if (right < this.heapAt.length && this.less(right, smallest)) smallest = right;
      if (smallest === i) return;
      this.swap(i, smallest);
      i = smallest;
    }
  }
}
