/**
 * The `http` section of the config made into what the endpoint serves with:
 * the TLS certificate and key (read once, at start) and the credentials.
 */
import { readFileSync } from 'node:fs';
import { createSecureContext } from 'node:tls';
import type { Config } from '../config/index.js';
import { ConfigError, errorMessage } from '../../core/errors.js';
import type { HttpCredentials } from './auth.js';

export interface HttpTls {
  cert: Buffer;
  key: Buffer;
}

export interface HttpSecurity {
  tls?: HttpTls;
  credentials: HttpCredentials;
}

function readPem(key: string, file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (error) {
    throw new ConfigError(key, `cannot read ${file}: ${errorMessage(error)}`);
  }
}

/** The certificate and key files, checked now (not at the first handshake): unreadable, not PEM, or not a pair. */
function loadTls(certFile: string, keyFile: string): HttpTls {
  const tls = { cert: readPem('http.tls_cert_file', certFile), key: readPem('http.tls_key_file', keyFile) };
  try {
    createSecureContext(tls);
  } catch (error) {
    throw new ConfigError('http.tls_cert_file', `${certFile} and ${keyFile} are not a PEM certificate and its private key: ${errorMessage(error)}`);
  }
  return tls;
}

/** The credentials of the config (the pairs are checked when it loads). */
export function httpCredentials(http: Config['http']): HttpCredentials {
  const { basic_auth_username: username, basic_auth_password: password, bearer_token: token } = http;
  return {
    ...(username !== null && password !== null ? { basic: { username, password } } : {}),
    ...(token !== null ? { bearerToken: token } : {}),
  };
}

/** Throws a ConfigError naming the key when a file cannot be used. */
export function httpSecurity(http: Config['http']): HttpSecurity {
  const { tls_cert_file: cert, tls_key_file: key } = http;
  return { ...(cert !== null && key !== null ? { tls: loadTls(cert, key) } : {}), credentials: httpCredentials(http) };
}
