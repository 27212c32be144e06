/**
 * The key of a shadow score (a labelled example's `shadow_scores`): the
 * previous champion's key is its version behind the prefix `previous:` (it
 * is scored from a promotion on, until a rollback); any other key is a
 * challenger's snapshot version (snapshot-version.ts), scored with that
 * snapshot at prediction time.
 *
 * The prefix decides: a challenger version that starts with it (a model so
 * named) reads as a previous champion, and `previous:` alone as a previous
 * champion with an empty version.
 */

export type ShadowRole = 'challenger' | 'previous';

export interface ShadowKey {
  role: ShadowRole;
  version: string;
}

const PREVIOUS_PREFIX = 'previous:';

/** The key a version's shadow score is stored under in its role. */
export function shadowKey(role: ShadowRole, version: string): string {
  return role === 'previous' ? `${PREVIOUS_PREFIX}${version}` : version;
}

/** The role and version of a shadow-score key (every key has one, see the file comment). */
export function parseShadowKey(key: string): ShadowKey {
  return key.startsWith(PREVIOUS_PREFIX) ? { role: 'previous', version: key.slice(PREVIOUS_PREFIX.length) } : { role: 'challenger', version: key };
}
