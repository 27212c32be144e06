/**
 * Property of the joiner processor on the in-process log (the event-time
 * aligned path, processors/aligned-inputs.ts): for random streams of
 * predictions and feedback (random timestamps, feedback before its
 * prediction, duplicates, ids named like prototype members), the labelled
 * examples do not depend on how the consumer interleaves the two topics
 * (in log order, all feedback first, all predictions first); and records
 * that cannot be read (random bytes, another schema's records) mixed into
 * both topics leave those examples unchanged and give one dead letter each.
 * Seeds: see test/support/properties.ts (FC_SEED replays a failure).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildConfig } from '../../adapters/config/index.js';
import { makeCodecs } from '../../adapters/codec/codecs.js';
import { MemoryTransport } from '../../adapters/transport/memory.js';
import type { LogTransport, OutgoingRecord } from '../../adapters/transport/transport.js';
import { ManualClock } from '../../core/clock.js';
import { type Feedback, type FeedbackType, noFeedbackClasses, noPredictionClasses, type Prediction } from '../../core/events.js';
import { MemoryJoinStore } from '../../core/join/index.js';
import { JoinerProcessor } from '../../processors/joiner.js';
import { topicSpecs } from '../../runtime/pipeline.js';
import { joinerTopics } from '../../runtime/settings.js';
import { greedyTransport } from '../support/greedy-consumer.js';
import { PROTOTYPE_NAMES, runs } from '../support/properties.js';

const T0 = 1_763_942_400_000;
const HOUR = 3_600_000;
const config = buildConfig({ topics: { partitions: 1 } });
const t = config.topics;
const codecs = makeCodecs(t, undefined);

interface Stream {
  predictions: Prediction[];
  feedback: Feedback[];
  /** Unreadable records: [topic is predictions, bytes, position in that topic]. */
  bad: Array<[boolean, Buffer, number]>;
}

const IDS = ['a', 'b', 'c', 'd', ...PROTOTYPE_NAMES];
const at = fc.integer({ min: 0, max: 6 * HOUR }).map((d) => T0 + d);
const predictionArb = fc.record({ id: fc.constantFrom(...IDS), at, score: fc.double({ min: 0, max: 1, noNaN: true }) });
/** Labels every model kind accepts: 0 or 1, or none from a user (the predicted class or the other). */
const feedbackArb = fc.record({
  id: fc.constantFrom(...IDS),
  at,
  how: fc.constantFrom<[FeedbackType, number | null]>(['EXPERT_REVIEW', 1], ['AUTO_VALIDATED', 0], ['USER_CONFIRMED', null], ['USER_REJECTED', null], ['USER_CONFIRMED', 1]),
});
const badArb = fc.tuple(fc.boolean(), fc.oneof(fc.uint8Array({ maxLength: 30 }).map((b) => Buffer.from(b.map((x) => x & 0x7f))), fc.constant(Buffer.from([0, 0, 0, 0, 99]))), fc.nat());

const streamArb: fc.Arbitrary<Stream> = fc.record({
  // One prediction per id (a reuse would be rejected: that is the join's property, not this one's).
  predictions: fc.uniqueArray(predictionArb, { selector: (p) => p.id, maxLength: IDS.length }).map((ps) =>
    ps.map((p) => ({ prediction_id: p.id, model: 'm', model_version: 'v1', timestamp: p.at, features: { x: 1 }, categorical: {}, segments: {}, score: p.score, threshold: 0.5, shadow_scores: {}, ...noPredictionClasses() })),
  ),
  feedback: fc.array(feedbackArb, { maxLength: 16 }).map((fs) =>
    fs.map((f) => ({ prediction_id: f.id, timestamp: f.at, feedback_type: f.how[0], label: f.how[1], uncertain: false, source: null, notes: null, ...noFeedbackClasses() })),
  ),
  bad: fc.array(badArb, { maxLength: 5 }),
});

async function records(stream: Stream, withBad: boolean): Promise<OutgoingRecord[]> {
  const topic = (predictions: boolean) => (predictions ? t.predictions : t.feedback);
  const byTopic = new Map<string, OutgoingRecord[]>([[t.predictions, []], [t.feedback, []]]);
  for (const p of stream.predictions) byTopic.get(t.predictions)!.push({ topic: t.predictions, key: Buffer.from(p.prediction_id), value: await codecs.prediction.encode(p), timestamp: p.timestamp });
  for (const f of stream.feedback) byTopic.get(t.feedback)!.push({ topic: t.feedback, key: Buffer.from(f.prediction_id), value: await codecs.feedback.encode(f), timestamp: f.timestamp });
  if (withBad) {
    for (const [predictions, value, position] of stream.bad) {
      const list = byTopic.get(topic(predictions))!;
      list.splice(position % (list.length + 1), 0, { topic: topic(predictions), key: null, value, timestamp: T0 });
    }
  }
  return [...byTopic.get(t.predictions)!, ...byTopic.get(t.feedback)!];
}

/** Runs the joiner over the stream until both inputs are committed to their ends. */
async function join(stream: Stream, withBad: boolean, transportOf: (log: MemoryTransport) => LogTransport) {
  const log = new MemoryTransport();
  await log.ensureTopics(topicSpecs(config));
  await (await log.producer()).send(await records(stream, withBad));
  const joiner = new JoinerProcessor({
    transport: transportOf(log), topics: joinerTopics(config), groupId: 'joiner', transactionalIdPrefix: 'joiner', codecs,
    joiner: { joinWindowMs: 2 * HOUR, earlyFeedbackTtlMs: HOUR }, createStore: () => new MemoryJoinStore(),
    // No time-out on a lagging input: the order must not depend on how fast the machine is.
    align: { maxWaitMs: 600_000, maxBuffered: 20_000 },
    clock: new ManualClock(T0),
  });
  await joiner.start();
  const caughtUp = async () => {
    for (const topic of [t.predictions, t.feedback]) {
      const committed = (await log.committedOffsets('joiner', topic))[0]?.offset ?? 0;
      if (committed < (await log.endOffsets(topic))[0]!.offset) return false;
    }
    return true;
  };
  while (!(await caughtUp())) await new Promise((resolve) => setTimeout(resolve, 5));
  await joiner.stop();
  const labelled: string[] = [];
  for (const record of log.records(t.labelled_examples)) {
    const e = await codecs.labelled.decode(record.value);
    labelled.push(`${e.example_id}=${e.label}<${e.correction_of ?? ''}`);
  }
  return { labelled: labelled.sort(), unmatched: log.records(t.unmatched_feedback).length, deadLetters: log.records(t.dead_letters).length };
}

describe('property: the joiner processor (event-time aligned)', () => {
  it('joins the same examples whatever the interleaving of its inputs; unreadable records change nothing and give one dead letter each', async () => {
    await fc.assert(
      fc.asyncProperty(streamArb, async (stream) => {
        const good = await join(stream, false, (log) => log);
        expect(good.deadLetters).toBe(0);
        for (const first of [t.feedback, t.predictions]) {
          const mixed = await join(stream, true, (log) => greedyTransport(log, first));
          expect({ ...mixed, deadLetters: mixed.deadLetters - stream.bad.length }).toEqual(good);
        }
      }),
      runs(40),
    );
  });
});
