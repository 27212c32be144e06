/** The consumer-lag gauge, computed at scrape time from committed and end offsets (topicLag, which `status` shows too). */
import { describe, expect, it } from 'vitest';
import { createPipelineMetrics, topicLag } from '../../adapters/prometheus/index.js';
import { MemoryTransport } from '../../adapters/transport/memory.js';

describe('feedbackloop_consumer_lag', () => {
  it('is end minus committed, summed over partitions; an uncommitted partition lags by all of it (committed: null)', async () => {
    const log = new MemoryTransport();
    await log.ensureTopics([{ name: 'in', partitions: 2 }]);
    const producer = await log.producer();
    await producer.send([0, 1, 2, 3, 4].map((i) => ({ topic: 'in', partition: 0, key: null, value: Buffer.from(String(i)) })));
    await producer.send([0, 1].map((i) => ({ topic: 'in', partition: 1, key: null, value: Buffer.from(String(i)) })));
    const consumer = await log.consumer({ groupId: 'g', topics: ['in'] });
    await consumer.commit([{ topic: 'in', partition: 0, offset: 2 }]);
    const { registry, watch } = createPipelineMetrics({ defaultMetrics: false });
    watch({ consumerLag: { transport: log, groups: () => [{ groupId: 'g', topics: ['in'] }] } });
    // Partition 0: 5 - 2; partition 1: 2 - nothing committed.
    expect(await registry.metrics()).toContain('feedbackloop_consumer_lag{group="g",topic="in"} 5');
    expect(await topicLag(log, 'g', 'in')).toEqual([
      { partition: 0, end: 5, committed: 2, lag: 3 },
      { partition: 1, end: 2, committed: null, lag: 2 },
    ]);
    await consumer.commit([{ topic: 'in', partition: 1, offset: 2 }]);
    expect(await registry.metrics()).toContain('feedbackloop_consumer_lag{group="g",topic="in"} 3');
    await consumer.stop();
  });
});
