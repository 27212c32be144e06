/**
 * The metric of a multi-class or multi-label model's window (issue 16): its
 * MulticlassMetrics or MultilabelMetrics (core/metrics) and, for a
 * multi-class model with a numeric head (models.<name>.numeric_target), a
 * RegressionMetrics on (label, score) of the examples whose head label is
 * known. Its figures are flat: scalar figures by plain name (accuracy,
 * macro_f1, ..., the head's `<numeric_target>_mae` ...), the per-class
 * figures and the error count the detectors read.
 */
import { StateMismatchError } from '../errors.js';
import type { ModelKind } from '../events.js';
import {
  MulticlassMetrics, MultilabelMetrics, RegressionMetrics,
  type MulticlassMetricsState, type MulticlassObservation, type MultilabelMetricsState, type MultilabelObservation, type RegressionMetricsState,
} from '../metrics/index.js';
import type { Metric } from '../metrics/metric.js';

/** What a multi-class or multi-label model is evaluated against (from the config: models.<name>.task, classes, numeric_target). */
export interface ClassTask {
  kind: 'multiclass' | 'multilabel';
  classes: readonly string[];
  /** Multi-class only: the name of the numeric head, or null (none). */
  numericTarget: string | null;
}

/** What a model is evaluated against: its kind, and for a multi-class or multi-label one its classes and numeric head. */
export type ModelTask = { kind: 'binary' | 'regression' } | ClassTask;

/** Is the task a multi-class or multi-label one? */
export function isClassTask(task: ModelTask): task is ClassTask {
  return task.kind === 'multiclass' || task.kind === 'multilabel';
}

/** The task of a model under the options' kindOf, classesOf and numericTargetOf. */
export function taskOf(o: { kindOf: (model: string) => ModelKind; classesOf: (model: string) => readonly string[]; numericTargetOf: (model: string) => string | null }, model: string): ModelTask {
  const kind = o.kindOf(model);
  if (kind === 'binary' || kind === 'regression') return { kind };
  return { kind, classes: o.classesOf(model), numericTarget: kind === 'multiclass' ? o.numericTargetOf(model) : null };
}

/** A class observation: a multi-class or a multi-label one. */
export type ClassObservation = MulticlassObservation | MultilabelObservation;

/** An observation of a ClassMetric: the class part, and the numeric head's label (NaN: unknown or no head) and score. */
export interface ClassMetricObservation {
  label: number;
  score: number;
  cls?: ClassObservation;
}

/** The figures of a ClassMetric (see the file comment). */
export interface ClassCellFigures {
  kind: 'multiclass' | 'multilabel';
  count: number;
  /** Scalar figures, by name, in a fixed order: `count` first. */
  scalars: Array<[string, number | null]>;
  classes: readonly string[];
  precision: (number | null)[];
  recall: (number | null)[];
  f1: (number | null)[];
  support: number[];
  /** Weight of the wrong decisions (multi-class: decided ≠ true class, rejections included; multi-label: decided set ≠ true set). */
  errors: number;
}

/** A ClassMetric's state. */
export interface ClassMetricState {
  kind: 'multiclass' | 'multilabel';
  classes: MulticlassMetricsState | MultilabelMetricsState;
  head: RegressionMetricsState | null;
}

export const MULTICLASS_SCALARS = [
  'accuracy', 'rejected', 'macro_precision', 'macro_recall', 'macro_f1', 'micro_precision', 'micro_recall', 'micro_f1',
  'weighted_precision', 'weighted_recall', 'weighted_f1', 'log_loss', 'brier', 'top_k_accuracy', 'cohen_kappa',
] as const;
export const MULTILABEL_SCALARS = [
  'subset_accuracy', 'hamming_loss', 'jaccard', 'log_loss', 'macro_precision', 'macro_recall', 'macro_f1', 'micro_precision', 'micro_recall', 'micro_f1',
  'weighted_precision', 'weighted_recall', 'weighted_f1', 'samples_precision', 'samples_recall', 'samples_f1',
] as const;
export const HEAD_SCALARS = ['count', 'mae', 'rmse', 'r2', 'mape'] as const;

function isMultilabel(o: ClassObservation): o is MultilabelObservation {
  return 'labels' in o;
}

