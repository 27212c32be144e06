/**
 * The two Kafka clients behind the log interface, on the same load in the
 * same run (issue 13): kafkajs (adapters/kafka/transport.ts) and
 * @platformatic/kafka (adapters/kafka/platformatic-transport.ts), alternating
 * (kafkajs first in odd reps, platformatic first in even ones), --reps times:
 *
 * (a) produce: --records records (100-byte values, keyed) to a fresh
 *     3-partition topic with LogProducer.send (acks=all), in sends of 1000;
 * (b) consume-transform-produce: a backlog of --records records on 3
 *     partitions, read by one consumer (read_committed), each batch written
 *     to an output topic with sendWithOffsets (a transaction with the input
 *     offsets), until the committed offsets reach the end;
 * (c) latency: --probes records produced one at a time to a 1-partition
 *     topic a running consumer reads; the time from the send to the handler.
 *
 * Prints and writes (--json, default out/bench/kafka-clients.json) the
 * medians over reps and the ratios platformatic / kafkajs. Needs the stack
 * (scripts/stack/start.sh).
 *
 *   npm run bench:kafka-clients -- [--records N] [--reps N] [--probes N]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { loadavg } from 'node:os';
import { logLevel } from 'kafkajs';
import { KafkaTransport } from '../adapters/kafka/transport.js';
import { PlatformaticTransport } from '../adapters/kafka/platformatic-transport.js';
import type { LogTransport, OutgoingRecord } from '../adapters/transport/transport.js';
import { uniqueName } from '../test/support/collect.js';
import { requireStack, STACK } from '../test/support/stack.js';
import { numberOption } from './options.js';

const argValue = (name: string) => ((i) => (i >= 0 ? process.argv[i + 1] : undefined))(process.argv.indexOf(`--${name}`));
const o = {
  records: numberOption('records', 20_000),
  reps: numberOption('reps', 3),
  probes: numberOption('probes', 200),
  json: argValue('json') ?? 'out/bench/kafka-clients.json',
};
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const CLIENTS = {
  kafkajs: () => new KafkaTransport({ brokers: STACK.brokers, clientId: 'bench-kafkajs', kafka: { logLevel: logLevel.NOTHING } }),
  platformatic: () => new PlatformaticTransport({ brokers: STACK.brokers, clientId: 'bench-platformatic' }),
} as const;
type Client = keyof typeof CLIENTS;

function records(topic: string, n: number): OutgoingRecord[] {
  const value = Buffer.alloc(100, 'x');
  return Array.from({ length: n }, (_, i) => ({ topic, key: Buffer.from(`key-${i}`), value }));
}

async function produce(transport: LogTransport, n: number): Promise<number> {
  const topic = uniqueName('bench-produce');
  await transport.ensureTopics([{ name: topic, partitions: 3 }]);
  const producer = await transport.producer();
  const all = records(topic, n);
  const started = performance.now();
  for (let i = 0; i < n; i += 1000) await producer.send(all.slice(i, i + 1000));
  const seconds = (performance.now() - started) / 1000;
  await producer.close();
  return n / seconds;
}

/** Consume-transform-produce over a backlog of n records: records/s from the consumer's start to the last commit, and transactions. */
async function transform(transport: LogTransport, n: number): Promise<{ rate: number; transactions: number }> {
  const input = uniqueName('bench-ctp-in');
  const output = uniqueName('bench-ctp-out');
  const groupId = uniqueName('bench-ctp');
  await transport.ensureTopics([{ name: input, partitions: 3 }, { name: output, partitions: 3 }]);
  const producer = await transport.producer();
  const all = records(input, n);
  for (let i = 0; i < n; i += 1000) await producer.send(all.slice(i, i + 1000));
  await producer.close();
  const tx = await transport.transactionalProducer(uniqueName('bench-ctp-tx'));
  const consumer = await transport.consumer({ groupId, topics: [input] });
  let done = 0;
  let transactions = 0;
  const started = performance.now();
  await consumer.run(async (batch) => {
    const out = batch.records.map((r) => ({ topic: output, key: r.key, value: r.value }));
    await tx.sendWithOffsets(out, { groupId, offsets: [{ topic: input, partition: batch.partition, offset: batch.nextOffset }] });
    done += batch.records.length;
    transactions++;
  });
  const deadline = Date.now() + 600_000;
  while (done < n && Date.now() < deadline) await sleep(5);
  const seconds = (performance.now() - started) / 1000;
  await consumer.stop();
  await tx.close();
  if (done < n) throw new Error(`consume-transform-produce read ${done} of ${n} records in 600 s`);
  return { rate: n / seconds, transactions };
}

