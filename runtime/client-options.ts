/**
 * How each client is built from the config: kafkajs's TLS and SASL, the
 * schema registry's basic auth and CA, ClickHouse's credentials and CA.
 * Pure but for the certificate files, which readTlsFiles reads (and which
 * the tests write). Credentials written inside a URL are moved out of it
 * here, so that the URL a client holds (and puts in its errors) has none.
 */
import { Agent as HttpsAgent } from 'node:https';
import type { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import type { KafkaConfig, SASLOptions } from 'kafkajs';
import { readTlsFiles, type Config, type TlsFiles } from '../adapters/config/index.js';
import type { ClickHouseOptions } from '../adapters/clickhouse/index.js';
import { splitUrlCredentials } from '../core/redact.js';

export type RegistryClientArgs = ConstructorParameters<typeof SchemaRegistry>[0];

function saslOf(config: Config): SASLOptions | undefined {
  const k = config.kafka;
  if (k.sasl_mechanism === 'none') return undefined;
  return { mechanism: k.sasl_mechanism, username: k.sasl_username!, password: k.sasl_password! } as SASLOptions;
}

/**
 * kafkajs's `ssl` and `sasl`: `ssl: true` (the system's CAs) unless a CA or
 * a client certificate is given; the broker's certificate is verified
 * either way (rejectUnauthorized is never turned off).
 */
export function kafkaSecurity(config: Config, tls: TlsFiles = readTlsFiles(config)): Pick<KafkaConfig, 'ssl' | 'sasl'> {
  const sasl = saslOf(config);
  const files = tls.kafka;
  const ssl = files && Object.keys(files).length > 0 ? { ...files, rejectUnauthorized: true } : config.kafka.ssl;
  return { ssl, ...(sasl ? { sasl } : {}) };
}

/**
 * The registry client's arguments: the URL without credentials, basic auth
 * from schema_registry_username/password or from the URL, and an https
 * agent trusting schema_registry_ca_file.
 */
export function registryClientArgs(config: Config, tls: TlsFiles = readTlsFiles(config)): RegistryClientArgs {
  const k = config.kafka;
  const { url, username, password } = splitUrlCredentials(k.schema_registry_url!);
  const user = k.schema_registry_username ?? username;
  const secret = k.schema_registry_password ?? password;
  return {
    host: url,
    ...(user ? { auth: { username: user, password: secret ?? '' } } : {}),
    ...(tls.registryCa ? { agent: new HttpsAgent({ ca: tls.registryCa, rejectUnauthorized: true }) } : {}),
  };
}

/**
 * How to reach ClickHouse, when clickhouse.url is set. Credentials in the
 * URL take precedence over clickhouse.username/password, as they did when
 * the client read them from the URL itself.
 */
export function clickhouseOptions(config: Config, tls: TlsFiles = readTlsFiles(config)): ClickHouseOptions | undefined {
  const c = config.clickhouse;
  if (!c.url) return undefined;
  const { url, username, password } = splitUrlCredentials(c.url);
  return {
    url,
    database: c.database,
    username: username || c.username,
    password: username || password ? (password ?? '') : c.password,
    requestTimeoutMs: c.request_timeout,
    ...(tls.clickhouseCa ? { caCert: tls.clickhouseCa } : {}),
  };
}
