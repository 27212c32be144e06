/**
 * The Kafka clients and the clean-up of an integration suite that runs
 * `feedbackloop run` children (JoinerProcess) on the stack: a transport and
 * an admin client made before the tests, every child SIGKILLed after them,
 * and the topics and group of each passed test deleted (a failed test keeps
 * them for diagnosis).
 */
import { logLevel, type Admin } from 'kafkajs';
import { afterAll, beforeAll } from 'vitest';
import { KafkaTransport } from '../../adapters/kafka/transport.js';
import { uniqueName } from './collect.js';
import type { JoinerProcess } from './joiner-process.js';
import { requireStack, STACK } from './stack.js';

export interface ChildSuite {
  transport: KafkaTransport;
  admin: Admin;
  /** Children to kill at the end. */
  processes: JoinerProcess[];
  /** Topics and group of each passed test, deleted at the end. */
  passed: Array<{ topics: string[]; groupId: string }>;
}

/** Registers the suite's beforeAll and afterAll; the clients are set once beforeAll ran. */
export function childSuite(clientPrefix: string): ChildSuite {
  const suite = { processes: [], passed: [] } as unknown as ChildSuite;
  beforeAll(async () => {
    await requireStack('kafka', 'registry');
    suite.transport = new KafkaTransport({ brokers: STACK.brokers, clientId: uniqueName(clientPrefix), kafka: { logLevel: logLevel.NOTHING } });
    suite.admin = suite.transport.kafka.admin();
    await suite.admin.connect();
  });
  afterAll(async () => {
    const { transport, admin, processes, passed } = suite;
    for (const p of processes) await p.stop('SIGKILL', 5_000).catch(() => {});
    await transport?.close();
    if (passed.length > 0) {
      await admin.deleteTopics({ topics: passed.flatMap((p) => p.topics) }).catch(() => {});
      await admin.deleteGroups(passed.map((p) => p.groupId)).catch(() => {});
    }
    await admin?.disconnect();
  });
  return suite;
}
