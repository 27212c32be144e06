/**
 * An HTTPS reverse proxy in the test process, in front of a real server the
 * test stack runs over plain HTTP (the schema registry, ClickHouse): TLS with
 * a certificate the test made, an optional credential check (the stack's
 * registry has no authentication), and a record of every request. Not a
 * mock: whatever it lets through is answered by the real server.
 */
import { request as httpRequest, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';

export interface ProxiedRequest {
  method: string;
  path: string;
  /** What `authorize` said; true when there is no check. */
  authorized: boolean;
  /** The user it came as: basic auth's or ClickHouse's X-ClickHouse-User header. */
  user: string | undefined;
}

export interface TlsProxyOptions {
  /** Origin of the real server, e.g. http://127.0.0.1:8081. */
  target: string;
  cert: Buffer;
  key: Buffer;
  /** False: answered 401 here, never forwarded. */
  authorize?: (headers: IncomingHttpHeaders) => boolean;
  /** Headers not forwarded (e.g. the credential this proxy checked). */
  strip?: string[];
}

export function basicUser(headers: IncomingHttpHeaders): string | undefined {
  const match = /^Basic (.+)$/i.exec(headers.authorization ?? '');
  return match ? Buffer.from(match[1]!, 'base64').toString('utf8').split(':')[0] : undefined;
}

/** Basic auth with exactly these credentials. */
export function basicAuthIs(username: string, password: string): (headers: IncomingHttpHeaders) => boolean {
  const expected = `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
  return (headers) => headers.authorization === expected;
}

export class TlsProxy {
  readonly requests: ProxiedRequest[] = [];
  private readonly server: Server;

  private constructor(private readonly options: TlsProxyOptions) {
    this.server = createServer({ cert: options.cert, key: options.key }, (req, res) => this.handle(req, res));
  }

  static async start(options: TlsProxyOptions): Promise<TlsProxy> {
    const proxy = new TlsProxy(options);
    await new Promise<void>((resolve) => proxy.server.listen(0, '127.0.0.1', resolve));
    return proxy;
  }

  /** https://127.0.0.1:<port> */
  get origin(): string {
    return `https://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const user = basicUser(req.headers) ?? (req.headers['x-clickhouse-user'] as string | undefined);
    const authorized = this.options.authorize?.(req.headers) ?? true;
    this.requests.push({ method: req.method ?? '', path: req.url ?? '', authorized, user });
    if (!authorized) {
      req.resume();
      res.writeHead(401, { 'www-authenticate': 'Basic realm="registry"', 'content-type': 'text/plain' }).end('credentials required\n');
      return;
    }
    const target = new URL(this.options.target);
    const headers: IncomingHttpHeaders = { ...req.headers, host: target.host };
    for (const name of this.options.strip ?? []) delete headers[name];
    const upstream = httpRequest({ hostname: target.hostname, port: target.port, method: req.method, path: req.url, headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', (error) => {
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(`proxy: ${error.message}\n`);
    });
    req.pipe(upstream);
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
