/**
 * The secured broker of the least-privilege test: SASL/SCRAM-SHA-512 and
 * ACLs (scripts/stack/kafka-secure.sh), started on demand, with `admin` as
 * its super user; and granting a user exactly the ACLs runtime/acls.ts lists.
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { AclOperationTypes, AclPermissionTypes, AclResourceTypes, logLevel, ResourcePatternTypes, type Admin } from 'kafkajs';
import { KafkaTransport } from '../../adapters/kafka/transport.js';
import type { AclOperation, AclResourceType, KafkaAcl } from '../../runtime/acls.js';
import { uniqueName } from './collect.js';

const ROOT = join(import.meta.dirname, '..', '..');
const SCRIPT = join(ROOT, 'scripts', 'stack', 'kafka-secure.sh');
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

/** Starts the secured broker unless it runs; true if this call started it (so the caller stops it). */
export async function startSecureKafka(): Promise<boolean> {
  const running = await script(['status'], 10_000).then(() => true, () => false);
  await script(['start'], 180_000);
  return !running;
}

export async function stopSecureKafka(): Promise<void> {
  await script(['stop'], 60_000);
}

/** Creates a SCRAM-SHA-512 user (it may do nothing until ACLs allow it). */
export async function createUser(name: string, password: string): Promise<void> {
  await script(['user', name, password], 90_000);
}

/** A transport that authenticates as `username` on the secured broker. */
export function secureTransport(username: string, password: string, name = 'acl-test'): KafkaTransport {
  return new KafkaTransport({
    brokers: secureKafka().brokers,
    clientId: uniqueName(name),
    kafka: { logLevel: logLevel.NOTHING, sasl: { mechanism: 'scram-sha-512', username, password } },
  });
}

export function adminTransport(): KafkaTransport {
  return secureTransport('admin', secureKafka().adminPassword, 'acl-test-admin');
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
