/**
 * The Node example (examples/node) installed as the README says — `npm pack`
 * of this checkout, then `npm install` in the example, whose package.json
 * takes feedbackloop from that tarball — in a folder of its own, on the real
 * stack: its predictions (Avro in the Confluent wire format through the
 * registry, optional fields left out, kafkajs's murmur2 partitioner) join
 * with feedback from the Python example (examples/python/produce.py, JSON,
 * librdkafka's default partitioner) under `run --only joiner learner`; every
 * prediction is labelled, none misplaced. Then its follower (the scorer
 * library) serves the learner's newest snapshot once `feedbackloop promote`
 * names it, with exactly the score that snapshot gives.
 */
import { execFileSync, spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import type { Admin } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RegistryCodec } from '../../adapters/codec/codec.js';
import { KafkaTransport } from '../../adapters/kafka/transport.js';
import { partitionForKey } from '../../adapters/transport/partitioner.js';
import { parseSnapshotVersion } from '../../core/contracts/index.js';
import type { ModelSnapshot } from '../../core/events.js';
import { pipelineFromSnapshot } from '../../core/models/index.js';
import { REROUTED_FROM_HEADER } from '../../processors/joiner.js';
import { uniqueName } from '../support/collect.js';
import { CLI, failIfDied, JoinerProcess, joinerEnvironment, pipelineTopics, ROOT } from '../support/joiner-process.js';
import { GroupProgress, joinerCodecs, pipelineTopicSpecs, readTopic } from '../support/joiner-kafka.js';
import { STACK } from '../support/stack.js';
import { closeStackClients, openStackClients } from '../support/kafka-clients.js';

const PREDICTIONS = 600;
const PARTITIONS = 3;
const PYTHON = join(ROOT, '.venv', 'bin', 'python');
const MODEL = 'fraud';

