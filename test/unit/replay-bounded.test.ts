/**
 * A replay whose pending predictions exceed joiner.replay_memory_entries
 * (issue 13: the oldest wait in LMDB in the replay's temp folder) gives the
 * output of one that keeps them all on the heap: every file, byte for byte
 * (the output folder's own path aside), on the replay benchmark's stream;
 * and the temp folder is gone afterwards, also when the replay fails.
 */
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../../adapters/config/index.js';
import { FileSpill } from '../../adapters/state/file-spill.js';
import { ManualClock } from '../../core/clock.js';
import { replay } from '../../runtime/replay.js';
import { FileEvaluatorSink } from '../../sinks/evaluator-rows.js';
import { replayConfig, writeReplayStream } from '../../bench/replay-stream.js';

const PREDICTIONS = 3000;

async function stream(): Promise<{ predictions: string; feedback: string; dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'replay-bounded-'));
  const predictions = join(dir, 'predictions.jsonl');
  const feedback = join(dir, 'feedback.jsonl');
  await writeReplayStream(predictions, feedback, PREDICTIONS, 42);
  return { predictions, feedback, dir };
}

/** Replays with joiner.replay_memory_entries = `bound`; every output file, its text with the output folder's path taken out. */
async function outputs(input: { predictions: string; feedback: string; dir: string }, bound: number): Promise<Record<string, string>> {
  const configPath = join(input.dir, `config-${bound}.yaml`);
  writeFileSync(configPath, `${replayConfig()}\n`.replace('joiner:\n', `joiner:\n  replay_memory_entries: ${bound}\n`));
  const config = loadConfig(configPath, {});
  expect(config.joiner.replay_memory_entries).toBe(bound);
  const out = mkdtempSync(join(tmpdir(), `replay-bound-${bound}-`));
  await replay({ predictions: input.predictions, feedback: input.feedback, out, config, clock: new ManualClock(1_800_000_000_000) });
  const files: Record<string, string> = {};
  for (const name of readdirSync(out).sort()) files[name] = readFileSync(join(out, name), 'utf8').split(out).join('OUT');
  return files;
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('replay beyond joiner.replay_memory_entries', () => {
  it('gives every file of a replay that keeps every pending prediction on the heap, and leaves no temp folder', async () => {
    const input = await stream();
    const spills = vi.spyOn(FileSpill.prototype, 'set');
    const heap = await outputs(input, 100_000);
    expect(spills).not.toHaveBeenCalled();
    const bounded = await outputs(input, 200);
    // Every prediction but the last 200 waited on disk (none expires: the stream spans 25 minutes of its 7-day join window).
    expect(spills.mock.calls.length).toBeGreaterThanOrEqual(PREDICTIONS - 200);
    expect(Object.keys(bounded)).toEqual(Object.keys(heap));
    expect(Object.keys(heap)).not.toContain(expect.stringMatching(/^\.replay-/));
    for (const name of Object.keys(heap)) expect({ name, text: bounded[name] }).toEqual({ name, text: heap[name] });
    expect(heap['metrics.jsonl']!.split('\n').length).toBeGreaterThan(1000);
    expect(JSON.parse(heap['summary.json']!).pending_at_end).toBe(PREDICTIONS);
  }, 120_000);

  it('removes its temp folder (with the spilled entries) when it fails', async () => {
    const input = await stream();
    const opened: FileSpill[] = [];
    const set = FileSpill.prototype.set;
    vi.spyOn(FileSpill.prototype, 'set').mockImplementation(function (this: FileSpill, ...args) {
      if (!opened.includes(this)) opened.push(this);
      return set.apply(this, args);
    });
    vi.spyOn(FileEvaluatorSink.prototype, 'close').mockRejectedValue(new Error('disk full'));
    await expect(outputs(input, 200)).rejects.toThrow('disk full');
    expect(opened).toHaveLength(1);
    const out = opened[0]!.path.split('/.replay-')[0]!;
    expect(readdirSync(out).filter((name) => name.startsWith('.replay-'))).toEqual([]);
  }, 120_000);
});
