/**
 * pino logging: JSON lines on stderr, credentials redacted wherever they
 * appear in a logged object (by path), and credentials inside any URL of a
 * line (an error message quoting one) replaced by *** as the line is written.
 */
import { pino, type DestinationStream, type Logger } from 'pino';
import { logLevel as KafkaLogLevel, type logCreator } from 'kafkajs';
import { redactUrlsIn } from '../../core/redact.js';
import { FeedbackloopError } from '../../core/errors.js';

export type { Logger } from 'pino';

/** Paths whose values never reach a log line. */
export const REDACTED_PATHS = [
  'password',
  '*.password',
  '*.*.password',
  'sasl_password',
  '*.sasl_password',
  '*.*.sasl_password',
  'sasl.password',
  '*.sasl.password',
  'ssl_key_password',
  '*.ssl_key_password',
  '*.*.ssl_key_password',
  'schema_registry_password',
  '*.schema_registry_password',
  '*.*.schema_registry_password',
  'passphrase',
  '*.passphrase',
  '*.ssl.passphrase',
  'ssl.key',
  '*.ssl.key',
  'tls.key',
  '*.tls.key',
  'auth.password',
  '*.auth.password',
  'authorization',
  '*.authorization',
  'headers.authorization',
  '*.headers.authorization',
  'token',
  '*.token',
  'basic_auth_password',
  '*.basic_auth_password',
  '*.*.basic_auth_password',
  'bearer_token',
  '*.bearer_token',
  '*.*.bearer_token',
];

export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'feedbackloop' },
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
      hooks: { streamWrite: redactUrlsIn },
    },
    destination ?? pino.destination(2),
  );
}

/**
 * What a broker says while it restarts, moves a leader or coordinator, or
 * finishes a transaction: kafkajs logs these at error level, and the
 * transport retries every one of them (adapters/kafka/errors.ts). At warn, an
 * error line still means something an operator must act on.
 */
const ROUTINE_BROKER_EVENT = new RegExp(
  [
    'ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'Connection error', 'Connection timeout', 'Closed connection',
    'Not connected', 'socket hang up', 'Failed to connect to seed broker', 'No broker available', 'not find broker',
    'coordinator is loading', 'not the correct coordinator', 'coordinator is not available', 'group coordinator',
    'no leader', 'leader is not available', 'not the leader', 'Leader not available', 'request timed out',
    'rebalanc', 'Restarting the consumer', 'KafkaJSNumberOfRetriesExceeded', 'Broker not connected',
    'fewer in-sync replicas',
  ].join('|'),
  'i',
);

/** kafkajs logs the broker's routine "retry later" answers inside transactions as errors; they are retried. */
const CONCURRENT_TRANSACTIONS = /CONCURRENT_TRANSACTIONS|concurrent operation/i;

/**
 * One of our errors that says a retry can mend it, thrown from a batch handler
 * ("Error when calling eachBatch"): the transport runs the batch again, and
 * `retrying` reports it to the health check and the gauge if it lasts. (kafkajs
 * 2.2.4's admin, asked for metadata while its broker connection closes, fails
 * with "Cannot read properties of null", which a restore reports this way.)
 */
function oursRetriable(error: unknown): boolean {
  return error instanceof FeedbackloopError && error.retriable;
}

/** The text of a kafkajs log entry: its message, error and stack. */
function entryText(message: string, extra: Record<string, unknown>): string {
  return [message, extra.error, extra.stack].filter((part) => part !== undefined).map(String).join(' ');
}

/** Routes kafkajs's own log lines into our logger. */
export function kafkaLogCreator(logger: Logger): logCreator {
  return () => ({ level, log }) => {
    const { message, ...extra } = log;
    const child = { component: 'kafkajs', ...extra };
    const text = entryText(message, extra);
    if (CONCURRENT_TRANSACTIONS.test(text)) {
      logger.debug(child, message);
      return;
    }
    if (level === KafkaLogLevel.ERROR || level === KafkaLogLevel.NOTHING) {
      if (ROUTINE_BROKER_EVENT.test(text) || oursRetriable(extra.error)) logger.warn(child, message);
      else logger.error(child, message);
    } else if (level === KafkaLogLevel.WARN) logger.warn(child, message);
    else if (level === KafkaLogLevel.INFO) logger.info(child, message);
    else logger.debug(child, message);
  };
}
