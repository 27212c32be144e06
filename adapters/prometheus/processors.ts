/**
 * Counters of what the processors did: records read, dead letters, join
 * outcomes, snapshots published, promotion decisions. Fed through the
 * PipelineObserver hooks.
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { PipelineObserver } from '../../core/observer.js';

type ProcessorHooks = Required<Pick<PipelineObserver, 'recordsIn' | 'deadLetter' | 'joined' | 'published' | 'decided' | 'manual' | 'commitFailed' | 'poisoned' | 'retrying' | 'recovered' | 'restored' | 'taskOpened'>>;

export function processorMetrics(registry: Registry, startedAt = Date.now()): ProcessorHooks {
  const recordsIn = new Counter({
    name: 'feedbackloop_records_in_total',
    help: 'Records read from the log, by topic.',
    labelNames: ['topic'],
    registers: [registry],
  });
  const deadLetters = new Counter({
    name: 'feedbackloop_dead_letters_total',
    help: 'Records that could not be processed and went to the dead-letter path, by stage and error class.',
    labelNames: ['stage', 'error_class'],
    registers: [registry],
  });
  const joinEvents = new Counter({
    name: 'feedbackloop_join_events_total',
    help: 'Joiner outcomes: labelled, corrections, duplicates, uncertain, superseded, confirmations, unmatched, rejected, expired_labelled, expired_unlabelled.',
    labelNames: ['event'],
    registers: [registry],
  });
  const snapshots = new Counter({
    name: 'feedbackloop_snapshots_published_total',
    help: 'Model snapshots the learner published, by model and challenger.',
    labelNames: ['model', 'challenger'],
    registers: [registry],
  });
  const decisions = new Counter({
    name: 'feedbackloop_promotion_decisions_total',
    help: 'Promotion decisions by model and decision (PROMOTE, ROLLBACK, PIN, UNPIN): those this promoter published, and manual ones (feedbackloop promote | rollback | pin | unpin) made while it runs.',
    labelNames: ['model', 'decision'],
    registers: [registry],
  });
  const tasksOpened = new Counter({
    name: 'feedbackloop_partition_tasks_opened_total',
    help: 'Partition tasks opened at a new assignment generation, by processor: kept="false" restored their state, kept="true" were kept from the previous generation (nothing restored).',
    labelNames: ['processor', 'kept'],
    registers: [registry],
  });
  // Keyed by our own processor names (a fixed set), never by input.
  const retryingSince = new Map<string, number>();
  const retrying = new Gauge({
    name: 'feedbackloop_processor_retrying_since_seconds',
    help: 'Since when (Unix seconds) a processor has been retrying a batch that failed in a way a retry can mend (a server down or busy); 0 while its batches succeed.',
    labelNames: ['processor'],
    registers: [registry],
  });
  return {
    recordsIn: (topic, count) => recordsIn.inc({ topic }, count),
    deadLetter: (letter) => deadLetters.inc({ stage: letter.stage, error_class: letter.error_class }),
    joined: (delta) => {
      for (const [event, value] of Object.entries(delta)) {
        if (typeof value === 'number' && value > 0) joinEvents.inc({ event }, value);
      }
    },
    published: (published) => {
      for (const s of published) snapshots.inc({ model: s.model, challenger: s.challenger });
    },
    decided: (published) => {
      for (const d of published) decisions.inc({ model: d.model, decision: d.decision });
    },
    // Those made while this process runs (the ChampionChanged alert): the promoter re-reads the
    // whole topic at every start, older ones were counted before.
    manual: (d) => {
      if (d.decided_at >= startedAt) decisions.inc({ model: d.model, decision: d.decision });
    },
    commitFailed: () => {},
    // A log line in `run`.
    restored: () => {},
    taskOpened: ({ processor, kept }) => tasksOpened.inc({ processor, kept: String(kept) }),
    // Counted with the dead letters (error_class "processing"); `run` adds a log line.
    poisoned: () => {},
    retrying: (processor) => {
      if (retryingSince.get(processor) === undefined) retryingSince.set(processor, Date.now() / 1000);
      retrying.set({ processor }, retryingSince.get(processor)!);
    },
    recovered: (processor) => {
      if (retryingSince.delete(processor)) retrying.set({ processor }, 0);
    },
  };
}
