/**
 * pino logging: JSON lines on stderr, credentials redacted wherever they
 * appear in a logged object.
 */
import { pino, type DestinationStream, type Logger } from 'pino';
import { logLevel as KafkaLogLevel, type logCreator } from 'kafkajs';

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
  'authorization',
  '*.authorization',
  'headers.authorization',
  '*.headers.authorization',
  'token',
  '*.token',
];

export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'feedbackloop' },
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destination ?? pino.destination(2),
  );
}

/** Routes kafkajs's own log lines into our logger. */
export function kafkaLogCreator(logger: Logger): logCreator {
  return () => ({ level, log }) => {
    const { message, ...extra } = log;
    const child = { component: 'kafkajs', ...extra };
    // kafkajs logs the broker's routine "retry later" answers inside transactions as errors.
    if ((extra as { error?: unknown }).error !== undefined && /CONCURRENT_TRANSACTIONS|concurrent operation/i.test(String((extra as { error?: unknown }).error))) {
      logger.debug(child, message);
      return;
    }
    if (level === KafkaLogLevel.ERROR || level === KafkaLogLevel.NOTHING) logger.error(child, message);
    else if (level === KafkaLogLevel.WARN) logger.warn(child, message);
    else if (level === KafkaLogLevel.INFO) logger.info(child, message);
    else logger.debug(child, message);
  };
}
