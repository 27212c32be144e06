/**
 * evaluator.shard_by: prediction, the joiner's side (docs/scale-out.md): the
 * pipeline `run` builds, on the in-process log with 3 partitions, writes
 * every labelled example (arrival records and corrections included) twice
 * in the batch's transaction: to labelled_examples keyed by model, as
 * always, and to topics.sharded_examples keyed by prediction_id, so one
 * model's examples spread over every partition and each correction lands in
 * the partition of the example it replaces. Unsharded (the default), and in
 * a replay (event time), nothing is written there.
 */
import { describe, expect, it } from 'vitest';
import { buildConfig, type Config } from '../../adapters/config/index.js';
import { makeCodecs } from '../../adapters/codec/codecs.js';
import { MemoryTransport } from '../../adapters/transport/memory.js';
import { partitionForKey } from '../../adapters/transport/partitioner.js';
import type { LogRecord } from '../../adapters/transport/transport.js';
import { ManualClock } from '../../core/clock.js';
import { type Feedback, type LabelledExample, noFeedbackClasses, noPredictionClasses, type Prediction } from '../../core/events.js';
import { MemoryJoinStore } from '../../core/join/index.js';
import { Pipeline, topicSpecs, type PipelineEnv } from '../../runtime/pipeline.js';

const PARTITIONS = 3;
const NOW = 1_763_942_400_000;
const MINUTE = 60_000;
const SHARDED = { shard_by: 'prediction', rolling_size: 0, drift_reference_size: 0, drift_detectors: false };

/** 60 predictions of one model, each labelled; every third corrected, every sixth twice (EXPERT_REVIEW outranks USER_CONFIRMED). */
function stream(): { predictions: Prediction[]; feedback: Feedback[] } {
  const predictions: Prediction[] = [];
  const feedback: Feedback[] = [];
  for (let i = 0; i < 60; i++) {
    const timestamp = NOW - 120 * MINUTE + i * MINUTE;
    const id = `p-${i}`;
    predictions.push({ prediction_id: id, model: 'hot', model_version: 'v1', timestamp, features: { x: i }, categorical: {}, segments: {}, score: (i % 10) / 10, threshold: 0.5, shadow_scores: {}, ...noPredictionClasses() });
    const label = (at: number, value: number, type: Feedback['feedback_type']): Feedback => ({ prediction_id: id, timestamp: at, feedback_type: type, label: value, uncertain: false, source: null, notes: null, ...noFeedbackClasses() });
    feedback.push(label(timestamp + 5 * MINUTE, i % 2, 'USER_CONFIRMED'));
    if (i % 3 === 0) feedback.push(label(timestamp + 6 * MINUTE, 1 - (i % 2), 'EXPERT_REVIEW'));
    if (i % 6 === 0) feedback.push(label(timestamp + 7 * MINUTE, i % 2, 'EXPERT_REVIEW'));
  }
  feedback.sort((a, b) => a.timestamp - b.timestamp);
  return { predictions, feedback };
}

/** Runs the pipeline's joiner over the stream; returns the log. */
async function joinOn(config: Config, time: PipelineEnv['time']): Promise<MemoryTransport> {
  const clock = new ManualClock(NOW);
  const log = new MemoryTransport(() => clock.now());
  await log.ensureTopics(topicSpecs(config));
  const codecs = makeCodecs(config.topics, undefined);
  const nothing = { connect: async () => {}, writeBatch: async () => {}, close: async () => {} };
  const env: PipelineEnv = {
    config, transport: log, codecs, clock, name: 'test', time, joinStore: () => new MemoryJoinStore(), deadLetters: nothing, observer: {},
  };
  const pipeline = new Pipeline(env, ['joiner']);
  await pipeline.start();
  const { predictions, feedback } = stream();
  const producer = await log.producer();
  for (const p of predictions) await producer.send([{ topic: config.topics.predictions, key: Buffer.from(p.prediction_id), value: await codecs.prediction.encode(p), timestamp: p.timestamp }]);
  for (const f of feedback) await producer.send([{ topic: config.topics.feedback, key: Buffer.from(f.prediction_id), value: await codecs.feedback.encode(f), timestamp: f.timestamp }]);
  // The joiner's input wait (5 s) lets the last records of an input through once it is the only one left.
  clock.advance(10_000);
  await log.whenIdle();
  await pipeline.stop(() => log.whenIdle());
  return log;
}