describe('Connect your app: the Node example, with feedback from the Python example', () => {
  let transport: KafkaTransport;
  let admin: Admin;
  let child: JoinerProcess | undefined;
  let app: string;
  let folder: string;

  beforeAll(async () => {
    execFileSync('bash', [join(ROOT, 'scripts/python-env.sh')], { stdio: 'inherit' });
    ({ transport, admin } = await openStackClients('node-example-test'));
    // The README's steps, in a folder laid out as the checkout: <folder>/feedbackloop-<version>.tgz and <folder>/examples/node.
    // (--ignore-scripts: the integration tests run on a build already; `npm pack` alone runs it first.)
    folder = mkdtempSync(join(tmpdir(), 'feedbackloop-node-example-'));
    const version = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
    execFileSync('npm', ['pack', '--ignore-scripts', '--silent', '--pack-destination', folder], { cwd: ROOT, stdio: 'ignore' });
    app = join(folder, 'examples', 'node');
    mkdirSync(app, { recursive: true });
    for (const file of ['package.json', 'produce.mjs', 'follow.mjs']) copyFileSync(join(ROOT, 'examples', 'node', file), join(app, file));
    expect(JSON.parse(readFileSync(join(app, 'package.json'), 'utf8')).dependencies.feedbackloop).toBe(`file:../../feedbackloop-${version}.tgz`);
    execFileSync('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--silent'], { cwd: app, stdio: 'inherit', timeout: 300_000 });
  }, 360_000);

  afterAll(async () => {
    await child?.stop();
    await closeStackClients({ transport, admin });
    if (folder) rmSync(folder, { recursive: true, force: true });
  });

  it('its predictions join with the Python example\'s feedback; its follower serves the promoted snapshot', async () => {
    const prefix = uniqueName('node-example');
    const topics = pipelineTopics(prefix);
    await transport.ensureTopics(pipelineTopicSpecs(topics, PARTITIONS));
    const dir = join(ROOT, '.cache', 'test-state', prefix);
    mkdirSync(dir, { recursive: true });
    const start = Date.now() - 3 * 3_600_000;
    const predictions: string[] = [];
    const feedback: string[] = [];
    const labels = new Map<string, number>();
    for (let i = 0; i < PREDICTIONS; i++) {
      const id = `${prefix}-p${i}`;
      const label = i % 3 === 0 ? 1 : 0;
      labels.set(id, label);
      // categorical, segments, threshold and shadow_scores left out: the schema's defaults.
      predictions.push(JSON.stringify({ prediction_id: id, model: MODEL, model_version: 'v1', timestamp: start + i * 1_000, features: { x: label * 2 + (i % 5) / 10, y: i % 7 }, score: 0.5 }));
      feedback.push(JSON.stringify({ prediction_id: id, timestamp: start + i * 1_000 + 60_000, feedback_type: 'AUTO_VALIDATED', label }));
    }
    writeFileSync(join(dir, 'predictions.jsonl'), predictions.join('\n') + '\n');
    writeFileSync(join(dir, 'feedback.jsonl'), feedback.join('\n') + '\n');

    const produced = execFileSync(process.execPath, ['produce.mjs', '--brokers', STACK.brokers.join(','), '--registry', STACK.registryUrl, '--kind', 'prediction', '--topic', topics.predictions, '--file', join(dir, 'predictions.jsonl')], { cwd: app, encoding: 'utf8' });
    expect(produced).toMatch(new RegExp(`^${PREDICTIONS} predictions delivered to ${topics.predictions} \\(schema id \\d+\\)\\n$`));
    const python = [join(ROOT, 'examples/python/produce.py'), '--bootstrap-servers', STACK.brokers.join(','), '--topic', topics.feedback, '--file', join(dir, 'feedback.jsonl'), '--partitioner', 'consistent_random'];
    expect(execFileSync(PYTHON, python, { encoding: 'utf8' })).toContain(`${PREDICTIONS} records delivered`);

    // Each prediction is Avro in the Confluent wire format, on its murmur2 partition.
    const predictionRecords = await readTopic(transport, topics.predictions, PARTITIONS);
    expect(predictionRecords.length).toBe(PREDICTIONS);
    expect(predictionRecords.filter((r) => r.value![0] !== 0 || r.partition !== partitionForKey(r.key!, PARTITIONS))).toEqual([]);

    const env = joinerEnvironment({ clientId: prefix, topics, partitions: PARTITIONS, extra: { FEEDBACKLOOP_LEARNER_SNAPSHOT_INTERVAL: '500ms' } });
    child = await JoinerProcess.start({ name: `${prefix}-run`, env, processors: ['joiner', 'learner'] });
    const running = child;
    await new GroupProgress(admin, `${prefix}-joiner`, [topics.predictions, topics.feedback]).waitCaughtUp({ timeoutMs: 120_000, check: () => failIfDied([running]) });
    await new GroupProgress(admin, `${prefix}-learner`, [topics.labelled]).waitCaughtUp({ timeoutMs: 120_000, check: () => failIfDied([running]) });

    const registry = new SchemaRegistry({ host: STACK.registryUrl });
    const codecs = joinerCodecs(registry, topics);
    const joined = new Map<string, number | null>();
    for (const record of await readTopic(transport, topics.labelled, PARTITIONS)) {
      const example = await codecs.labelled.decode(record.value);
      if (!example.arrival) joined.set(example.prediction_id, example.label);
      if (!example.arrival) expect(example).toMatchObject({ categorical: {}, segments: {}, threshold: 0.5, shadow_scores: {} });
    }
    expect(joined.size).toBe(PREDICTIONS);
    expect([...labels].filter(([id, label]) => joined.get(id) !== label)).toEqual([]);
    expect((await readTopic(transport, topics.unmatched, PARTITIONS)).length).toBe(0);
    expect((await readTopic(transport, topics.deadLetters, PARTITIONS)).length).toBe(0);
    // librdkafka's CRC32 put most feedback elsewhere: forwarded to the predictions' partitions and joined there.
    const forwarded = (await readTopic(transport, topics.feedback, PARTITIONS)).filter((r) => r.headers[REROUTED_FROM_HEADER] !== undefined);
    expect(forwarded.length).toBeGreaterThan(PREDICTIONS / 3);

    // The learner's newest logreg snapshot (it has learned everything: its group caught up).
    const snapshotCodec = new RegistryCodec<ModelSnapshot>(registry, 'ModelSnapshot', `${topics.snapshots}-value`);
    const snapshots = await Promise.all((await readTopic(transport, topics.snapshots, PARTITIONS)).map((r) => snapshotCodec.decode(r.value)));
    const newest = snapshots.filter((s) => s.model === MODEL && s.challenger === 'logreg').sort((a, b) => parseSnapshotVersion(b.version)!.sequence - parseSnapshotVersion(a.version)!.sequence)[0]!;
    expect(newest.training_count).toBe(PREDICTIONS);

    // The follower starts with no champion, then follows the promotion.
    const input = { features: { x: 2.2, y: 3 }, categorical: {} };
    const follower = spawn(process.execPath, [
      'follow.mjs', '--brokers', STACK.brokers.join(','), '--registry', STACK.registryUrl, '--model', MODEL, '--features', JSON.stringify(input.features),
      '--until', newest.version, '--timeout', '90', '--snapshots-topic', topics.snapshots, '--promotions-topic', topics.promotions,
    ], { cwd: app, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    follower.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    follower.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => follower.on('exit', resolve));
    for (let i = 0; i < 300 && !stderr.includes('following'); i++) await new Promise((resolve) => setTimeout(resolve, 100));
    expect(stderr).toContain(`following ${MODEL}: champion none yet`);
    execFileSync(process.execPath, [CLI, 'promote', '--model', MODEL, '--to', newest.version, '--reason', 'node example test', '--actor', 'test'], { env, encoding: 'utf8' });
    expect(await exited).toBe(0);
    const lines = stdout.trim().split('\n').map((line) => JSON.parse(line) as { champion: string; score?: number });
    expect(lines[lines.length - 1]).toMatchObject({ champion: newest.version, score: pipelineFromSnapshot(JSON.parse(newest.parameters)).predictOne(input) });
  }, 360_000);
});
