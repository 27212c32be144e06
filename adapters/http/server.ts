/**
 * The HTTP endpoint, a fastify server: GET /metrics (Prometheus text
 * format), /healthz (the process is alive) and /readyz (every dependency
 * answered its last check) on one port, over HTTPS when a certificate is
 * given, plus the routes a caller adds (`run` adds the /v1 API,
 * adapters/http/api). With credentials, every path but /healthz requires
 * them (an onRequest hook, before routing: an unknown path asks them too): a
 * liveness probe needs no secret, and /healthz tells nothing but that the
 * process answers.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
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
  /** More routes (the /v1 API), registered after the endpoint's own, behind the same hook. */
  routes?: (app: FastifyInstance) => Promise<void>;
  /** Largest request body accepted, in bytes (413 beyond; default 1 MiB, fastify's). */
  bodyLimit?: number;
}

/** The paths of the endpoint itself, each GET (and HEAD) only. */
const OWN_PATHS = ['/metrics', '/healthz', '/readyz'];

/** Asks for credentials on every route but /healthz, the route matched (not the raw path, which may be encoded). */
function authHook(credentials: HttpCredentials) {
  return async (request: FastifyRequest, reply: FastifyReply) => {
    if (request.routeOptions.url === '/healthz' || authorized(credentials, request.headers.authorization)) return;
    const api = request.url.startsWith('/v1/');
    const message = 'unauthorized: this endpoint needs credentials (see http.* in the config)';
    const challenge = challenges(credentials);
    reply.code(401).header('www-authenticate', challenge.length === 1 ? challenge[0] : challenge);
    await (api ? reply.send({ error: 'unauthorized', message }) : reply.type('text/plain').send(`${message}\n`));
    return reply;
  };
}

async function readiness(checks: ReadinessCheck[]): Promise<{ ready: boolean; checks: Array<{ name: string; ok: boolean }> }> {
  const results = await Promise.all(checks.map(async (c) => ({ name: c.name, ok: await c.check().catch(() => false) })));
  return { ready: results.every((r) => r.ok), checks: results };
}

function ownRoutes(app: FastifyInstance, options: HttpEndpointOptions): void {
  app.get('/metrics', async (_request, reply) => {
    try {
      const text = await options.registry.metrics();
      return reply.type(options.registry.contentType).send(text);
    } catch (error) {
      return reply.code(500).type('text/plain').send(`cannot collect metrics: ${String(error)}\n`);
    }
  });
  app.get('/healthz', async (_request, reply) => reply.type('text/plain').send('ok\n'));
  app.get('/readyz', async (_request, reply) => {
    const answer = await readiness(options.readiness ?? []);
    return reply.code(answer.ready ? 200 : 503).type('application/json').send(`${JSON.stringify(answer)}\n`);
  });
  for (const url of OWN_PATHS) {
    app.route({ method: ['POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'], url, handler: async (_request, reply) => reply.code(405).header('allow', 'GET, HEAD').type('text/plain').send('only GET\n') });
  }
}

/** The server, routes registered, not listening yet (tests call inject() on it). */
export async function buildHttpServer(options: HttpEndpointOptions): Promise<FastifyInstance> {
  // Loaded here, not with the module: every command imports this folder, only `run` serves.
  const [{ default: Fastify }, { strictBodyValidators }] = await Promise.all([import('fastify'), import('./api/validation.js')]);
  const app = Fastify({
    logger: false,
    ...(options.tls ? { https: { cert: options.tls.cert, key: options.tls.key } } : {}),
    // Keep-alive connections (a Prometheus scraper's) and requests still open (a /readyz check that hangs) would hold close() open: end them.
    forceCloseConnections: true,
    bodyLimit: options.bodyLimit ?? 1_048_576,
    schemaController: { compilersFactory: { buildValidator: strictBodyValidators } },
  }) as unknown as FastifyInstance;
  app.addHook('onRequest', authHook(options.credentials ?? {}));
  app.setNotFoundHandler(async (request, reply) => {
    if (request.url.startsWith('/v1/')) return reply.code(404).send({ error: 'not_found', message: `no route ${request.method} ${request.url.split('?')[0]}: see /v1/openapi.json` });
    return reply.code(404).type('text/plain').send('not found: try /metrics, /healthz or /readyz\n');
  });
  ownRoutes(app, options);
  if (options.routes) await options.routes(app);
  await app.ready();
  return app;
}

export async function startHttpEndpoint(options: HttpEndpointOptions): Promise<HttpEndpoint> {
  const app = await buildHttpServer(options);
  await app.listen({ port: options.port, host: options.host });
  const { address, port } = app.server.address() as AddressInfo;
  return { address, port, close: () => app.close() };
}
