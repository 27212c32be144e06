export { Evaluator } from './evaluator.js';
export { DEFAULT_EVALUATOR_OPTIONS, resolveOptions } from './options.js';
export { fromFormat3 } from './settings.js';
export { shadowRole, TOTAL } from './cells.js';
export type { EvaluatorOutput, EvaluatorState } from './evaluator.js';
export type { DetectorOrder, EvaluatorOptions, TumblingWindow } from './options.js';
export type { ModelHealth } from './live.js';
export type { MetricPoint, DriftRecord, FeedbackStat, ChartRow, Versioned, EvaluatorRows } from './rows.js';
export { windowPartialKey, mergeWindowPartials, windowFigures, windowFigureList, isRegressionPartial, isClassPartial, isBinaryPartial, type MetricPartial, windowEnd, calibrationFigures, shardPartialRow, type ShardPartialRow, type WindowPartial, type WindowPartialRow, type WindowFigures } from './window-partial.js';
