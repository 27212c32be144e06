/**
 * The snapshot version `<model>/<challenger>@<n>`: the name the challenger
 * trainer gives each snapshot it publishes (n counts that challenger's
 * snapshots, from 1).
 *
 * Parsing reads n after the last `@`, and the challenger after the last `/`
 * before it: a model name may hold `/` and `@`, a challenger name `@` but no
 * `/` (challengers are preset names). A version is a snapshot version only
 * when model and challenger are non-empty and n is decimal digits that make
 * a safe integer. Anything else (no `@n`, `@` followed by anything but
 * digits such as `@-1`, `@1e3` or `@ 5`, an n past 2^53 − 1, no `/`, an empty
 * model or challenger) parses to undefined: a version that is not one of our
 * snapshots, typically one upstream built itself. Each caller says what that
 * means for it (ignored, ranked last, served by upstream).
 */

export interface SnapshotVersion {
  model: string;
  challenger: string;
  /** The n of `@<n>`. */
  sequence: number;
}

/** The n of decimal digits from `start` to the end of `text`; undefined when there are none, others, or too many. */
function digitsFrom(text: string, start: number): number | undefined {
  if (start >= text.length) return undefined;
  let n = 0;
  for (let i = start; i < text.length; i++) {
    const digit = text.charCodeAt(i) - 48;
    if (digit < 0 || digit > 9) return undefined;
    n = n * 10 + digit;
  }
  return Number.isSafeInteger(n) ? n : undefined;
}

/** Where the `/` and the `@` of a snapshot version are, and its n; undefined when it is not one. */
function split(version: string): { slash: number; at: number; sequence: number } | undefined {
  const at = version.lastIndexOf('@');
  const slash = version.lastIndexOf('/', at - 1);
  if (at < 0 || slash <= 0 || slash + 1 === at) return undefined;
  const sequence = digitsFrom(version, at + 1);
  return sequence === undefined ? undefined : { slash, at, sequence };
}

/** Model, challenger and n of a snapshot version; undefined when the version is not one (see the file comment). */
export function parseSnapshotVersion(version: string): SnapshotVersion | undefined {
  const parts = split(version);
  if (parts === undefined) return undefined;
  return { model: version.slice(0, parts.slash), challenger: version.slice(parts.slash + 1, parts.at), sequence: parts.sequence };
}

/**
 * `<model>/<challenger>@<n>`. Throws a RangeError for parts that would not
 * parse back to themselves (an empty part, a challenger holding `/`, an n
 * that is not a non-negative safe integer).
 */
export function snapshotVersion(model: string, challenger: string, sequence: number): string {
  const version = `${model}/${challenger}@${sequence}`;
  const back = parseSnapshotVersion(version);
  if (back?.model !== model || back.challenger !== challenger || back.sequence !== sequence) {
    throw new RangeError(`not a snapshot version: model ${JSON.stringify(model)}, challenger ${JSON.stringify(challenger)}, n ${sequence}`);
  }
  return version;
}

/**
 * What a version names across its snapshots: a snapshot version without its
 * `@n` (`<model>/<challenger>`, so a learning challenger stays one identity),
 * any other version itself.
 */
export function versionIdentity(version: string): string {
  const parts = split(version);
  return parts === undefined ? version : version.slice(0, parts.at);
}
