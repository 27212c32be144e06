/**
 * Which Kafka errors the transport retries as a passing broker fault
 * (adapters/kafka/errors.ts), and at which level kafkajs's lines about them
 * are logged (adapters/logging).
 */
import { Writable } from 'node:stream';
import { KafkaJSConnectionError, KafkaJSGroupCoordinatorNotFound, KafkaJSNonRetriableError, KafkaJSNumberOfRetriesExceeded, KafkaJSProtocolError, logLevel } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { isBrokerFault, producerFenced, retryBrokerFaults, retryConcurrentTransaction } from '../../adapters/kafka/errors.js';
import { createLogger, kafkaLogCreator } from '../../adapters/logging/index.js';
import { FeedbackloopError, isProducerFenced } from '../../core/errors.js';

const protocolError = (type: string, retriable: boolean) => Object.assign(new KafkaJSProtocolError('broker said no'), { type, retriable });

describe('broker faults', () => {
  it('are what a restarting broker, a moving coordinator or a finishing transaction answer, however kafkajs wraps them', () => {
    const refused = Object.assign(new KafkaJSConnectionError('Connection error: connect ECONNREFUSED 127.0.0.1:9092'), { code: 'ECONNREFUSED' });
    expect(isBrokerFault(refused)).toBe(true);
    expect(isBrokerFault(new KafkaJSNumberOfRetriesExceeded(refused, { retryCount: 5, retryTime: 1000 }))).toBe(true);
    expect(isBrokerFault(new (KafkaJSGroupCoordinatorNotFound as unknown as new (message: string) => Error)('Failed to find group coordinator'))).toBe(true);
    for (const type of ['CONCURRENT_TRANSACTIONS', 'REBALANCE_IN_PROGRESS', 'NOT_COORDINATOR_FOR_GROUP', 'GROUP_LOAD_IN_PROGRESS', 'LEADER_NOT_AVAILABLE']) {
      expect(isBrokerFault(Object.assign(new KafkaJSNonRetriableError(type), { cause: protocolError(type, false) })), type).toBe(true);
    }
    expect(isBrokerFault(new FeedbackloopError('commit failed', { cause: refused }))).toBe(true);
  });

  it('are not a fenced producer, a bad request, or our own errors', () => {
    const fenced = protocolError('INVALID_PRODUCER_EPOCH', false);
    expect(isBrokerFault(fenced)).toBe(false);
    // Fencing wins even when a connection error is also in the chain.
    expect(isBrokerFault(Object.assign(new KafkaJSConnectionError('closed'), { cause: fenced }))).toBe(false);
    expect(isBrokerFault(protocolError('MESSAGE_TOO_LARGE', false))).toBe(false);
    expect(isBrokerFault(new FeedbackloopError('topic x does not exist'))).toBe(false);
    expect(isBrokerFault(new TypeError('x is undefined'))).toBe(false);
    expect(isBrokerFault(undefined)).toBe(false);
  });

  it('a fenced producer, of either client, wherever in the chain, becomes a ProducerFencedError; nothing else does', () => {
    const kafkajs = Object.assign(new KafkaJSNonRetriableError('commit failed'), { cause: protocolError('PRODUCER_FENCED', false) });
    const platformatic = new AggregateError([new Error('network'), Object.assign(new Error('fenced'), { apiId: 'INVALID_PRODUCER_EPOCH' })], 'addPartitionsToTransaction failed 2 times');
    for (const error of [kafkajs, platformatic]) {
      const fenced = producerFenced(error, 'joiner-3');
      expect(fenced?.message).toMatch(/^transactional producer joiner-3 was fenced \((PRODUCER_FENCED|INVALID_PRODUCER_EPOCH)\)/);
      expect(isProducerFenced(new FeedbackloopError('commit failed', { cause: fenced }))).toBe(true);
      expect(fenced?.cause).toBe(error);
    }
    expect(producerFenced(protocolError('CONCURRENT_TRANSACTIONS', true), 'joiner-3')).toBeUndefined();
    expect(producerFenced(new TypeError('x'), 'joiner-3')).toBeUndefined();
    expect(isProducerFenced(protocolError('PRODUCER_FENCED', false))).toBe(false);
  });

  it('are retried a bounded number of times; other errors at once', async () => {
    let calls = 0;
    await expect(retryBrokerFaults(async () => (++calls < 3 ? Promise.reject(protocolError('NOT_COORDINATOR_FOR_GROUP', true)) : 'ok'), 4)).resolves.toBe('ok');
    expect(calls).toBe(3);
    calls = 0;
    await expect(retryBrokerFaults(async () => (++calls, Promise.reject(new Error('bug'))), 4)).rejects.toThrow('bug');
    expect(calls).toBe(1);
  });
});

