/**
 * GET /metrics (Prometheus text format), /healthz (the process is alive) and
 * /readyz (every dependency answered its last check) on one port.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

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
  port: number;
  close(): Promise<void>;
}

export async function startHttpEndpoint(options: {
  host: string;
  port: number;
  registry: MetricsSource;
  readiness?: ReadinessCheck[];
}): Promise<HttpEndpoint> {
  const checks = options.readiness ?? [];
  const server: Server = createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0];
    const reply = (status: number, type: string, body: string) => {
      response.writeHead(status, { 'content-type': type });
      response.end(body);
    };
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      reply(405, 'text/plain', 'only GET\n');
      return;
    }
    if (path === '/metrics') {
      options.registry
        .metrics()
        .then((text) => reply(200, options.registry.contentType, text))
        .catch((error: unknown) => reply(500, 'text/plain', `cannot collect metrics: ${String(error)}\n`));
    } else if (path === '/healthz') {
      reply(200, 'text/plain', 'ok\n');
    } else if (path === '/readyz') {
      Promise.all(checks.map(async (c) => ({ name: c.name, ok: await c.check().catch(() => false) })))
        .then((results) => {
          const ready = results.every((r) => r.ok);
          reply(ready ? 200 : 503, 'application/json', `${JSON.stringify({ ready, checks: results })}\n`);
        })
        .catch((error: unknown) => reply(500, 'text/plain', String(error)));
    } else {
      reply(404, 'text/plain', 'not found: try /metrics, /healthz or /readyz\n');
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    // Keep-alive connections (a Prometheus scraper's) would hold close() open for minutes: end them.
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
