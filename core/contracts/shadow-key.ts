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

/**
 * A multi-class model's shadow scores (issue 16): one entry per version and
 * class, `<key>#<i>` where `<key>` is the version's key above and `i` the
 * class's position (0-based) in models.<name>.classes; the value is that
 * class's probability. The index after the last `#` is all digits, so a
 * version or key holding `#` still parses.
 */
export function classShadowKey(key: string, classIndex: number): string {
  return `${key}#${classIndex}`;
}

/** The key and class index of a multi-class shadow-score key, or undefined when `key` has no `#<digits>` suffix. */
export function parseClassShadowKey(key: string): { key: string; classIndex: number } | undefined {
  const at = key.lastIndexOf('#');
  if (at < 0 || at === key.length - 1) return undefined;
  const digits = key.slice(at + 1);
  if (!/^\d{1,5}$/.test(digits)) return undefined;
  return { key: key.slice(0, at), classIndex: Number(digits) };
}
