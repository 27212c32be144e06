/**
 * `run`, `pin` and `produce` (dist/, as an operator starts them) against a broker address
 * where nothing listens: each exits 1 within seconds, naming the brokers and
 * the setting, instead of sitting in the Kafka client's connection retries
 * (about 9 s before the probe).
 */
import { spawnSync } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import { beforeAll, describe, expect, it } from 'vitest';
import { kafkaUnreachableText } from '../../adapters/kafka/reachable.js';
import { CLI } from '../support/joiner-process.js';
import { requireStack, stackEnvironment } from '../support/stack.js';

let down: string;

beforeAll(async () => {
  await requireStack('registry');
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  down = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

/** The CLI with kafka.brokers at the closed port: its exit status, stderr and how long it took. */
function cli(...args: string[]): { status: number | null; stderr: string; ms: number } {
  const started = performance.now();
  const result = spawnSync(process.execPath, [CLI, ...args], {
    env: stackEnvironment({ FEEDBACKLOOP_KAFKA_BROKERS: down, FEEDBACKLOOP_CLICKHOUSE_URL: '', FEEDBACKLOOP_HTTP_PORT: '0' }),
    encoding: 'utf8',
    timeout: 30_000,
  });
  return { status: result.status, stderr: result.stderr, ms: performance.now() - started };
}

describe('an unreachable broker at start', () => {
  it.each([
    ['run', ['run', '--only', 'joiner']],
    ['pin', ['pin', '--model', 'm', '--reason', 'test']],
    ['produce', ['produce', '--predictions', 'examples/predictions.jsonl']],
  ])('%s fails fast, naming the brokers and the setting', (_name, args) => {
    const { status, stderr, ms } = cli(...args);
    expect(stderr).toContain(`error: ${kafkaUnreachableText([down])}`);
    expect(stderr).toContain('(this may pass on a retry');
    expect(status).toBe(1);
    // Node's start and the CLI's imports included; the client's retries took about 9 s.
    expect(ms).toBeLessThan(6_000);
  });
});
