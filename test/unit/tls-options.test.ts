/**
 * The TLS and credential plumbing from config keys to the clients: what
 * kafkajs, the schema registry client and @clickhouse/client are given, the
 * ConfigErrors for bad files, and real handshakes against local TLS servers
 * on 127.0.0.1 (a TLS socket standing in for a broker, an https server for
 * the registry and ClickHouse) with throwaway certificates. No broker.
 */
import { writeFileSync } from 'node:fs';
import { createServer as createHttpsServer, Agent as HttpsAgent, type Server as HttpsServer } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { connect as tlsConnect, createServer as createTlsServer, type ConnectionOptions } from 'node:tls';
import { join } from 'node:path';
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configError } from '../support/config-error.js';
import { buildConfig, readTlsFiles, type Config } from '../../adapters/config/index.js';
import { ClickHouseStore, clientOptions } from '../../adapters/clickhouse/store.js';
import { ConfigError } from '../../core/errors.js';
import { clickhouseOptions, kafkaSecurity, registryClientArgs } from '../../runtime/client-options.js';
import { makeTlsFixtures, type TlsFixtures } from '../support/tls-fixtures.js';

let tls: TlsFixtures;
beforeAll(() => {
  tls = makeTlsFixtures();
});

function mutualTlsKafka(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    brokers: ['127.0.0.1:9093'],
    schema_registry_url: 'https://127.0.0.1:8081',
    ssl: true,
    ssl_ca_file: tls.caFile,
    ssl_cert_file: tls.clientCertFile,
    ssl_key_file: tls.clientKeyFile,
    ssl_key_password: tls.passphrase,
    ...extra,
  };
}

describe('Kafka TLS options', () => {
  it('hands kafkajs the CA, the client certificate, the key and its passphrase, verifying the broker, with SASL alongside', () => {
    const config = buildConfig({ kafka: mutualTlsKafka({ sasl_mechanism: 'scram-sha-512', sasl_username: 'svc', sasl_password: 'pw' }) });
    const security = kafkaSecurity(config);
    const ssl = security.ssl as ConnectionOptions;
    expect(ssl.ca).toEqual(tls.read(tls.caFile));
    expect(ssl.cert).toEqual(tls.read(tls.clientCertFile));
    expect(ssl.key).toEqual(tls.read(tls.clientKeyFile));
    expect(ssl.passphrase).toBe(tls.passphrase);
    expect(ssl.rejectUnauthorized).toBe(true);
    expect(security.sasl).toEqual({ mechanism: 'scram-sha-512', username: 'svc', password: 'pw' });
  });

  it('is a plain on/off switch without files (the system CAs), and off by default', () => {
    expect(kafkaSecurity(buildConfig({ kafka: { ssl: true } })).ssl).toBe(true);
    expect(kafkaSecurity(buildConfig({})).ssl).toBe(false);
    const caOnly = kafkaSecurity(buildConfig({ kafka: { ssl: true, ssl_ca_file: tls.caFile } })).ssl as ConnectionOptions;
    expect(caOnly).toEqual({ ca: tls.read(tls.caFile), rejectUnauthorized: true });
  });

  it('completes a mutual TLS handshake with exactly those options against a server that demands a client certificate', async () => {
    const server = createTlsServer({
      cert: tls.read(tls.serverCertFile), key: tls.read(tls.serverKeyFile), ca: tls.read(tls.caFile), requestCert: true, rejectUnauthorized: true,
    }, (socket) => socket.end((socket as unknown as { getPeerCertificate(): { subject: { CN: string } } }).getPeerCertificate().subject.CN));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const port = (server.address() as AddressInfo).port;
      const ssl = kafkaSecurity(buildConfig({ kafka: mutualTlsKafka() })).ssl as ConnectionOptions;
      const peer = await new Promise<string>((resolve, reject) => {
        const socket = tlsConnect({ ...ssl, host: '127.0.0.1', port }, () => undefined);
        let text = '';
        socket.on('data', (chunk) => (text += String(chunk)));
        socket.on('end', () => resolve(text));
        socket.on('error', reject);
      });
      expect(peer).toBe('feedbackloop-client');
      // Trusting another CA fails the handshake: the broker's certificate is really checked.
      const other = kafkaSecurity(buildConfig({ kafka: mutualTlsKafka({ ssl_ca_file: tls.otherCaFile }) })).ssl as ConnectionOptions;
      const refused = await new Promise<string>((resolve) => {
        const socket = tlsConnect({ ...other, host: '127.0.0.1', port }, () => resolve('connected'));
        socket.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
      });
      expect(refused).not.toBe('connected');
    } finally {
      server.close();
    }
  });

  it('refuses at start, naming the key: a missing file, a file that is not PEM, an encrypted key without or with a wrong passphrase, a key of another certificate', () => {
    const notPem = join(tls.dir, 'not.pem');
    writeFileSync(notPem, 'hello');
    const load = (kafka: Record<string, unknown>) => readTlsFiles(buildConfig({ kafka: mutualTlsKafka(kafka) }));
    expect(configError(() => load({ ssl_ca_file: join(tls.dir, 'missing.pem') })).key).toBe('kafka.ssl_ca_file');
    expect(configError(() => load({ ssl_cert_file: notPem })).key).toBe('kafka.ssl_cert_file');
    expect(configError(() => load({ ssl_key_password: null })).message).toMatch(/kafka\.ssl_key_file: .* is encrypted: set kafka\.ssl_key_password/);
    const wrong = configError(() => load({ ssl_key_password: 'Wrong-Passphrase-9d2e' }));
    expect(wrong.key).toBe('kafka.ssl_key_password');
    expect(wrong.message).not.toContain('Wrong-Passphrase-9d2e');
    expect(configError(() => load({ ssl_key_file: tls.serverKeyFile, ssl_key_password: null })).message).toMatch(/is not the key of the certificate/);
  });

  it('refuses TLS files without kafka.ssl, half a client certificate, and a passphrase without a key', () => {
    expect(configError(() => buildConfig({ kafka: { ssl_ca_file: tls.caFile } })).message).toMatch(/kafka\.ssl_ca_file: set kafka\.ssl: true/);
    expect(configError(() => buildConfig({ kafka: { ssl: true, ssl_cert_file: tls.clientCertFile } })).key).toBe('kafka.ssl_key_file');
    expect(configError(() => buildConfig({ kafka: { ssl: true, ssl_key_password: 'x' } })).key).toBe('kafka.ssl_key_password');
  });
});

