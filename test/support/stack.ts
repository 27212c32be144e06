/**
 * Where the integration tests find the real servers: the environment
 * (FEEDBACKLOOP_*), else what scripts/stack/start.sh wrote to .stack/env,
 * else the stack's default ports. A server that does not answer fails the
 * test with a message saying how to start the stack; it never skips.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tcpReachable } from '../../adapters/kafka/reachable.js';

const ROOT = join(import.meta.dirname, '..', '..');

function stackEnv(): Record<string, string> {
  const out: Record<string, string> = {};
  const file = join(ROOT, '.stack', 'env');
  if (existsSync(file)) {
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      const match = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
      if (match) out[match[1]!] = match[2]!;
    }
  }
  return out;
}

const fromFile = stackEnv();
const setting = (name: string, fallback: string) => process.env[name] ?? fromFile[name] ?? fallback;

export const STACK = {
  brokers: setting('FEEDBACKLOOP_KAFKA_BROKERS', '127.0.0.1:9092').split(','),
  registryUrl: setting('FEEDBACKLOOP_KAFKA_SCHEMA_REGISTRY_URL', 'http://127.0.0.1:8081/apis/ccompat/v7'),
  clickhouseUrl: setting('FEEDBACKLOOP_CLICKHOUSE_URL', 'http://127.0.0.1:8123'),
};

/** The environment a child feedbackloop process needs to reach the stack. */
export function stackEnvironment(extra: Record<string, string> = {}): Record<string, string> {
  return {
    ...(process.env as Record<string, string>),
    FEEDBACKLOOP_KAFKA_BROKERS: STACK.brokers.join(','),
    FEEDBACKLOOP_KAFKA_SCHEMA_REGISTRY_URL: STACK.registryUrl,
    FEEDBACKLOOP_CLICKHOUSE_URL: STACK.clickhouseUrl,
    ...extra,
  };
}

/** Throws a clear error if a server of the stack is not answering. */
export async function requireStack(...what: Array<'kafka' | 'registry' | 'clickhouse'>): Promise<void> {
  const targets = { kafka: STACK.brokers[0]!, registry: STACK.registryUrl, clickhouse: STACK.clickhouseUrl };
  for (const name of what) {
    if (!(await tcpReachable(targets[name]))) {
      throw new Error(`${name} is not reachable at ${targets[name]}: start the stack with "bash scripts/stack/start.sh"`);
    }
  }
}
