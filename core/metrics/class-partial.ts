/**
 * Mergeable partial figures of a multi-class or multi-label model (scale-out
 * of one model, docs/scale-out.md): one shard's window as the state of its
 * ClassMetric (core/evaluate/class-metric.ts), which adds up across shards,
 * and the figures derived from a merged one by the metrics' own code.
 *
 * - Multi-class (MulticlassMetrics' state): the weighted confusion matrix
 *   (classes², row = true class), the rejections per predicted class, and
 *   three sums (log loss, Brier, top-k hits). Every figure the evaluator
 *   writes of such a window (count, accuracy, rejected, per class precision,
 *   recall, F1, support, their macro, micro and weighted averages, log_loss,
 *   brier, top_k_accuracy, cohen_kappa, the `total` window's confusion
 *   cells) is a function of them.
 * - Multi-label (MultilabelMetrics' state): per label tp, fp, fn, tn, and the
 *   per-example sums (count, exact matches, wrong pairs, log loss, the
 *   samples averages' numerators and weights, Jaccard): every figure
 *   (subset_accuracy, hamming_loss, jaccard, log_loss, the per-label and
 *   averaged precision, recall, F1, support, samples_*) is a function of them.
 * - The champion's numeric head, when the model names one
 *   (numeric_target): a regression partial (regression-partial.ts), merged
 *   by Chan et al.'s formula; its figures `<numeric_target>_count`, ...
 *
 * Merge adds the arrays and sums (MulticlassMetrics.merge,
 * MultilabelMetrics.merge): with integer weights every count, and every
 * figure of counts (accuracy, the per-class and averaged ratios, kappa's
 * matrix terms), is the unsharded stream's bit for bit; the float sums
 * (log loss, Brier, the samples ratios' sums, Jaccard) are the same terms
 * added in another order: within sumTolerance (binary-partial.ts). The
 * classes are the config's list (2 to MAX_CLASSES names), carried in the
 * state and compared on merge, never used as keys.
 */
import { StateMismatchError } from '../errors.js';
import { MulticlassMetrics, type MulticlassMetricsState } from './multiclass.js';
import { MultilabelMetrics, type MultilabelMetricsState } from './multilabel.js';
import { mergeRegressionPartials, type RegressionPartial } from './regression-partial.js';

/** A multi-class or multi-label window's partial: its ClassMetric's state and the name of its numeric head (null: none). */
export interface ClassPartial {
  kind: 'multiclass' | 'multilabel';
  classes: MulticlassMetricsState | MultilabelMetricsState;
  head: RegressionPartial | null;
  /** The numeric head's name (models.<name>.numeric_target): its figures are `<name>_count`, ...; null without a head. */
  numericTarget: string | null;
}

/** The class list of a partial (its classes or labels, in index order). */
export function partialClasses(p: ClassPartial): readonly string[] {
  return p.classes.kind === 'multiclass' ? p.classes.classes : p.classes.labels;
}

/** The metrics of a class state (a new instance, its own copy). */
export function classMetricsOf(state: MulticlassMetricsState | MultilabelMetricsState): MulticlassMetrics | MultilabelMetrics {
  if (state.kind === 'multiclass') return MulticlassMetrics.fromState(state, state.classes, { topK: state.topK });
  return MultilabelMetrics.fromState(state, state.labels);
}

/** Two shards' partials of one class window together (a new one); a StateMismatchError for other classes, kinds or heads. */
export function mergeClassPartials(a: ClassPartial, b: ClassPartial): ClassPartial {
  if (a.kind !== b.kind || a.classes.kind !== b.classes.kind) throw new StateMismatchError('the model task', `a ${a.kind} partial merged with a ${b.kind} one`);
  if ((a.head === null) !== (b.head === null) || a.numericTarget !== b.numericTarget) {
    throw new StateMismatchError('models.<name>.numeric_target', `a numeric head ${a.numericTarget ?? 'none'} merged with ${b.numericTarget ?? 'none'}`);
  }
  const merged = classMetricsOf(a.classes);
  const other = classMetricsOf(b.classes);
  if (merged instanceof MulticlassMetrics && other instanceof MulticlassMetrics) merged.merge(other);
  else if (merged instanceof MultilabelMetrics && other instanceof MultilabelMetrics) merged.merge(other);
  return {
    kind: a.kind,
    classes: merged.toState(),
    head: a.head === null ? null : mergeRegressionPartials(a.head, b.head!),
    numericTarget: a.numericTarget,
  };
}
