/**
 * The log-interface contract and the Kafka specifics (test/contract) against
 * Kafka through kafkajs (adapters/kafka/transport.ts), the default client.
 */
import { logLevel } from 'kafkajs';
import { KafkaTransport } from '../../adapters/kafka/transport.js';
import { describeKafkaSpecifics } from '../contract/kafka-specifics.js';
import { describeTransportContract } from '../contract/transport-contract.js';
import { requireStack, STACK } from '../support/stack.js';

const CLIENT_ID = 'contract-test';

// Short session and fetch waits so that groups form and rebalance in about a second.
const makeTransport = () =>
  new KafkaTransport({
    brokers: STACK.brokers,
    clientId: CLIENT_ID,
    sessionTimeoutMs: 6000,
    heartbeatIntervalMs: 500,
    maxWaitTimeMs: 500,
    kafka: { logLevel: logLevel.NOTHING },
  });

describeTransportContract(
  'Kafka',
  async () => {
    await requireStack('kafka');
    return makeTransport();
  },
  { quietMs: 3000 },
);

describeKafkaSpecifics('kafkajs', CLIENT_ID, makeTransport);
