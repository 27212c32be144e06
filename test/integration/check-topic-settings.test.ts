/**
 * `feedbackloop check` on the real stack against topics that exist already with settings that
 * delete what feedbackloop reads (made by an earlier version or an administrator: ensureTopics
 * never alters an existing topic): model-promotions with the broker's 7-day retention, a
 * compacted topic with cleanup.policy delete and another with compact,delete and a finite
 * retention, labelled-examples and its sharded copy with a finite retention counted from the
 * records' own time (CreateTime). The built CLI must name each (topic, setting, why, the
 * kafka-configs.sh fix) and exit 1; the fixes it prints, run as printed through Kafka's
 * ConfigCommand (what kafka-configs.sh runs), must then leave a check with no finding and exit 0.
 * With either Kafka client; no ClickHouse. About 7 s each.
 */
import { execFile } from 'node:child_process';
import { ConfigResourceTypes, Kafka, logLevel, type Admin } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatDuration } from '../../core/duration.js';
import { uniqueName } from '../support/collect.js';
import { CLI, joinerEnvironment, pipelineTopics, ROOT } from '../support/joiner-process.js';
import { requireStack, STACK } from '../support/stack.js';

function cli(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { env, timeout: 60_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? Number((error as { code?: unknown }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

/** Runs `kafka-configs.sh …` lines through the stack's Kafka jars (kafka.admin.ConfigCommand, what the script runs). */
function kafkaConfigs(commands: string[]): Promise<string> {
  const lines = commands.map((c) => {
    expect(c).toMatch(/^kafka-configs\.sh [\w .,:=@-]+$/); // only what the test expects: nothing to quote
    return c.replace(/^kafka-configs\.sh /, 'kafka_tool timeout 60 kafka.admin.ConfigCommand ');
  });
  const script = ['set -e', 'source scripts/stack/lib.sh >/dev/null', 'source scripts/stack/kafka-lib.sh', ...lines].join('\n');
  return new Promise((resolve, reject) => {
    execFile('bash', ['-c', script], { cwd: ROOT, timeout: 120_000 }, (error, stdout, stderr) => (error ? reject(new Error(`${error.message}\n${stderr}`)) : resolve(stdout)));
  });
}

describe.each(['kafkajs', 'platformatic'])('feedbackloop check (kafka.client %s) reports existing topics whose settings delete what feedbackloop reads', (client) => {
  const prefix = uniqueName(`check-settings-${client}`);
  const topics = pipelineTopics(prefix);
  const sharded = `${prefix}-labelled-examples-sharded`;
  const env = joinerEnvironment({
    clientId: prefix,
    topics,
    partitions: 1,
    extra: {
      FEEDBACKLOOP_LOG_LEVEL: 'warn',
      FEEDBACKLOOP_KAFKA_CLIENT: client,
      FEEDBACKLOOP_TOPICS_SHARDED_EXAMPLES: sharded,
      FEEDBACKLOOP_EVALUATOR_SHARD_BY: 'prediction',
      FEEDBACKLOOP_EVALUATOR_ROLLING_SIZE: '0',
      FEEDBACKLOOP_EVALUATOR_DRIFT_REFERENCE_SIZE: '0',
      FEEDBACKLOOP_EVALUATOR_DRIFT_DETECTORS: 'false',
    },
  });
  let admin: Admin;
  /** The broker's retention.ms, which a topic created without its own has (the stack's: 1 day). */
  let brokerRetention: string;

  beforeAll(async () => {
    await requireStack('kafka', 'registry');
    admin = new Kafka({ clientId: prefix, brokers: STACK.brokers, logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    const month = String(30 * 86_400_000);
    await admin.createTopics({
      waitForLeaders: true,
      topics: [
        { topic: topics.promotions, numPartitions: 1 }, // the broker's defaults: delete, 7 days
        { topic: topics.snapshots, numPartitions: 1 },
        { topic: topics.changelog, numPartitions: 1, configEntries: [{ name: 'cleanup.policy', value: 'compact,delete' }, { name: 'retention.ms', value: '86400000' }] },
        { topic: topics.labelled, numPartitions: 1, configEntries: [{ name: 'retention.ms', value: month }] },
        { topic: sharded, numPartitions: 1, configEntries: [{ name: 'retention.ms', value: month }] },
        // Compacted as it should be: no finding.
        { topic: topics.checkpoints, numPartitions: 1, configEntries: [{ name: 'cleanup.policy', value: 'compact' }] },
      ],
    });
    const { resources } = await admin.describeConfigs({ includeSynonyms: false, resources: [{ type: ConfigResourceTypes.TOPIC, name: topics.promotions }] });
    brokerRetention = resources[0]!.configEntries.find((e) => e.configName === 'retention.ms')!.configValue;
  });

  afterAll(async () => {
    await admin?.deleteTopics({ topics: [...Object.values(topics), sharded] }).catch(() => {});
    await admin?.disconnect();
  });

  it('names each topic, the setting, why and the fix, and fails; with the fixes applied it passes', async () => {
    const bad = await cli(['check'], env);
    expect(bad.stderr).toContain('check failed: topic settings');
    expect(bad.code).toBe(1);
    const lines = bad.stdout.split('\n').filter((l) => l.startsWith('FAIL topic settings: '));
    const brokers = STACK.brokers.join(',');
    const retention = `retention.ms=${brokerRetention} (${formatDuration(Number(brokerRetention))})`;
    expect(Number(brokerRetention)).toBeGreaterThan(0);
    const fix = (topic: string, config: string) => `fix: kafka-configs.sh --bootstrap-server ${brokers} --alter --entity-type topics --entity-name ${topic} --add-config ${config}`;
    expect(lines.map((l) => l.slice('FAIL topic settings: '.length).replace(/: .*; fix: /, ' | fix: '))).toEqual([
      `${topics.labelled} has message.timestamp.type=CreateTime with retention.ms=2592000000 (30d) | ${fix(topics.labelled, 'message.timestamp.type=LogAppendTime')}`,
      `${sharded} has message.timestamp.type=CreateTime with retention.ms=2592000000 (30d) | ${fix(sharded, 'message.timestamp.type=LogAppendTime')}`,
      `${topics.snapshots} has cleanup.policy=delete with ${retention} | ${fix(topics.snapshots, 'cleanup.policy=compact')}`,
      `${topics.promotions} has ${retention} | ${fix(topics.promotions, 'retention.ms=-1')}`,
      `${topics.changelog} has cleanup.policy=compact,delete with retention.ms=86400000 (1d) | ${fix(topics.changelog, 'cleanup.policy=compact')}`,
    ]);
    expect(lines.find((l) => l.includes(topics.promotions))).toContain('the champion is the latest decision');
    expect(lines.find((l) => l.includes(topics.labelled))).toContain('replayed history older than 30d is deleted');
    // Every other check passed: the topics, the partitions, the registry.
    expect(bad.stdout.split('\n').filter((l) => l.startsWith('FAIL')).length).toBe(5);
    expect(bad.stdout).toMatch(/^ok {3}kafka: /m);
    expect(bad.stdout).toMatch(/^ok {3}schema registry: /m);

    await kafkaConfigs(lines.map((l) => l.slice(l.indexOf('fix: ') + 'fix: '.length)));
    const good = await cli(['check'], env);
    expect(good.stdout).not.toContain('FAIL');
    expect(good.stdout).toMatch(/^ok {3}topic settings: compaction, retention and timestamps of 11 topics keep what feedbackloop reads$/m);
    expect(good.code).toBe(0);
  });
});
