/**
 * Consumer lag per group and input topic (records written but not yet
 * committed by the group), computed when Prometheus scrapes /metrics. A
 * group that committed nothing on a partition lags by the whole partition.
 */
import { Gauge, type Registry } from 'prom-client';
import type { LogTransport } from '../log/transport.js';

export interface LaggingGroup {
  groupId: string;
  topics: string[];
}

export function registerConsumerLag(registry: Registry, transport: LogTransport, groups: () => LaggingGroup[], onError?: (error: unknown) => void): Gauge<'group' | 'topic'> {
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
            const committed = new Map((await transport.committedOffsets(groupId, topic)).map((o) => [o.partition, o.offset]));
            let lag = 0;
            for (const end of await transport.endOffsets(topic)) lag += Math.max(0, end.offset - (committed.get(end.partition) ?? 0));
            this.set({ group: groupId, topic }, lag);
          } catch (error) {
            onError?.(error);
          }
        }
      }
    },
  });
}
