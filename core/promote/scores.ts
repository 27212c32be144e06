/**
 * The scores of the compared roles on one labelled example: the champion's,
 * the previous champion's and the challengers' (who is compared and where
 * each score comes from: the file comment of policy.ts).
 */
import { parseShadowKey, parseSnapshotVersion, versionIdentity } from '../contracts/index.js';
import type { LabelledExample } from '../events.js';
import { sortedKeys } from '../sorted-keys.js';

export interface Scored {
  score: number;
  version: string;
}

/** Where a champion's (or previous champion's) score comes from. */
export type Holder = { kind: 'upstream' } | { kind: 'model'; identity: string };

/** The `@n` of a snapshot key, -1 when it is not a snapshot version (so the newest snapshot of an identity wins). */
function snapshotNumber(key: string): number {
  return parseSnapshotVersion(key)?.sequence ?? -1;
}

/** The score of a champion (or previous champion) `holder` on an example, or null when it has none there; `champion` is the current one. */
export function scoreOf(holder: Holder, champion: Holder, example: LabelledExample): Scored | null {
  if (holder.kind === 'model') return scoreOfIdentity(holder.identity, example);
  // Upstream's own model: the served score, unless upstream now serves the policy's champion.
  if (champion.kind === 'upstream' || versionIdentity(example.model_version) !== champion.identity) {
    return { score: example.score, version: example.model_version };
  }
  const key = sortedKeys(example.shadow_scores).find((k) => parseShadowKey(k).role === 'previous');
  return key === undefined ? null : { score: example.shadow_scores[key]!, version: parseShadowKey(key).version };
}

/** A model followed by identity: as served, else its newest shadow snapshot, else as a previous champion. */
function scoreOfIdentity(identity: string, example: LabelledExample): Scored | null {
  if (versionIdentity(example.model_version) === identity) return { score: example.score, version: example.model_version };
  let best: string | null = null;
  let fallback: Scored | null = null;
  for (const key of sortedKeys(example.shadow_scores)) {
    const { role, version } = parseShadowKey(key);
    if (versionIdentity(version) !== identity) continue;
    if (role === 'challenger') {
      if (best === null || snapshotNumber(key) > snapshotNumber(best)) best = key;
    } else {
      fallback ??= { score: example.shadow_scores[key]!, version };
    }
  }
  return best !== null ? { score: example.shadow_scores[best]!, version: best } : fallback;
}

/** The challengers scored on an example (newest snapshot per identity), the champion excluded. */
export function challengersOf(champion: Holder, example: LabelledExample): Array<[string, Scored]> {
  const byIdentity = new Map<string, string>();
  for (const key of sortedKeys(example.shadow_scores)) {
    const { role, version } = parseShadowKey(key);
    if (role !== 'challenger') continue;
    const identity = versionIdentity(version);
    if (champion.kind === 'model' && identity === champion.identity) continue;
    const seen = byIdentity.get(identity);
    if (seen === undefined || snapshotNumber(key) > snapshotNumber(seen)) byIdentity.set(identity, key);
  }
  return [...byIdentity].map(([identity, key]) => [identity, { score: example.shadow_scores[key]!, version: key }]);
}
