/**
 * The log-interface contract and the Kafka specifics (test/contract) against
 * Kafka through @platformatic/kafka (adapters/kafka/platformatic-transport.ts,
 * `kafka.client: platformatic`).
 */
import { PlatformaticTransport } from '../../adapters/kafka/platformatic-transport.js';
import { describeKafkaSpecifics } from '../contract/kafka-specifics.js';
import { describeTransportContract } from '../contract/transport-contract.js';
import { requireStack, STACK } from '../support/stack.js';

const CLIENT_ID = 'contract-test-platformatic';

const makeTransport = () =>
  new PlatformaticTransport({ brokers: STACK.brokers, clientId: CLIENT_ID, sessionTimeoutMs: 6000, heartbeatIntervalMs: 500, maxWaitTimeMs: 500 });

describeTransportContract(
  'Kafka (@platformatic/kafka)',
  async () => {
    await requireStack('kafka');
    return makeTransport();
  },
  { quietMs: 3000 },
);

describeKafkaSpecifics('@platformatic/kafka', CLIENT_ID, makeTransport);
