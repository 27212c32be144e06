/**
 * `run` and the manual decisions (promote, rollback, pin, unpin) probe the
 * brokers' TCP ports before they start a Kafka client, as `check` does: with
 * none answering they fail at once, naming the brokers and the setting,
 * instead of after the clients' connection retries (about 9 s).
 */
import { createServer, type AddressInfo } from 'node:net';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { buildConfig } from '../../adapters/config/index.js';
import { kafkaUnreachableText } from '../../adapters/kafka/reachable.js';
import { createLogger } from '../../adapters/logging/index.js';
import { commandManual } from '../../cli/commands/manual.js';
import { FeedbackloopError } from '../../core/errors.js';
import { runPipeline } from '../../runtime/run.js';

let down: string;

beforeAll(async () => {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  down = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

afterEach(() => {
  vi.unstubAllEnvs();
});

/** Runs `start`, expecting the probe's error within 2 s (a refused port answers at once). */
async function failsFast(start: () => Promise<unknown>): Promise<FeedbackloopError> {
  const started = performance.now();
  const error = await start().then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(performance.now() - started).toBeLessThan(2_000);
  expect(error).toBeInstanceOf(FeedbackloopError);
  expect((error as FeedbackloopError).message).toBe(kafkaUnreachableText([down]));
  return error as FeedbackloopError;
}

describe('start-up probe of the brokers', () => {
  it('run fails at once when no broker accepts a connection', async () => {
    const config = buildConfig({ kafka: { brokers: [down], schema_registry_url: 'http://127.0.0.1:1' } });
    const error = await failsFast(() => runPipeline(config, createLogger('silent'), ['joiner']));
    expect(error.retriable).toBe(true);
  });

  it('a manual decision (pin) fails at once when no broker accepts a connection', async () => {
    vi.stubEnv('FEEDBACKLOOP_KAFKA_BROKERS', down);
    vi.stubEnv('FEEDBACKLOOP_KAFKA_SCHEMA_REGISTRY_URL', 'http://127.0.0.1:1');
    await failsFast(() => commandManual('PIN', { model: 'm', reason: 'test' }));
  });
});
