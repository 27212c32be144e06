/**
 * Consumer lag per group and input topic (records written but not yet
 * committed by the group), computed when Prometheus scrapes /metrics, at
 * most once per interval. A group that committed nothing on a partition lags
 * by the whole partition.
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

/** One gauge value: a group's lag on a topic, summed over its partitions. */
export interface GroupTopicLag {
  groupId: string;
  topic: string;
  lag: number;
}

/** Each group's lag on each of its topics; a topic whose offsets cannot be read is left out, its error given to `onError`. */
export async function groupLags(transport: Pick<LogTransport, 'committedOffsets' | 'endOffsets'>, groups: LaggingGroup[], onError?: (error: unknown) => void): Promise<GroupTopicLag[]> {
  const out: GroupTopicLag[] = [];
  for (const { groupId, topics } of groups) {
    for (const topic of topics) {
      try {
        const partitions = await topicLag(transport, groupId, topic);
        out.push({ groupId, topic, lag: partitions.reduce((sum, p) => sum + p.lag, 0) });
      } catch (error) {
        onError?.(error);
      }
    }
  }
  return out;
}

/**
 * `compute` run at most once per interval (from the end of one run), its
 * result served in between; callers that come while it runs share that run.
 * Each run makes admin calls per group and topic: without this, every
 * scrape (anyone's, any number at once) would load the brokers. A failed
 * run is not kept: the next call tries again.
 */
export function cachedFor<T>(compute: () => Promise<T>, intervalMs: () => number, now: () => number = Date.now): () => Promise<T> {
  let last: { result: Promise<T>; freshUntil: number } | undefined;
  return () => {
    if (last && now() < last.freshUntil) return last.result;
    const run = { result: compute(), freshUntil: Number.POSITIVE_INFINITY };
    last = run;
    run.result.then(
      () => void (run.freshUntil = now() + intervalMs()),
      () => void (last === run && (last = undefined)),
    );
    return run.result;
  };
}

/** The gauge, set at each scrape from `read` (cachedFor(groupLags ...) in a running pipeline). */
export function registerConsumerLag(registry: Registry, read: () => Promise<GroupTopicLag[]>): Gauge<'group' | 'topic'> {
  return new Gauge({
    name: 'feedbackloop_consumer_lag',
    help: 'Records in an input topic not yet committed by a processor\'s consumer group (end offset minus committed offset, summed over partitions), computed at most once per http.lag_cache.',
    labelNames: ['group', 'topic'],
    registers: [registry],
    async collect() {
      const figures = await read();
      this.reset();
      for (const { groupId, topic, lag } of figures) this.set({ group: groupId, topic }, lag);
    },
  });
}
