/**
 * Which Kafka errors are a broker fault that passes: the broker restarting, a
 * leader or coordinator moving or loading, a transaction still being
 * finished. kafkajs flags several of them non-retriable (a group coordinator
 * it cannot find, CONCURRENT_TRANSACTIONS and REBALANCE_IN_PROGRESS per the
 * protocol table, its own "retries exceeded" wrapper), and then neither its
 * consumer restarts nor our consumer re-delivers: `run` ended on a broker
 * restart. These are retried instead, for as long as they last.
 */
import { ProducerFencedError } from '../../core/errors.js';
import { refusalOf } from './authorization.js';

/** kafkajs error classes that mean "the broker or the network is not there (yet)". */
const TRANSIENT_NAMES = new Set([
  'KafkaJSConnectionError',
  'KafkaJSConnectionClosedError',
  'KafkaJSRequestTimeoutError',
  'KafkaJSBrokerNotFound',
  'KafkaJSGroupCoordinatorNotFound',
  'KafkaJSNoBrokerAvailableError',
  'KafkaJSMetadataNotLoaded',
  'KafkaJSTopicMetadataNotLoaded',
  'KafkaJSStaleTopicMetadataAssignment',
  'KafkaJSLockTimeout',
  // kafkajs gave up retrying an error it deemed retriable.
  'KafkaJSNumberOfRetriesExceeded',
]);

/** Protocol error types a broker answers while it starts, moves a leader or coordinator, or finishes a transaction. */
const TRANSIENT_TYPES = new Set([
  'LEADER_NOT_AVAILABLE',
  'NOT_LEADER_FOR_PARTITION',
  'NOT_LEADER_OR_FOLLOWER',
  'REQUEST_TIMED_OUT',
  'BROKER_NOT_AVAILABLE',
  'REPLICA_NOT_AVAILABLE',
  'NETWORK_EXCEPTION',
  'GROUP_LOAD_IN_PROGRESS',
  'GROUP_COORDINATOR_NOT_AVAILABLE',
  'NOT_COORDINATOR_FOR_GROUP',
  'NOT_COORDINATOR',
  'COORDINATOR_NOT_AVAILABLE',
  'COORDINATOR_LOAD_IN_PROGRESS',
  'NOT_ENOUGH_REPLICAS',
  'NOT_ENOUGH_REPLICAS_AFTER_APPEND',
  'REBALANCE_IN_PROGRESS',
  'CONCURRENT_TRANSACTIONS',
  'KAFKA_STORAGE_ERROR',
  'FENCED_LEADER_EPOCH',
  'UNKNOWN_LEADER_EPOCH',
  'OFFSET_NOT_AVAILABLE',
  'PREFERRED_LEADER_NOT_AVAILABLE',
  'UNSTABLE_OFFSET_COMMIT',
]);

/** Socket errors of a broker that is down or restarting. */
const TRANSIENT_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH']);

/** Fencing means another owner took over: never a fault that passes, wherever it appears in the chain. */
const FENCED_TYPES = new Set(['INVALID_PRODUCER_EPOCH', 'PRODUCER_FENCED', 'TRANSACTION_COORDINATOR_FENCED', 'FENCED_INSTANCE_ID']);

/** A transactional producer's epoch is stale: a newer producer took its id, or the broker aborted its timed-out transaction. */
const PRODUCER_FENCED_TYPES = new Set(['INVALID_PRODUCER_EPOCH', 'PRODUCER_FENCED']);

/** @platformatic/kafka error codes of a broker that is down, restarting or slow to answer. */
const TRANSIENT_PLATFORMATIC_CODES = new Set(['PLT_KFK_NETWORK', 'PLT_KFK_TIMEOUT']);

interface ErrorLike {
  name?: unknown;
  /** kafkajs: the protocol error's name. */
  type?: unknown;
  /** @platformatic/kafka: the protocol error's name. */
  apiId?: unknown;
  code?: unknown;
  cause?: unknown;
  /** @platformatic/kafka's MultipleErrors (an AggregateError): the errors of every attempt or broker. */
  errors?: unknown;
}

const MAX_CHAIN = 20;

/**
 * The error, its causes and the errors it aggregates, outermost first
 * (bounded: a cause chain could loop).
 */
