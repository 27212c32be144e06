export { ClickHouseStore, clickhouseError, sqlString, sqlIdentifier, type ClickHouseOptions } from './store.js';
export { MIGRATIONS, MIGRATIONS_TABLE, type Migration } from './migrations.js';
export {
  predictionRow,
  deadLetterRow,
  metricPointRow,
  chartRow,
  driftRow,
  feedbackStatRow,
  labelledExampleRow,
  datasetSplit,
  modelVersionRow,
  championHistoryRow,
  type DatasetSplit,
} from './rows.js';
export { bindParams, type QueryParam } from './params.js';
export { metricPartialRow, shardPartialOf, type MetricPartialRow } from './partial-rows.js';
export { MERGED_METRICS, MERGED_REGRESSION_METRICS, mergedPointsQuery, type MergedForm } from './merged-view.js';