/** An https server on 127.0.0.1 with the fixture server certificate; `handle` answers every request. */
async function httpsServer(handle: (request: IncomingMessage, response: ServerResponse) => void): Promise<{ server: HttpsServer; url: string }> {
  const server = createHttpsServer({ cert: tls.read(tls.serverCertFile), key: tls.read(tls.serverKeyFile) }, handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `https://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

describe('schema registry auth and TLS', () => {
  const seen: Array<string | undefined> = [];
  let registry: { server: HttpsServer; url: string };
  beforeAll(async () => {
    registry = await httpsServer((request, response) => {
      seen.push(request.headers.authorization);
      response.setHeader('content-type', 'application/vnd.schemaregistry.v1+json');
      response.end(JSON.stringify({ schema: JSON.stringify({ type: 'record', name: 'T', fields: [{ name: 'a', type: 'string' }] }) }));
    });
  });
  afterAll(() => registry.server.close());

  const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
  const registryConfig = (kafka: Record<string, unknown>): Config =>
    buildConfig({ kafka: { brokers: ['127.0.0.1:9092'], schema_registry_url: registry.url, schema_registry_ca_file: tls.caFile, ...kafka } });

  it('gives the client basic auth from the keys and an https agent trusting schema_registry_ca_file', () => {
    const args = registryClientArgs(registryConfig({ schema_registry_username: 'reg', schema_registry_password: 'pw' }));
    expect(args.host).toBe(registry.url);
    expect(args.auth).toEqual({ username: 'reg', password: 'pw' });
    expect(args.agent).toBeInstanceOf(HttpsAgent);
    expect((args.agent as HttpsAgent).options.ca).toEqual(tls.read(tls.caFile));
  });

  it('moves credentials written in the URL into basic auth: the URL the client holds has none', () => {
    const config = buildConfig({ kafka: { brokers: ['b:9092'], schema_registry_url: 'https://reg%40corp:p%3Ass@registry.example:8081/ccompat' } });
    const args = registryClientArgs(config);
    expect(args.host).toBe('https://registry.example:8081/ccompat');
    expect(args.auth).toEqual({ username: 'reg@corp', password: 'p:ss' });
    expect(args.agent).toBeUndefined();
  });

  it('fetches a schema over TLS with the private CA, sending the credentials; fails with another CA', async () => {
    const client = new SchemaRegistry(registryClientArgs(registryConfig({ schema_registry_username: 'reg', schema_registry_password: 'Registry-Pass-1' })));
    await expect(client.getSchema(1)).resolves.toBeDefined();
    expect(seen.at(-1)).toBe(basic('reg', 'Registry-Pass-1'));
    const untrusting = new SchemaRegistry(
      { ...registryClientArgs(registryConfig({ schema_registry_ca_file: tls.otherCaFile })), retry: { retries: 0 } },
    );
    await expect(untrusting.getSchema(2)).rejects.toThrow(/certificate/i);
  });

  it('refuses half the credentials, credentials in both places, and a CA with an http:// URL', () => {
    expect(configError(() => buildConfig({ kafka: { schema_registry_username: 'reg' } })).key).toBe('kafka.schema_registry_password');
    expect(configError(() => buildConfig({ kafka: { schema_registry_url: 'https://a:b@h', schema_registry_username: 'u', schema_registry_password: 'p' } })).key).toBe('kafka.schema_registry_url');
    expect(configError(() => buildConfig({ kafka: { schema_registry_url: 'http://h:8081', schema_registry_ca_file: tls.caFile } })).key).toBe('kafka.schema_registry_ca_file');
  });
});

describe('ClickHouse TLS and credentials', () => {
  it('gives @clickhouse/client the CA as tls.ca_cert', () => {
    const options = clickhouseOptions(buildConfig({ clickhouse: { url: 'https://127.0.0.1:8443', ca_file: tls.caFile, username: 'ch', password: 'pw' } }))!;
    const client = clientOptions(options);
    expect(client.tls).toEqual({ ca_cert: tls.read(tls.caFile) });
    expect(client).toMatchObject({ url: 'https://127.0.0.1:8443', username: 'ch', password: 'pw' });
    expect(clientOptions(clickhouseOptions(buildConfig({ clickhouse: { url: 'http://127.0.0.1:8123' } }))!).tls).toBeUndefined();
  });

  it('takes credentials out of the URL (they win over clickhouse.username/password, as in the client)', () => {
    const options = clickhouseOptions(buildConfig({ clickhouse: { url: 'http://ch%2Buser:s%40cret@127.0.0.1:8123', username: 'other', password: 'other' } }))!;
    expect(options).toMatchObject({ url: 'http://127.0.0.1:8123', username: 'ch+user', password: 's@cret' });
  });

  it('pings an https server signed by the private CA, with the credentials; not with another CA', async () => {
    const auth: string[] = [];
    const { server, url } = await httpsServer((request, response) => {
      auth.push(`${request.headers['x-clickhouse-user']}:${request.headers['x-clickhouse-key']}`);
      response.end('Ok.\n');
    });
    try {
      const reach = (ca: string) => clickhouseOptions(buildConfig({ clickhouse: { url, ca_file: ca, username: 'ch', password: 'ClickHouse-Pass-2' } }))!;
      const store = ClickHouseStore.connect({ ...reach(tls.caFile), quiet: true });
      expect(await store.ping()).toBe(true);
      await store.command('SELECT 1'); // a query carries the credentials (a ping does not)
      await store.close();
      // With a CA the client sends the credentials as X-ClickHouse-User / X-ClickHouse-Key headers.
      expect(auth.at(-1)).toBe('ch:ClickHouse-Pass-2');
      const untrusting = ClickHouseStore.connect({ ...reach(tls.otherCaFile), quiet: true });
      expect(await untrusting.ping().catch(() => false)).toBe(false);
      await untrusting.close();
    } finally {
      server.close();
    }
  });

  it('refuses a CA with an http:// URL and a CA file that is missing, naming clickhouse.ca_file', () => {
    expect(configError(() => buildConfig({ clickhouse: { url: 'http://127.0.0.1:8123', ca_file: tls.caFile } })).key).toBe('clickhouse.ca_file');
    const missing = buildConfig({ clickhouse: { url: 'https://127.0.0.1:8443', ca_file: join(tls.dir, 'nope.pem') } });
    expect(configError(() => readTlsFiles(missing)).key).toBe('clickhouse.ca_file');
  });
});
