/**
 * The certificate and key files the config names, read and checked: a
 * missing, unreadable or malformed file, an encrypted key without its
 * passphrase (or with a wrong one) and a key that is not the certificate's
 * are ConfigErrors naming the key, at start rather than at the first TLS
 * handshake (where kafkajs would retry them as broker faults). Contents and
 * passphrases never appear in a message.
 */
import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ConfigError } from '../../core/errors.js';
import type { Config } from './spec.js';

/** Kafka's TLS material, as kafkajs's `ssl` option takes it (with kafka.ssl; each part optional). */
export interface KafkaTlsFiles {
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  passphrase?: string;
}

export interface TlsFiles {
  /** Undefined without kafka.ssl. */
  kafka: KafkaTlsFiles | undefined;
  registryCa: Buffer | undefined;
  clickhouseCa: Buffer | undefined;
}

function readFile(key: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    throw new ConfigError(key, `cannot read ${path}: ${(error as Error).message}`);
  }
}

/** A PEM file of one or more certificates (the first is parsed: a file that is not PEM at all fails here). */
export function readCertificate(key: string, path: string): Buffer {
  const pem = readFile(key, path);
  try {
    new X509Certificate(pem);
  } catch {
    throw new ConfigError(key, `${path} is not a PEM certificate (-----BEGIN CERTIFICATE-----)`);
  }
  return pem;
}

/** A PEM private key, decrypted with the passphrase to prove it is the right one. */
function readPrivateKey(key: string, path: string, passphrase: string | undefined): { pem: Buffer; key: KeyObject } {
  const pem = readFile(key, path);
  // PKCS#8 (ENCRYPTED PRIVATE KEY) and the traditional form (Proc-Type: 4,ENCRYPTED); OpenSSL's own error for a missing passphrase says nothing.
  if (passphrase === undefined && /ENCRYPTED/.test(pem.toString('latin1'))) throw new ConfigError(key, `${path} is encrypted: set kafka.ssl_key_password`);
  try {
    return { pem, key: createPrivateKey(passphrase === undefined ? { key: pem } : { key: pem, passphrase }) };
  } catch {
    if (passphrase !== undefined) throw new ConfigError('kafka.ssl_key_password', `does not decrypt ${path} (or it is not a PEM private key)`);
    throw new ConfigError(key, `${path} is not a PEM private key`);
  }
}

function readKafkaTls(k: Config['kafka']): KafkaTlsFiles | undefined {
  if (!k.ssl) return undefined;
  const files: KafkaTlsFiles = {};
  if (k.ssl_ca_file) files.ca = readCertificate('kafka.ssl_ca_file', k.ssl_ca_file);
  if (k.ssl_cert_file && k.ssl_key_file) {
    const cert = readCertificate('kafka.ssl_cert_file', k.ssl_cert_file);
    const key = readPrivateKey('kafka.ssl_key_file', k.ssl_key_file, k.ssl_key_password ?? undefined);
    if (!new X509Certificate(cert).checkPrivateKey(key.key)) {
      throw new ConfigError('kafka.ssl_key_file', `${k.ssl_key_file} is not the key of the certificate in ${k.ssl_cert_file}`);
    }
    files.cert = cert;
    files.key = key.pem;
    if (k.ssl_key_password) files.passphrase = k.ssl_key_password;
  }
  return files;
}

/** Reads every file the config names (none: nothing is read). */
export function readTlsFiles(config: Config): TlsFiles {
  const registry = config.kafka.schema_registry_ca_file;
  const clickhouse = config.clickhouse.ca_file;
  return {
    kafka: readKafkaTls(config.kafka),
    registryCa: registry ? readCertificate('kafka.schema_registry_ca_file', registry) : undefined,
    clickhouseCa: clickhouse ? readCertificate('clickhouse.ca_file', clickhouse) : undefined,
  };
}
