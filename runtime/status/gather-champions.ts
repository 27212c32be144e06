/**
 * Each model's champion from the sources `feedbackloop status` reads: the
 * model-promotions topic (read to its end), champion_history and, for a
 * model without any decision, the champion role of the figures
 * (metric_points). Used by `status` and by the /v1 API's champion endpoint
 * (runtime/api), so both give the same answer.
 */
import type { ClickHouseStore } from '../../adapters/clickhouse/index.js';
import type { Runtime } from '../connect.js';
import { chooseChampions, type ChampionStatus } from './champions.js';
import { upstreamVersions, type MetricPointRow } from './figures.js';
import { historyChampions } from './gather-clickhouse.js';
import { topicChampions } from './gather-kafka.js';
import type { Fail } from './report.js';

export interface ChampionSources {
  /** Kafka (the promotions topic); none: not read. */
  runtime?: Pick<Runtime, 'config' | 'transport' | 'codecs'>;
  /** ClickHouse and where it is (for messages); none: not read. */
  clickhouse?: { store: ClickHouseStore; url: string; database: string };
  /** The figures' rows (latestFigures), read by the caller (status shows them too). */
  figures?: Promise<MetricPointRow[] | undefined>;
}

/** Every model's champion; a source that fails is told to `fail` (or `note`) and left out. */
export async function gatherChampions(sources: ChampionSources, fail: Fail, note: (text: string) => void): Promise<ChampionStatus[]> {
  const ch = sources.clickhouse;
  const [topic, history, figures] = await Promise.all([
    sources.runtime ? topicChampions(sources.runtime, fail, note) : undefined,
    ch ? historyChampions(ch.store, ch.url, ch.database, fail) : undefined,
    sources.figures,
  ]);
  return chooseChampions({
    ...(topic ? { topic: topic.moves, pins: topic.pins } : {}),
    ...(history ? { history } : {}),
    ...(figures ? { upstream: upstreamVersions(figures) } : {}),
  });
}
