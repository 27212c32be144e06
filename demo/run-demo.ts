/**
 * The demo run: generates the seeded world into OUT/input/, replays it
 * through the pipeline in-process (no servers) into OUT and formats what it
 * wrote (report.ts). Progress goes to a stream of the caller's choosing.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ManualClock } from '../core/clock.js';
import type { Feedback, Prediction } from '../core/events.js';
import type { DriftRecord, MetricPoint } from '../core/evaluate/index.js';
import type { ReportDecision } from '../report/index.js';
import { replay, type ReplaySummary } from '../runtime/replay.js';
import { demoConfig } from './config.js';
import { formatDemo, type DemoOutputs } from './report.js';
import { DAY, DEMO_COUNTS, DEMO_DAYS, DEMO_START } from './scenario.js';
import { generateDemo } from './world.js';

export interface DemoOptions {
  out?: string;
  seed?: number;
  /** Phase lines and progress (default: process.stderr); null for silence. */
  progress?: NodeJS.WriteStream | null;
}

export interface DemoInputs {
  predictions: string;
  feedback: string;
  predictionCount: number;
  feedbackCount: number;
}

export interface DemoResult {
  summary: ReplaySummary;
  /** The text printed to stdout. */
  report: string;
  inputs: DemoInputs;
  seconds: number;
}

const jsonl = (rows: unknown[]) => rows.map((r) => `${JSON.stringify(r)}\n`).join('');

async function readJsonl<T>(path: string): Promise<T[]> {
  return (await readFile(path, 'utf8')).split('\n').filter(Boolean).map((l) => JSON.parse(l) as T);
}

/** Writes the two streams as OUT/input/predictions.jsonl and OUT/input/feedback.jsonl. */
async function writeInputs(out: string, predictions: Prediction[], feedback: Feedback[]): Promise<DemoInputs> {
  const input = join(out, 'input');
  await mkdir(input, { recursive: true });
  const inputs = { predictions: join(input, 'predictions.jsonl'), feedback: join(input, 'feedback.jsonl'), predictionCount: predictions.length, feedbackCount: feedback.length };
  await writeFile(inputs.predictions, jsonl(predictions));
  await writeFile(inputs.feedback, jsonl(feedback));
  return inputs;
}

/** Replays the inputs into `out`, the clock a day past the world's end; a percentage on a terminal. */
async function replayInputs(inputs: DemoInputs, out: string, progress: NodeJS.WriteStream | null): Promise<ReplaySummary> {
  const tty = progress?.isTTY === true;
  let shown = -1;
  const summary = await replay({
    predictions: inputs.predictions, feedback: inputs.feedback, out, config: demoConfig(),
    clock: new ManualClock(DEMO_START + (DEMO_DAYS + 1) * DAY),
    ...(tty ? {
      onProgress: (done: number, total: number) => {
        const pct = Math.floor((100 * done) / total);
        if (pct !== shown) progress?.write(`\r  ${(shown = pct)}%`);
      },
    } : {}),
  });
  if (tty) progress?.write('\r\x1b[K');
  return summary;
}

/** Reads back what the replay wrote and formats the report. */
async function reportOf(summary: ReplaySummary, out: string): Promise<string> {
  const [metrics, drift, promotions] = await Promise.all([
    readJsonl<MetricPoint>(summary.files.metrics), readJsonl<DriftRecord>(summary.files.drift), readJsonl<ReportDecision>(summary.files.promotions),
  ]);
  const outputs: DemoOutputs = { metrics, drift, promotions };
  const files = ['input/predictions.jsonl', 'input/feedback.jsonl', ...Object.values(summary.files).map((f) => f.slice(join(out, '/').length))];
  return formatDemo(summary, outputs, files, out);
}

export async function demo(options: DemoOptions = {}): Promise<DemoResult> {
  const out = options.out ?? './demo-out';
  const seed = options.seed ?? 7;
  const progress = options.progress === undefined ? process.stderr : options.progress;
  const started = Date.now();
  const elapsed = () => ((Date.now() - started) / 1000).toFixed(1);
  const say = (text: string) => progress?.write(`${text}\n`);

  say(`generating ${Object.values(DEMO_COUNTS).reduce((a, b) => a + b, 0)} predictions and their feedback (seed ${seed})…`);
  const { predictions, feedback } = generateDemo(seed);
  const inputs = await writeInputs(out, predictions, feedback);
  say(`replaying ${predictions.length} predictions and ${feedback.length} feedback… (${elapsed()} s)`);
  const summary = await replayInputs(inputs, out, progress);
  say(`replayed in ${elapsed()} s`);
  const report = await reportOf(summary, out);
  return { summary, report, inputs, seconds: (Date.now() - started) / 1000 };
}
