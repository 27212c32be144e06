/**
 * `feedbackloop status`: the pure parts (each model's champion and its
 * source, the figures, pending joins, consumer lag, the report and its text)
 * and the gathering from the servers (gather.ts and the gather-*.ts it calls).
 */
export { championMoves, chooseChampions, currentPins, latestMoves } from './champions.js';
export type { ChampionMove, ChampionSource, ChampionStatus, PinStatus } from './champions.js';
export { BINARY_FIGURES, MERGED_BINARY_FIGURES, MERGED_STATUS_METRICS, REGRESSION_FIGURES, STATUS_METRICS, figuresByModel, upstreamVersions } from './figures.js';
export type { FigureLine, MetricPointRow, ModelFigures } from './figures.js';
export { PENDING_GAUGE, pendingJoins } from './pending-joins.js';
export type { MetricsScrape, PendingJoins } from './pending-joins.js';
export { groupStatus, topicLagStatus } from './consumer-lag.js';
export type { GroupStatus, TopicLagStatus } from './consumer-lag.js';
export type { StatusProblem, StatusReport } from './report.js';
export { formatStatus, renderTable } from './format.js';
export { gatherStatus } from './gather.js';
export { latestFiguresQuery } from './gather-clickhouse.js';
export { latestMergedFiguresQuery, mergedModels, shardedByPrediction, SHARDS_QUERY } from './merged-figures.js';
export { gatherChampions, type ChampionSources } from './gather-champions.js';
