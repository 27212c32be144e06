/**
 * The Kafka ACLs of `feedbackloop acls` (runtime/acls.ts) against what the
 * processors actually do: the whole pipeline runs a stream on the in-process
 * log behind a transport that records every access as Kafka would check it
 * (consumer groups and their topics, transactional ids, writes, offsets
 * read), and each must be allowed by the ACLs computed for the same config.
 * test/integration/kafka-acls.test.ts does the same on a real broker with an
 * authorizer. Also: the README's table is the generated one, and the
 * kafka-acls.sh form.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildConfig, type Config } from '../../adapters/config/index.js';
import { makeCodecs } from '../../adapters/codec/codecs.js';
import { MemoryTransport } from '../../adapters/transport/memory.js';
import type { LogTransport } from '../../adapters/transport/transport.js';
import { ManualClock } from '../../core/clock.js';
import { MemoryJoinStore } from '../../core/join/index.js';
import { aclTable, kafkaAcls, kafkaAclsCommands, mergeAcls, processorAcls, type AclOperation, type AclResourceType, type KafkaAcl } from '../../runtime/acls.js';
import { apiServices, learnerSource } from '../../runtime/api/index.js';
import { createLogger } from '../../adapters/logging/index.js';
import type { PromotionDecision } from '../../core/events.js';
import { ChallengerTrainer } from '../../core/learn/index.js';
import { labelledStream } from '../support/labelled.js';
import { Pipeline, PROCESSOR_NAMES, topicSpecs, type PipelineEnv, type ProcessorName } from '../../runtime/pipeline.js';
import { outcomeDelayedStream } from '../support/backlog.js';

interface Access {
  resourceType: AclResourceType;
  name: string;
  operation: AclOperation;
}

/** What an authorizer allows: an ACL on the resource (its name, or a prefix of it) with the operation, or one implying it. */
function allowed(acls: readonly KafkaAcl[], access: Access): boolean {
  return acls.some(
    (acl) =>
      acl.resourceType === access.resourceType &&
      (acl.patternType === 'LITERAL' ? acl.name === access.name : access.name.startsWith(acl.name)) &&
      // Kafka: READ, WRITE and DELETE imply DESCRIBE.
      (acl.operations.includes(access.operation) || (access.operation === 'DESCRIBE' && acl.operations.some((op) => op === 'READ' || op === 'WRITE' || op === 'DELETE'))),
  );
}

/** `inner` with every access recorded, as the Kafka transport makes it. */
function recording(inner: MemoryTransport, accesses: Access[]): LogTransport {
  const note = (resourceType: AclResourceType, name: string, operation: AclOperation) => accesses.push({ resourceType, name, operation });
  return {
    ensureTopics: (specs) => inner.ensureTopics(specs),
    topicSettings: (topic) => inner.topicSettings(topic), // check's alone (DESCRIBE_CONFIGS), never run's
    partitionCount: (topic) => (note('TOPIC', topic, 'DESCRIBE'), inner.partitionCount(topic)),
    committedOffsets: (groupId, topic) => (note('GROUP', groupId, 'DESCRIBE'), note('TOPIC', topic, 'DESCRIBE'), inner.committedOffsets(groupId, topic)),
    endOffsets: (topic) => (note('TOPIC', topic, 'DESCRIBE'), inner.endOffsets(topic)),
    producer: async () => {
      const producer = await inner.producer();
      return { send: (records) => (records.forEach((r) => note('TOPIC', r.topic, 'WRITE')), producer.send(records)), close: () => producer.close() };
    },
    transactionalProducer: async (id) => {
      note('TRANSACTIONAL_ID', id, 'WRITE');
      const producer = await inner.transactionalProducer(id);
      return {
        close: () => producer.close(),
        sendWithOffsets: (records, commit) => {
          for (const r of records) note('TOPIC', r.topic, 'WRITE');
          note('GROUP', commit.groupId, 'READ');
          for (const o of commit.offsets) note('TOPIC', o.topic, 'READ');
          return producer.sendWithOffsets(records, commit);
        },
      };
    },
    consumer: (options) => {
      note('GROUP', options.groupId, 'READ');
      for (const topic of options.topics) note('TOPIC', topic, 'READ');
      return inner.consumer(options);
    },
    readToEnd: (topic, partitions, onRecords, from) => (note('TOPIC', topic, 'READ'), inner.readToEnd(topic, partitions, onRecords, from)),
    close: () => inner.close(),
  };
}

