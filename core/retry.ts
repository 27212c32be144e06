import { isRetriable } from './errors.js';

export interface RetryOptions {
  /** Attempts after the first one. */
  retries: number;
  initialDelayMs: number;
  maxDelayMs: number;
  factor: number;
  /** Called before each wait; for logging. */
  onRetry?: (error: unknown, attempt: number, delayMs: number) => void;
  /** Waits; injectable so tests need not sleep. */
  sleep?: (ms: number) => Promise<void>;
}

export const defaultRetryOptions: RetryOptions = {
  retries: 5,
  initialDelayMs: 200,
  maxDelayMs: 10_000,
  factor: 2,
};

const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Runs `fn`, retrying with exponential backoff only while the error is
 * retriable (see isRetriable). A non-retriable error is thrown at once; the
 * last retriable one is thrown when the attempts run out.
 */
export async function retry<T>(fn: (attempt: number) => Promise<T>, options: Partial<RetryOptions> = {}): Promise<T> {
  const opts = { ...defaultRetryOptions, ...options };
  const sleep = opts.sleep ?? realSleep;
  let delay = opts.initialDelayMs;
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (error) {
      if (!isRetriable(error) || attempt >= opts.retries) throw error;
      opts.onRetry?.(error, attempt + 1, delay);
      await sleep(delay);
      delay = Math.min(opts.maxDelayMs, delay * opts.factor);
    }
  }
}
