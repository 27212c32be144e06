/**
 * Kafka refusing a request for want of an ACL (adapters/kafka/authorization.ts):
 * never a broker fault to wait out, and found also where kafkajs loses it
 * (a refused FindCoordinator comes out as "Failed to find group coordinator";
 * only its log line of the response says why).
 */
import { KafkaJSAggregateError, KafkaJSGroupCoordinatorNotFound, KafkaJSProtocolError, type LogEntry, logLevel } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { AuthorizationLog, KafkaAuthorizationError, partitionsNotAttempted, refusalOf } from '../../adapters/kafka/authorization.js';
import { isBrokerFault } from '../../adapters/kafka/errors.js';

const protocolError = (type: string) => Object.assign(new KafkaJSProtocolError('broker said no'), { type, retriable: false });
const coordinatorNotFound = () => new (KafkaJSGroupCoordinatorNotFound as unknown as new (message: string) => Error)('Failed to find group coordinator');
const responseLine = (error: string): LogEntry => ({
  namespace: 'Connection',
  level: logLevel.ERROR,
  label: 'ERROR',
  log: { timestamp: '', logger: 'kafkajs', message: 'Response GroupCoordinator(key: 10, version: 2)', error } as LogEntry['log'],
});

describe('Kafka authorization refusals', () => {
  it('are found in the error, its causes and what it aggregates, and are never a broker fault', () => {
    expect(refusalOf(protocolError('TOPIC_AUTHORIZATION_FAILED'))).toBe('TOPIC_AUTHORIZATION_FAILED');
    const aggregate = new (KafkaJSAggregateError as unknown as new (message: string, errors: Error[]) => Error)('Topic creation errors', [protocolError('TOPIC_AUTHORIZATION_FAILED')]);
    expect(refusalOf(aggregate)).toBe('TOPIC_AUTHORIZATION_FAILED');
    const ours = new KafkaAuthorizationError('TRANSACTIONAL_ID_AUTHORIZATION_FAILED', 'the transactional id x-0', 'grant this user WRITE on TRANSACTIONAL_ID x-0', coordinatorNotFound());
    expect(refusalOf(new Error('commit failed', { cause: ours }))).toBe('TRANSACTIONAL_ID_AUTHORIZATION_FAILED');
    expect(isBrokerFault(ours)).toBe(false);
    expect(isBrokerFault(protocolError('GROUP_AUTHORIZATION_FAILED'))).toBe(false);
    expect(ours.systemic).toBe(true);
    expect(ours.retriable).toBe(false);
    expect(ours.message).toBe('Kafka refused the transactional id x-0 (TRANSACTIONAL_ID_AUTHORIZATION_FAILED): grant this user WRITE on TRANSACTIONAL_ID x-0 (`feedbackloop acls` lists every ACL run needs)');
    expect(refusalOf(protocolError('NOT_COORDINATOR_FOR_GROUP'))).toBeUndefined();
    expect(partitionsNotAttempted(protocolError('OPERATION_NOT_ATTEMPTED'))).toBe(true);
  });

  it('explain a coordinator not found only right after kafkajs logged one of the asked refusals', () => {
    const lines: LogEntry[] = [];
    const authorizations = new AuthorizationLog();
    const log = authorizations.wrap(() => (entry) => lines.push(entry))(logLevel.ERROR);
    expect(authorizations.explain(coordinatorNotFound(), ['TRANSACTIONAL_ID_AUTHORIZATION_FAILED'])).toBeUndefined();
    log(responseLine('Transactional Id authorization failed'));
    expect(lines).toHaveLength(1); // still logged
    expect(authorizations.explain(coordinatorNotFound(), ['TRANSACTIONAL_ID_AUTHORIZATION_FAILED'])).toBe('TRANSACTIONAL_ID_AUTHORIZATION_FAILED');
    // Not a refusal of the kind the caller could have met, nor another error than a coordinator not found.
    expect(authorizations.explain(coordinatorNotFound(), ['GROUP_AUTHORIZATION_FAILED'])).toBeUndefined();
    expect(authorizations.explain(protocolError('NOT_COORDINATOR_FOR_GROUP'), ['TRANSACTIONAL_ID_AUTHORIZATION_FAILED'])).toBeUndefined();
    // Ten seconds later it is a broker fault again (a restart looks the same).
    expect(authorizations.recent(['TRANSACTIONAL_ID_AUTHORIZATION_FAILED'], Date.now() + 10_001)).toBeUndefined();
  });
});
