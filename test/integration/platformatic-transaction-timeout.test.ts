/**
 * @platformatic/kafka sends a producer's request timeout (5 s by default) as
 * the transaction timeout of InitProducerId, so a transactional producer left
 * at the library's default has every transaction that stays open past about
 * 5 s aborted by the broker (its check runs every 10 s) and is fenced at its
 * next request. That is how `run` on kafka.client: platformatic exited 1 after
 * a 60 s broker outage ("addPartitionsToTransaction failed 2 times": a network
 * error, then the fence). producerOptions gives a transactional producer
 * kafka.transaction_timeout (60 s by default) instead.
 *
 * Asserted on the real broker, both at once: a transaction held open 16 s
 * commits with our options, and fails with PRODUCER_FENCED with the library's
 * defaults (the control: without it the first case would prove nothing).
 */
import { Admin, Producer } from '@platformatic/kafka';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { producerOptions } from '../../adapters/kafka/platformatic-transport.js';
import { closeForced } from '../../adapters/kafka/platformatic/close.js';
import { uniqueName } from '../support/collect.js';
import { requireStack, STACK } from '../support/stack.js';

/** Past the 5 s default and the broker's 10 s check for timed-out transactions. */
const HOLD_MS = 16_000;

/** Begins a transaction, sends one record, holds it open, then commits: the commit's error, or undefined. */
async function holdOpen(producer: Producer, topic: string): Promise<unknown> {
  try {
    const transaction = await producer.beginTransaction({ producerId: -1n, producerEpoch: -1 });
    await transaction.send({ messages: [{ topic, key: Buffer.from('k'), value: Buffer.from('v') }] });
    await new Promise((resolve) => setTimeout(resolve, HOLD_MS));
    await transaction.commit();
    return undefined;
  } catch (error) {
    return error;
  } finally {
    await closeForced(producer).catch(() => {});
  }
}

/** The protocol error names in an error, its causes and the errors it aggregates. */
function apiIds(error: unknown): string[] {
  const out: string[] = [];
  const queue = [error];
  while (queue.length > 0 && out.length < 50) {
    const e = queue.shift() as { apiId?: unknown; errors?: unknown; cause?: unknown } | undefined;
    if (!e || typeof e !== 'object') continue;
    if (typeof e.apiId === 'string') out.push(e.apiId);
    if (Array.isArray(e.errors)) for (const inner of e.errors) queue.push(inner);
    queue.push(e.cause);
  }
  return out;
}

describe('@platformatic/kafka: the transaction timeout', () => {
  const topic = uniqueName('txn-timeout');
  let admin: Admin;

  beforeAll(async () => {
    await requireStack('kafka');
    admin = new Admin({ clientId: 'txn-timeout-test', bootstrapBrokers: STACK.brokers });
    await admin.createTopics({ topics: [topic], partitions: 1, replicas: 1 });
  });

  afterAll(async () => {
    await admin?.deleteTopics({ topics: [topic] }).catch(() => {});
    await admin?.close();
  });

  it(`a transaction held open ${HOLD_MS / 1000} s commits with kafka.transaction_timeout; with the library's default it is fenced`, async () => {
    const ours = new Producer(producerOptions({ brokers: STACK.brokers, clientId: 'txn-timeout-test' }, uniqueName('txn-ours')));
    const libraryDefault = new Producer({ clientId: 'txn-timeout-test', bootstrapBrokers: STACK.brokers, idempotent: true, transactionalId: uniqueName('txn-default') });
    const [oursError, defaultError] = await Promise.all([holdOpen(ours, topic), holdOpen(libraryDefault, topic)]);
    expect(oursError).toBeUndefined();
    expect(apiIds(defaultError)).toContain('PRODUCER_FENCED');
  }, 60_000);

  it('takes kafka.transaction_timeout as the transactional producer\'s timeout, and leaves a plain producer at the library\'s', () => {
    expect(producerOptions({ brokers: ['b:9092'], clientId: 'c', transactionTimeoutMs: 120_000 }, 'id')).toMatchObject({ transactionalId: 'id', timeout: 120_000 });
    expect(producerOptions({ brokers: ['b:9092'], clientId: 'c' }, 'id')).toMatchObject({ timeout: 60_000 });
    expect(producerOptions({ brokers: ['b:9092'], clientId: 'c', transactionTimeoutMs: 120_000 })).not.toHaveProperty('timeout');
  });
});