/** Send-to-handler latency of single records, sent one after the other (ms). */
async function latency(transport: LogTransport, probes: number): Promise<{ p50: number; p99: number }> {
  const topic = uniqueName('bench-latency');
  await transport.ensureTopics([{ name: topic, partitions: 1 }]);
  const consumer = await transport.consumer({ groupId: uniqueName('bench-latency'), topics: [topic], fromBeginning: false });
  const seen = new Map<string, number>();
  await consumer.run(async (batch) => {
    for (const r of batch.records) seen.set(r.value!.toString(), performance.now());
  });
  while (consumer.assignment().partitions.length === 0) await sleep(20);
  await sleep(1000);
  const producer = await transport.producer();
  const times: number[] = [];
  for (let i = 0; i < probes; i++) {
    const id = `probe-${i}`;
    const sent = performance.now();
    await producer.send([{ topic, key: null, value: Buffer.from(id), partition: 0 }]);
    const deadline = Date.now() + 30_000;
    while (!seen.has(id) && Date.now() < deadline) await sleep(1);
    if (!seen.has(id)) throw new Error(`probe ${i} not seen within 30 s`);
    times.push(seen.get(id)! - sent);
  }
  await producer.close();
  await consumer.stop();
  times.sort((a, b) => a - b);
  const at = (q: number) => times[Math.min(times.length - 1, Math.floor(q * times.length))]!;
  return { p50: at(0.5), p99: at(0.99) };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const round = (x: number, digits = 1) => Math.round(x * 10 ** digits) / 10 ** digits;

async function main(): Promise<void> {
  await requireStack('kafka');
  type Rep = { produce: number; transform: number; transactions: number; p50: number; p99: number };
  const runs: Record<Client, Rep[]> = { kafkajs: [], platformatic: [] };
  for (let rep = 0; rep < o.reps; rep++) {
    const order: Client[] = rep % 2 === 0 ? ['kafkajs', 'platformatic'] : ['platformatic', 'kafkajs'];
    for (const client of order) {
      const transport = CLIENTS[client]();
      try {
        const p = await produce(transport, o.records);
        const t = await transform(transport, o.records);
        const l = await latency(transport, o.probes);
        runs[client].push({ produce: p, transform: t.rate, transactions: t.transactions, ...l });
        console.log(`rep ${rep + 1} ${client}: produce ${Math.round(p)} rec/s, ctp ${Math.round(t.rate)} rec/s in ${t.transactions} transactions, latency p50 ${round(l.p50)} ms p99 ${round(l.p99)} ms (load ${loadavg()[0]!.toFixed(2)})`);
      } finally {
        await transport.close();
      }
    }
  }
  const medians = Object.fromEntries(
    (Object.keys(runs) as Client[]).map((c) => [c, Object.fromEntries((['produce', 'transform', 'transactions', 'p50', 'p99'] as const).map((k) => [k, round(median(runs[c].map((r) => r[k])))]))]),
  ) as Record<Client, Record<keyof Rep, number>>;
  const ratios = Object.fromEntries((['produce', 'transform', 'p50', 'p99'] as const).map((k) => [k, round(medians.platformatic[k] / medians.kafkajs[k], 2)]));
  const result = { records: o.records, reps: o.reps, probes: o.probes, medians, ratiosPlatformaticOverKafkajs: ratios, runs };
  console.log(JSON.stringify({ medians, ratios }, null, 2));
  mkdirSync(dirname(o.json), { recursive: true });
  writeFileSync(o.json, `${JSON.stringify(result, null, 2)}\n`);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
