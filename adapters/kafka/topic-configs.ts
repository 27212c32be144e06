/** The broker settings of a topic feedbackloop creates (either Kafka client): compaction, retention, segment rolling. */
import type { TopicSpec } from '../transport/transport.js';

export function topicConfigEntries(spec: TopicSpec): Array<{ name: string; value: string }> {
  return [
    ...(spec.compacted ? [{ name: 'cleanup.policy', value: 'compact' }] : []),
    ...retentionEntries(spec),
    ...(spec.segmentMs === undefined ? [] : [{ name: 'segment.ms', value: String(spec.segmentMs) }]),
  ];
}

/** retention.ms (and the append-time stamps a finite one counts from). */
function retentionEntries(spec: TopicSpec): Array<{ name: string; value: string }> {
  if (spec.keepForever) return [{ name: 'retention.ms', value: '-1' }];
  if (spec.retentionMs === undefined) return [];
  return [
    { name: 'retention.ms', value: String(spec.retentionMs) },
    { name: 'message.timestamp.type', value: 'LogAppendTime' },
  ];
}
