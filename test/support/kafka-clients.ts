/**
 * The Kafka clients an integration test file talks to the stack with: a
 * KafkaTransport and a connected admin, opened in the file's beforeAll
 * (after requireStack) and closed in its afterAll, after the file has
 * stopped its own processes.
 */
import { logLevel, type Admin } from 'kafkajs';
import { KafkaTransport } from '../../adapters/kafka/transport.js';
import { uniqueName } from './collect.js';
import { requireStack, STACK } from './stack.js';

export interface StackClients {
  transport: KafkaTransport;
  admin: Admin;
}

/** Checks Kafka and the registry are up, then opens a transport (client id `<name>-<unique>`) and its admin. */
export async function openStackClients(name: string, options: { maxWaitTimeMs?: number } = {}): Promise<StackClients> {
  await requireStack('kafka', 'registry');
  const transport = new KafkaTransport({ brokers: STACK.brokers, clientId: uniqueName(name), ...options, kafka: { logLevel: logLevel.NOTHING } });
  const admin = transport.kafka.admin();
  await admin.connect();
  return { transport, admin };
}

/** Closes what openStackClients opened (either may be missing when beforeAll failed early). */
export async function closeStackClients(clients: Partial<StackClients>): Promise<void> {
  await clients.admin?.disconnect().catch(() => {});
  await clients.transport?.close();
}
