#!/usr/bin/env node
/**
 * Publish predictions or feedback to feedbackloop from Node (kafkajs).
 *
 * Each line of a JSON Lines file is one event (the fields are in the README's
 * "Connect your app"). It is sent as Avro in the Confluent wire format (magic
 * byte, schema id, body) with feedbackloop's own schema, shipped in the
 * package (schemas/Prediction.avsc, schemas/Feedback.avsc), registered under
 * the subject `<topic>-value`; optional fields left out take their defaults.
 * The key is the prediction_id, and kafkajs's DefaultPartitioner places it as
 * Kafka's Java client does (murmur2), so a prediction and its feedback land on
 * the same partition number: nothing for the joiner to forward.
 *
 *   npm pack                            # in the feedbackloop checkout: feedbackloop-0.1.0.tgz
 *   cd examples/node && npm install
 *   node produce.mjs --brokers localhost:9092 --registry http://localhost:8081 \
 *       --kind prediction --topic predictions --file ../predictions.jsonl
 *
 * A line that is not an event of that kind is reported and skipped. Exits
 * non-zero if any line was skipped or any record not acknowledged (acks=all,
 * idempotent producer).
 */
import { createReadStream, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import { Kafka, logLevel, Partitioners } from 'kafkajs';

const SCHEMAS = { prediction: 'Prediction', feedback: 'Feedback' };
const BATCH = 500;

const { values: args } = parseArgs({
  options: {
    brokers: { type: 'string' },
    registry: { type: 'string' },
    kind: { type: 'string' },
    topic: { type: 'string' },
    file: { type: 'string' },
    'client-id': { type: 'string', default: 'feedbackloop-example-node' },
  },
});
for (const name of ['brokers', 'registry', 'kind', 'topic', 'file']) {
  if (!args[name]) usage(`--${name} is required`);
}
if (!Object.hasOwn(SCHEMAS, args.kind)) usage(`--kind must be prediction or feedback, not ${args.kind}`);

function usage(problem) {
  console.error(`${problem}\nusage: node produce.mjs --brokers host:port[,...] --registry URL --kind prediction|feedback --topic NAME --file EVENTS.jsonl`);
  process.exit(2);
}

/** feedbackloop's schema of that kind, as the installed package ships it. */
function schemaText(kind) {
  const root = dirname(createRequire(import.meta.url).resolve('feedbackloop/package.json'));
  return readFileSync(join(root, 'schemas', `${SCHEMAS[kind]}.avsc`), 'utf8');
}

const registry = new SchemaRegistry({ host: args.registry });
const { id } = await registry.register({ type: SchemaType.AVRO, schema: schemaText(args.kind) }, { subject: `${args.topic}-value` });

const kafka = new Kafka({ clientId: args['client-id'], brokers: args.brokers.split(','), logLevel: logLevel.WARN });
const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, idempotent: true, maxInFlightRequests: 1 });
await producer.connect();

let sent = 0;
let skipped = 0;
let batch = [];
const flush = async () => {
  if (batch.length === 0) return;
  await producer.send({ topic: args.topic, acks: -1, messages: batch });
  sent += batch.length;
  batch = [];
};

try {
  let number = 0;
  for await (const line of createInterface({ input: createReadStream(args.file, 'utf8'), crlfDelay: Infinity })) {
    number++;
    if (line.trim() === '') continue;
    try {
      const event = JSON.parse(line);
      if (typeof event?.prediction_id !== 'string') throw new Error('no prediction_id');
      batch.push({ key: event.prediction_id, value: await registry.encode(id, event) });
    } catch (error) {
      skipped++;
      console.error(`${args.file}:${number}: skipped, not a ${args.kind} (${error.message})`);
      continue;
    }
    if (batch.length >= BATCH) await flush();
  }
  await flush();
} finally {
  await producer.disconnect();
}
console.log(`${sent} ${args.kind === 'prediction' ? 'predictions' : 'feedback'} delivered to ${args.topic} (schema id ${id})${skipped > 0 ? `; ${skipped} line(s) skipped` : ''}`);
process.exit(skipped > 0 ? 1 : 0);
