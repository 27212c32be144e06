/**
 * The plausible event times in `replay` (README, "The joiner"): a line
 * stamped far ahead of the stream's own time, or before
 * joiner.min_timestamp, is dead-lettered as the input is read, and the
 * other events' outputs are exactly those of a replay without it; a stream
 * that moves forward over 30 days loses nothing.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ReplaySummary } from '../../runtime/replay.js';
import { replayLines, replayOutputs } from '../support/replay-files.js';
import { buildConfig, loadConfig } from '../../adapters/config/index.js';
import type { Config } from '../../adapters/config/index.js';
import { mulberry32 } from '../../demo/random.js';

const ROOT = join(import.meta.dirname, '..', '..');
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const T0 = 1_763_942_400_000; // 2025-11-24T00:00:00Z
const FLOOR = '946684800000 (2000-01-01T00:00:00.000Z)';

const readJsonl = (path: string) =>
  readFileSync(path, 'utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line) as Record<string, unknown>);

const lines = (path: string) => readFileSync(path, 'utf8').split('\n').filter((l, i, all) => l !== '' || i < all.length - 1);

const run = replayLines;

const outputs = replayOutputs;

const counts = (summary: ReplaySummary) => {
  const { files: _, dead_letters: __, ...rest } = summary;
  return rest;
};

describe('replay: plausible event times', () => {
  const config = loadConfig(join(ROOT, 'examples/config.yaml'), {});
  const predictions = lines(join(ROOT, 'examples/predictions.jsonl'));
  const feedback = lines(join(ROOT, 'examples/feedback.jsonl'));
  // Line 5 of each file: a prediction a year ahead, a feedback in microseconds.
  const farPrediction = JSON.stringify({ ...JSON.parse(predictions[3]!), prediction_id: 'tx-far', timestamp: T0 + 365 * DAY });
  const microFeedback = JSON.stringify({ ...JSON.parse(feedback[3]!), prediction_id: 'tx-002', timestamp: 1_763_946_300_000_000 });
  const withBad = { predictions: [...predictions.slice(0, 4), farPrediction, ...predictions.slice(4)], feedback: [...feedback.slice(0, 4), microFeedback, ...feedback.slice(4)] };
  // The same files with those lines blank: the same line numbers, nothing else.
  const without = { predictions: [...predictions.slice(0, 4), '', ...predictions.slice(4)], feedback: [...feedback.slice(0, 4), '', ...feedback.slice(4)] };

  it('dead-letters a line stamped a year ahead and one in microseconds; every other output is that of a replay without them', async () => {
    const bad = await run(withBad.predictions, withBad.feedback, config);
    const clean = await run(without.predictions, without.feedback, config);

    expect(outputs(bad.out)).toEqual(outputs(clean.out));
    expect(counts(bad.summary)).toEqual(counts(clean.summary));
    expect(bad.summary.dead_letters).toBe(clean.summary.dead_letters + 2);

    // Each replay reads from a folder of its own: compare the file names.
    const base = (path: unknown) => String(path).split('/').pop();
    const deadLetters = (out: string): Array<Record<string, unknown>> =>
      readJsonl(join(out, 'dead_letters.jsonl')).map((l) => ({ ...l, file: base(l.file), topic: base(l.topic) }));
    const letters = deadLetters(bad.out);
    const cleanLetters = deadLetters(clean.out);
    const added = letters.filter((l) => l.line === 5);
    expect(letters.filter((l) => l.line !== 5)).toEqual(cleanLetters);
    // The stream's time at line 5: the later of line 4's timestamp and the median of the next five
    // valid lines (predictions: 6-10, the duplicate tx-001 at line 10 being the earliest of them).
    expect(added.map((l) => [l.file, l.line, l.error_class, l.stage, l.value_text, l.error_message])).toEqual([
      [
        'predictions.jsonl', 5, 'validation', 'replay-input', farPrediction,
        'line 5: prediction: timestamp 1795478400000 (2026-11-24T00:00:00.000Z) is more than joiner.max_future (1h) ahead of the stream\'s time, ' +
          '1763956800000 (2025-11-24T04:00:00.000Z) (the later of the latest timestamp accepted before it in the file, 1763953200000, and the median of the next 5, 1763956800000): ' +
          `the accepted range is [${FLOOR}, 1763960400000 (2025-11-24T05:00:00.000Z)]`,
      ],
      [
        'feedback.jsonl', 5, 'validation', 'replay-input', microFeedback,
        'line 5: feedback: timestamp 1763946300000000 (+057867-03-27T03:20:00.000Z) is more than joiner.max_future (1h) ahead of the stream\'s time, ' +
          '1763958600000 (2025-11-24T04:30:00.000Z) (the later of the latest timestamp accepted before it in the file, 1763953260000, and the median of the next 5, 1763958600000): ' +
          `the accepted range is [${FLOOR}, 1763962200000 (2025-11-24T05:30:00.000Z)] (microseconds instead of milliseconds?)`,
      ],
    ]);
  });

  it('(what the rule prevents: with joiner.max_future too large to apply, the same lines change the other events\' outputs)', async () => {
    const lax = loadConfig(join(ROOT, 'examples/config.yaml'), { FEEDBACKLOOP_JOINER_MAX_FUTURE: '100000d' });
    const bad = await run(withBad.predictions, withBad.feedback, lax);
    const clean = await run(without.predictions, without.feedback, lax);
    expect(bad.summary.dead_letters).toBe(clean.summary.dead_letters);
    expect(outputs(bad.out)['labelled.jsonl']).not.toEqual(outputs(clean.out)['labelled.jsonl']);
  });

  it('dead-letters every event of a stream stamped in seconds, with the floor reason', async () => {
    const random = mulberry32(3);
    const predictionsInSeconds: string[] = [];
    const feedbackInSeconds: string[] = [];
    for (let i = 0; i < 20; i++) {
      const at = (T0 + i * 7 * MINUTE) / 1000;
      predictionsInSeconds.push(JSON.stringify({ prediction_id: `s-${i}`, model: 'fraud-detector', model_version: 'v7', timestamp: at, features: { amount: i }, score: random(), threshold: 0.5 }));
      if (i % 2 === 0) feedbackInSeconds.push(JSON.stringify({ prediction_id: `s-${i}`, timestamp: at + 60, feedback_type: 'AUTO_VALIDATED', label: i % 4 === 0 ? 1 : 0 }));
    }
    const { out, summary } = await run(predictionsInSeconds, feedbackInSeconds, buildConfig({}));
    expect(summary).toMatchObject({ predictions_read: 0, feedback_read: 0, labelled: 0, dead_letters: 30 });
    const letters = readJsonl(join(out, 'dead_letters.jsonl'));
    const expected: Array<[string, number, string, number]> = [
      ...predictionsInSeconds.map((line, i): [string, number, string, number] => ['predictions.jsonl', i + 1, 'prediction', JSON.parse(line).timestamp]),
      ...feedbackInSeconds.map((line, i): [string, number, string, number] => ['feedback.jsonl', i + 1, 'feedback', JSON.parse(line).timestamp]),
    ];
    expect(letters.map((l) => [String(l.file).split('/').pop(), l.line, l.error_class, l.error_message])).toEqual(
      expected.map(([file, line, what, ts]) => [
        file, line, 'validation',
        `line ${line}: ${what}: timestamp ${ts} (${new Date(ts).toISOString()}) is before joiner.min_timestamp: ` +
          `the accepted range is [${FLOOR}, the stream's time + 1h] (seconds instead of milliseconds?)`,
      ]),
    );
    expect(readJsonl(join(out, 'labelled.jsonl'))).toEqual([]);
  });

  it('rejects nothing of a stream that moves forward over 30 days, with nightly gaps and a 3-day outage', async () => {
    const random = mulberry32(30);
    const events: Array<{ prediction: Record<string, unknown>; feedback?: Record<string, unknown> }> = [];
    let i = 0;
    for (let day = 0; day < 30; day++) {
      if (day >= 12 && day < 15) continue;
      for (let t = T0 + day * DAY + 7 * HOUR; t < T0 + day * DAY + 22 * HOUR; t += 20 * MINUTE + Math.floor(random() * 60 * MINUTE)) {
        const id = `p-${i++}`;
        const score = Math.round(random() * 1000) / 1000;
        const delay = Math.floor(MINUTE + random() * 3 * DAY);
        events.push({
          prediction: { prediction_id: id, model: 'fraud-detector', model_version: 'v7', timestamp: t, features: { amount: Math.round(random() * 500) }, score, threshold: 0.5 },
          ...(random() < 0.7 ? { feedback: { prediction_id: id, timestamp: t + delay, feedback_type: 'AUTO_VALIDATED', label: random() < score ? 1 : 0 } } : {}),
        });
      }
    }
    const predictionLines = events.map((e) => JSON.stringify(e.prediction));
    const feedbackEvents = events.flatMap((e) => (e.feedback ? [e.feedback] : [])).sort((a, b) => (a.timestamp as number) - (b.timestamp as number));
    const { out, summary } = await run(predictionLines, feedbackEvents.map((f) => JSON.stringify(f)), buildConfig({}));
    expect(readJsonl(join(out, 'dead_letters.jsonl'))).toEqual([]);
    expect(summary).toMatchObject({
      predictions_read: events.length,
      feedback_read: feedbackEvents.length,
      labelled: feedbackEvents.length,
      unmatched: 0,
      dead_letters: 0,
    });
    expect(events.length).toBeGreaterThan(300);
  });
});
