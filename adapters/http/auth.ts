/**
 * Who may read the HTTP endpoint: HTTP basic auth (RFC 7617) and/or a bearer
 * token (RFC 6750), the two a Prometheus scrape config sends (`basic_auth`,
 * `authorization`). Any configured credential is accepted; none configured:
 * everyone is.
 */
import { createHash, timingSafeEqual } from 'node:crypto';

export interface HttpCredentials {
  basic?: { username: string; password: string };
  bearerToken?: string;
}

const REALM = 'feedbackloop';

/**
 * Digests compared in constant time: timingSafeEqual needs equal lengths, and
 * comparing digests neither leaks the secret's length nor stops at the
 * first differing byte.
 */
function sameSecret(given: string, expected: string): boolean {
  const digest = (text: string) => createHash('sha256').update(text, 'utf8').digest();
  return timingSafeEqual(digest(given), digest(expected));
}

/** `Basic <base64(user:password)>` -> its two parts; undefined when not that shape. */
function basicCredentials(header: string): { username: string; password: string } | undefined {
  const match = /^Basic +([A-Za-z0-9+/=]+) *$/i.exec(header);
  if (!match) return undefined;
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon < 0 ? undefined : { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

function bearerToken(header: string): string | undefined {
  return /^Bearer +(\S+) *$/i.exec(header)?.[1];
}

/** Whether the Authorization header of a request carries a configured credential. */
export function authorized(credentials: HttpCredentials, header: string | undefined): boolean {
  if (!credentials.basic && credentials.bearerToken === undefined) return true;
  if (header === undefined) return false;
  const basic = credentials.basic && basicCredentials(header);
  if (credentials.basic && basic) {
    // Both compared, whichever differs: the time taken says nothing about which.
    const user = sameSecret(basic.username, credentials.basic.username);
    const password = sameSecret(basic.password, credentials.basic.password);
    return user && password;
  }
  const token = credentials.bearerToken !== undefined ? bearerToken(header) : undefined;
  return token !== undefined && sameSecret(token, credentials.bearerToken!);
}

/** The WWW-Authenticate challenges of a 401: one per accepted scheme. */
export function challenges(credentials: HttpCredentials): string[] {
  const out: string[] = [];
  if (credentials.basic) out.push(`Basic realm="${REALM}", charset="UTF-8"`);
  if (credentials.bearerToken !== undefined) out.push(`Bearer realm="${REALM}"`);
  return out;
}

/** The Authorization header a client of this endpoint sends (`feedbackloop status`): the bearer token, else basic auth. */
export function authorizationHeader(credentials: HttpCredentials): string | undefined {
  if (credentials.bearerToken !== undefined) return `Bearer ${credentials.bearerToken}`;
  const basic = credentials.basic;
  return basic && `Basic ${Buffer.from(`${basic.username}:${basic.password}`, 'utf8').toString('base64')}`;
}