const decode = (config: Config, records: LogRecord[]) => Promise.all(records.map((r) => makeCodecs(config.topics, undefined).labelled.decode(r.value)));
const ids = (examples: LabelledExample[]) => examples.map((e) => e.example_id).sort();

describe('the joiner with evaluator.shard_by: prediction', () => {
  it('writes every example, arrivals and corrections included, also keyed by prediction_id: corrections in the partition of what they replace', async () => {
    const config = buildConfig({ topics: { partitions: PARTITIONS }, evaluator: SHARDED });
    const t = config.topics;
    const log = await joinOn(config, 'wall-clock');
    const byModel = await decode(config, log.records(t.labelled_examples));
    const sharded = log.records(t.sharded_examples);
    const shardedExamples = await decode(config, sharded);
    // The stream is what the test needs: arrivals, corrections (chains of two), every prediction labelled.
    expect(byModel.filter((e) => e.arrival).length).toBe(60);
    expect(byModel.filter((e) => e.correction_of !== null).length).toBe(30);
    expect(byModel.filter((e) => !e.arrival && e.correction_of === null).length).toBe(60);
    // The same examples (bytes too), each once.
    expect(ids(shardedExamples)).toEqual(ids(byModel));
    expect(sharded.map((r) => r.value!.toString('base64')).sort()).toEqual(log.records(t.labelled_examples).map((r) => r.value!.toString('base64')).sort());
    // Keyed by prediction_id, on murmur2's partition of it; the model's examples on every partition.
    sharded.forEach((record, i) => {
      expect(record.key!.toString()).toBe(shardedExamples[i]!.prediction_id);
      expect(record.partition).toBe(partitionForKey(record.key!, PARTITIONS));
    });
    expect(new Set(sharded.map((r) => r.partition)).size).toBe(PARTITIONS);
    const partitionOf = new Map(shardedExamples.map((e, i) => [e.example_id, sharded[i]!.partition]));
    const corrections = shardedExamples.filter((e) => e.correction_of !== null);
    for (const c of corrections) expect(partitionOf.get(c.example_id)).toBe(partitionOf.get(c.correction_of!));
    // Keyed by example id, some would not be (the check could fail).
    expect(corrections.some((c) => partitionForKey(Buffer.from(c.example_id), PARTITIONS) !== partitionForKey(Buffer.from(c.correction_of!), PARTITIONS))).toBe(true);
    // In each partition, a correction comes after the example it replaces.
    for (const c of corrections) {
      const at = (id: string) => sharded.find((r, i) => shardedExamples[i]!.example_id === id)!.offset;
      expect(at(c.example_id)).toBeGreaterThan(at(c.correction_of!));
    }
    // labelled_examples is as before: keyed by model.
    expect(new Set(log.records(t.labelled_examples).map((r) => r.key!.toString()))).toEqual(new Set(['hot']));
  });

  it('writes nothing there unsharded (the default) or in a replay (which evaluates unsharded)', async () => {
    const unsharded = buildConfig({ topics: { partitions: PARTITIONS } });
    const log = await joinOn(unsharded, 'wall-clock');
    expect(log.records(unsharded.topics.labelled_examples).length).toBe(150);
    expect(topicSpecs(unsharded).some((s) => s.name === unsharded.topics.sharded_examples)).toBe(false);
    const sharded = buildConfig({ topics: { partitions: PARTITIONS }, evaluator: SHARDED });
    const replayed = await joinOn(sharded, 'event-time');
    expect(replayed.records(sharded.topics.labelled_examples).length).toBe(150);
    expect(replayed.records(sharded.topics.sharded_examples)).toEqual([]);
  });
});
