/**
 * Gauges computed when Prometheus scrapes: what the running processors hold
 * (the joiner's pending entries, the shadow scorer's staleness) and each
 * consumer group's lag. A source not set (its processor does not run here)
 * exports nothing.
 */
import { Gauge, type Registry } from 'prom-client';
import type { LogTransport } from '../transport/transport.js';
import { registerConsumerLag, type LaggingGroup } from './lag.js';

export interface GaugeSources {
  /** Entries in the join state, by input partition. */
  pendingJoins?: () => Map<number, number>;
  /** Age of the snapshots used for shadow scoring (prediction time minus created_at), max and mean. */
  shadowStaleness?: () => { maxStalenessMs: number; meanStalenessMs: number };
  /** The consumer groups whose lag to export, and the transport to ask. */
  consumerLag?: { transport: LogTransport; groups: () => LaggingGroup[]; onError?: (error: unknown) => void };
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
  registerConsumerLag(
    registry,
    { committedOffsets: (group, topic) => sources.consumerLag!.transport.committedOffsets(group, topic), endOffsets: (topic) => sources.consumerLag!.transport.endOffsets(topic) },
    () => sources.consumerLag?.groups() ?? [],
    (error) => sources.consumerLag?.onError?.(error),
  );
}
