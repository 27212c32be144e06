/**
 * The bounds on input through the processors (README, "Limits, bad input and
 * faults"): a replay with a prediction of 100,000 segment keys, one with a
 * 1 MB model name and one of a model past limits.max_models gives every
 * other output exactly as a replay without them, and dead-letters each with
 * its reason; the joiner's admitted models survive a restart (its changelog).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { replayLines, replayOutputs } from '../support/replay-files.js';
import { UNIT_WAIT_MS, waitFor } from '../support/collect.js';
import { buildConfig, loadConfig, type Config } from '../../adapters/config/index.js';
import { makeCodecs } from '../../adapters/codec/codecs.js';
import { MemoryTransport } from '../../adapters/transport/memory.js';
import { ManualClock } from '../../core/clock.js';
import { type Feedback, noFeedbackClasses, noPredictionClasses, type Prediction } from '../../core/events.js';
import { MemoryJoinStore } from '../../core/join/index.js';
import { JoinerProcessor } from '../../processors/joiner.js';
import { MODEL_KEY_PREFIX } from '../../processors/joiner-changelog.js';
import { topicSpecs } from '../../runtime/pipeline.js';
import { joinerModelBound, joinerTopics, recordLimits } from '../../runtime/settings.js';

const ROOT = join(import.meta.dirname, '..', '..');
const T0 = 1_763_942_400_000;

const lines = (path: string) => readFileSync(path, 'utf8').split('\n').filter(Boolean);
const readJsonl = (path: string) => lines(path).map((line) => JSON.parse(line) as Record<string, unknown>);

const run = replayLines;

const outputs = replayOutputs;

describe('replay: input past the limits', () => {
  // Two models are configured (always admitted); one more may come.
  const config = loadConfig(join(ROOT, 'examples/config.yaml'), { FEEDBACKLOOP_LIMITS_MAX_MODELS: '1' });
  const predictions = lines(join(ROOT, 'examples/predictions.jsonl'));
  const feedback = lines(join(ROOT, 'examples/feedback.jsonl'));
  const base = JSON.parse(predictions[1]!) as Prediction;
  const line = (p: Partial<Prediction>) => JSON.stringify({ ...base, ...p });
  const label = (id: string, at: number) => JSON.stringify({ prediction_id: id, timestamp: at, feedback_type: 'AUTO_VALIDATED', label: 1 } satisfies Partial<Feedback>);
  // Good in both runs: a third model, admitted (the first unconfigured one).
  const admitted = line({ prediction_id: 'tx-new', model: 'newcomer', timestamp: base.timestamp + 1 });
  const bad = [
    line({ prediction_id: 'tx-segments', timestamp: base.timestamp + 2, segments: Object.fromEntries(Array.from({ length: 100_000 }, (_, i) => [`a${i}`, 'x'])) }),
    line({ prediction_id: 'tx-name', timestamp: base.timestamp + 3, model: 'm'.repeat(1_000_000) }),
    line({ prediction_id: 'tx-intruder', timestamp: base.timestamp + 4, model: 'intruder' }),
  ];
  const badFeedback = ['tx-segments', 'tx-name', 'tx-intruder'].map((id, i) => label(id, base.timestamp + 60_000 + i));
  const withBad = {
    predictions: [predictions[0]!, predictions[1]!, admitted, ...bad, ...predictions.slice(2)],
    feedback: [feedback[0]!, label('tx-new', base.timestamp + 50_000), ...badFeedback, ...feedback.slice(1)],
  };
  // The same files with the bad lines blank: the same line numbers, nothing else.
  const without = {
    predictions: [predictions[0]!, predictions[1]!, admitted, '', '', '', ...predictions.slice(2)],
    feedback: [feedback[0]!, label('tx-new', base.timestamp + 50_000), '', '', '', ...feedback.slice(1)],
  };

  it('dead-letters each with its reason; every other output is that of a replay without them', async () => {
    const blankKept = (rows: string[]) => rows.map((r) => (r === '' ? ' ' : r));
    const bad = await run(withBad.predictions, withBad.feedback, config);
    const clean = await run(blankKept(without.predictions), blankKept(without.feedback), config);
    // The feedback of the refused predictions ends unmatched (the documented effect); everything else is equal.
    const badOutputs = outputs(bad.out);
    const unmatched = badOutputs['unmatched.jsonl']!.split('\n');
    const refusedIds = ['tx-segments', 'tx-name', 'tx-intruder'];
    expect(unmatched.filter((l) => refusedIds.some((id) => l.includes(`"prediction_id":"${id}"`)))).toHaveLength(3);
    badOutputs['unmatched.jsonl'] = unmatched.filter((l) => !refusedIds.some((id) => l.includes(`"prediction_id":"${id}"`))).join('\n');
    expect(badOutputs).toEqual(outputs(clean.out));
    expect(bad.summary.unmatched).toBe(clean.summary.unmatched + 3);
    expect(bad.summary.labelled).toBe(clean.summary.labelled);
    expect(clean.summary.by_model.newcomer?.labelled).toBe(1);

    const letters = readJsonl(join(bad.out, 'dead_letters.jsonl'));
    const cleanLetters = readJsonl(join(clean.out, 'dead_letters.jsonl'));
    const added = letters.filter((l) => !cleanLetters.some((c) => c.error_message === l.error_message));
    expect(added.map((l) => [l.error_class, l.stage, l.error_message])).toEqual([
      ['validation', 'replay-input', 'line 4: prediction: segments has more than 32 entries (limits.max_segments)'],
      ['validation', 'replay-input', `line 5: prediction: model is 1000000 characters long, more than limits.max_id_length (256), got "${'m'.repeat(40)}…"`],
      ['validation', 'joiner', 'model "intruder" is not admitted: this joiner partition already admitted 1 other models, limits.max_models (1; models configured under models.<name> are always admitted)'],
    ]);
    // A dead letter holds the record, not a copy of it in its message: the message stays short.
    for (const l of added) expect(String(l.error_message).length).toBeLessThan(300);
  });
});

describe('the joiner processor: admitted models survive a restart', () => {
  it('keeps the admitted models in its changelog; a restarted joiner refuses the same models', async () => {
    const config = buildConfig({ topics: { partitions: 1 }, limits: { max_models: 2 } });
    const t = config.topics;
    const log = new MemoryTransport();
    await log.ensureTopics(topicSpecs(config));
    const codecs = makeCodecs(t, undefined);
    const producer = await log.producer();
    const send = async (events: Array<Prediction | Feedback>) => {
      const records = [];
      for (const e of events) {
        const value = 'model' in e ? await codecs.prediction.encode(e) : await codecs.feedback.encode(e);
        records.push({ topic: 'model' in e ? t.predictions : t.feedback, key: Buffer.from(e.prediction_id), value, timestamp: e.timestamp });
      }
      await producer.send(records);
    };
    const P = (id: string, model: string, at: number): Prediction => ({ prediction_id: id, model, model_version: 'v1', timestamp: at, features: { x: 1 }, categorical: {}, segments: {}, score: 0.6, threshold: 0.5, shadow_scores: {}, ...noPredictionClasses() });
    const F = (id: string, at: number): Feedback => ({ prediction_id: id, timestamp: at, feedback_type: 'AUTO_VALIDATED', label: 1, uncertain: false, source: null, notes: null, ...noFeedbackClasses() });
    const joiner = () =>
      new JoinerProcessor({
        transport: log, topics: joinerTopics(config), groupId: 'joiner', transactionalIdPrefix: 'joiner', codecs,
        joiner: { joinWindowMs: config.joiner.join_window, earlyFeedbackTtlMs: config.joiner.early_feedback_ttl, ...joinerModelBound(config) },
        limits: recordLimits(config), createStore: () => new MemoryJoinStore(), clock: new ManualClock(T0),
      });
    const caughtUp = async () => {
      for (const topic of [t.predictions, t.feedback]) {
        const committed = new Map((await log.committedOffsets('joiner', topic)).map((o) => [o.partition, o.offset]));
        for (const end of await log.endOffsets(topic)) if ((committed.get(end.partition) ?? 0) < end.offset) return false;
      }
      return true;
    };
    const drain = async (processor: JoinerProcessor) => {
      await waitFor(caughtUp, 'the joiner to commit both inputs to their ends', UNIT_WAIT_MS, 10);
      await processor.stop();
    };

    await send([P('1', 'a', T0), F('1', T0 + 10), P('2', 'b', T0 + 20), F('2', T0 + 30)]);
    const first = joiner();
    await first.start();
    await drain(first);
    const changelogKeys = log.records(t.joiner_changelog).map((r) => r.key!.toString('utf8'));
    expect(changelogKeys.filter((k) => k.startsWith(MODEL_KEY_PREFIX))).toEqual([`${MODEL_KEY_PREFIX}a`, `${MODEL_KEY_PREFIX}b`]);

    // Restarted: restored from the changelog, it knows a and b, so c is past the limit.
    await send([P('3', 'c', T0 + 40), F('3', T0 + 50), P('4', 'a', T0 + 60), F('4', T0 + 70)]);
    const second = joiner();
    await second.start();
    await drain(second);
    const labelled = [];
    for (const r of log.records(t.labelled_examples)) labelled.push((await codecs.labelled.decode(r.value)).example_id);
    // Each admitted prediction's arrival record, then its example; none for 3 (refused).
    expect(labelled).toEqual(['1#arrival', '1#1', '2#arrival', '2#1', '4#arrival', '4#1']);
    const letters = [];
    for (const r of log.records(t.dead_letters)) letters.push(await codecs.deadLetter.decode(r.value));
    expect(letters.map((l) => [l.topic, l.offset, l.error_class, l.stage])).toEqual([[t.predictions, 2, 'validation', 'joiner']]);
    expect(letters[0]!.error_message).toMatch(/^model "c" is not admitted: .*limits\.max_models \(2/);
  });
});
