/**
 * GET /metrics (Prometheus text format), /healthz (the process is alive) and
 * /readyz (every dependency answered its last check) on one port, over
 * HTTPS when a certificate is given. With credentials, every path but
 * /healthz requires them: a liveness probe needs no secret, and /healthz
 * tells nothing but that the process answers.
 */
import { createServer, type IncomingMessage, type RequestListener, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { authorized, challenges, type HttpCredentials } from './auth.js';
import type { HttpTls } from './security.js';

export interface ReadinessCheck {
  name: string;
  /** Resolves true when the dependency is usable. */
  check: () => Promise<boolean>;
}

/** What /metrics serves: the text exposition format and its content type (a prom-client Registry is one). */
export interface MetricsSource {
  metrics(): Promise<string>;
  readonly contentType: string;
}

export interface HttpEndpoint {
  /** The address listened on (http.host resolved, e.g. 127.0.0.1). */
  address: string;
  port: number;
  close(): Promise<void>;
}

export interface HttpEndpointOptions {
  host: string;
  port: number;
  registry: MetricsSource;
  readiness?: ReadinessCheck[];
  /** HTTPS with this certificate and key (adapters/http/security.ts reads them). */
  tls?: HttpTls;
  /** None: no authentication. */
  credentials?: HttpCredentials;
}

type Reply = (status: number, type: string, body: string) => void;

function route(options: HttpEndpointOptions, path: string, reply: Reply): void {
  if (path === '/metrics') {
    options.registry
      .metrics()
      .then((text) => reply(200, options.registry.contentType, text))
      .catch((error: unknown) => reply(500, 'text/plain', `cannot collect metrics: ${String(error)}\n`));
  } else if (path === '/healthz') {
    reply(200, 'text/plain', 'ok\n');
  } else if (path === '/readyz') {
    const checks = options.readiness ?? [];
    Promise.all(checks.map(async (c) => ({ name: c.name, ok: await c.check().catch(() => false) })))
      .then((results) => {
        const ready = results.every((r) => r.ok);
        reply(ready ? 200 : 503, 'application/json', `${JSON.stringify({ ready, checks: results })}\n`);
      })
      .catch((error: unknown) => reply(500, 'text/plain', String(error)));
  } else {
    reply(404, 'text/plain', 'not found: try /metrics, /healthz or /readyz\n');
  }
}

function handler(options: HttpEndpointOptions): RequestListener {
  const credentials = options.credentials ?? {};
  return (request: IncomingMessage, response: ServerResponse) => {
    const path = (request.url ?? '/').split('?')[0]!;
    const reply: Reply = (status, type, body) => {
      response.writeHead(status, { 'content-type': type });
      response.end(body);
    };
    if (path !== '/healthz' && !authorized(credentials, request.headers.authorization)) {
      response.writeHead(401, { 'content-type': 'text/plain', 'www-authenticate': challenges(credentials) });
      response.end('unauthorized: this endpoint needs credentials (see http.* in the config)\n');
    } else if (request.method !== 'GET' && request.method !== 'HEAD') {
      reply(405, 'text/plain', 'only GET\n');
    } else {
      route(options, path, reply);
    }
  };
}

export async function startHttpEndpoint(options: HttpEndpointOptions): Promise<HttpEndpoint> {
  const server: Server = options.tls ? createHttpsServer({ cert: options.tls.cert, key: options.tls.key }, handler(options)) : createServer(handler(options));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const { address, port } = server.address() as AddressInfo;
  return {
    address,
    port,
    // Keep-alive connections (a Prometheus scraper's) would hold close() open for minutes: end them.
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
