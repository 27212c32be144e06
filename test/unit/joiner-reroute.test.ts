/**
 * Misplaced input records (processors/joiner.ts, "Misplaced records"): a
 * producer that does not place records by murmur2(prediction_id) — librdkafka's
 * default partitioner, another key, no key — must not cost a single join.
 * Property on the in-process log with 3 partitions: whatever partition each
 * prediction and feedback is written to (Avro or JSON), the final label of
 * every prediction and the unmatched feedback are those of the same stream
 * placed by key; each
 * misplaced record is forwarded once, to its partition, with its bytes and
 * the header naming where it was found.
 * Seeds: see test/support/properties.ts (FC_SEED replays a failure).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildConfig } from '../../adapters/config/index.js';
import { makeCodecs } from '../../adapters/codec/codecs.js';
import { MemoryTransport } from '../../adapters/transport/memory.js';
import { partitionForKey } from '../../adapters/transport/partitioner.js';
import type { OutgoingRecord } from '../../adapters/transport/transport.js';
import { ManualClock } from '../../core/clock.js';
import { type Feedback, noFeedbackClasses, noPredictionClasses, type Prediction } from '../../core/events.js';
import { MemoryJoinStore } from '../../core/join/index.js';
import { JoinerProcessor, REROUTED_FROM_HEADER } from '../../processors/joiner.js';
import { topicSpecs } from '../../runtime/pipeline.js';
import { joinerTopics } from '../../runtime/settings.js';
import { PROTOTYPE_NAMES, runs } from '../support/properties.js';

const T0 = 1_763_942_400_000;
const HOUR = 3_600_000;
const PARTITIONS = 3;
const config = buildConfig({ topics: { partitions: PARTITIONS } });
const t = config.topics;
const codecs = makeCodecs(t, undefined);

/** Where a record goes: by key (murmur2), or onto partition 0, 1 or 2 whatever its key; and its encoding. */
type Placement = { partition: number | 'key'; json: boolean };
const placementArb: fc.Arbitrary<Placement> = fc.record({ partition: fc.constantFrom<number | 'key'>('key', 0, 1, 2), json: fc.boolean() });

const IDS = ['a', 'b', 'c', 'd', 'e', 'f', 'g', ...PROTOTYPE_NAMES];
// Every event within an hour, the join window two: no prediction expires during a run. A forwarded
// record reaches its partition after that partition's own records, so a join decided by the window's
// edge could differ from the by-key run, as for any record that arrives late (README, Connect your app).
const at = fc.integer({ min: 0, max: HOUR }).map((d) => T0 + d);
const streamArb = fc.record({
  predictions: fc.uniqueArray(fc.record({ id: fc.constantFrom(...IDS), at, score: fc.double({ min: 0, max: 1, noNaN: true }), place: placementArb }), { selector: (p) => p.id, maxLength: IDS.length }),
  // Two feedback of one prediction at one instant and of equal trust are decided by arrival order (a tie): none here.
  feedback: fc.uniqueArray(fc.record({ id: fc.constantFrom(...IDS), at, label: fc.constantFrom(0, 1), place: placementArb }), { selector: (f) => `${f.id}@${f.at}`, maxLength: 16 }),
});
type Stream = typeof streamArb extends fc.Arbitrary<infer S> ? S : never;

async function recordOf(topic: string, id: string, event: Prediction | Feedback, timestamp: number, place: Placement | undefined): Promise<OutgoingRecord> {
  const avro = topic === t.predictions ? await codecs.prediction.encode(event as Prediction) : await codecs.feedback.encode(event as Feedback);
  const value = place?.json ? Buffer.from(JSON.stringify(event)) : avro;
  const partition = place === undefined || place.partition === 'key' ? {} : { partition: place.partition };
  return { topic, key: Buffer.from(id), value, timestamp, ...partition };
}

