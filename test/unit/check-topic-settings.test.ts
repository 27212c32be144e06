/**
 * `check`'s report of topic settings (cli/commands/check.ts, checkTopicSettings) over the
 * in-process log: the settings its topics were created with pass; settings that delete what
 * feedbackloop reads are a FAIL line each and fail the check; settings the principal may not
 * read are one WARN line naming the topics, and do not fail it. The Kafka side, through the
 * built CLI: test/integration/check-topic-settings.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { buildConfig } from '../../adapters/config/index.js';
import { MemoryTransport } from '../../adapters/transport/memory.js';
import { checkTopicSettings, type Say } from '../../cli/commands/check.js';
import { topicSpecs } from '../../runtime/pipeline.js';
import { delegating } from '../support/greedy-consumer.js';

async function report(topicSettings?: (topic: string) => Promise<Map<string, string>>): Promise<{ lines: string[]; failures: string[] }> {
  const config = buildConfig({ kafka: { brokers: ['b1:9092'], schema_registry_url: 'http://registry:8081' } });
  const log = new MemoryTransport();
  await log.ensureTopics(topicSpecs(config));
  const transport = topicSettings ? delegating(log, { topicSettings }) : log;
  const lines: string[] = [];
  const say: Say = (ok, what, detail) => lines.push(`${ok === 'warn' ? 'WARN' : ok ? 'ok' : 'FAIL'} ${what}: ${detail}`);
  const failures: string[] = [];
  await checkTopicSettings({ config, transport }, say, failures);
  return { lines, failures };
}

describe('check: topic settings', () => {
  it('passes the settings the topics were created with', async () => {
    expect(await report()).toEqual({ lines: ['ok topic settings: compaction, retention and timestamps of 10 topics keep what feedbackloop reads'], failures: [] });
  });

  it('fails with a line per topic that deletes what feedbackloop reads', async () => {
    const week = new Map([['cleanup.policy', 'delete'], ['retention.ms', '604800000'], ['message.timestamp.type', 'CreateTime']]);
    const { lines, failures } = await report(async () => week);
    expect(failures).toEqual(['topic settings']);
    expect(lines.map((l) => /^FAIL topic settings: (\S+) has .*--add-config (\S+)$/.exec(l)?.slice(1))).toEqual([
      ['labelled-examples', 'message.timestamp.type=LogAppendTime'],
      ['model-snapshots', 'cleanup.policy=compact'],
      ['model-promotions', 'retention.ms=-1'],
      ['feedbackloop-joiner-changelog', 'cleanup.policy=compact'],
      ['feedbackloop-promoter-checkpoints', 'cleanup.policy=compact'],
      ['feedbackloop-evaluator-checkpoints', 'cleanup.policy=compact'],
    ]);
  });

  it('warns, without failing, about the settings it may not read, and judges the others', async () => {
    const log = new MemoryTransport();
    const { lines, failures } = await report(async (topic) => {
      if (topic === 'model-promotions' || topic === 'model-snapshots') throw new Error('Topic authorization failed');
      await log.ensureTopics([{ name: topic, partitions: 1 }]);
      return log.topicSettings(topic);
    });
    expect(failures).toEqual([]);
    expect(lines).toEqual([
      'WARN topic settings: not read for model-snapshots, model-promotions (Topic authorization failed): their compaction and retention are not checked',
      'ok topic settings: compaction, retention and timestamps of 8 topics keep what feedbackloop reads',
    ]);
  });
});
