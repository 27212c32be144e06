/** The `http` section's TLS and credential keys: pairs, empty values, files read at start, secrets never printed. */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { configError } from '../support/config-error.js';
import { buildConfig, redactConfig } from '../../adapters/config/index.js';
import { httpSecurity } from '../../adapters/http/index.js';
import { createLogger } from '../../adapters/logging/index.js';
import { commandConfig } from '../../cli/commands/config.js';
import { ConfigError } from '../../core/errors.js';

describe('http config', () => {
  it('defaults: 127.0.0.1, no TLS, no credentials, consumer lag cached 15 s', () => {
    const { http } = buildConfig({});
    expect(http).toMatchObject({ host: '127.0.0.1', tls_cert_file: null, tls_key_file: null, basic_auth_username: null, basic_auth_password: null, bearer_token: null, lag_cache: 15_000 });
    expect(httpSecurity(http)).toEqual({ credentials: {} });
    expect(buildConfig({}, { FEEDBACKLOOP_HTTP_HOST: '0.0.0.0', FEEDBACKLOOP_HTTP_LAG_CACHE: '0s' }).http).toMatchObject({ host: '0.0.0.0', lag_cache: 0 });
  });

  it('refuses half a TLS setup or half a basic auth credential, naming the missing key', () => {
    expect(configError(() => buildConfig({ http: { tls_cert_file: 'c.pem' } })).message).toBe('config: http.tls_key_file: tls_cert_file and tls_key_file are set together, or neither');
    expect(configError(() => buildConfig({ http: { tls_key_file: 'k.pem' } })).key).toBe('http.tls_cert_file');
    expect(configError(() => buildConfig({ http: { basic_auth_username: 'prometheus' } })).message).toBe('config: http.basic_auth_password: basic_auth_username and basic_auth_password are set together, or neither');
    expect(configError(() => buildConfig({}, { FEEDBACKLOOP_HTTP_BASIC_AUTH_PASSWORD: 'x' })).key).toBe('http.basic_auth_username');
  });

  it('refuses an empty credential or file (it would match an empty one), and a user name with a colon', () => {
    expect(configError(() => buildConfig({}, { FEEDBACKLOOP_HTTP_BEARER_TOKEN: '' })).message).toBe('config: http.bearer_token: is empty; leave it unset to go without');
    expect(configError(() => buildConfig({ http: { basic_auth_username: 'u', basic_auth_password: '' } })).key).toBe('http.basic_auth_password');
    expect(configError(() => buildConfig({ http: { tls_cert_file: '', tls_key_file: 'k.pem' } })).key).toBe('http.tls_cert_file');
    expect(configError(() => buildConfig({ http: { basic_auth_username: 'a:b', basic_auth_password: 'p' } })).message).toBe('config: http.basic_auth_username: must not contain a colon (RFC 7617)');
  });

  it('takes credentials from the environment', () => {
    const { http } = buildConfig({}, { FEEDBACKLOOP_HTTP_BASIC_AUTH_USERNAME: 'prometheus', FEEDBACKLOOP_HTTP_BASIC_AUTH_PASSWORD: 'pw', FEEDBACKLOOP_HTTP_BEARER_TOKEN: 't' });
    expect(httpSecurity(http).credentials).toEqual({ basic: { username: 'prometheus', password: 'pw' }, bearerToken: 't' });
  });
});

describe('http TLS files, read at start', () => {
  let dir: string;
  const pem = (name: string) => join(dir, name);

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'feedbackloop-http-config-'));
    for (const name of ['a', 'b']) {
      execFileSync('/usr/bin/openssl', [
        'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', '/CN=localhost',
        '-keyout', pem(`${name}-key.pem`), '-out', pem(`${name}-cert.pem`),
      ], { stdio: 'ignore' });
    }
    writeFileSync(pem('junk.pem'), 'not a certificate\n');
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const tls = (cert: string, key: string) => buildConfig({ http: { tls_cert_file: cert, tls_key_file: key } }).http;

  it('loads a certificate and its key', () => {
    const security = httpSecurity(tls(pem('a-cert.pem'), pem('a-key.pem')));
    expect(security.tls?.cert.toString()).toMatch(/^-----BEGIN CERTIFICATE-----/);
  });

  it('names the key and the file when a file cannot be read', () => {
    const error = configError(() => httpSecurity(tls(pem('missing.pem'), pem('a-key.pem'))));
    expect(error.key).toBe('http.tls_cert_file');
    expect(error.message).toContain(`cannot read ${pem('missing.pem')}: `);
    expect(error.message).toContain('ENOENT');
    expect(configError(() => httpSecurity(tls(pem('a-cert.pem'), dir))).key).toBe('http.tls_key_file');
  });

  it('refuses a file that is not PEM, and a key that is not the certificate\'s', () => {
    expect(configError(() => httpSecurity(tls(pem('junk.pem'), pem('a-key.pem')))).message).toMatch(/http\.tls_cert_file: .*junk\.pem and .*a-key\.pem are not a PEM certificate and its private key/);
    expect(configError(() => httpSecurity(tls(pem('a-cert.pem'), pem('b-key.pem')))).key).toBe('http.tls_cert_file');
  });
});

describe('the http secrets are never shown', () => {
  const secrets = { basic_auth_username: 'prometheus', basic_auth_password: 'hunter2-basic', bearer_token: 'hunter2-token' };

  it('feedbackloop config prints them redacted (the user name is not a secret)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'feedbackloop-http-config-'));
    const file = join(dir, 'config.yaml');
    writeFileSync(file, `http:\n  basic_auth_username: prometheus\n  basic_auth_password: hunter2-basic\n  bearer_token: hunter2-token\n`);
    let printed = '';
    const write = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
      printed += String(chunk);
      return true;
    });
    try {
      await commandConfig({ config: file });
    } finally {
      write.mockRestore();
      rmSync(dir, { recursive: true, force: true });
    }
    expect(JSON.parse(printed).http).toMatchObject({ basic_auth_username: 'prometheus', basic_auth_password: '[redacted]', bearer_token: '[redacted]' });
    expect(printed).not.toContain('hunter2');
    expect(JSON.stringify(redactConfig(buildConfig({ http: secrets })))).not.toContain('hunter2');
  });

  it('a logged config or http section has them redacted', () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _encoding, done) {
        lines.push(String(chunk));
        done();
      },
    });
    const config = buildConfig({ http: secrets });
    const logger = createLogger('info', sink);
    logger.info({ http: config.http }, 'http');
    logger.info({ config }, 'config');
    expect(lines.join('')).not.toContain('hunter2');
    expect(JSON.parse(lines[0]!).http.bearer_token).toBe('[redacted]');
    expect(JSON.parse(lines[1]!).config.http.basic_auth_password).toBe('[redacted]');
  });
});