/** Runs every processor over a stream of predictions and feedback; returns what they did on the log. */
async function accessesOfRun(config: Config, name: string): Promise<{ accesses: Access[]; kept: number }> {
  const clock = new ManualClock(Date.now());
  const log = new MemoryTransport(() => clock.now());
  await log.ensureTopics(topicSpecs(config));
  const accesses: Access[] = [];
  const transport = recording(log, accesses);
  const codecs = makeCodecs(config.topics, undefined);
  const nothing = { connect: async () => {}, writeBatch: async () => {}, close: async () => {} };
  const env: PipelineEnv = {
    config, transport, codecs, clock, name, time: 'wall-clock',
    joinStore: () => new MemoryJoinStore(),
    evaluator: { sink: nothing, flush: { maxRows: 1_000, maxBytes: 1 << 20, intervalMs: 1_000 } },
    clickhouse: { insert: async () => {} },
    deadLetters: nothing,
    observer: {},
  };
  const pipeline = new Pipeline(env, PROCESSOR_NAMES);
  await pipeline.start();
  const { predictions, feedback } = outcomeDelayedStream(300, 17, clock.now() - 3 * 86_400_000);
  const producer = await log.producer();
  for (const p of predictions) await producer.send([{ topic: config.topics.predictions, key: Buffer.from(p.prediction_id), value: await codecs.prediction.encode(p) }]);
  for (const f of feedback) await producer.send([{ topic: config.topics.feedback, key: Buffer.from(f.prediction_id), value: await codecs.feedback.encode(f) }]);
  await log.whenIdle();
  await pipeline.stop(() => log.whenIdle());
  // What run's learner and promoter kept of what they published (a replay writes it out; run must not pile it up).
  const kept = pipeline.get('learner')!.published.length + pipeline.get('promoter')!.published.length;
  return { accesses, kept };
}

