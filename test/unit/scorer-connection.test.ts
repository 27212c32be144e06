/**
 * The scorer library (what upstream apps embed) reaches a secured
 * deployment with the same settings as `run`: Kafka TLS (a CA, mutual TLS)
 * and SASL, the registry's basic auth and CA. A TLS peer is always verified.
 */
import { Agent } from 'node:https';
import { describe, expect, it } from 'vitest';
import { scorerClients } from '../../scorer/index.js';

describe('scorer library connection', () => {
  it('passes Kafka TLS and SASL, and the registry credentials and CA, to the clients', () => {
    const { transport, registry } = scorerClients({
      brokers: ['kafka:9094'],
      schemaRegistryUrl: 'https://registry:8081',
      ssl: { ca: 'CA PEM', cert: 'CERT PEM', key: 'KEY PEM', rejectUnauthorized: false },
      sasl: { mechanism: 'scram-sha-512', username: 'app', password: 'app-secret' },
      schemaRegistry: { username: 'reader', password: 'registry-secret', ca: 'REGISTRY CA PEM' },
    });
    expect(transport).toEqual({
      brokers: ['kafka:9094'],
      clientId: 'feedbackloop-scorer',
      // rejectUnauthorized: false is overridden: an unverified peer is never accepted.
      kafka: { ssl: { ca: 'CA PEM', cert: 'CERT PEM', key: 'KEY PEM', rejectUnauthorized: true }, sasl: { mechanism: 'scram-sha-512', username: 'app', password: 'app-secret' } },
    });
    expect(registry.args.host).toBe('https://registry:8081');
    expect(registry.args.auth).toEqual({ username: 'reader', password: 'registry-secret' });
    const agent = registry.args.agent as Agent;
    expect(agent).toBeInstanceOf(Agent);
    expect(agent.options.ca).toBe('REGISTRY CA PEM');
    expect(agent.options.rejectUnauthorized).toBe(true);
  });

  it('without them: plain connections, as before', () => {
    const { transport, registry } = scorerClients({ brokers: ['b:9092'], schemaRegistryUrl: 'http://r:8081', clientId: 'app' });
    expect(transport).toEqual({ brokers: ['b:9092'], clientId: 'app', kafka: {} });
    expect(registry.args).toEqual({ host: 'http://r:8081' });
  });
});
