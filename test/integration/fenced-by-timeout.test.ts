/**
 * A transactional producer fenced by the broker's transaction timeout, on the
 * real broker, for both Kafka clients: the partition task that held the
 * transaction open past kafka.transaction_timeout (1 s here) is restored in
 * place (a new producer, the committed offsets) and goes on; no record lost,
 * none duplicated. (A producer fenced by the partition's new owner still stops
 * the processor: test/unit/partition-tasks.test.ts.)
 *
 * How the transaction stays open: the offsets handed to the commit stall this
 * process (the event loop blocked, as in a long pause) the first time the
 * transport reads them, which both transports do after the transaction's
 * records were sent, i.e. with the transaction open at the broker. The broker
 * aborts timed-out transactions at its next check
 * (transaction.abort.timed.out.transaction.cleanup.interval.ms, 10 s by
 * default, not set by scripts/stack), bumping the producer's epoch; the
 * commit after the stall is then refused with PRODUCER_FENCED. The session
 * timeout is longer than the stall, so the member keeps its partition.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KafkaTransport } from '../../adapters/kafka/transport.js';
import type { LogTransport, TopicPartitionOffset } from '../../adapters/transport/transport.js';
import { FencedCommitError, PartitionTasks, type PartitionWork } from '../../processors/partition-tasks.js';
import { uniqueName } from '../support/collect.js';
import { requireStack, STACK } from '../support/stack.js';

/** Past the 1 s transaction timeout and the broker's 10 s check. */
const STALL_MS = 12_500;
const CLIENTS = ['kafkajs', 'platformatic'] as const;

async function transportFor(client: (typeof CLIENTS)[number]): Promise<LogTransport> {
  const settings = { brokers: STACK.brokers, clientId: 'fenced-by-timeout', transactionTimeoutMs: 1_000, sessionTimeoutMs: 30_000, heartbeatIntervalMs: 1_000 };
  if (client === 'kafkajs') return new KafkaTransport(settings);
  return new (await import('../../adapters/kafka/platformatic-transport.js')).PlatformaticTransport(settings);
}

/** Offsets whose first read of `length` blocks this process for `ms` (see the file comment). */
function stalling(offsets: TopicPartitionOffset[], ms: number): TopicPartitionOffset[] {
  let stalled = false;
  return new Proxy(offsets, {
    get(target, key, receiver) {
      if (key === 'length' && !stalled) {
        stalled = true;
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
      }
      return Reflect.get(target, key, receiver) as unknown;
    },
  });
}

/** Copies each input record to `out` in the batch's transaction; the first commit stalls. */
function copier(out: string, processed: string[]): PartitionWork<object> {
  let stalls = 1;
  return {
    open: async () => ({}),
    process: async (_state, batch, ctx) => {
      for (const r of batch.records) processed.push(r.value!.toString());
      const offsets = [{ topic: batch.topic, partition: batch.partition, offset: batch.nextOffset }];
      await ctx.commit(
        batch.records.map((r) => ({ topic: out, partition: 0, key: null, value: r.value })),
        stalls-- > 0 ? stalling(offsets, STALL_MS) : offsets,
      );
    },
  };
}

async function until(condition: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

describe.each(CLIENTS)('a producer fenced by the transaction timeout (%s)', (client) => {
  const input = uniqueName(`fence-in-${client}`);
  const out = uniqueName(`fence-out-${client}`);
  const groupId = uniqueName(`fence-g-${client}`);
  let transport: LogTransport;

  beforeAll(async () => {
    await requireStack('kafka');
    transport = await transportFor(client);
    await transport.ensureTopics([
      { name: input, partitions: 1 },
      { name: out, partitions: 1 },
    ]);
  });

  afterAll(async () => {
    await transport?.close();
  });

  it('restores its task in place: the processor goes on, and every record is written once', async () => {
    const producer = await transport.producer();
    const send = (from: number, count: number) =>
      producer.send(Array.from({ length: count }, (_, i) => ({ topic: input, partition: 0, key: null, value: Buffer.from(`r${from + i}`) })));
    await send(0, 10);
    const processed: string[] = [];
    const failing: unknown[] = [];
    const tasks = new PartitionTasks({
      transport,
      groupId,
      topics: [input],
      transactionalIdPrefix: uniqueName('fence-t'),
      work: copier(out, processed),
      health: { failing: (e) => void failing.push(e), recovered: () => {} },
    });
    let ended: unknown;
    await tasks.start();
    tasks.done.then(
      () => (ended = 'stopped'),
      (e: unknown) => (ended = e),
    );
    const committed = async () => {
      if (ended !== undefined) throw new Error(`the processor ended: ${String(ended)}`);
      return (await transport.committedOffsets(groupId, input))[0]?.offset ?? 0;
    };
    await until(async () => (await committed()) >= 10, 45_000);
    // After the restore the processor still runs: the next records go through.
    await send(10, 5);
    await until(async () => (await committed()) >= 15, 20_000);
    expect(ended).toBeUndefined();
    expect(failing).toHaveLength(1);
    expect(failing[0]).toBeInstanceOf(FencedCommitError);
    expect((failing[0] as FencedCommitError).restored).toBe(true);
    expect((failing[0] as Error).message).toMatch(/fenced while this member holds the partition/);
    // The stalled batch was processed twice (its transaction aborted), its output is there once.
    expect(processed.length).toBeGreaterThan(15);
    const written: string[] = [];
    await transport.readToEnd(out, [0], (records) => {
      for (const r of records) written.push(r.value!.toString());
    });
    expect(written).toEqual(Array.from({ length: 15 }, (_, i) => `r${i}`));
    await tasks.stop();
    await producer.close();
  }, 90_000);
});
