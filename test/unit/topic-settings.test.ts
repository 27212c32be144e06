/**
 * runtime/topic-settings.ts: the settings of an existing topic judged against
 * what feedbackloop reads from it, case by case (the Kafka side:
 * test/integration/check-topic-settings.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { topicConfigEntries } from '../../adapters/kafka/topic-configs.js';
import type { TopicSpec } from '../../adapters/transport/transport.js';
import { buildConfig } from '../../adapters/config/index.js';
import { topicSpecs } from '../../runtime/pipeline.js';
import { alterCommand, findingText, judgeTopicSettings } from '../../runtime/topic-settings.js';

const WEEK = '604800000';
/** The broker's defaults for a topic given no settings of its own (Kafka 3.9). */
const DEFAULTS = { 'cleanup.policy': 'delete', 'retention.ms': WEEK, 'message.timestamp.type': 'CreateTime', 'segment.ms': WEEK };
const settings = (own: Record<string, string> = {}) => new Map(Object.entries({ ...DEFAULTS, ...own }));

const promotions: TopicSpec = { name: 'model-promotions', partitions: 3, keepForever: true, reads: 'the champion' };
const snapshots: TopicSpec = { name: 'model-snapshots', partitions: 3, compacted: true };
const labelled: TopicSpec = { name: 'labelled-examples', partitions: 3, retentionMs: 30 * 86_400_000 };
const predictions: TopicSpec = { name: 'predictions', partitions: 3 };

describe('judgeTopicSettings', () => {
  it('finds nothing in the settings ensureTopics gives each topic of the pipeline, over the broker defaults', () => {
    for (const retention of ['30d', '0s']) {
      const config = buildConfig({ topics: { labelled_examples_retention: retention }, evaluator: { shard_by: 'prediction', rolling_size: 0, drift_reference_size: 0, drift_detectors: false } });
      for (const spec of topicSpecs(config)) {
        const own = Object.fromEntries(topicConfigEntries(spec).map((e) => [e.name, e.value]));
        expect(judgeTopicSettings(spec, settings(own)), spec.name).toEqual([]);
      }
    }
  });

  it('model-promotions with a finite retention.ms: the champion is forgotten', () => {
    const [finding, ...more] = judgeTopicSettings(promotions, settings());
    expect(more).toEqual([]);
    expect(finding).toEqual({
      topic: 'model-promotions',
      found: 'retention.ms=604800000 (1w)',
      why: 'records are deleted 1w after their timestamp, but feedbackloop reads this topic from its start and needs every record however old (the champion)',
      fix: [{ name: 'retention.ms', value: '-1' }],
    });
  });

  it('model-promotions kept for ever, or not deleted by time (compact policy), is fine', () => {
    expect(judgeTopicSettings(promotions, settings({ 'retention.ms': '-1' }))).toEqual([]);
    expect(judgeTopicSettings(promotions, settings({ 'cleanup.policy': 'compact' }))).toEqual([]);
  });

  it('a compacted topic with cleanup.policy delete, or compact,delete with a finite retention: the restore state is deleted', () => {
    for (const policy of ['delete', 'compact,delete', 'delete, compact']) {
      const findings = judgeTopicSettings(snapshots, settings({ 'cleanup.policy': policy }));
      expect(findings.map((f) => [f.found, f.fix])).toEqual([[`cleanup.policy=${policy} with retention.ms=604800000 (1w)`, [{ name: 'cleanup.policy', value: 'compact' }]]]);
      expect(findings[0]!.why).toMatch(/^records are deleted 1w after their timestamp, but a restore needs the latest record of every key however old$/);
    }
  });

  it('a compacted topic that deletes nothing by time is fine (compact; delete with retention -1)', () => {
    expect(judgeTopicSettings(snapshots, settings({ 'cleanup.policy': 'compact' }))).toEqual([]);
    expect(judgeTopicSettings(snapshots, settings({ 'cleanup.policy': 'compact,delete', 'retention.ms': '-1' }))).toEqual([]);
    expect(judgeTopicSettings(snapshots, settings({ 'retention.ms': '-1' }))).toEqual([]);
  });

  it('labelled-examples with a finite retention and CreateTime: replayed history is deleted', () => {
    const findings = judgeTopicSettings(labelled, settings({ 'retention.ms': '2592000000' }));
    expect(findings.map((f) => [f.topic, f.found, f.fix])).toEqual([
      ['labelled-examples', 'message.timestamp.type=CreateTime with retention.ms=2592000000 (30d)', [{ name: 'message.timestamp.type', value: 'LogAppendTime' }]],
    ]);
    expect(findings[0]!.why).toContain('replayed history older than 30d is deleted at the broker');
  });

  it('labelled-examples kept for ever by an earlier version (retention -1, CreateTime), or stamped on arrival, is fine', () => {
    expect(judgeTopicSettings(labelled, settings({ 'retention.ms': '-1' }))).toEqual([]);
    expect(judgeTopicSettings(labelled, settings({ 'message.timestamp.type': 'LogAppendTime' }))).toEqual([]);
  });

  it('labelled-examples with retention 0 (kept for ever) and a finite retention on the broker: deleted like the promotions', () => {
    const spec = topicSpecs(buildConfig({ topics: { labelled_examples_retention: '0s' } })).find((s) => s.name === 'labelled-examples')!;
    const findings = judgeTopicSettings(spec, settings());
    expect(findings.map((f) => f.fix)).toEqual([[{ name: 'retention.ms', value: '-1' }]]);
    expect(findings[0]!.why).toContain('topics.labelled_examples_retention is 0');
  });

  it('a topic with nothing to keep (predictions) has no finding, whatever its retention', () => {
    expect(judgeTopicSettings(predictions, settings({ 'retention.ms': '60000' }))).toEqual([]);
  });

  it('a setting not given or not a number is not judged', () => {
    expect(judgeTopicSettings(promotions, new Map())).toEqual([]);
    expect(judgeTopicSettings(snapshots, new Map([['cleanup.policy', 'delete']]))).toEqual([]);
    expect(judgeTopicSettings(promotions, settings({ 'retention.ms': 'soon' }))).toEqual([]);
    expect(judgeTopicSettings(labelled, new Map([['cleanup.policy', 'delete'], ['retention.ms', WEEK]]))).toEqual([]);
  });

  it('the line names the topic, the setting, why and the kafka-configs.sh command', () => {
    const [finding] = judgeTopicSettings(promotions, settings());
    expect(alterCommand(['b1:9092', 'b2:9092'], finding!)).toBe(
      'kafka-configs.sh --bootstrap-server b1:9092,b2:9092 --alter --entity-type topics --entity-name model-promotions --add-config retention.ms=-1',
    );
    expect(findingText(['b1:9092'], finding!)).toMatch(/^model-promotions has retention\.ms=604800000 \(1w\): records are deleted .*; fix: kafka-configs\.sh --bootstrap-server b1:9092 --alter/);
  });
});
