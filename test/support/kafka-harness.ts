/**
 * The Kafka side of an integration test that runs `feedbackloop run`
 * processes: a transport and an admin client for the test's own reads, and at
 * the end every process killed, every producer closed, and the topics and
 * groups of the cases that passed deleted (deleting them earlier upsets
 * kafkajs clients that still track them; a failed case keeps its topics for
 * diagnosis). Call it inside a `describe`: it registers beforeAll/afterAll.
 */
import { logLevel, type Admin } from 'kafkajs';
import { afterAll, beforeAll } from 'vitest';
import { KafkaTransport } from '../../adapters/kafka/transport.js';
import type { LogProducer } from '../../adapters/transport/transport.js';
import { uniqueName } from './collect.js';
import type { JoinerProcess } from './joiner-process.js';
import { requireStack, STACK } from './stack.js';

export interface KafkaHarness {
  transport: KafkaTransport;
  admin: Admin;
  producers: LogProducer[];
  processes: JoinerProcess[];
  passed: Array<{ topics: string[]; groupId: string }>;
}

export function kafkaHarness(clientName: string): KafkaHarness {
  const harness = { producers: [], processes: [], passed: [] } as unknown as KafkaHarness;
  beforeAll(async () => {
    await requireStack('kafka', 'registry');
    harness.transport = new KafkaTransport({ brokers: STACK.brokers, clientId: uniqueName(clientName), kafka: { logLevel: logLevel.NOTHING } });
    harness.admin = harness.transport.kafka.admin();
    await harness.admin.connect();
  });
  afterAll(async () => {
    for (const p of harness.processes) await p.stop('SIGKILL', 5_000).catch(() => {});
    for (const p of harness.producers) await p.close().catch(() => {});
    await harness.transport?.close();
    if (harness.passed.length > 0) {
      await harness.admin.deleteTopics({ topics: harness.passed.flatMap((p) => p.topics) }).catch(() => {});
      await harness.admin.deleteGroups(harness.passed.map((p) => p.groupId)).catch(() => {});
    }
    await harness.admin?.disconnect();
  });
  return harness;
}
