/**
 * Live figures for gauges: the current figures of the `total` and sliding
 * windows of every cell (with arrival records, `total` has the estimated
 * figures too), and each model's stream health.
 */
import { ALL_SEGMENTS } from '../contracts/index.js';
import { TOTAL, type Figures, type WindowStats } from './cells.js';
import type { ModelState } from './model-state.js';
import type { EvaluatorOptions } from './options.js';
import { arrivalFigures } from './points.js';

export interface ModelHealth {
  examples: number;
  late: number;
  orphan_corrections: number;
  open_windows: number;
  /** Examples counted in `<attribute>=other`, their value past evaluator.max_segment_values (per attribute). */
  segment_values_pooled: number;
  /** Segment attributes not segmented, past evaluator.max_segment_attributes (per example and attribute). */
  segment_attributes_dropped: number;
  /** Feature values the data-quality monitor ignored, their name past limits.max_features of the model (per record and name). */
  input_features_dropped: number;
}

/** The current figures of one window of one cell. */
export interface LiveFigures {
  model: string;
  role: string;
  version: string;
  segment: string;
  window: string;
  figures: Figures;
  /**
   * The estimated performance (CBPE, from the scores of every prediction) of
   * this window, binary models only, with its trust flag (estimate_trusted = 1);
   * absent when not estimated. Read by the Prometheus gauges.
   */
  estimated?: {
    precision: number | null;
    recall: number | null;
    f1: number | null;
    accuracy: number | null;
    roc_auc: number | null;
    trusted: boolean;
  };
}

/** The `estimated` of a window with arrival records (a binary model's). */
function estimatedOf(o: EvaluatorOptions, stats: WindowStats): NonNullable<LiveFigures['estimated']> {
  const f = arrivalFigures(o, stats);
  return {
    precision: f.estimated_precision ?? null, recall: f.estimated_recall ?? null, f1: f.estimated_f1 ?? null,
    accuracy: f.estimated_accuracy ?? null, roc_auc: f.estimated_roc_auc ?? null, trusted: f.estimate_trusted === 1,
  };
}

export function healthOf(state: ModelState): ModelHealth {
  let open = 0;
  for (const cell of state.cells.values()) for (const byStart of cell.tumbling) open += byStart.size;
  return {
    examples: state.n, late: state.late, orphan_corrections: state.orphanCorrections, open_windows: open,
    segment_values_pooled: state.pooledSegmentValues, segment_attributes_dropped: state.droppedSegmentAttributes,
    input_features_dropped: state.drift.droppedFeatures,
  };
}

/** The figures of the `total` and (when not empty) sliding window of each cell; of the `*` segment only unless includeSegments. */
export function* liveFigures(o: EvaluatorOptions, models: Iterable<ModelState>, includeSegments: boolean): Generator<LiveFigures> {
  for (const state of models) {
    for (const cell of state.cells.values()) {
      if (!includeSegments && cell.segment !== ALL_SEGMENTS) continue;
      const live: LiveFigures = { model: state.model, role: cell.role, version: cell.version, segment: cell.segment, window: TOTAL, figures: cell.total.metric.get() };
      if (cell.total.estimate) live.estimated = estimatedOf(o, cell.total);
      yield live;
      if (cell.rolling && cell.rolling.count() > 0) {
        yield { model: state.model, role: cell.role, version: cell.version, segment: cell.segment, window: `last_${cell.rolling.size}`, figures: cell.rolling.get() };
      }
    }
  }
}
