/**
 * The secured broker of the least-privilege test: SASL/SCRAM-SHA-512 and
 * ACLs (scripts/stack/kafka-secure.sh), started on demand, with `admin` as
 * its super user; and granting a user exactly the ACLs runtime/acls.ts lists.
 * Its SASL_SSL listener (the encrypted end-to-end test) has a certificate
 * from a CA made here, written to its folder before it starts.
 */
import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { AclOperationTypes, AclPermissionTypes, AclResourceTypes, logLevel, ResourcePatternTypes, type Admin } from 'kafkajs';
import { tcpReachable } from '../../adapters/kafka/reachable.js';
import { KafkaTransport } from '../../adapters/kafka/transport.js';
import type { TopicSpec } from '../../adapters/transport/transport.js';
import type { AclOperation, AclResourceType, KafkaAcl } from '../../runtime/acls.js';
import { uniqueName } from './collect.js';
import { makeCa, makeSigned, SERVER_EXTENSIONS } from './tls-fixtures.js';

const ROOT = join(import.meta.dirname, '..', '..');
const SCRIPT = join(ROOT, 'scripts', 'stack', 'kafka-secure.sh');
/** Where kafka-secure.sh looks for the TLS listener's certificate (broker.pem) and CA (ca.pem). */
const TLS_DIR = join(ROOT, '.stack', 'kafka-secure', 'tls');
const run = promisify(execFile);

/** What the script wrote to .stack/kafka-secure/env, else its defaults. */
function secureEnv(): Record<string, string> {
  const file = join(ROOT, '.stack', 'kafka-secure', 'env');
  const out: Record<string, string> = {};
  if (existsSync(file)) {
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      const match = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
      if (match) out[match[1]!] = match[2]!;
    }
  }
  return out;
}

export function secureKafka(): { brokers: string[]; adminPassword: string } {
  const env = secureEnv();
  return {
    brokers: (env.FEEDBACKLOOP_SECURE_KAFKA_BROKERS ?? '127.0.0.1:19092').split(','),
    adminPassword: env.FEEDBACKLOOP_SECURE_KAFKA_ADMIN_PASSWORD ?? 'admin-secret',
  };
}

async function script(args: string[], timeoutMs: number): Promise<string> {
  try {
    return (await run('bash', [SCRIPT, ...args], { timeout: timeoutMs })).stdout;
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string; message: string };
    throw new Error(`scripts/stack/kafka-secure.sh ${args[0]} failed: ${e.message}\n${e.stdout ?? ''}${e.stderr ?? ''}`);
  }
}

async function running(): Promise<boolean> {
  return script(['status'], 10_000).then(() => true, () => false);
}

/** Starts the secured broker unless it runs; true if this call started it (so the caller stops it). */
export async function startSecureKafka(): Promise<boolean> {
  const wasRunning = await running();
  await script(['start'], 180_000);
  return !wasRunning;
}

/** The SASL_SSL listener: its bootstrap address and the CA that signed its certificate (and its key, to sign other servers'). */
export interface SecureKafkaTls {
  brokers: string[];
  caFile: string;
  caKeyFile: string;
}

/**
 * A fresh CA (ca.pem, ca.key) and the broker's certificate for 127.0.0.1,
 * written where kafka-secure.sh looks: broker.pem holds the key (PKCS#8,
 * unencrypted: Kafka's PEM key store takes no password for it) then the
 * certificate chain.
 */
function writeBrokerTls(): void {
  rmSync(TLS_DIR, { recursive: true, force: true });
  mkdirSync(TLS_DIR, { recursive: true, mode: 0o700 });
  makeCa(TLS_DIR, 'ca');
  makeSigned(TLS_DIR, 'broker-cert', '127.0.0.1', SERVER_EXTENSIONS);
  const read = (name: string) => readFileSync(join(TLS_DIR, name), 'utf8');
  writeFileSync(join(TLS_DIR, 'broker.pem'), read('broker-cert.key') + read('broker-cert.pem') + read('ca.pem'), { mode: 0o600 });
}

/** The TLS listener's address, as the script wrote it (else its default). */
function tlsBrokers(): string[] {
  return (secureEnv().FEEDBACKLOOP_SECURE_KAFKA_TLS_BROKERS ?? '127.0.0.1:19094').split(',');
}

/**
 * Starts the secured broker with its SASL_SSL listener unless it runs with
 * it. A broker found running without it (started before its certificate
 * existed) is restarted: integration files run one at a time, nothing else
 * uses it now. A broker found running with it keeps its CA (made by an
 * earlier run of this function). `started`: the caller stops it after.
 */
