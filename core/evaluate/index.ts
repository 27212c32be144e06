export { Evaluator, DEFAULT_EVALUATOR_OPTIONS, shadowRole, TOTAL } from './evaluator.js';
export type { EvaluatorOptions, EvaluatorOutput, ModelHealth, TumblingWindow } from './evaluator.js';
export type { MetricPoint, DriftRecord, FeedbackStat, Versioned, EvaluatorRows } from './rows.js';
