/**
 * `feedbackloop status`: consumer lag per processor group, summed over its
 * input topics. Pure: runtime/status/gather-kafka.ts reads the offsets.
 */
import type { PartitionLag } from '../../adapters/prometheus/index.js';

export interface TopicLagStatus {
  topic: string;
  /** Sum over partitions; null when the topic could not be read. */
  lag: number | null;
  partitions: PartitionLag[];
  error?: string;
}

export interface GroupStatus {
  processor: string;
  group: string;
  /** The group committed an offset on at least one partition of its inputs. */
  started: boolean;
  /** Records not yet committed, over its inputs (a group that committed nothing: everything); null when an input could not be read. */
  lag: number | null;
  topics: TopicLagStatus[];
}

export function groupStatus(processor: string, group: string, topics: TopicLagStatus[]): GroupStatus {
  const started = topics.some((t) => t.partitions.some((p) => p.committed !== null));
  const lag = topics.some((t) => t.lag === null) ? null : topics.reduce((sum, t) => sum + t.lag!, 0);
  return { processor, group, started, lag, topics };
}

export function topicLagStatus(topic: string, partitions: PartitionLag[]): TopicLagStatus {
  return { topic, lag: partitions.reduce((sum, p) => sum + p.lag, 0), partitions };
}
