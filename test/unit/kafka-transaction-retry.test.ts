/**
 * A transactional producer's sends are retried by kafkajs after 20 ms (not its
 * default 300 ms): right after a commit, the next transaction's first send is
 * refused with CONCURRENT_TRANSACTIONS while the coordinator writes the
 * markers, and waiting 300 ms for each of those cost a third of a joiner's
 * backlog drain (adapters/kafka/transport.ts, TRANSACTIONAL_SEND_RETRY).
 */
import { describe, expect, it } from 'vitest';
import type { ProducerConfig } from 'kafkajs';
import { KafkaTransport, TRANSACTIONAL_SEND_RETRY } from '../../adapters/kafka/transport.js';

describe('the Kafka transport: a transactional producer', () => {
  it('retries its sends from 20 ms up, without limit (as an idempotent producer does by default)', async () => {
    const transport = new KafkaTransport({ brokers: ['127.0.0.1:1'], clientId: 'retry-test' });
    const configs: ProducerConfig[] = [];
    const calls: string[] = [];
    // No broker: kafkajs's producer is replaced by one that records what it is asked.
    (transport.kafka as { producer: (config: ProducerConfig) => unknown }).producer = (config: ProducerConfig) => {
      configs.push(config);
      return {
        connect: async () => void calls.push('connect'),
        transaction: async () => ({ abort: async () => void calls.push('abort') }),
        disconnect: async () => void calls.push('disconnect'),
      };
    };
    const producer = await transport.transactionalProducer('t-0');
    expect(configs).toHaveLength(1);
    expect(configs[0]).toMatchObject({ transactionalId: 't-0', idempotent: true, maxInFlightRequests: 1 });
    expect(configs[0]!.retry).toEqual({ initialRetryTime: 20, retries: Number.MAX_SAFE_INTEGER });
    expect(configs[0]!.retry).toBe(TRANSACTIONAL_SEND_RETRY);
    // Creating it fenced the id with an empty transaction, aborted.
    expect(calls).toEqual(['connect', 'abort']);
    await producer.close();
    expect(calls).toEqual(['connect', 'abort', 'disconnect']);
  });
});
