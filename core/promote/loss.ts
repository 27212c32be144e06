import { LOG_LOSS_EPSILON, MULTICLASS_LOG_LOSS_EPSILON } from '../metrics/index.js';
import type { PromotionMetric } from './options.js';

/**
 * The loss of one prediction (lower is better). Log loss clips like the evaluator (1e-15).
 * multiclass_log_loss: `score` is the probability of the true class (multiclass.ts), the loss
 * −log p clipped as core/metrics/multiclass.ts clips (Number.EPSILON); `label` is not read.
 * multilabel_log_loss: `score` is already the example's multi-label log loss (multilabel.ts), taken as it is.
 */
export function lossOf(metric: PromotionMetric, label: number, score: number, threshold: number): number {
  switch (metric) {
    case 'log_loss': {
      const p = Math.min(1 - LOG_LOSS_EPSILON, Math.max(LOG_LOSS_EPSILON, score));
      return label === 1 ? -Math.log(p) : -Math.log(1 - p);
    }
    case 'brier':
      return (score - label) ** 2;
    case 'error_rate':
      return (score >= threshold ? 1 : 0) === label ? 0 : 1;
    case 'squared_error':
      return (score - label) ** 2;
    case 'multiclass_log_loss':
      return -Math.log(Math.min(1 - MULTICLASS_LOG_LOSS_EPSILON, Math.max(MULTICLASS_LOG_LOSS_EPSILON, score)));
    case 'multilabel_log_loss':
      return score;
  }
}
