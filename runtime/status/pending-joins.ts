/**
 * `feedbackloop status`: the joins pending in the joiners, from their
 * /metrics. Pure: runtime/status/gather-metrics.ts scrapes the endpoints.
 */
import type { PrometheusText } from '../../adapters/http/index.js';

export const PENDING_GAUGE = 'feedbackloop_joiner_pending_predictions';

/** One /metrics endpoint: its text, or why it did not answer. */
export type MetricsScrape = { url: string; text: PrometheusText } | { url: string; error: string };

export interface PendingJoins {
  /** Entries in the joiners' state over the partitions reported; null when no joiner answered. */
  total: number | null;
  /** Partition -> entries (a partition two instances report, during a rebalance, counts once: the larger). */
  partitions: Record<string, number>;
  sources: Array<{ url: string; answer: 'joiner' | 'no joiner' | 'unreachable'; error?: string }>;
}

export function pendingJoins(scrapes: MetricsScrape[]): PendingJoins {
  const partitions: Record<string, number> = {};
  const sources: PendingJoins['sources'] = [];
  let joiners = 0;
  for (const scrape of scrapes) {
    if ('error' in scrape) {
      sources.push({ url: scrape.url, answer: 'unreachable', error: scrape.error });
      continue;
    }
    // The family is declared as soon as the joiner runs, before it holds any partition.
    if (!scrape.text.types.has(PENDING_GAUGE)) {
      sources.push({ url: scrape.url, answer: 'no joiner' });
      continue;
    }
    joiners++;
    sources.push({ url: scrape.url, answer: 'joiner' });
    for (const sample of scrape.text.samples) {
      const partition = sample.labels.partition;
      if (sample.name !== PENDING_GAUGE || partition === undefined) continue;
      partitions[partition] = Math.max(partitions[partition] ?? 0, sample.value);
    }
  }
  const total = joiners === 0 ? null : Object.values(partitions).reduce((sum, n) => sum + n, 0);
  return { total, partitions, sources };
}
