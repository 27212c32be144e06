/**
 * The replay's in-process log carries validated events beside their bytes
 * (ReplayInput.keepDecoded, the default), so its readers skip the Avro
 * decode. This proves the encoded path (every reader decodes the bytes, as
 * on Kafka) gives identical output: every file, byte for byte (the output
 * folder's own path aside), on the example files (malformed lines, dead
 * letters, corrections, two models) and on the replay benchmark's stream
 * (a learner challenger, the promoter and the evaluator at work). There the
 * carried events' bytes are made lazily (OutgoingRecord.lazyValue): on that
 * stream no input event nor labelled example is Avro-encoded at all.
 */
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { LocalCodec } from '../../adapters/codec/codec.js';
import { loadConfig } from '../../adapters/config/index.js';
import { ManualClock } from '../../core/clock.js';
import { replay } from '../../runtime/replay.js';
import { replayConfig, writeReplayStream } from '../../bench/replay-stream.js';

const ROOT = join(import.meta.dirname, '..', '..');

interface Inputs {
  predictions: string;
  feedback: string;
  config: string;
}

/** Every output file of a replay, its text with the output folder's path taken out. */
async function outputs(inputs: Inputs, keepDecoded: boolean): Promise<Record<string, string>> {
  const out = mkdtempSync(join(tmpdir(), `replay-${keepDecoded ? 'decoded' : 'encoded'}-`));
  await replay({ predictions: inputs.predictions, feedback: inputs.feedback, out, config: loadConfig(inputs.config, {}), clock: new ManualClock(1_800_000_000_000), keepDecoded });
  const files: Record<string, string> = {};
  for (const name of readdirSync(out).sort()) files[name] = readFileSync(join(out, name), 'utf8').split(out).join('OUT');
  return files;
}

async function sameBothWays(inputs: Inputs): Promise<Record<string, string>> {
  const decoded = await outputs(inputs, true);
  const encoded = await outputs(inputs, false);
  expect(Object.keys(decoded)).toEqual(Object.keys(encoded));
  for (const name of Object.keys(encoded)) expect({ name, text: decoded[name] }).toEqual({ name, text: encoded[name] });
  return decoded;
}

describe('replay: events carried beside their bytes give the output of the encoded path', () => {
  it('on the example files', async () => {
    const files = await sameBothWays({ predictions: join(ROOT, 'examples/predictions.jsonl'), feedback: join(ROOT, 'examples/feedback.jsonl'), config: join(ROOT, 'examples/config.yaml') });
    expect(files['labelled.jsonl']!.split('\n').length).toBeGreaterThan(5);
    expect(files['dead_letters.jsonl']!.length).toBeGreaterThan(0);
  });

  it("on the replay benchmark's stream (3,000 predictions)", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'replay-stream-'));
    const inputs = { predictions: join(dir, 'predictions.jsonl'), feedback: join(dir, 'feedback.jsonl'), config: join(dir, 'config.yaml') };
    await writeReplayStream(inputs.predictions, inputs.feedback, 3000, 42);
    writeFileSync(inputs.config, replayConfig());
    const encodes = vi.spyOn(LocalCodec.prototype, 'encodeNow');
    const schemas = () => encodes.mock.contexts.map((codec) => (codec as LocalCodec<unknown>).schema);
    try {
      const decoded = await outputs(inputs, true);
      // No unmatched feedback nor dead letter on this stream: only snapshots and decisions are encoded.
      expect(schemas().filter((s) => s === 'Prediction' || s === 'Feedback' || s === 'LabelledExample')).toEqual([]);
      encodes.mockClear();
      const encoded = await outputs(inputs, false);
      expect(schemas().filter((s) => s === 'LabelledExample').length).toBeGreaterThan(3000);
      expect(Object.keys(decoded)).toEqual(Object.keys(encoded));
      for (const name of Object.keys(encoded)) expect({ name, text: decoded[name] }).toEqual({ name, text: encoded[name] });
      expect(decoded['snapshots.jsonl']!.split('\n').length).toBeGreaterThan(2);
      expect(decoded['metrics.jsonl']!.length).toBeGreaterThan(0);
    } finally {
      encodes.mockRestore();
    }
  }, 120_000);
});
