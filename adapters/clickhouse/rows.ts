/**
 * Event -> row mappings for the tables of migrations.ts. DateTime columns get
 * epoch seconds beside the exact epoch milliseconds; a Date gets 'YYYY-MM-DD'
 * (ClickHouse 18.16 rejects a number for a Date in JSONEachRow); a null
 * number stays null (Nullable columns). `version` is the ReplacingMergeTree
 * version: the row with the highest one replaces the others of its key.
 */
import type { DeadLetter, LabelledExample, ModelSnapshot, Prediction, PromotionDecision } from '../../core/events.js';
import type { ChartRow, DriftRecord, FeedbackStat, MetricPoint } from '../../core/evaluate/rows.js';

function pairs<V>(map: Record<string, V>): [string[], V[]] {
  const keys = Object.keys(map).sort();
  return [keys, keys.map((k) => map[k]!)];
}

const seconds = (ms: number) => Math.floor(ms / 1000);

/** 'YYYY-MM-DD' of the UTC day holding `ms`. */
const utcDate = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/** The columns a prediction and a labelled example (a prediction with its label) share; maps become parallel arrays. */
function predictionColumns(prediction: Prediction) {
  const [featureNames, featureValues] = pairs(prediction.features);
  const [categoricalNames, categoricalValues] = pairs(prediction.categorical);
  const [segmentNames, segmentValues] = pairs(prediction.segments);
  return {
    prediction_id: prediction.prediction_id,
    model: prediction.model,
    model_version: prediction.model_version,
    ts: seconds(prediction.timestamp),
    ts_ms: prediction.timestamp,
    score: prediction.score,
    threshold: prediction.threshold,
    feature_names: featureNames,
    feature_values: featureValues,
    categorical_names: categoricalNames,
    categorical_values: categoricalValues,
    segment_names: segmentNames,
    segment_values: segmentValues,
  };
}

export function predictionRow(prediction: Prediction, ingestedAtMs: number) {
  return { ...predictionColumns(prediction), ingested_at_ms: ingestedAtMs };
}

export function deadLetterRow(letter: DeadLetter) {
  return {
    topic: letter.topic,
    partition: letter.partition,
    offset: letter.offset,
    stage: letter.stage,
    error_class: letter.error_class,
    error_message: letter.error_message,
    key_base64: letter.key ? letter.key.toString('base64') : '',
    value_base64: letter.value ? letter.value.toString('base64') : '',
    failed_at: seconds(letter.failed_at),
    failed_at_ms: letter.failed_at,
  };
}

export function metricPointRow(p: MetricPoint, version: number, writtenAtMs: number) {
  return {
    model: p.model,
    model_version: p.model_version,
    role: p.role,
    segment: p.segment,
    window: p.window,
    window_start: seconds(p.window_start),
    window_start_ms: p.window_start,
    window_end: seconds(p.window_end),
    window_end_ms: p.window_end,
    metric: p.metric,
    value: p.value,
    count: p.count,
    version,
    written_at_ms: writtenAtMs,
  };
}

export function driftRow(d: DriftRecord, version: number) {
  return {
    model: d.model,
    model_version: d.model_version,
    role: d.role,
    feature: d.feature,
    statistic: d.statistic,
    value: d.value,
    threshold: d.threshold,
    detected: d.detected ? 1 : 0,
    window: d.window,
    window_start: seconds(d.window_start),
    window_start_ms: d.window_start,
    window_end_ms: d.window_end,
    at: seconds(d.at),
    at_ms: d.at,
    n: d.n,
    version,
  };
}

export function chartRow(c: ChartRow, version: number) {
  return {
    model: c.model,
    model_version: c.model_version,
    role: c.role,
    segment: c.segment,
    window: c.window,
    window_start: seconds(c.window_start),
    window_start_ms: c.window_start,
    window_end_ms: c.window_end,
    chart: c.chart,
    subject: c.subject,
    point_labels: c.labels,
    series_names: c.series,
    series_values: c.values,
    n: c.n,
    version,
  };
}

