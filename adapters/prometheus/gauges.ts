/**
 * Gauges computed when Prometheus scrapes: what the running processors hold
 * (the joiner's pending entries, the shadow scorer's staleness) and each
 * consumer group's lag (cached: it costs Kafka admin calls). A source not set (its processor does not run here)
 * exports nothing.
 */
import { Gauge, type Registry } from 'prom-client';
import type { LogTransport } from '../transport/transport.js';
import { cachedFor, groupLags, registerConsumerLag, type LaggingGroup } from './lag.js';

export interface GaugeSources {
  /** Entries in the join state, by input partition. */
  pendingJoins?: () => Map<number, number>;
  /** Age of the snapshots used for shadow scoring (prediction time minus created_at), max and mean. */
  shadowStaleness?: () => { maxStalenessMs: number; meanStalenessMs: number };
  /** The consumer groups whose lag to export, and the transport to ask. */
  consumerLag?: ConsumerLagSource;
}

export interface ConsumerLagSource {
  transport: Pick<LogTransport, 'committedOffsets' | 'endOffsets'>;
  groups: () => LaggingGroup[];
  onError?: (error: unknown) => void;
  /** Figures computed at most once per this many milliseconds (http.lag_cache; default 0: at every scrape). */
  cacheMs?: number;
  /** The clock of the cache (default Date.now). */
  now?: () => number;
}

export function liveGauges(registry: Registry, sources: GaugeSources): void {
  new Gauge({
    name: 'feedbackloop_joiner_pending_predictions',
    help: "Entries in the joiner's state by input partition of this instance: predictions within their join window (labelled ones too, a later label may still correct them) and feedback waiting for its prediction.",
    labelNames: ['partition'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [partition, count] of sources.pendingJoins?.() ?? []) this.set({ partition: String(partition) }, count);
    },
  });
  new Gauge({
    name: 'feedbackloop_shadow_staleness_seconds',
    help: 'Age of the snapshots used for shadow scoring at prediction time (prediction timestamp minus snapshot created_at): max and mean since start.',
    labelNames: ['stat'],
    registers: [registry],
    collect() {
      this.reset();
      const stats = sources.shadowStaleness?.();
      if (!stats) return;
      this.set({ stat: 'max' }, stats.maxStalenessMs / 1000);
      this.set({ stat: 'mean' }, stats.meanStalenessMs / 1000);
    },
  });
  // Sources are set after the registry is made (watch): read them at each scrape.
  const lag = cachedFor(
    async () => {
      const source = sources.consumerLag;
      return source ? groupLags(source.transport, source.groups(), source.onError) : [];
    },
    () => sources.consumerLag?.cacheMs ?? 0,
    () => (sources.consumerLag?.now ?? Date.now)(),
  );
  registerConsumerLag(registry, lag);
}
