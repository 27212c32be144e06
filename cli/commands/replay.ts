import type { Command } from 'commander';
import { loadConfig } from '../../adapters/config/index.js';
import { systemClock } from '../../core/clock.js';
import { replay, type ReplaySummary } from '../../runtime/replay.js';
import { ClickHouseStore } from '../../adapters/clickhouse/index.js';
import { redactUrl } from '../../core/redact.js';
import { clickhouseOptions } from '../../runtime/client-options.js';
import { ClickHouseEvaluatorSink } from '../../sinks/index.js';

export interface ReplayOptions {
  predictions: string;
  feedback: string;
  out: string;
  config?: string;
}

export function formatSummary(summary: ReplaySummary): string {
  const rows: Array<[string, number]> = [
    ['predictions read', summary.predictions_read],
    ['feedback read', summary.feedback_read],
    ['labelled examples', summary.labelled],
    ['corrections', summary.corrections],
    ['duplicates ignored', summary.duplicates_ignored],
    ['uncertain feedback', summary.uncertain],
    ['outranked feedback', summary.superseded],
    ['unmatched feedback', summary.unmatched],
    ['expired, labelled', summary.expired_labelled],
    ['expired, unlabelled', summary.expired_unlabelled],
    ['still pending', summary.pending_at_end],
    ['dead letters', summary.dead_letters],
    ['metric points', summary.metric_points],
    ['drift alarms', summary.drift_alarms],
    ['snapshots published', summary.snapshots_published],
    ['promotion decisions', summary.decisions],
  ];
  const width = rows.reduce((most, [name]) => Math.max(most, name.length), 0);
  const lines = rows.map(([name, value]) => `  ${name.padEnd(width)}  ${value}`);
  const models = Object.entries(summary.by_model).map(
    ([model, c]) => `  ${model}: ${c.predictions} predictions, ${c.labelled} labelled, ${c.corrections} corrections`,
  );
  return [`replay summary`, ...lines, ...(models.length ? ['per model', ...models] : []), `written to ${summary.files.summary.replace(/summary\.json$/, '')}`, `report: ${summary.files.report}`].join('\n');
}

/** Declares `feedbackloop replay` on the program. */
export function registerReplay(cli: Command): void {
  cli
    .command('replay')
    .description('Replay files of predictions and feedback through the pipeline in-process, with no servers.')
    .requiredOption('--predictions <file>', 'JSON Lines file of Prediction events (field names as in schemas/Prediction.avsc)')
    .requiredOption('--feedback <file>', 'JSON Lines file of Feedback events (field names as in schemas/Feedback.avsc)')
    .requiredOption('--out <dir>', 'output folder (created if missing)')
    .option('-c, --config <file>', 'YAML config file (join window, model tasks, ...)')
    .addHelpText(
      'after',
      '\nWrites to --out: labelled.jsonl (one line per labelled example or correction; the last line\n' +
        'for a prediction_id carries its final label), unlabelled.jsonl, unmatched.jsonl,\n' +
        'dead_letters.jsonl (malformed lines with file, line and reason), metrics.jsonl (the final value\n' +
        'of every figure), drift.jsonl, feedback.jsonl, charts.jsonl (ROC/PR curve points, confusion\n' +
        'matrices, feature histograms), snapshots.jsonl (the challengers\' models and their standardised\n' +
        'coefficients), promotions.jsonl (the promoter\'s decisions), report.html (every model\'s figures,\n' +
        'curves, drift, feature importance, decisions, feedback and fairness on one self-contained page)\n' +
        'and summary.json.\n' +
        'A model the config does not name is taken as binary: give a regression model its task\n' +
        '(models.<name>.task: regression), or its predictions are dead-lettered (score out of range).\n\n' +
        'Example:\n  feedbackloop replay --predictions examples/predictions.jsonl --feedback examples/feedback.jsonl \\\n' +
        '    --config examples/config.yaml --out out/',
    )
    .action(async (options: ReplayOptions) => commandReplay(options));
}

export async function commandReplay(options: ReplayOptions): Promise<void> {
  const config = loadConfig(options.config);
  const c = config.clickhouse;
  const reach = clickhouseOptions(config);
  const store = reach ? await ClickHouseStore.open(reach) : undefined;
  try {
    const clickhouse = store
      ? new ClickHouseEvaluatorSink(store, systemClock, { maxRows: config.evaluator.flush_rows, maxBytes: config.evaluator.flush_bytes })
      : undefined;
    const summary = await replay({ ...options, config, clock: systemClock, ...(clickhouse && store ? { clickhouse, registry: store } : {}) });
    process.stdout.write(`${formatSummary(summary)}\n`);
    if (store) process.stdout.write(`metrics also written to ClickHouse ${redactUrl(c.url!)} database ${c.database}\n`);
  } finally {
    await store?.close();
  }
}
