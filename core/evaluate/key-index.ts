/**
 * Values by three string keys in nested maps: a lookup per example builds no
 * joined key (a string made, then hashed, every time). An index beside the
 * evaluator's ordered maps of cells and monitors, which keep their order for
 * the state; bounded as they are (the same entries).
 */
export class KeyIndex<V> {
  private readonly byFirst = new Map<string, Map<string, Map<string, V>>>();

  get(a: string, b: string, c: string): V | undefined {
    return this.byFirst.get(a)?.get(b)?.get(c);
  }

  set(a: string, b: string, c: string, value: V): void {
    let second = this.byFirst.get(a);
    if (!second) this.byFirst.set(a, (second = new Map()));
    let third = second.get(b);
    if (!third) second.set(b, (third = new Map()));
    third.set(c, value);
  }
}