export function feedbackStatRow(s: FeedbackStat, version: number) {
  return {
    model: s.model,
    day: utcDate(s.day),
    day_ms: s.day,
    feedback_type: s.feedback_type,
    source: s.source,
    labels: s.labels,
    corrections: s.corrections,
    overturned: s.overturned,
    overturned_by_expert: s.overturned_by_expert,
    version,
  };
}

export type DatasetSplit = 'train' | 'validation' | 'test';

/** FNV-1a, 32 bits, over the UTF-8 bytes of `text`. */
function fnv1a32(text: string): number {
  let hash = 0x811c9dc5;
  for (const byte of Buffer.from(text, 'utf8')) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}

/**
 * The dataset split of a prediction, 80/10/10, from a stable hash of its id:
 * the same on every instance and run, and a correction (same prediction_id)
 * stays in the split of the example it corrects.
 */
export function datasetSplit(predictionId: string): DatasetSplit {
  const bucket = fnv1a32(predictionId) % 100;
  return bucket < 80 ? 'train' : bucket < 90 ? 'validation' : 'test';
}

export function labelledExampleRow(e: LabelledExample, version: number) {
  const [shadowNames, shadowValues] = pairs(e.shadow_scores);
  return {
    example_id: e.example_id,
    ...predictionColumns(e),
    label: e.label,
    feedback_type: e.feedback_type ?? '',
    source: e.source ?? '',
    feedback_ts_ms: e.feedback_timestamp,
    label_delay_ms: e.label_delay_ms,
    correction_of: e.correction_of ?? '',
    shadow_names: shadowNames,
    shadow_values: shadowValues,
    split: datasetSplit(e.prediction_id),
    version,
    ...classColumns(e),
  };
}

/** The class columns of a labelled example (migration 10): '' and [] where it has none; class names stay as the example orders them (labels: the configured order). */
function classColumns(e: LabelledExample) {
  const [classNames, classValues] = pairs(e.class_scores);
  return {
    class_names: classNames,
    class_values: classValues,
    predicted_class: e.predicted_class ?? '',
    label_class: e.label_class ?? '',
    rejected_class: e.rejected_class ?? '',
    predicted_labels: e.predicted_labels ?? [],
    labels: e.labels ?? [],
    label_set: e.labels === null ? 0 : 1,
  };
}

/** A model snapshot as a row of model_versions (the registry); `versionRow` is the ReplacingMergeTree version. */
export function modelVersionRow(s: ModelSnapshot, versionRow: number) {
  return {
    model: s.model,
    version: s.version,
    challenger: s.challenger,
    algorithm: s.algorithm,
    parent_version: s.parent_version ?? '',
    training_count: s.training_count,
    data_hash: s.data_hash,
    feature_names: s.feature_schema.map((f) => f.name),
    created_at: seconds(s.created_at),
    created_at_ms: s.created_at,
    version_row: versionRow,
  };
}

/**
 * A promotion decision as a row of champion_history: the metric deltas and
 * guardrails (the evidence at decision time) as parallel arrays, sorted by
 * name. The ReplacingMergeTree version is decided_at_ms.
 */
export function championHistoryRow(d: PromotionDecision) {
  const [metricNames, metricValues] = pairs(d.metric_deltas);
  const [guardrailNames, guardrailValues] = pairs(d.guardrails);
  return {
    decision_id: d.decision_id,
    model: d.model,
    decision: d.decision,
    from_version: d.from_version,
    to_version: d.to_version,
    actor: d.actor,
    reason: d.reason,
    policy: d.policy,
    statistic: d.statistic,
    bound: d.bound,
    alpha: d.alpha,
    sample_size: d.sample_size,
    metric_names: metricNames,
    metric_values: metricValues,
    guardrail_names: guardrailNames,
    guardrail_values: guardrailValues,
    at: seconds(d.at),
    at_ms: d.at,
    decided_at: seconds(d.decided_at),
    decided_at_ms: d.decided_at,
  };
}
