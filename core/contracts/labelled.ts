/**
 * Whether a labelled example carries a label (else it is an expired,
 * unlabelled prediction or an arrival record's label fields): the one test of
 * "labelled" every reader uses (the evaluator, learner, promoter, replay's
 * outputs, the Prometheus counts).
 *
 *  - binary and regression: `label` is set;
 *  - multiclass: `label_class` or `rejected_class` is set (the true class, or
 *    a rejection that says only which class it was not); `label` is then the
 *    numeric head (models.<name>.numeric_target), which may be unknown;
 *  - multilabel: `labels` is set (the true set; it may be empty).
 */
import type { LabelledExample, ModelKind } from '../events.js';

/** The label fields the test reads. */
export type LabelFields = Pick<LabelledExample, 'label' | 'label_class' | 'rejected_class' | 'labels'>;

export function isLabelled(example: LabelFields, kind: ModelKind): boolean {
  switch (kind) {
    case 'multiclass':
      return example.label_class !== null || example.rejected_class !== null;
    case 'multilabel':
      return example.labels !== null;
    default:
      return example.label !== null;
  }
}
