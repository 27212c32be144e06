/**
 * The one place prom-client is used: the Prometheus registry of a running
 * pipeline, with every metric it exports. The processors know nothing of
 * it: they report through PipelineObserver hooks (core/observer.ts), which
 * `observer` implements, and the live gauges read what the running
 * processors hold at each scrape (`watch`).
 */
import type { ModelKind } from '../../core/events.js';
import { Registry, collectDefaultMetrics } from 'prom-client';
import type { PipelineObserver } from '../../core/observer.js';
import { evaluatorMetrics } from './model-gauges.js';
import { liveGauges, type GaugeSources } from './gauges.js';
import { processorMetrics } from './processors.js';

export interface PipelineMetrics {
  registry: Registry;
  /** The processors' hooks, counting into this registry. */
  observer: Required<PipelineObserver>;
  /** Gauges computed at each scrape from what the running pipeline holds (set once, by `run`). */
  watch(sources: GaugeSources): void;
}

export interface PipelineMetricsOptions {
  /** Node process metrics (default true). */
  defaultMetrics?: boolean;
  /** Per-segment evaluator gauges (segment values become label values). */
  segments?: boolean;
  /** The task of each model (models.<name>.task), for what counts as a label (default binary). */
  kindOf?: (model: string) => ModelKind;
}

export function createPipelineMetrics(options: PipelineMetricsOptions = {}): PipelineMetrics {
  const registry = new Registry();
  if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: registry, prefix: 'feedbackloop_' });
  const observer = { ...processorMetrics(registry), ...evaluatorMetrics(registry, { segments: options.segments ?? false, ...(options.kindOf ? { kindOf: options.kindOf } : {}) }) };
  const sources: GaugeSources = {};
  liveGauges(registry, sources);
  return {
    registry,
    observer,
    watch: (given) => void Object.assign(sources, given),
  };
}
