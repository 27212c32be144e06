/**
 * The HTTP endpoint secure by default (issue 17): it listens on 127.0.0.1
 * unless told otherwise, and with a certificate and credentials /metrics is
 * served over TLS only to who presents them. The certificate is made here
 * with the openssl CLI: nothing is checked in.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { get as httpGet, type IncomingHttpHeaders } from 'node:http';
import { get as httpsGet } from 'node:https';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildConfig } from '../../adapters/config/index.js';
import { authorizationHeader, httpCredentials, httpSecurity, startHttpEndpoint, type HttpEndpoint } from '../../adapters/http/index.js';
import { createPipelineMetrics } from '../../adapters/prometheus/index.js';
import { scrapeMetrics } from '../../runtime/status/gather-metrics.js';

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** A GET over https trusting only `ca` (the self-signed certificate), with an optional Authorization header. */
function httpsAnswer(port: number, path: string, ca: Buffer, authorization?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const headers = authorization === undefined ? {} : { authorization };
    httpsGet({ host: '127.0.0.1', port, path, ca, headers }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => resolve({ status: response.statusCode!, headers: response.headers, body }));
    }).on('error', reject);
  });
}

const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

/** A self-signed EC certificate for 127.0.0.1, made with the openssl CLI into a temp dir. */
function selfSigned(dir: string): { cert: string; key: string } {
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  execFileSync('/usr/bin/openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
    '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', key, '-out', cert,
  ], { stdio: 'ignore' });
  return { cert, key };
}

describe('the HTTP endpoint by default', () => {
  it('listens on 127.0.0.1 only, and asks no credentials', async () => {
    const config = buildConfig({});
    expect(config.http.host).toBe('127.0.0.1');
    const metrics = createPipelineMetrics({ defaultMetrics: false });
    const endpoint = await startHttpEndpoint({ host: config.http.host, port: 0, registry: metrics.registry, ...httpSecurity(config.http) });
    try {
      expect(endpoint.address).toBe('127.0.0.1');
      expect((await fetch(`http://127.0.0.1:${endpoint.port}/metrics`)).status).toBe(200);
      // Another address of this machine, when it has one: nothing listens there.
      const other = Object.values(networkInterfaces()).flat().find((i) => i && i.family === 'IPv4' && !i.internal);
      if (other) await expect(fetch(`http://${other.address}:${endpoint.port}/metrics`)).rejects.toThrow();
    } finally {
      await endpoint.close();
    }
  });
});

describe('the HTTP endpoint with TLS and credentials', () => {
  let dir: string;
  let ca: Buffer;
  let endpoint: HttpEndpoint;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'feedbackloop-http-'));
    const files = selfSigned(dir);
    ca = readFileSync(files.cert);
    const config = buildConfig({
      http: { port: 0, tls_cert_file: files.cert, tls_key_file: files.key, basic_auth_username: 'prometheus', basic_auth_password: 'p4ss:word', bearer_token: 'tok-3n' },
    });
    const metrics = createPipelineMetrics({ defaultMetrics: false });
    metrics.observer.recordsIn('predictions', 3);
    endpoint = await startHttpEndpoint({
      host: config.http.host, port: config.http.port, registry: metrics.registry,
      readiness: [{ name: 'processors', check: async () => true }],
      ...httpSecurity(config.http),
    });
  });

  afterAll(async () => {
    await endpoint?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses /metrics without credentials: 401 with a challenge per accepted scheme', async () => {
    const answer = await httpsAnswer(endpoint.port, '/metrics', ca);
    expect(answer.status).toBe(401);
    expect(answer.headers['www-authenticate']).toBe('Basic realm="feedbackloop", charset="UTF-8", Bearer realm="feedbackloop"');
    expect(answer.body).not.toContain('feedbackloop_records_in_total');
  });

  it('refuses wrong credentials: a wrong password or user, a wrong token, a scheme it does not take, garbage', async () => {
    for (const authorization of [
      basic('prometheus', 'p4ss'), basic('prometheus', 'p4ss:word '), basic('admin', 'p4ss:word'), basic('', ''),
      'Bearer tok-3', 'Bearer tok-3n-', 'Bearer ', 'Digest tok-3n', 'tok-3n', 'Basic !!!', 'Basic',
    ]) {
      const answer = await httpsAnswer(endpoint.port, '/metrics', ca, authorization);
      expect({ authorization, status: answer.status }).toEqual({ authorization, status: 401 });
    }
  });

  it('serves /metrics with the basic auth credentials, or with the bearer token (either scheme case)', async () => {
    for (const authorization of [basic('prometheus', 'p4ss:word'), 'Bearer tok-3n', 'bearer tok-3n']) {
      const answer = await httpsAnswer(endpoint.port, '/metrics', ca, authorization);
      expect(answer.status).toBe(200);
      expect(answer.body).toMatch(/feedbackloop_records_in_total\{topic="predictions"\} 3/);
    }
  });

  it('asks credentials on /readyz and any other path too, but not on /healthz (liveness probes)', async () => {
    expect((await httpsAnswer(endpoint.port, '/readyz', ca)).status).toBe(401);
    expect((await httpsAnswer(endpoint.port, '/readyz', ca, 'Bearer tok-3n')).status).toBe(200);
    expect((await httpsAnswer(endpoint.port, '/nope', ca)).status).toBe(401);
    expect((await httpsAnswer(endpoint.port, '/nope', ca, 'Bearer tok-3n')).status).toBe(404);
    expect(await httpsAnswer(endpoint.port, '/healthz', ca)).toMatchObject({ status: 200, body: 'ok\n' });
  });

  it('speaks TLS only: plain http to its port gets no answer, and a client that does not trust the certificate refuses it', async () => {
    const plain = new Promise<string>((resolve) => {
      httpGet({ host: '127.0.0.1', port: endpoint.port, path: '/healthz' }, (response) => resolve(`status ${response.statusCode}`)).on('error', (error) => resolve(error.message));
    });
    expect(await plain).toMatch(/socket hang up|ECONNRESET/);
    await expect(fetch(`https://127.0.0.1:${endpoint.port}/healthz`)).rejects.toThrow();
  });
});

describe('feedbackloop status, a client of the endpoint', () => {
  it('sends the credentials of its config: the bearer token, else basic auth', async () => {
    const metrics = createPipelineMetrics({ defaultMetrics: false });
    for (const http of [{ bearer_token: 't0k' }, { basic_auth_username: 'ops', basic_auth_password: 'pw' }]) {
      const config = buildConfig({ http: { port: 0, ...http } });
      const endpoint = await startHttpEndpoint({ host: '127.0.0.1', port: 0, registry: metrics.registry, ...httpSecurity(config.http) });
      try {
        const url = `http://127.0.0.1:${endpoint.port}/metrics`;
        expect(await scrapeMetrics(url)).toEqual({ url, error: 'HTTP 401' });
        expect(await scrapeMetrics(url, authorizationHeader(httpCredentials(config.http)))).toMatchObject({ url, text: { malformed: [] } });
      } finally {
        await endpoint.close();
      }
    }
  });
});
