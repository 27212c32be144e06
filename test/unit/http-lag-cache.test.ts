/**
 * feedbackloop_consumer_lag costs Kafka admin calls per group and topic: a
 * scrape within http.lag_cache of the last computation is served from it,
 * and concurrent scrapes share one computation. A counting double of the
 * transport and a fake clock; scraped through the real endpoint.
 */
import { describe, expect, it } from 'vitest';
import { startHttpEndpoint } from '../../adapters/http/index.js';
import { cachedFor, createPipelineMetrics, type ConsumerLagSource } from '../../adapters/prometheus/index.js';
import { UNIT_WAIT_MS, waitFor } from '../support/collect.js';

/** Offsets of two topics, counting the admin calls; `gate` holds the calls until it resolves. */
function countingTransport(gate: Promise<void> = Promise.resolve()) {
  const calls = { committed: 0, end: 0 };
  let end = 10;
  const transport: ConsumerLagSource['transport'] = {
    committedOffsets: async (_group, topic) => {
      calls.committed++;
      await gate;
      return [{ topic, partition: 0, offset: 4 }];
    },
    endOffsets: async (topic) => {
      calls.end++;
      return [{ topic, partition: 0, offset: end }];
    },
  };
  return { transport, calls, grow: () => (end += 5) };
}

async function scrape(port: number): Promise<string> {
  return (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
}

describe('consumer lag cached between scrapes (http.lag_cache)', () => {
  it('computes once per interval across scrapes, and again after it', async () => {
    const { transport, calls, grow } = countingTransport();
    let now = 1_000_000;
    const metrics = createPipelineMetrics({ defaultMetrics: false });
    metrics.watch({ consumerLag: { transport, groups: () => [{ groupId: 'g', topics: ['a', 'b'] }], cacheMs: 15_000, now: () => now } });
    const endpoint = await startHttpEndpoint({ host: '127.0.0.1', port: 0, registry: metrics.registry });
    try {
      expect(await scrape(endpoint.port)).toContain('feedbackloop_consumer_lag{group="g",topic="a"} 6');
      grow();
      for (let i = 0; i < 10; i++) {
        now += 1_000;
        expect(await scrape(endpoint.port)).toContain('feedbackloop_consumer_lag{group="g",topic="b"} 6');
      }
      // One computation: two topics, one committed-offsets and one end-offsets call each.
      expect(calls).toEqual({ committed: 2, end: 2 });
      now += 5_000;
      expect(await scrape(endpoint.port)).toContain('feedbackloop_consumer_lag{group="g",topic="b"} 11');
      expect(calls).toEqual({ committed: 4, end: 4 });
    } finally {
      await endpoint.close();
    }
  });

  it('shares one computation among concurrent scrapes, even with no interval', async () => {
    let open!: () => void;
    const { transport, calls } = countingTransport(new Promise<void>((resolve) => (open = resolve)));
    const metrics = createPipelineMetrics({ defaultMetrics: false });
    // A scrape that comes while the computation runs reads the clock (to see if a result is fresh): four
    // reads, and all five scrapes are in. (A fixed sleep here was a guess that a loaded machine can miss.)
    let clockReads = 0;
    const now = () => (clockReads++, Date.now());
    metrics.watch({ consumerLag: { transport, groups: () => [{ groupId: 'g', topics: ['a'] }], cacheMs: 0, now } });
    const endpoint = await startHttpEndpoint({ host: '127.0.0.1', port: 0, registry: metrics.registry });
    try {
      const scrapes = Array.from({ length: 5 }, () => scrape(endpoint.port));
      await waitFor(() => clockReads >= 4, 'the five scrapes to reach the computation', UNIT_WAIT_MS, 5);
      expect(calls.committed).toBe(1);
      open();
      for (const text of await Promise.all(scrapes)) expect(text).toContain('feedbackloop_consumer_lag{group="g",topic="a"} 6');
      expect(calls.committed).toBe(1);
      // Interval 0: the next scrape computes again.
      await scrape(endpoint.port);
      expect(calls.committed).toBe(2);
    } finally {
      await endpoint.close();
    }
  });

  it('does not keep a failed computation: the next call tries again', async () => {
    let runs = 0;
    const read = cachedFor(async () => {
      runs++;
      if (runs === 1) throw new Error('broker down');
      return runs;
    }, () => 60_000);
    await expect(read()).rejects.toThrow('broker down');
    expect(await read()).toBe(2);
    expect(await read()).toBe(2);
  });
});
