/**
 * A promoter task's state as checkpoint bytes and back (checkpoint.ts): the
 * policy of each model (PromotionPolicy.toState, plain data) and how many
 * decisions each made (the next decision id), in V8's structured clone
 * encoding. The settings are not in it: decoding takes each model's
 * options, and throws when a policy's state does not fit them (the
 * promoter then re-reads its partition from the start).
 */
import { PromotionPolicy, type PolicyData, type PolicyOptions } from '../core/promote/index.js';
import { decodeState, encodeState } from '../adapters/state/structured.js';

/** The version of this layout; a state of another one does not fit. */
export const PROMOTER_STATE_VERSION = 1;

/** A partition's state: a policy per model, and how many decisions each made (for deterministic decision ids). */
export interface PromoteState {
  policies: Map<string, PromotionPolicy>;
  decided: Map<string, number>;
}

interface PromoteStateData {
  version: number;
  policies: Array<[string, PolicyData]>;
  decided: Array<[string, number]>;
}

export function encodePromoteState(state: PromoteState): Buffer {
  const data: PromoteStateData = { version: PROMOTER_STATE_VERSION, policies: [], decided: [] };
  for (const [model, policy] of state.policies) data.policies.push([model, policy.toState()]);
  for (const entry of state.decided) data.decided.push(entry);
  return encodeState(data);
}

/** The state encodePromoteState made, each policy under `policyOf(model)`; throws when it does not fit. */
export function decodePromoteState(bytes: Buffer, policyOf: (model: string) => Partial<PolicyOptions>): PromoteState {
  const data = decodeState(bytes) as Partial<PromoteStateData> | null;
  if (data?.version !== PROMOTER_STATE_VERSION || !Array.isArray(data.policies) || !Array.isArray(data.decided)) {
    throw new Error(`not a promoter state of version ${PROMOTER_STATE_VERSION} (version ${String(data?.version)})`);
  }
  const state: PromoteState = { policies: new Map(), decided: new Map() };
  for (const [model, policy] of data.policies) state.policies.set(model, PromotionPolicy.fromState(model, policyOf(model), policy));
  for (const [model, count] of data.decided) state.decided.set(model, count);
  return state;
}