describe('adding offsets to a transaction', () => {
  it('is repeated while the coordinator still ends the previous transaction, a bounded number of times; nothing else is', async () => {
    const concurrent = () => new FeedbackloopError('commit failed', { cause: protocolError('CONCURRENT_TRANSACTIONS', false) });
    let calls = 0;
    await expect(retryConcurrentTransaction(async () => (++calls < 3 ? Promise.reject(concurrent()) : 'added'))).resolves.toBe('added');
    expect(calls).toBe(3);
    calls = 0;
    await expect(retryConcurrentTransaction(async () => { calls++; throw concurrent(); }, 4)).rejects.toThrow('commit failed');
    expect(calls).toBe(4);
    calls = 0;
    await expect(retryConcurrentTransaction(async () => { calls++; throw protocolError('INVALID_PRODUCER_EPOCH', false); })).rejects.toThrow('broker said no');
    expect(calls).toBe(1);
  });
});

describe("kafkajs's log lines", () => {
  function levels(entries: Array<{ level: logLevel; message: string; error?: unknown }>): number[] {
    const lines: string[] = [];
    const out = new Writable({ write: (chunk, _encoding, done) => (lines.push(String(chunk)), done()) });
    const log = kafkaLogCreator(createLogger('debug', out))(logLevel.DEBUG);
    for (const { level, message, error } of entries) log({ namespace: 'x', level, label: 'ERROR', log: { timestamp: '', message, ...(error ? { error } : {}) } });
    return lines.map((line) => (JSON.parse(line) as { level: number }).level);
  }

  it('about a broker away or loading are warnings; concurrent transactions debug; anything else stays an error', () => {
    expect(
      levels([
        { level: logLevel.ERROR, message: 'Connection error: connect ECONNREFUSED 127.0.0.1:9092' },
        { level: logLevel.ERROR, message: 'Response InitProducerId(key: 22, version: 1)', error: "The coordinator is loading and hence can't process requests for this group" },
        { level: logLevel.ERROR, message: 'Crash: KafkaJSGroupCoordinatorNotFound: Failed to find group coordinator' },
        { level: logLevel.ERROR, message: 'Failed to send messages: The producer attempted to update a transaction while another concurrent operation on the same transaction was ongoing' },
        { level: logLevel.ERROR, message: 'Crash: KafkaJSNonRetriableError: Invalid topic' },
      ]),
    ).toEqual([40, 40, 40, 20, 50]);
  });

  it('a batch handler that threw one of our errors is a warning when a retry can mend it, an error when not', () => {
    const metadata = new FeedbackloopError("cannot read metadata of topic t: Cannot read properties of null (reading 'topicMetadata')", { retriable: true });
    expect(
      levels([
        { level: logLevel.ERROR, message: 'Error when calling eachBatch', error: metadata },
        { level: logLevel.ERROR, message: 'Error when calling eachBatch', error: new FeedbackloopError('labelled example has no model', { retriable: false }) },
        { level: logLevel.ERROR, message: 'Error when calling eachBatch', error: Object.assign(new Error('not ours'), { retriable: true }) },
      ]),
    ).toEqual([40, 50, 50]);
  });
});
