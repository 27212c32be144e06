/** The TCP probe `check` and `status` make before a Kafka client retries a broker that is not there. */
import { createServer, type AddressInfo, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kafkaUnreachableText, requireReachableBrokers, unreachableBrokers } from '../../adapters/kafka/reachable.js';
import { FeedbackloopError } from '../../core/errors.js';

async function listen(): Promise<Server> {
  const server = createServer((socket) => socket.destroy());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

describe('unreachableBrokers', () => {
  let open: Server;
  let closedPort: number;
  beforeAll(async () => {
    open = await listen();
    const closed = await listen();
    closedPort = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
  });
  afterAll(() => new Promise<void>((resolve) => open.close(() => resolve())));

  it('names the brokers that refuse a connection, in the order given, and no others', async () => {
    const up = `127.0.0.1:${(open.address() as AddressInfo).port}`;
    const down = `127.0.0.1:${closedPort}`;
    expect(await unreachableBrokers([down, up, down])).toEqual([down, down]);
    expect(await unreachableBrokers([up])).toEqual([]);
  });

  it('gives up on a refused port at once, not after the timeout', async () => {
    const started = performance.now();
    expect(await unreachableBrokers([`127.0.0.1:${closedPort}`], 20_000)).toEqual([`127.0.0.1:${closedPort}`]);
    expect(performance.now() - started).toBeLessThan(10_000);
  });

  it('requireReachableBrokers fails at once when no broker accepts a connection, naming them and the setting; one up is enough', async () => {
    const up = `127.0.0.1:${(open.address() as AddressInfo).port}`;
    const down = `127.0.0.1:${closedPort}`;
    const started = performance.now();
    const refused = await requireReachableBrokers([down, down], 20_000).catch((e: unknown) => e);
    expect(performance.now() - started).toBeLessThan(10_000);
    expect(refused).toBeInstanceOf(FeedbackloopError);
    expect((refused as FeedbackloopError).message).toBe(kafkaUnreachableText([down, down]));
    expect((refused as FeedbackloopError).retriable).toBe(true);
    await expect(requireReachableBrokers([down, up])).resolves.toBeUndefined();
  });

  it('says where and what to check', () => {
    expect(kafkaUnreachableText(['a:9092', 'b:9092'])).toBe('Kafka at a:9092,b:9092 unreachable: is it running? check kafka.brokers (FEEDBACKLOOP_KAFKA_BROKERS)');
  });
});
