/**
 * What the report is made of: the replay's counts, the evaluator's rows and
 * the promoter's decisions; and the same cut per model, in page order.
 */
import type { ChartRow, DriftRecord, FeedbackStat, MetricPoint } from '../core/evaluate/rows.js';
import type { Importance } from '../core/models/importance.js';
import type { ModelKind } from '../core/events.js';
import type { ModelCounters } from '../core/join/index.js';

/** The counts in the report's header: a replay's summary (runtime/replay.ts's ReplaySummary extends this). */
export interface ReportSummary {
  predictions_read: number;
  feedback_read: number;
  /** First labels (one per labelled prediction); corrections replaced one. */
  labelled: number;
  corrections: number;
  duplicates_ignored: number;
  uncertain: number;
  /** Feedback whose prediction never came. */
  unmatched: number;
  expired_unlabelled: number;
  pending_at_end: number;
  dead_letters: number;
  by_model: Record<string, ModelCounters>;
}

/** A promoter decision as promotions.jsonl has it. */
export interface ReportDecision {
  model: string;
  /** promote, hold, rollback, pin, unpin (any case). */
  decision: string;
  from_version: string;
  to_version: string;
  at: number;
  n: number;
  reason: string;
}

/** A challenger snapshot as snapshots.jsonl has it (the report reads its standardised coefficients). */
export interface ReportSnapshot {
  model: string;
  version: string;
  challenger: string;
  algorithm: string;
  training_count: number;
  created_at: number;
  importance: Importance[] | null;
}

export interface ReportInput {
  title?: string;
  summary: ReportSummary;
  points: MetricPoint[];
  drift: DriftRecord[];
  feedback: FeedbackStat[];
  decisions: ReportDecision[];
  /** The evaluator's chart rows (charts.jsonl): curves, confusion matrices, feature histograms. */
  charts?: ChartRow[];
  /** Challenger snapshots, in the order published (feature importance over time). */
  snapshots?: ReportSnapshot[];
  /** Kind per model; a model not named here is a regression model if it has regression figures. */
  kinds?: ReadonlyMap<string, ModelKind>;
}

/** One model's share of the input. */
export interface ModelData {
  model: string;
  index: number;
  kind: ModelKind;
  counters: ModelCounters | undefined;
  points: MetricPoint[];
  drift: DriftRecord[];
  feedback: FeedbackStat[];
  decisions: ReportDecision[];
  charts: ChartRow[];
  snapshots: ReportSnapshot[];
}

const byString = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** The models in page order: those of the summary, then the others by name. */
export function modelsOf(input: ReportInput): string[] {
  const named = Object.keys(input.summary.by_model);
  const others = new Set<string>();
  for (const rows of [input.points, input.drift, input.feedback, input.decisions, input.charts ?? [], input.snapshots ?? []]) for (const r of rows) if (!named.includes(r.model)) others.add(r.model);
  return [...named, ...[...others].sort(byString)];
}

/** The input cut per model (models in page order); a model's kind, when not given, guessed from its figures. */
export function modelData(input: ReportInput, models: string[]): ModelData[] {
  const group = <T extends { model: string }>(rows: T[]) => {
    const map = new Map<string, T[]>(models.map((m) => [m, []]));
    for (const r of rows) map.get(r.model)!.push(r);
    return map;
  };
  const points = group(input.points);
  const drift = group(input.drift);
  const feedback = group(input.feedback);
  const decisions = group(input.decisions);
  const charts = group(input.charts ?? []);
  const snapshots = group(input.snapshots ?? []);
  return models.map((model, index) => {
    const mine = points.get(model)!;
    const regression = mine.some((p) => p.metric === 'rmse') && !mine.some((p) => p.metric === 'roc_auc');
    return {
      model,
      index,
      kind: input.kinds?.get(model) ?? (regression ? 'regression' : 'binary'),
      counters: input.summary.by_model[model],
      points: mine,
      drift: drift.get(model)!,
      feedback: feedback.get(model)!,
      decisions: decisions.get(model)!,
      charts: charts.get(model)!,
      snapshots: snapshots.get(model)!,
    };
  });
}
