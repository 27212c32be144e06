import type { LogConsumer, LogRecord, PartitionBatch } from '../../adapters/transport/transport.js';

/**
 * Runs `consumer` until `count` records arrived (or `timeoutMs` passed) and
 * returns them in delivery order. `onBatch` runs after each batch is
 * collected (e.g. to commit).
 */
export async function collect(
  consumer: LogConsumer,
  count: number,
  options: { timeoutMs?: number; onBatch?: (batch: PartitionBatch) => Promise<void> } = {},
): Promise<LogRecord[]> {
  const received: LogRecord[] = [];
  let wake: (() => void) | undefined;
  await consumer.run(async (batch) => {
    received.push(...batch.records);
    await options.onBatch?.(batch);
    if (received.length >= count) wake?.();
  });
  if (received.length < count) {
    const timeoutMs = options.timeoutMs ?? 30_000;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`timed out after ${timeoutMs} ms with ${received.length} of ${count} records`)),
        timeoutMs,
      );
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
      if (received.length >= count) wake();
    });
  }
  return received;
}

/** Waits `ms` and returns what arrived meanwhile: for asserting that nothing (more) comes. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export function uniqueName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}

/** What a unit test waits for a condition at most: under the unit project's 20 s test timeout. */
export const UNIT_WAIT_MS = 15_000;

/**
 * Polls `condition` every `pollMs` until it holds; rejects after `timeoutMs`
 * naming `what`. A wait on a condition, not on a count of polls: on a loaded
 * machine a poll takes longer than its `pollMs`, and a loop of N polls
 * gives up long before what it waits for is late. In unit tests keep
 * `timeoutMs` under the test's timeout (20 s), so the failure names `what`.
 */
export async function waitFor(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 60_000, pollMs = 20): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(pollMs);
  }
}
