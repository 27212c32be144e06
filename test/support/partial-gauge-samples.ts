/** The samples of feedbackloop_partial_count (adapters/prometheus/partial-gauges.ts) in a registry: labels and value. */
import type { Registry } from 'prom-client';

export type GaugeSample = { labels: Record<string, string | number>; value: number };

export async function partialGaugeSamples(registry: Registry): Promise<GaugeSample[]> {
  return (await registry.getSingleMetric('feedbackloop_partial_count')!.get()).values.map((v) => ({ labels: v.labels as Record<string, string | number>, value: v.value }));
}