export class ClassMetric implements Metric<ClassMetricObservation, ClassCellFigures> {
  /** `withHead`: the role has the numeric head (the champion, when the task names one). */
  constructor(
    readonly task: ClassTask,
    readonly withHead: boolean,
    readonly classes: MulticlassMetrics | MultilabelMetrics = task.kind === 'multiclass' ? new MulticlassMetrics(task.classes) : new MultilabelMetrics(task.classes),
    readonly head: RegressionMetrics | undefined = withHead && task.numericTarget !== null ? new RegressionMetrics() : undefined,
  ) {}

  update(o: ClassMetricObservation): void {
    if (o.cls) this.addClasses(o.cls, 1);
    if (this.head && Number.isFinite(o.label)) this.head.update(o);
  }

  revert(o: ClassMetricObservation): void {
    if (o.cls) this.addClasses(o.cls, -1);
    if (this.head && Number.isFinite(o.label)) this.head.revert(o);
  }

  /** Could `o` have been added (reverting one that was not would drive counts negative)? */
  holds(o: ClassMetricObservation): boolean {
    if (o.cls && !this.holdsClasses(o.cls)) return false;
    return !this.head || !Number.isFinite(o.label) || this.head.holds(o);
  }

  private addClasses(o: ClassObservation, sign: 1 | -1): void {
    if (this.classes instanceof MulticlassMetrics) {
      if (isMultilabel(o)) throw new TypeError('ClassMetric: a multi-label observation for a multi-class model');
      if (sign > 0) this.classes.update(o);
      else this.classes.revert(o);
    } else {
      if (!isMultilabel(o)) throw new TypeError('ClassMetric: a multi-class observation for a multi-label model');
      if (sign > 0) this.classes.update(o);
      else this.classes.revert(o);
    }
  }

  private holdsClasses(o: ClassObservation): boolean {
    if (this.classes instanceof MulticlassMetrics) return !isMultilabel(o) && this.classes.holds(o);
    return isMultilabel(o) && this.classes.holds(o);
  }

  get(): ClassCellFigures {
    const f = this.classes.get();
    const named = f as unknown as Record<string, number | null>;
    const scalars: Array<[string, number | null]> = [['count', f.count]];
    for (const name of this.task.kind === 'multiclass' ? MULTICLASS_SCALARS : MULTILABEL_SCALARS) scalars.push([name, named[name] ?? null]);
    if (this.head) {
      const h = this.head.get();
      for (const name of HEAD_SCALARS) scalars.push([`${this.task.numericTarget}_${name}`, h[name]]);
    }
    const right = 'accuracy' in f ? f.accuracy : f.subset_accuracy;
    const errors = right === null ? 0 : Math.max(0, Math.round(f.count - right * f.count));
    return {
      kind: this.task.kind, count: f.count, scalars, classes: this.task.classes,
      precision: f.precision, recall: f.recall, f1: f.f1, support: f.support, errors,
    };
  }

  clone(): ClassMetric {
    return new ClassMetric(this.task, this.withHead);
  }

  toState(): ClassMetricState {
    return { kind: this.task.kind, classes: this.classes.toState(), head: this.head?.toState() ?? null };
  }

  /** The metric of a state under `task`; throws a StateMismatchError where it does not fit (other classes, a numeric head added or removed). */
  static fromState(state: ClassMetricState, task: ClassTask, withHead: boolean): ClassMetric {
    if (state.kind !== task.kind) throw new StateMismatchError('the model task (models.<name>.task)', `${state.kind} metrics saved, the model is ${task.kind} now`);
    if ((state.head !== null) !== (withHead && task.numericTarget !== null)) {
      throw new StateMismatchError('models.<name>.numeric_target', `${state.head === null ? 'no' : 'a'} numeric head saved, ${task.numericTarget ?? 'none'} now`);
    }
    const classes = state.classes.kind === 'multiclass' ? MulticlassMetrics.fromState(state.classes, task.classes) : MultilabelMetrics.fromState(state.classes, task.classes);
    return new ClassMetric(task, withHead, classes, state.head === null ? undefined : RegressionMetrics.fromState(state.head));
  }
}
