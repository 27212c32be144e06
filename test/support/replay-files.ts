/** Replays JSONL lines given in memory, and reads what the replay wrote (for replay tests). */
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Config } from '../../adapters/config/index.js';
import { ManualClock } from '../../core/clock.js';
import { replay, type ReplaySummary } from '../../runtime/replay.js';

/** Writes events as a replay's two input files in `dir` (one JSON object per line); returns their paths. */
export function writeReplayInput(dir: string, predictions: readonly unknown[], feedback: readonly unknown[]): { predictions: string; feedback: string } {
  const jsonl = (rows: readonly unknown[]) => rows.map((r) => `${JSON.stringify(r)}\n`).join('');
  const paths = { predictions: join(dir, 'predictions.jsonl'), feedback: join(dir, 'feedback.jsonl') };
  writeFileSync(paths.predictions, jsonl(predictions));
  writeFileSync(paths.feedback, jsonl(feedback));
  return paths;
}

/** Writes the lines to files in a fresh temp dir and replays them (the wall clock fixed, far after the events). */
export async function replayLines(predictions: string[], feedback: string[], config: Config): Promise<{ out: string; summary: ReplaySummary }> {
  const dir = mkdtempSync(join(tmpdir(), 'replay-lines-'));
  writeFileSync(join(dir, 'predictions.jsonl'), `${predictions.join('\n')}\n`);
  writeFileSync(join(dir, 'feedback.jsonl'), `${feedback.join('\n')}\n`);
  const out = join(dir, 'out');
  const summary = await replay({ predictions: join(dir, 'predictions.jsonl'), feedback: join(dir, 'feedback.jsonl'), out, config, clock: new ManualClock(1_800_000_000_000) });
  return { out, summary };
}

/** Every output file but the dead letters, the summary and the report (which show the counts), as text. */
export function replayOutputs(out: string): Record<string, string> {
  return Object.fromEntries(
    readdirSync(out)
      .filter((f) => !['dead_letters.jsonl', 'summary.json', 'report.html'].includes(f))
      .sort()
      .map((f) => [f, readFileSync(join(out, f), 'utf8')]),
  );
}
