/** Event -> row mappings for the tables of migrations.ts. */
import type { DeadLetter, Prediction } from '../../core/events.js';

function pairs<V>(map: Record<string, V>): [string[], V[]] {
  const keys = Object.keys(map).sort();
  return [keys, keys.map((k) => map[k]!)];
}

export function predictionRow(prediction: Prediction, ingestedAtMs: number) {
  const [featureNames, featureValues] = pairs(prediction.features);
  const [categoricalNames, categoricalValues] = pairs(prediction.categorical);
  const [segmentNames, segmentValues] = pairs(prediction.segments);
  return {
    prediction_id: prediction.prediction_id,
    model: prediction.model,
    model_version: prediction.model_version,
    ts: Math.floor(prediction.timestamp / 1000),
    ts_ms: prediction.timestamp,
    score: prediction.score,
    threshold: prediction.threshold,
    feature_names: featureNames,
    feature_values: featureValues,
    categorical_names: categoricalNames,
    categorical_values: categoricalValues,
    segment_names: segmentNames,
    segment_values: segmentValues,
    ingested_at_ms: ingestedAtMs,
  };
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
    failed_at: Math.floor(letter.failed_at / 1000),
    failed_at_ms: letter.failed_at,
  };
}
