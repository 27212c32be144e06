/**
 * Credentials inside URLs, hidden for printing and logging: the one helper
 * every command, error message and log line goes through.
 *
 * - `https://user:pass@host` -> `https://user:***@host` (the user stays: it
 *   says which account is used); `https://token@host` -> `https://***@host`
 *   (a lone user part is often a token).
 * - query parameters whose name says credential (password, token, secret,
 *   key, auth, signature, ...) -> `password=***`.
 *
 * Text-based on purpose: a URL that does not parse (a typo, a raw `@` or
 * `/` in a password) must be redacted too, and it is exactly the one a
 * parser would refuse.
 */

export const REDACTED = '***';

/** A scheme, `://`, then everything up to whitespace or a quote: one URL in free text. */
const URL_IN_TEXT = /\b[a-z][a-z0-9+.-]*:\/\/[^\s'"<>`]+/gi;

/**
 * The user-info of a URL: from `://` to its first `@` (even past a `/`: a
 * raw `/` in a password), then on to every further `@` before the host ends
 * (a raw `@` in a password). At worst an `@` in the path of a URL without
 * credentials is taken for one: over-redacted, never leaked.
 */
const USER_INFO = /^([a-z][a-z0-9+.-]*:\/\/)([^\s@]*@(?:[^\s@/?#]*@)*)/i;

/** Query (or matrix) parameters whose name says they carry a credential. */
const SECRET_PARAM = /([?&;][^=&#;\s]*(?:pass|pwd|secret|token|key|auth|credential|signature|sig)[^=&#;\s]*=)([^&#;\s]*)/gi;

function redactUserInfo(url: string): string {
  return url.replace(USER_INFO, (_match, scheme: string, withAt: string) => {
    const info = withAt.slice(0, -1);
    const colon = info.indexOf(':');
    return colon < 0 ? `${scheme}${REDACTED}@` : `${scheme}${info.slice(0, colon)}:${REDACTED}@`;
  });
}

/** One URL with its credentials replaced by ***; anything else unchanged. */
export function redactUrl(url: string): string {
  return redactUserInfo(url).replace(SECRET_PARAM, `$1${REDACTED}`);
}

/** Every URL inside a text (an error message, a log line) redacted as redactUrl does. */
export function redactUrlsIn(text: string): string {
  return text.replace(URL_IN_TEXT, (url) => redactUrl(url));
}

/** A URL split into the same URL without user-info and the credentials it held (decoded), if any. */
export function splitUrlCredentials(url: string): { url: string; username?: string; password?: string } {
  const parsed = new URL(url);
  if (parsed.username === '' && parsed.password === '') return { url };
  const username = decodeURIComponent(parsed.username);
  const password = decodeURIComponent(parsed.password);
  parsed.username = '';
  parsed.password = '';
  return { url: parsed.toString().replace(/\/+$/, ''), username, password };
}
