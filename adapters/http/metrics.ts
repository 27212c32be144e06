/**
 * The Prometheus registry every processor registers its metrics on, with
 * the counters all of them share.
 */
import { Counter, Registry, collectDefaultMetrics } from 'prom-client';

export interface PipelineMetrics {
  registry: Registry;
  /** Records read, by topic. */
  recordsIn: Counter<'topic'>;
  /** Records sent to the dead-letter path, by stage and error class. */
  deadLetters: Counter<'stage' | 'error_class'>;
}

export function createPipelineMetrics(options: { defaultMetrics?: boolean } = {}): PipelineMetrics {
  const registry = new Registry();
  if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: registry, prefix: 'feedbackloop_' });
  return {
    registry,
    recordsIn: new Counter({
      name: 'feedbackloop_records_in_total',
      help: 'Records read from the log, by topic.',
      labelNames: ['topic'],
      registers: [registry],
    }),
    deadLetters: new Counter({
      name: 'feedbackloop_dead_letters_total',
      help: 'Records that could not be processed and went to the dead-letter path, by stage and error class.',
      labelNames: ['stage', 'error_class'],
      registers: [registry],
    }),
  };
}
