/**
 * Errors carry `retriable` (can the same call succeed later?) and `cause`,
 * as kafkajs errors do. `retry()` retries only what is retriable.
 */
export class FeedbackloopError extends Error {
  readonly retriable: boolean;
  /**
   * Not about one record: every record would fail the same way (a refused
   * commit, a missing table, bad credentials, a bad setting). A processor
   * stops on it instead of dead-lettering record after record.
   */
  readonly systemic: boolean;

  constructor(message: string, options: { retriable?: boolean; systemic?: boolean; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.retriable = options.retriable ?? false;
    this.systemic = options.systemic ?? false;
  }
}

/** A bad configuration value; names the key and what was expected. Never retriable. */
export class ConfigError extends FeedbackloopError {
  readonly key: string;

  constructor(key: string, message: string) {
    super(`config: ${key}: ${message}`, { systemic: true });
    this.key = key;
  }
}

/** A record whose bytes could not be decoded (not Avro, unknown schema id, truncated). */
export class DecodeError extends FeedbackloopError {
  readonly errorClass: 'decode' | 'unknown_schema';

  constructor(message: string, errorClass: 'decode' | 'unknown_schema' = 'decode', cause?: unknown) {
    super(message, { cause, retriable: false });
    this.errorClass = errorClass;
  }
}

/** A decoded record that breaks the event contract (missing id, NaN feature, label out of range...). */
export class ValidationError extends FeedbackloopError {
  constructor(message: string) {
    super(message, { retriable: false });
  }
}

/**
 * A saved state (a checkpoint) that does not fit the settings it is restored
 * with: `setting` names the one that changed since the state was saved. The
 * caller restores without it (re-reads its input) instead.
 */
export class StateMismatchError extends FeedbackloopError {
  readonly setting: string;

  constructor(setting: string, message: string) {
    super(`state does not fit the settings: ${setting} changed since it was saved (${message})`, { retriable: false });
    this.setting = setting;
  }
}

/**
 * A transactional producer that can write no more: a newer producer took its
 * transactional id (the partition's new owner), or the broker aborted its
 * transaction, open longer than the transaction timeout, and bumped its epoch.
 * Either way a new producer of the same id (a new fencing) can write again.
 */
export class ProducerFencedError extends FeedbackloopError {
  constructor(message: string, cause?: unknown) {
    super(message, { systemic: true, cause });
  }
}

/** Is `error`, or one of its causes, a ProducerFencedError? */
export function isProducerFenced(error: unknown): boolean {
  let e = error;
  for (let depth = 0; depth < 10 && typeof e === 'object' && e !== null; depth++) {
    if (e instanceof ProducerFencedError) return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}

/** Is this error worth retrying? Our errors say so; kafkajs errors carry the same flag. */
export function isRetriable(error: unknown): boolean {
  if (error instanceof FeedbackloopError) return error.retriable;
  if (typeof error === 'object' && error !== null && 'retriable' in error) {
    return (error as { retriable: unknown }).retriable === true;
  }
  return false;
}

/** Would every record fail this way (see FeedbackloopError.systemic)? */
export function isSystemic(error: unknown): boolean {
  return error instanceof FeedbackloopError && error.systemic;
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
