import { logLevel } from 'kafkajs';
import { KafkaTransport } from '../../adapters/kafka/transport.js';
import { describeTransportContract } from '../contract/transport-contract.js';
import { requireStack, STACK } from '../support/stack.js';

describeTransportContract(
  'Kafka',
  async () => {
    await requireStack('kafka');
    return new KafkaTransport({ brokers: STACK.brokers, clientId: 'contract-test', sessionTimeoutMs: 6000, heartbeatIntervalMs: 500, kafka: { logLevel: logLevel.NOTHING } });
  },
  { quietMs: 3000 },
);
