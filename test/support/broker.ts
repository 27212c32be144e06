/**
 * The stack's Kafka broker stopped and started again on the same data
 * (scripts/stack/kafka.sh), for fault tests: a broker outage mid-stream.
 * Only one test file at a time may do this (integration files run one at a
 * time); every other client of the stack sees the outage too.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';

const SCRIPT = join(import.meta.dirname, '..', '..', 'scripts', 'stack', 'kafka.sh');
const run = promisify(execFile);

async function kafka(command: 'stop' | 'start', timeoutMs: number): Promise<number> {
  const started = Date.now();
  try {
    await run('bash', [SCRIPT, command], { timeout: timeoutMs });
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string; message: string };
    throw new Error(`scripts/stack/kafka.sh ${command} failed: ${e.message}\n${e.stdout ?? ''}${e.stderr ?? ''}`);
  }
  return Date.now() - started;
}

/** SIGTERMs the broker and waits until it has exited and its port is closed; returns how long that took (ms). */
export function stopKafka(): Promise<number> {
  return kafka('stop', 60_000);
}

/** Starts the broker (a no-op when it runs) and waits until it answers a metadata request; returns how long that took (ms). */
export function startKafka(): Promise<number> {
  return kafka('start', 150_000);
}
