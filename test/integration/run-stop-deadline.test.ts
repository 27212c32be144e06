/**
 * `run` stops within run.stop_timeout even when a server holds its stop
 * (runtime/stop-deadline.ts). The hang reproduced here is a real one:
 * `feedbackloop run --only evaluator` reaches ClickHouse through a TCP relay
 * in this process; once its first figures are written the relay closes
 * (connections refused, as a ClickHouse that went away), more examples
 * arrive, and the evaluator's write retries (holding its offsets, as it
 * should). A SIGTERM then starts a graceful stop whose last flush waits for
 * ClickHouse: without the deadline `run` stayed alive until ClickHouse came
 * back, and an orchestrator would have SIGKILLed it without a word.
 *
 * Asserted: `run` exits with code 1 within the deadline plus a margin, its
 * error line names the evaluator as what the stop waited on, and what it had
 * not committed stays uncommitted (the next start processes it again).
 */
import { createServer, connect, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { logLevel, type Admin } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RegistryCodec } from '../../adapters/codec/codec.js';
import { KafkaTransport } from '../../adapters/kafka/transport.js';
import type { LabelledExample } from '../../core/events.js';
import { uniqueName } from '../support/collect.js';
import { EVALUATOR_TEST_ENV } from '../support/evaluator-rows.js';
import { failIfDied, JoinerProcess, pipelineTopics } from '../support/joiner-process.js';
import { GroupProgress, sleep } from '../support/joiner-kafka.js';
import { labelledStream } from '../support/labelled.js';
import { requireStack, STACK, stackEnvironment } from '../support/stack.js';

const STOP_TIMEOUT_S = 3;

/** A TCP relay to ClickHouse's HTTP port that can be cut: open sockets destroyed, new ones refused. */
class Relay {
  private readonly sockets = new Set<Socket>();
  private constructor(private readonly server: Server) {}

  static async start(target: URL): Promise<Relay> {
    const server = createServer();
    const relay = new Relay(server);
    server.on('connection', (client) => {
      const upstream = connect(Number(target.port), target.hostname);
      for (const s of [client, upstream]) {
        relay.sockets.add(s);
        s.on('close', () => relay.sockets.delete(s));
        s.on('error', () => {});
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return relay;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async cut(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const s of this.sockets) s.destroy();
    await closed;
  }
}

describe('run stops within run.stop_timeout when ClickHouse holds the evaluator\'s last write', () => {
  let transport: KafkaTransport;
  let admin: Admin;
  let child: JoinerProcess | undefined;

  beforeAll(async () => {
    await requireStack('kafka', 'registry', 'clickhouse');
    transport = new KafkaTransport({ brokers: STACK.brokers, clientId: uniqueName('stop-deadline-test'), kafka: { logLevel: logLevel.NOTHING } });
    admin = transport.kafka.admin();
    await admin.connect();
  });

  afterAll(async () => {
    await child?.stop('SIGKILL', 5_000).catch(() => {});
    await admin?.disconnect();
    await transport?.close();
  });

  it('exits with code 1, naming the evaluator, and leaves the unwritten examples uncommitted', async () => {
    const prefix = uniqueName('stopdl');
    const topics = pipelineTopics(prefix);
    await transport.ensureTopics([
      { name: topics.labelled, partitions: 1, keepForever: true },
      { name: topics.deadLetters, partitions: 1 },
      { name: topics.evaluatorCheckpoints, partitions: 1, compacted: true },
    ]);
    const relay = await Relay.start(new URL(STACK.clickhouseUrl));
    const env = stackEnvironment({
      ...EVALUATOR_TEST_ENV,
      FEEDBACKLOOP_CLICKHOUSE_URL: relay.url,
      FEEDBACKLOOP_CLICKHOUSE_DATABASE: prefix.replace(/-/g, '_'),
      FEEDBACKLOOP_KAFKA_CLIENT_ID: prefix,
      FEEDBACKLOOP_TOPICS_LABELLED_EXAMPLES: topics.labelled,
      FEEDBACKLOOP_TOPICS_DEAD_LETTERS: topics.deadLetters,
      FEEDBACKLOOP_TOPICS_EVALUATOR_CHECKPOINTS: topics.evaluatorCheckpoints,
      FEEDBACKLOOP_TOPICS_PARTITIONS: '1',
      FEEDBACKLOOP_HTTP_PORT: '0',
      FEEDBACKLOOP_HTTP_HOST: '127.0.0.1',
      FEEDBACKLOOP_RUN_STOP_TIMEOUT: `${STOP_TIMEOUT_S}s`,
    });
    const codec = new RegistryCodec<LabelledExample>(new SchemaRegistry({ host: STACK.registryUrl }), 'LabelledExample', `${topics.labelled}-value`);
    const producer = await transport.producer();
    const send = async (part: LabelledExample[]) => {
      await producer.send(await Promise.all(part.map(async (e) => ({ topic: topics.labelled, key: Buffer.from(e.model), value: await codec.encode(e), timestamp: e.timestamp }))));
    };
    const examples = labelledStream(2_000, 77);
    const half = Math.floor(examples.length / 2);
    await send(examples.slice(0, half));
    child = await JoinerProcess.start({ name: `${prefix}-run`, env, processors: ['evaluator'] });
    const running = child;
    const progress = new GroupProgress(admin, `${prefix}-evaluator`, [topics.labelled]);
    await progress.waitCaughtUp({ timeoutMs: 60_000, check: () => failIfDied([running]) });

    await relay.cut();
    await send(examples.slice(half));
    // The evaluator's flush (1 s) meets the cut relay and retries, holding its offsets.
    const retrying = Date.now();
    while (!running.problems().some((line) => line.includes('clickhouse insert failed; retrying'))) {
      failIfDied([running]);
      if (Date.now() - retrying > 30_000) throw new Error(`no ClickHouse retry logged; log ${running.logFile}:\n${running.tail()}`);
      await sleep(200);
    }
    const committedBefore = await progress.committedTotal();

    const signalled = Date.now();
    const exit = await running.stop('SIGTERM', 30_000);
    const stopSeconds = (Date.now() - signalled) / 1000;
    const line = running.errors().find((l) => l.includes('the stop did not finish'));
    const committedAfter = await progress.committedTotal();
    await producer.close();
    console.log(JSON.stringify({ stopSeconds, exit, committedBefore, committedAfter, line }));

    expect(exit).toEqual({ code: 1, signal: null });
    expect(stopSeconds).toBeGreaterThanOrEqual(STOP_TIMEOUT_S);
    expect(stopSeconds).toBeLessThan(STOP_TIMEOUT_S + 7);
    expect(line).toBeDefined();
    expect(JSON.parse(line!)).toMatchObject({ waiting_for: 'the evaluator' });
    // Nothing of the second half was committed: the next start writes it.
    expect(committedBefore).toBe(half);
    expect(committedAfter).toBe(half);
  }, 120_000);
});
