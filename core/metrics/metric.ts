import { StateMismatchError } from '../errors.js';

/**
 * The metric interface (River-like): update with an observation, revert it
 * (for corrections and sliding windows), get the current value. A ratio
 * whose denominator is zero is null, never 0.
 */
export interface Metric<O, V> {
  update(observation: O): void;
  /** Removes an observation that was added before (exactly undoes update). */
  revert(observation: O): void;
  get(): V;
  /** revert(out) then update(into) in one step, the same state after (optional: a sliding window uses it where there is one). */
  replace?(out: O, into: O): void;
  /** A fresh metric with the same settings and no observations. */
  clone(): Metric<O, V>;
}

/** A binary classifier's observation: the true label (0/1), the score (probability of 1) and the decision threshold. */
export interface BinaryObservation {
  label: number;
  score: number;
  threshold: number;
  weight?: number;
}

/** A regressor's observation: the true value and the prediction. */
export interface RegressionObservation {
  label: number;
  score: number;
  weight?: number;
}

export function ratio(numerator: number, denominator: number): number | null {
  return denominator === 0 ? null : numerator / denominator;
}

/** A Rolling window's state: its observations oldest first, and the wrapped metric's state (S). */
export interface RollingState<O, S> {
  window: O[];
  metric: S;
}

/** A 32-bit FNV-1a hash of a key: compared before the key itself, it spares revertKey() a look at most observations. */
function hashKey(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  return h | 0;
}

/** Reverses a[from..to) in place. */
function reverse(a: { [i: number]: unknown }, from: number, to: number): void {
  for (let i = from, j = to - 1; i < j; i++, j--) {
    const t = a[i];
    a[i] = a[j];
    a[j] = t;
  }
}

/**
 * Sliding count window: the last `size` observations, in update order.
 * Observations that leave the window are reverted from the wrapped metric
 * (of type M, so its own state can be taken: see toState). With `keyOf`, it
 * keeps the hash of each observation's key beside it (a typed array), so
 * revertKey() scans numbers, not the observations.
 */
export class Rolling<O, V, M extends Metric<O, V> = Metric<O, V>> implements Metric<O, V> {
  private readonly window: O[] = [];
  private head = 0;
  /** hashKey(keyOf(window[i])) at i (with keyOf only). */
  private readonly hashes: Int32Array | undefined;

  constructor(
    // `& Metric<O, V>`: so O and V are inferred from the metric given.
    private readonly metric: M & Metric<O, V>,
    readonly size: number,
    private readonly keyOf?: (observation: O) => string,
  ) {
    if (!Number.isInteger(size) || size < 1) throw new Error(`Rolling window size must be a positive integer, got ${size}`);
    this.hashes = keyOf ? new Int32Array(size) : undefined;
  }

  update(observation: O): void {
    if (this.window.length < this.size) {
      const at = this.window.length;
      this.window.push(observation);
      if (this.hashes) this.hashes[at] = hashKey(this.keyOf!(observation));
      this.metric.update(observation);
      return;
    }
    const at = this.head;
    const out = this.window[at]!;
    this.window[at] = observation;
    this.head = (at + 1) % this.size;
    if (this.hashes) this.hashes[at] = hashKey(this.keyOf!(observation));
    if (this.metric.replace) this.metric.replace(out, observation);
    else {
      this.metric.revert(out);
      this.metric.update(observation);
    }
  }

  /** Reverts the first observation (as revertWhere finds it) whose key is `key` (keyOf given); false when none is in the window. */
  revertKey(key: string): boolean {
    if (!this.hashes) throw new Error('Rolling.revertKey: the window was made without keyOf');
    const h = hashKey(key);
    // Most keys looked for have left the window (a correction comes hours after its label): a
    // native search of the hashes says so without the ordered scan (a hit, or a stale slot past
    // the window, falls through to it).
    if (this.hashes.indexOf(h) < 0) return false;
    const n = this.window.length;
    for (let p = 0; p < n; p++) {
      const i = (this.head + p) % n;
      if (this.hashes[i] === h && this.keyOf!(this.window[i]!) === key) {
        this.remove(this.window[i]!);
        return true;
      }
    }
    return false;
  }

  /**
   * Reverts an observation still inside the window (a corrected label).
   * Returns false when it already left the window (nothing to undo).
   */
  revert(observation: O): boolean {
    return this.revertWhere((o) => o === observation);
  }

  /**
   * Reverts the oldest observation still inside the window that `match`
   * picks (a corrected label, found by its example id). Returns false when
   * there is none (it already left the window: nothing to undo). Oldest
   * first, not in the ring's storage order: a window restored from its state
   * (stored oldest first) then picks the same one among equal keys.
   */
  revertWhere(match: (observation: O) => boolean): boolean {
    const n = this.window.length;
    for (let p = 0; p < n; p++) {
      const o = this.window[(this.head + p) % n]!;
      if (match(o)) {
        this.remove(o);
        return true;
      }
    }
    return false;
  }

  /** Reverts `observation` (its first place, oldest first) and closes the gap, keeping the order, in place (corrections only). */
  private remove(observation: O): void {
    this.metric.revert(observation);
    this.unroll();
    const gone = this.window.indexOf(observation);
    this.window.splice(gone, 1);
    this.hashes?.copyWithin(gone, gone + 1, this.window.length + 1);
  }

  /** Stores the ring oldest first from place 0 (head 0), in place: the rotation as three reversals. */
  private unroll(): void {
    const head = this.head;
    if (head === 0) return;
    const n = this.window.length;
    for (const places of [this.window, this.hashes]) {
      if (!places) continue;
      reverse(places, 0, head);
      reverse(places, head, n);
      reverse(places, 0, n);
    }
    this.head = 0;
  }

  get(): V {
    return this.metric.get();
  }

  count(): number {
    return this.window.length;
  }

  /** The observation that entered the window first (undefined when empty). */
  oldest(): O | undefined {
    return this.window.length < this.size ? this.window[0] : this.window[this.head];
  }

  /** The observation that entered the window last (undefined when empty). */
  newest(): O | undefined {
    if (this.window.length < this.size) return this.window[this.window.length - 1];
    return this.window[(this.head + this.size - 1) % this.size];
  }

  clone(): Rolling<O, V> {
    return new Rolling(this.metric.clone(), this.size, this.keyOf);
  }

  /** The observations oldest first (the objects themselves: they are never changed) and the wrapped metric's state. */
  toState<S>(metricState: (metric: M) => S): RollingState<O, S> {
    const window: O[] = [];
    const full = this.window.length === this.size;
    for (let i = 0; i < this.window.length; i++) window.push(this.window[full ? (this.head + i) % this.size : i]!);
    return { window, metric: metricState(this.metric) };
  }

  /** The window of a state around `metric` (restored from state.metric by the caller), of `size` and `keyOf` as the constructor's. */
  static fromState<O, V, M extends Metric<O, V>>(state: RollingState<O, unknown>, metric: M, size: number, keyOf?: (observation: O) => string): Rolling<O, V, M> {
    const rolling = new Rolling<O, V, M>(metric, size, keyOf);
    if (state.window.length > size) throw new StateMismatchError('the sliding window size', `${state.window.length} observations saved, the window holds ${size}`);
    for (const o of state.window) {
      if (rolling.hashes) rolling.hashes[rolling.window.length] = hashKey(keyOf!(o));
      rolling.window.push(o);
    }
    return rolling;
  }
}