export async function startSecureKafkaTls(): Promise<{ started: boolean; tls: SecureKafkaTls }> {
  const wasRunning = await running();
  const listening = wasRunning && existsSync(join(TLS_DIR, 'broker.pem')) && (await tcpReachable(tlsBrokers()[0]!));
  if (!listening) {
    if (wasRunning) await stopSecureKafka();
    writeBrokerTls();
    await script(['start'], 180_000);
  }
  if (!(await tcpReachable(tlsBrokers()[0]!))) throw new Error(`the secured broker has no TLS listener at ${tlsBrokers()[0]} after its start`);
  return { started: !wasRunning, tls: { brokers: tlsBrokers(), caFile: join(TLS_DIR, 'ca.pem'), caKeyFile: join(TLS_DIR, 'ca.key') } };
}

/** A certificate for 127.0.0.1 signed by the broker's CA, for the test's own TLS servers, in `dir`: `server.pem`, `server.key`. */
export function signServerCertificate(tls: SecureKafkaTls, dir: string): { certFile: string; keyFile: string } {
  copyFileSync(tls.caFile, join(dir, 'ca.pem'));
  copyFileSync(tls.caKeyFile, join(dir, 'ca.key'));
  makeSigned(dir, 'server', '127.0.0.1', SERVER_EXTENSIONS);
  rmSync(join(dir, 'ca.key'));
  return { certFile: join(dir, 'server.pem'), keyFile: join(dir, 'server.key') };
}

export async function stopSecureKafka(): Promise<void> {
  await script(['stop'], 60_000);
}

/**
 * Creates a SCRAM-SHA-512 user (it may do nothing until ACLs allow it), and
 * waits until it can authenticate: the tool returns once the controller has
 * the credential, the broker learns it a moment later (a client at once can be
 * refused, on a broker just started above all). Tried over its TLS listener with `tls`.
 */
export async function createUser(name: string, password: string, tls?: SecureKafkaTls): Promise<void> {
  await script(['user', name, password], 90_000);
  const deadline = Date.now() + 30_000;
  for (;;) {
    const admin = secureTransport(name, password, 'acl-test-user', tls).kafka.admin();
    try {
      await admin.connect();
      return;
    } catch (error) {
      if (Date.now() > deadline) throw new Error(`user ${name} cannot authenticate 30 s after its creation: ${(error as Error).message}`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    } finally {
      await admin.disconnect().catch(() => {});
    }
  }
}

/** A transport that authenticates as `username` on the secured broker (over its TLS listener with `tls`). */
export function secureTransport(username: string, password: string, name = 'acl-test', tls?: SecureKafkaTls): KafkaTransport {
  return new KafkaTransport({
    brokers: tls ? tls.brokers : secureKafka().brokers,
    clientId: uniqueName(name),
    kafka: {
      logLevel: logLevel.NOTHING,
      sasl: { mechanism: 'scram-sha-512', username, password },
      ...(tls ? { ssl: { ca: readFileSync(tls.caFile), rejectUnauthorized: true } } : {}),
    },
  });
}

export function adminTransport(tls?: SecureKafkaTls): KafkaTransport {
  return secureTransport('admin', secureKafka().adminPassword, 'acl-test-admin', tls);
}

/**
 * `transport.ensureTopics`, retried for up to 30 s: a broker just started
 * (still loading the partitions earlier tests left) creates the topics, but
 * the metadata kafkajs then reads to wait for their leaders answers
 * UNKNOWN_TOPIC_OR_PARTITION for a while (kafkajs retries only
 * LEADER_NOT_AVAILABLE there).
 */
export async function ensureTopics(transport: KafkaTransport, specs: TopicSpec[]): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      return await transport.ensureTopics(specs);
    } catch (error) {
      if (Date.now() > deadline || (error as { type?: string }).type !== 'UNKNOWN_TOPIC_OR_PARTITION') throw error;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
}

const RESOURCE: Record<AclResourceType, AclResourceTypes> = {
  TOPIC: AclResourceTypes.TOPIC,
  GROUP: AclResourceTypes.GROUP,
  TRANSACTIONAL_ID: AclResourceTypes.TRANSACTIONAL_ID,
  CLUSTER: AclResourceTypes.CLUSTER,
};
const OPERATION: Record<AclOperation, AclOperationTypes> = {
  READ: AclOperationTypes.READ,
  WRITE: AclOperationTypes.WRITE,
  DESCRIBE: AclOperationTypes.DESCRIBE,
  DELETE: AclOperationTypes.DELETE,
  CREATE: AclOperationTypes.CREATE,
};

/** Grants `acls` to `User:<user>` from any host, one ACL binding per operation. */
export async function grantAcls(admin: Admin, user: string, acls: readonly KafkaAcl[]): Promise<void> {
  await admin.createAcls({
    acl: acls.flatMap((acl) =>
      acl.operations.map((op) => ({
        resourceType: RESOURCE[acl.resourceType],
        resourceName: acl.resourceType === 'CLUSTER' ? 'kafka-cluster' : acl.name,
        resourcePatternType: acl.patternType === 'PREFIXED' ? ResourcePatternTypes.PREFIXED : ResourcePatternTypes.LITERAL,
        principal: `User:${user}`,
        host: '*',
        operation: OPERATION[op],
        permissionType: AclPermissionTypes.ALLOW,
      })),
    ),
  });
}
