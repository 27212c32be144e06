/**
 * The check every checkpointed class passes: apply the first k operations,
 * take the state, send it through V8 serialization (what a checkpoint
 * does), restore it, then apply the rest to the original and the restored
 * one alike: every output is deep-equal, numbers exact (Object.is: -0 is
 * not 0, NaN is NaN).
 */
import { deserialize, serialize } from 'node:v8';
import { expect } from 'vitest';

/** A state as it comes back from a checkpoint. */
export function throughV8<S>(state: S): S {
  return deserialize(serialize(state)) as S;
}

export interface Resumable<T, S, Op> {
  fresh: () => T;
  toState: (t: T) => S;
  fromState: (state: S) => T;
  /** Applies one operation and returns what can be seen of it. */
  apply: (t: T, op: Op) => unknown;
}

/** Checks that the restored instance behaves as the original after the k-th of the operations. */
export function expectResumes<T, S, Op>(r: Resumable<T, S, Op>, ops: readonly Op[], k: number): void {
  const original = r.fresh();
  const cut = Math.min(k, ops.length);
  for (let i = 0; i < cut; i++) r.apply(original, ops[i]!);
  const state = r.toState(original);
  const restored = r.fromState(throughV8(state));
  expect(r.toState(restored)).toEqual(state);
  for (let i = cut; i < ops.length; i++) {
    const want = r.apply(original, ops[i]!);
    expect(r.apply(restored, ops[i]!), `operation ${i} of ${ops.length}, restored after ${cut}`).toEqual(want);
  }
}