describe('feedbackloop acls: the Kafka ACLs run needs', () => {
  it('allow everything every processor does on the log, and the stream went through all of them', async () => {
    const config = buildConfig({ topics: { partitions: 2 }, learner: { snapshot_every: 50 }, kafka: { client_id: 'acme' } });
    const { accesses, kept } = await accessesOfRun(config, 'acme');
    expect(kept).toBe(0);
    const acls = kafkaAcls(config);
    const refused = accesses.filter((a) => !allowed(acls, a));
    expect(refused).toEqual([]);
    // The run reached every kind of access: groups of the processors and the feeds, every transactional processor, every output.
    const seen = (type: AclResourceType) => new Set(accesses.filter((a) => a.resourceType === type).map((a) => a.name.replace(/-(scorer|decisions|requests)-.*$/, '-$1-*')));
    expect([...seen('GROUP')].sort()).toEqual(
      ['archive', 'evaluator', 'joiner', 'joiner-decisions-*', 'joiner-scorer-*', 'learner', 'promoter', 'promoter-requests-*', 'registry'].map((g) => `acme-${g}`),
    );
    expect([...seen('TRANSACTIONAL_ID')].map((id) => id.replace(/-\d+$/, '')).filter((id, i, all) => all.indexOf(id) === i).sort()).toEqual(['acme-joiner', 'acme-learner', 'acme-promoter']);
    const t = config.topics;
    const written = new Set(accesses.filter((a) => a.operation === 'WRITE' && a.resourceType === 'TOPIC').map((a) => a.name));
    expect([...written].sort()).toEqual([t.labelled_examples, t.joiner_changelog, t.model_snapshots, t.evaluator_checkpoints].sort());
  });

  it('with evaluator.shard_by: prediction: the joiner writes the sharded topic, the evaluator reads it (not labelled_examples), and everything is allowed', async () => {
    const sharded = { shard_by: 'prediction', rolling_size: 0, drift_reference_size: 0, drift_detectors: false };
    const config = buildConfig({ topics: { partitions: 2 }, evaluator: sharded, kafka: { client_id: 'acme' } });
    const t = config.topics;
    const { accesses } = await accessesOfRun(config, 'acme');
    const acls = kafkaAcls(config);
    expect(accesses.filter((a) => !allowed(acls, a))).toEqual([]);
    const topicAccess = (operation: AclOperation) => new Set(accesses.filter((a) => a.resourceType === 'TOPIC' && a.operation === operation).map((a) => a.name));
    expect(topicAccess('WRITE').has(t.sharded_examples)).toBe(true);
    expect(topicAccess('READ').has(t.sharded_examples)).toBe(true);
    const of = (processor: ProcessorName, topic: string) => processorAcls(config, processor).find((a) => a.resourceType === 'TOPIC' && a.name === topic)?.operations;
    expect(of('joiner', t.sharded_examples)).toEqual(['WRITE', 'DESCRIBE']);
    expect(of('evaluator', t.sharded_examples)).toEqual(['READ', 'DESCRIBE']);
    expect(of('evaluator', t.labelled_examples)).toBeUndefined();
    expect(of('learner', t.sharded_examples)).toBeUndefined();
    // Unsharded (the default), nobody touches it and it is not created.
    expect(kafkaAcls(buildConfig({})).some((a) => a.name === t.sharded_examples)).toBe(false);
    expect(topicSpecs(buildConfig({})).some((s) => s.name === t.sharded_examples)).toBe(false);
  });

  it('grant no more than each processor needs: no CLUSTER, no CREATE, no wildcard', () => {
    const config = buildConfig({});
    const acls = kafkaAcls(config);
    expect(acls.filter((a) => a.resourceType === 'CLUSTER' || a.operations.includes('CREATE') || a.name === '*' || a.name === '')).toEqual([]);
    // Prefixes only where names carry a unique suffix, each under the client id.
    for (const acl of acls.filter((a) => a.patternType === 'PREFIXED')) expect(acl.name).toMatch(/^feedbackloop-.+-$/);
    // The joiner alone: its topics, not the learner's output.
    const joiner = kafkaAcls(config, ['joiner']);
    expect(joiner.find((a) => a.name === config.topics.model_snapshots)?.operations).toEqual(['READ', 'DESCRIBE']);
    // Creating topics: only those the selected processors use (the checkpoint topics are not the joiner's).
    const t = config.topics;
    expect(kafkaAcls(config, ['joiner'], { createTopics: true }).filter((a) => a.operations.includes('CREATE')).map((a) => a.name)).toEqual(
      topicSpecs(config).map((s) => s.name).filter((name) => name !== t.promoter_checkpoints && name !== t.evaluator_checkpoints),
    );
    expect(kafkaAcls(config, undefined, { createTopics: true }).filter((a) => a.operations.includes('CREATE')).map((a) => a.name)).toEqual(topicSpecs(config).map((s) => s.name));
  });

  it('allow everything the /v1 API does (http.api): events written, decisions read, a scorer per model; none of it with http.api off', async () => {
    const config = buildConfig({ kafka: { client_id: 'acme' } });
    const log = new MemoryTransport();
    await log.ensureTopics(topicSpecs(config));
    const accesses: Access[] = [];
    const transport = recording(log, accesses);
    const codecs = makeCodecs(config.topics, undefined);
    const api = apiServices({ config, transport, codecs, clickhouse: undefined, logger: createLogger('silent') }, await transport.producer());
    const now = Date.now();
    expect(await api.post('prediction', [{ prediction_id: 'p1', model: 'fraud', model_version: 'v7', timestamp: now, features: { a: 1 }, score: 0.4 }], false)).toBe(1);
    expect(await api.post('feedback', [{ prediction_id: 'p1', timestamp: now, feedback_type: 'USER_CONFIRMED' }], false)).toBe(1);
    const learner = new ChallengerTrainer({ challengersOf: () => ['logreg'] });
    for (const example of labelledStream(100, 5).filter((e) => e.model === 'fraud')) learner.learn(example);
    const [snapshot] = learner.snapshot();
    const producer = await log.producer();
    await producer.send([{ topic: config.topics.model_snapshots, key: Buffer.from(snapshot!.version), value: await codecs.snapshot.encode(snapshot!) }]);
    const decision: PromotionDecision = {
      decision_id: 'fraud#1', model: 'fraud', from_version: 'v7', to_version: snapshot!.version, decision: 'PROMOTE', policy: 'msprt', statistic: null, p_value: null,
      bound: null, alpha: null, sample_size: 1, metric_deltas: {}, guardrails: {}, reason: 'r', actor: 'a', at: now, decided_at: now,
    };
    await producer.send([{ topic: config.topics.model_promotions, key: Buffer.from('fraud'), value: await codecs.promotion.encode(decision) }]);
    expect((await api.score('fraud', { features: { a: 1 } })).version).toBe(snapshot!.version);
    // GET /v1/feedback/stats (with ClickHouse) asks Kafka where the learner stands.
    expect((await learnerSource(config, transport).position('fraud')).problem).toBeUndefined();
    await api.close();
    await log.close();
    const acls = kafkaAcls(config);
    expect(accesses.filter((a) => !allowed(acls, a))).toEqual([]);
    const t = config.topics;
    expect([...new Set(accesses.filter((a) => a.operation === 'WRITE').map((a) => a.name))].sort()).toEqual([t.feedback, t.predictions].sort());
    expect(accesses.filter((a) => a.resourceType === 'GROUP').map((a) => a.name.replace(/^(acme-api-scorer-fraud-).*-([sp])$/, '$1*-$2'))).toEqual(['acme-api-scorer-fraud-*-s', 'acme-api-scorer-fraud-*-p', 'acme-learner']);
    // Without the API, the processors' ACLs only.
    const off = kafkaAcls(buildConfig({ kafka: { client_id: 'acme' }, http: { api: false } }));
    expect(off).toEqual(acls.filter((a) => a.for !== 'api'));
    expect(acls.filter((a) => a.for === 'api').map((a) => `${a.resourceType} ${a.name} ${a.operations.join(',')}`)).toEqual([
      'TOPIC predictions WRITE,DESCRIBE', 'TOPIC feedback WRITE,DESCRIBE', 'TOPIC model-promotions READ,DESCRIBE', 'TOPIC model-snapshots READ,DESCRIBE',
      'GROUP acme-api-scorer- READ', 'GROUP acme-read-to-end- READ,DELETE', 'TOPIC labelled-examples DESCRIBE', 'GROUP acme-learner DESCRIBE',
    ]);
  });

  it('print as kafka-acls.sh commands, one per resource pattern', () => {
    const config = buildConfig({ kafka: { client_id: 'acme' }, http: { api: false } });
    const commands = kafkaAclsCommands(kafkaAcls(config, ['learner']), 'User:fl', 'kafka:9092', 'admin.properties');
    expect(commands).toEqual([
      'kafka-acls.sh --bootstrap-server kafka:9092 --command-config admin.properties --add --allow-principal User:fl --topic dead-letters --operation Write --operation Describe',
      'kafka-acls.sh --bootstrap-server kafka:9092 --command-config admin.properties --add --allow-principal User:fl --topic labelled-examples --operation Read --operation Describe',
      'kafka-acls.sh --bootstrap-server kafka:9092 --command-config admin.properties --add --allow-principal User:fl --topic model-snapshots --operation Read --operation Write --operation Describe',
      'kafka-acls.sh --bootstrap-server kafka:9092 --command-config admin.properties --add --allow-principal User:fl --group acme-learner --operation Read --operation Describe',
      'kafka-acls.sh --bootstrap-server kafka:9092 --command-config admin.properties --add --allow-principal User:fl --group acme-read-to-end- --resource-pattern-type prefixed --operation Read --operation Delete',
      'kafka-acls.sh --bootstrap-server kafka:9092 --command-config admin.properties --add --allow-principal User:fl --transactional-id acme-learner- --resource-pattern-type prefixed --operation Write --operation Describe',
    ]);
    // One command per resource even when several processors need it.
    const all = kafkaAcls(config);
    expect(kafkaAclsCommands(all, 'User:fl')).toHaveLength(mergeAcls(all).length);
  });

  it("the README's table is the generated one (feedbackloop acls --format table)", () => {
    const readme = readFileSync(join(import.meta.dirname, '..', '..', 'README.md'), 'utf8');
    const table = /<!-- acls:begin -->\n([\s\S]*?)\n<!-- acls:end -->/.exec(readme)?.[1];
    expect(table).toBe(aclTable(kafkaAcls(buildConfig({}))));
  });
});
