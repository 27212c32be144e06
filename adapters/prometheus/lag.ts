/**
 * Consumer lag per group and input topic (records written but not yet
 * committed by the group), computed when Prometheus scrapes /metrics. A
 * group that committed nothing on a partition lags by the whole partition.
 */
import { Gauge, type Registry } from 'prom-client';
import type { LogTransport } from '../transport/transport.js';

export interface LaggingGroup {
  groupId: string;
  topics: string[];
}

/** Where a consumer group stands on one partition of a topic. */
export interface PartitionLag {
  partition: number;
  /** The partition's end offset (the next offset to be written). */
  end: number;
  /** The group's committed offset (the next offset it reads); null when it committed nothing here. */
  committed: number | null;
  /** end − committed (the whole partition when nothing is committed). */
  lag: number;
}

/** A group's lag on every partition of `topic`, from its committed offsets and the topic's end offsets. */
export async function topicLag(transport: Pick<LogTransport, 'committedOffsets' | 'endOffsets'>, groupId: string, topic: string): Promise<PartitionLag[]> {
  const committed = new Map((await transport.committedOffsets(groupId, topic)).map((o) => [o.partition, o.offset]));
  return (await transport.endOffsets(topic)).map((end) => {
    const at = committed.get(end.partition) ?? null;
    return { partition: end.partition, end: end.offset, committed: at, lag: Math.max(0, end.offset - (at ?? 0)) };
  });
}

export function registerConsumerLag(registry: Registry, transport: Pick<LogTransport, 'committedOffsets' | 'endOffsets'>, groups: () => LaggingGroup[], onError?: (error: unknown) => void): Gauge<'group' | 'topic'> {
  return new Gauge({
    name: 'feedbackloop_consumer_lag',
    help: 'Records in an input topic not yet committed by a processor\'s consumer group (end offset minus committed offset, summed over partitions).',
    labelNames: ['group', 'topic'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const { groupId, topics } of groups()) {
        for (const topic of topics) {
          try {
            const partitions = await topicLag(transport, groupId, topic);
            this.set({ group: groupId, topic }, partitions.reduce((sum, p) => sum + p.lag, 0));
          } catch (error) {
            onError?.(error);
          }
        }
      }
    },
  });
}