function chain(error: unknown): ErrorLike[] {
  const out: ErrorLike[] = [];
  const queue: unknown[] = [error];
  while (queue.length > 0 && out.length < MAX_CHAIN) {
    const e = queue.shift();
    if (typeof e !== 'object' || e === null || out.includes(e as ErrorLike)) continue;
    out.push(e as ErrorLike);
    queue.push((e as ErrorLike).cause);
    if (Array.isArray((e as ErrorLike).errors)) for (const inner of (e as ErrorLike).errors as unknown[]) queue.push(inner);
  }
  return out;
}

const protocolName = (e: ErrorLike) => String(e.type ?? e.apiId);

/** Is `error` (or what caused it) a broker fault that passes with time: retry, keep the group and the process. */
export function isBrokerFault(error: unknown): boolean {
  // A refusal for want of an ACL lasts until someone grants it (kafkajs may report it as a coordinator not found).
  if (refusalOf(error)) return false;
  const errors = chain(error);
  if (errors.some((e) => FENCED_TYPES.has(protocolName(e)))) return false;
  return errors.some(
    (e) =>
      TRANSIENT_NAMES.has(String(e.name)) ||
      TRANSIENT_TYPES.has(protocolName(e)) ||
      TRANSIENT_CODES.has(String(e.code)) ||
      TRANSIENT_PLATFORMATIC_CODES.has(String(e.code)),
  );
}

/**
 * A failed transaction of `transactionalId` as a ProducerFencedError when its
 * producer was fenced (either client's error, wherever in the chain), else
 * undefined.
 */
export function producerFenced(error: unknown, transactionalId: string): ProducerFencedError | undefined {
  const fenced = chain(error).find((e) => PRODUCER_FENCED_TYPES.has(protocolName(e)));
  if (!fenced) return undefined;
  return new ProducerFencedError(`transactional producer ${transactionalId} was fenced (${protocolName(fenced)}): ${String((error as { message?: unknown }).message ?? error)}`, error);
}

/** Retry delays: 250 ms doubling to at most `maxMs`. */
export function backoff(attempt: number, maxMs: number): number {
  return Math.min(maxMs, 250 * 2 ** Math.min(attempt, 10));
}

/**
 * Runs `call`, retrying broker faults `attempts` times in all with backoff (a
 * coordinator that is loading after a restart answers within seconds); any
 * other error, or the last fault, is thrown.
 */
export function retryBrokerFaults<T>(call: () => Promise<T>, attempts = 6): Promise<T> {
  return retrying(call, attempts, isBrokerFault, (attempt) => backoff(attempt, 2_000));
}

/** Runs `call` up to `attempts` times while it fails with an error `retry` accepts, waiting `delay(attempt)` ms between. */
async function retrying<T>(call: () => Promise<T>, attempts: number, retry: (error: unknown) => boolean, delay: (attempt: number) => number): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      if (attempt >= attempts || !retry(error)) throw error;
      await new Promise((resolve) => setTimeout(resolve, delay(attempt)));
    }
  }
}

/** Is `error` (or what caused it) CONCURRENT_TRANSACTIONS: the coordinator is still ending this producer's previous transaction. */
export function isConcurrentTransaction(error: unknown): boolean {
  return chain(error).some((e) => protocolName(e) === 'CONCURRENT_TRANSACTIONS');
}

/**
 * Runs the step that adds a group's offsets to a transaction
 * (AddOffsetsToTxn), retrying while the coordinator answers
 * CONCURRENT_TRANSACTIONS: it is still writing the markers of the transaction
 * this producer just committed, which takes milliseconds. Java's producer
 * retries this inside the client; kafkajs does not, and failing the batch
 * instead made the member reprocess it and rejoin its group. The refused
 * request changed nothing, so repeating it is safe. (Not for sends: kafkajs
 * may have written to some brokers before another refused, and a repeated
 * sendBatch would write those records twice.) 20 ms doubling to 500 ms, 8
 * attempts (about 2.5 s).
 */
export function retryConcurrentTransaction<T>(step: () => Promise<T>, attempts = 8): Promise<T> {
  return retrying(step, attempts, isConcurrentTransaction, (attempt) => Math.min(500, 20 * 2 ** (attempt - 1)));
}