/** Runs the joiner until both inputs are committed to their ends; `placed`: honour the stream's placements (else all by key, Avro). */
async function join(stream: Stream, placed: boolean) {
  const log = new MemoryTransport();
  await log.ensureTopics(topicSpecs(config));
  const out: OutgoingRecord[] = [];
  for (const p of stream.predictions) {
    const event: Prediction = { prediction_id: p.id, model: 'm', model_version: 'v1', timestamp: p.at, features: { x: 1 }, categorical: {}, segments: {}, score: p.score, threshold: 0.5, shadow_scores: {}, ...noPredictionClasses() };
    out.push(await recordOf(t.predictions, p.id, event, p.at, placed ? p.place : undefined));
  }
  for (const f of stream.feedback) {
    const event: Feedback = { prediction_id: f.id, timestamp: f.at, feedback_type: 'EXPERT_REVIEW', label: f.label, uncertain: false, source: null, notes: null, ...noFeedbackClasses() };
    out.push(await recordOf(t.feedback, f.id, event, f.at, placed ? f.place : undefined));
  }
  await (await log.producer()).send(out);
  const joiner = new JoinerProcessor({
    transport: log, topics: joinerTopics(config), groupId: 'joiner', transactionalIdPrefix: 'joiner', codecs,
    joiner: { joinWindowMs: 2 * HOUR, earlyFeedbackTtlMs: 12 * HOUR }, createStore: () => new MemoryJoinStore(),
    align: { maxWaitMs: 600_000, maxBuffered: 20_000 },
    clock: new ManualClock(T0),
  });
  await joiner.start();
  const caughtUp = async () => {
    for (const topic of [t.predictions, t.feedback]) {
      const committed = await log.committedOffsets('joiner', topic);
      const ends = await log.endOffsets(topic);
      for (const end of ends) if ((committed.find((c) => c.partition === end.partition)?.offset ?? 0) < end.offset) return false;
    }
    return true;
  };
  while (!(await caughtUp())) await new Promise((resolve) => setTimeout(resolve, 5));
  await joiner.stop();
  // The final label of each prediction (an example not replaced by a correction): the order records
  // arrive in may add a correction on the way (a later feedback that came first), never change the end.
  const examples = await Promise.all(log.records(t.labelled_examples).map((r) => codecs.labelled.decode(r.value)));
  const replaced = new Set(examples.map((e) => e.correction_of));
  const labelled = examples.filter((e) => !replaced.has(e.example_id)).map((e) => `${e.prediction_id}=${e.label}`);
  const forwarded = [t.predictions, t.feedback].flatMap((topic) => log.records(topic).filter((r) => r.headers[REROUTED_FROM_HEADER] !== undefined));
  return { labelled: labelled.sort(), unmatched: log.records(t.unmatched_feedback).length, forwarded, rerouted: joiner.totals.rerouted };
}

const misplaced = (id: string, place: Placement) => place.partition !== 'key' && place.partition !== partitionForKey(Buffer.from(id), PARTITIONS);

describe('misplaced input records', () => {
  it('property: every join is made whatever partition each record was written to; each misplaced record is forwarded once, to its partition', async () => {
    await fc.assert(
      fc.asyncProperty(streamArb, async (stream) => {
        const byKey = await join(stream, false);
        const placed = await join(stream, true);
        expect({ labelled: placed.labelled, unmatched: placed.unmatched }).toEqual({ labelled: byKey.labelled, unmatched: byKey.unmatched });
        const expected = stream.predictions.filter((p) => misplaced(p.id, p.place)).length + stream.feedback.filter((f) => misplaced(f.id, f.place)).length;
        expect(placed.rerouted).toBe(expected);
        expect(placed.forwarded.length).toBe(expected);
        for (const record of placed.forwarded) {
          expect(record.partition).toBe(partitionForKey(record.key!, PARTITIONS));
          expect(record.headers[REROUTED_FROM_HEADER]).toMatch(/^[0-2]@\d+$/);
        }
        expect(byKey.rerouted).toBe(0);
      }),
      runs(40),
    );
  });
});
