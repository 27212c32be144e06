/**
 * The joiner's changelog format (processors/joiner-changelog.ts,
 * adapters/codec/join-entry-avro.ts): entries are written as 0x00 0x01 and
 * Avro, read back equal; a changelog an older joiner wrote as JSON is still
 * restored (an upgrade in place), mixed with binary records of the same keys;
 * a record in neither format stops the joiner with an error that names it,
 * as a record that was not JSON always did (nothing is dead-lettered).
 */
import { describe, expect, it } from 'vitest';
import { buildConfig } from '../../adapters/config/index.js';
import { makeCodecs } from '../../adapters/codec/codecs.js';
import { decodeJoinEntry, encodeJoinEntry } from '../../adapters/codec/join-entry-avro.js';
import { MemoryTransport } from '../../adapters/transport/memory.js';
import type { OutgoingRecord } from '../../adapters/transport/transport.js';
import { ManualClock } from '../../core/clock.js';
import { noFeedbackClasses, type Feedback } from '../../core/events.js';
import { Joiner, MemoryJoinStore, type JoinEntry, type JoinOutput, type JoinStore } from '../../core/join/index.js';
import { MODEL_KEY_PREFIX, WATERMARK_KEY } from '../../processors/joiner-changelog.js';
import { JoinerProcessor } from '../../processors/joiner.js';
import { topicSpecs } from '../../runtime/pipeline.js';
import { joinerTopics } from '../../runtime/settings.js';
import { joinStream, kindOf } from '../../bench/stream.js';

const T0 = 1_763_942_400_000;
const HOUR = 3_600_000;
const config = buildConfig({ topics: { partitions: 1 } });
const t = config.topics;
const codecs = makeCodecs(t, undefined);

describe('join entry, binary', () => {
  it('a waiting entry is 18 bytes: the marker, five empty or null fields, one hash and the expiry as a double', () => {
    const entry: JoinEntry = { prediction: null, shadow_scores: {}, early: [], resolved: null, seq: 0, seen: [1], expires_at: 7 };
    // 00 01 | prediction null 00 | shadow_scores {} 00 | early [] 00 | resolved null 00 | seq 0 00 | seen: count 1 (02), 1 (02), end 00 | 7.0 LE
    expect(encodeJoinEntry(entry).toString('hex')).toBe('0001' + '00' + '00' + '00' + '00' + '00' + '020200' + '0000000000001c40');
    expect(decodeJoinEntry(encodeJoinEntry(entry))).toEqual(entry);
  });

  it('the largest hash (2^32 - 1) and a resolved label with and without `emitted` come back as they were', () => {
    const resolved = { label: 1, label_class: null, rejected_class: null, labels: null, trust: 3, feedback_type: 'EXPERT_REVIEW' as const, feedback_timestamp: T0, source: 'u', example_id: 'a#2' };
    for (const r of [resolved, { ...resolved, emitted: { feedback_type: 'USER_CONFIRMED' as const, source: null, feedback_timestamp: T0 - 1 } }]) {
      const entry: JoinEntry = { prediction: null, shadow_scores: { v2: 0.25 }, early: [], resolved: r, seq: 2, seen: [0xffffffff, 0], expires_at: T0 + 0.5 };
      const back = decodeJoinEntry(encodeJoinEntry(entry));
      expect(back).toEqual(entry);
      expect('emitted' in back.resolved!).toBe('emitted' in r);
    }
  });

  it('an entry larger than the scratch (50,000 early feedbacks, over 1 MiB) comes back whole, and a small one after it encodes as before', () => {
    const small: JoinEntry = { prediction: null, shadow_scores: {}, early: [], resolved: null, seq: 0, seen: [1], expires_at: 7 };
    const before = encodeJoinEntry(small).toString('hex');
    const early = Array.from({ length: 50_000 }, (_, i) => fb(`p${i}`, T0 + i, 'USER_CONFIRMED', null));
    const big: JoinEntry = { ...small, early, seen: early.map((_, i) => i) };
    const bytes = encodeJoinEntry(big);
    expect(bytes.length).toBeGreaterThan(2 ** 20);
    expect(decodeJoinEntry(bytes)).toEqual(big);
    expect(encodeJoinEntry(small).toString('hex')).toBe(before);
  });

  it('a join whose store keeps only what the binary round trip gives back makes the same outputs; every entry is a third of its JSON or less', () => {
    const events = [...joinStream({ predictions: 400, seed: 3, meanGapMs: 2000, joinWindowMs: HOUR, earlyFeedbackTtlMs: 10 * 60_000, startMs: T0 })];
    let json = 0;
    let binary = 0;
    class RoundTrip extends MemoryJoinStore {
      override set(id: string, entry: JoinEntry): void {
        const bytes = encodeJoinEntry(entry);
        json += Buffer.byteLength(JSON.stringify(entry));
        binary += bytes.length;
        const back = decodeJoinEntry(bytes);
        expect(JSON.stringify(back)).toBe(JSON.stringify(entry));
        super.set(id, back);
      }
    }
    const run = (store: JoinStore): JoinOutput[] => {
      const j = new Joiner(store, { joinWindowMs: HOUR, earlyFeedbackTtlMs: 10 * 60_000, kindOf });
      const out: JoinOutput[] = [];
      for (const e of events) for (const o of e.kind === 'prediction' ? j.onPrediction(e.event) : j.onFeedback(e.event)) out.push(o);
      for (const o of j.advance(T0 + 100 * HOUR)) out.push(o);
      return out;
    };
    const plain = run(new MemoryJoinStore());
    expect(run(new RoundTrip())).toEqual(plain);
    expect(plain.length).toBeGreaterThan(400);
    expect(binary * 3).toBeLessThan(json);
  });
});

/** A prediction as a joiner before the class fields wrote it into its changelog: JSON, no class fields. */
const OLD_ENTRY = {
  prediction: { prediction_id: 'a', model: 'fraud', model_version: 'v1', timestamp: T0, features: { x: 0.25 }, categorical: {}, segments: { region: 'eu' }, score: 0.8, threshold: 0.5, shadow_scores: {} },
  shadow_scores: {}, early: [], resolved: null, seq: 0, seen: [], expires_at: T0 + 2 * HOUR,
};

const fb = (id: string, at: number, type: Feedback['feedback_type'], label: number | null): Feedback => ({ prediction_id: id, timestamp: at, feedback_type: type, label, uncertain: false, source: 'u', notes: null, ...noFeedbackClasses() });

/** A joiner over a log whose changelog already holds `changelog`, fed `inputs`, until idle. */
async function joiner(log: MemoryTransport, inputs: OutgoingRecord[]) {
  await (await log.producer()).send(inputs);
  const processor = new JoinerProcessor({
    transport: log, topics: joinerTopics(config), groupId: 'joiner', transactionalIdPrefix: 'joiner', codecs,
    joiner: { joinWindowMs: 2 * HOUR, earlyFeedbackTtlMs: HOUR }, createStore: () => new MemoryJoinStore(),
    align: { maxWaitMs: 600_000, maxBuffered: 20_000 }, clock: new ManualClock(T0),
  });
  await processor.start();
  const done = processor.done.then(() => undefined, (error: unknown) => error);
  await log.whenIdle().catch(() => {});
  await processor.stop().catch(() => {});
  return done;
}

async function logWith(changelog: Array<{ key: string; value: Buffer | null }>): Promise<MemoryTransport> {
  const log = new MemoryTransport();
  await log.ensureTopics(topicSpecs(config));
  await (await log.producer()).send(changelog.map((r) => ({ topic: t.joiner_changelog, key: Buffer.from(r.key), value: r.value })));
  return log;
}

const feedbackRecord = async (f: Feedback): Promise<OutgoingRecord> => ({ topic: t.feedback, key: Buffer.from(f.prediction_id), value: await codecs.feedback.encode(f), timestamp: f.timestamp });

describe('changelog written by an older joiner (JSON)', () => {
  it('is restored: feedback joins the JSON entry; the entry is rewritten binary, and a second restore reads both', async () => {
    const log = await logWith([
      { key: 'a', value: Buffer.from(JSON.stringify(OLD_ENTRY)) },
      { key: 'gone', value: Buffer.from(JSON.stringify({ ...OLD_ENTRY, prediction: { ...OLD_ENTRY.prediction, prediction_id: 'gone' } })) },
      { key: 'gone', value: null },
      { key: `${MODEL_KEY_PREFIX}fraud`, value: Buffer.from('{}') },
      { key: WATERMARK_KEY, value: Buffer.from(JSON.stringify({ watermark: T0 })) },
    ]);
    expect(await joiner(log, [await feedbackRecord(fb('a', T0 + 60_000, 'USER_CONFIRMED', null))])).toBeUndefined();
    const first = await Promise.all(log.records(t.labelled_examples).map((r) => codecs.labelled.decode(r.value)));
    expect(first.map((e) => [e.example_id, e.label, e.features, e.segments, e.replaces])).toEqual([['a#1', 1, { x: 0.25 }, { region: 'eu' }, null]]);
    const rewritten = log.records(t.joiner_changelog).filter((r) => r.key!.toString() === 'a');
    expect(rewritten.map((r) => r.value!.subarray(0, 2).toString('hex'))).toEqual(['7b22', '0001']);

    // Restored again: the JSON record, then the binary one of the same key (the later wins).
    expect(await joiner(log, [await feedbackRecord(fb('a', T0 + 120_000, 'EXPERT_REVIEW', 0))])).toBeUndefined();
    const second = await Promise.all(log.records(t.labelled_examples).slice(1).map((r) => codecs.labelled.decode(r.value)));
    expect(second.map((e) => [e.example_id, e.label, e.replaces?.label, e.replaces?.feedback_type])).toEqual([['a#2', 0, 1, 'USER_CONFIRMED']]);
    expect(log.records(t.dead_letters)).toEqual([]);
  });
});

describe('a changelog record in neither format', () => {
  const AVRO_GARBAGE = Buffer.from([0x00, 0x01, 0x02, 0xff, 0xff, 0xff, 0xff, 0x0f]);
  const cases: Array<[string, Buffer, RegExp]> = [
    ['binary marker, then bytes that are no entry', AVRO_GARBAGE, /^FeedbackloopError: changelog record feedbackloop-joiner-changelog\/0@0 does not decode as a join entry: /],
    ['an unknown first byte', Buffer.from([0x05, 0x7b]), /^FeedbackloopError: changelog record feedbackloop-joiner-changelog\/0@0 starts with byte 0x05: neither a binary join entry \(0x00 0x01\) nor JSON \(\{\)$/],
    ['a later binary version', Buffer.from([0x00, 0x02, 0x00]), /^FeedbackloopError: changelog record feedbackloop-joiner-changelog\/0@0 starts with byte 0x00: neither/],
    ['an empty value', Buffer.alloc(0), /^FeedbackloopError: changelog record feedbackloop-joiner-changelog\/0@0 is empty: neither/],
    ['JSON cut short', Buffer.from('{"prediction":'), /^FeedbackloopError: changelog record feedbackloop-joiner-changelog\/0@0 is not JSON: /],
  ];
  for (const [what, value, message] of cases) {
    it(`${what}: the joiner stops with an error naming the record; nothing is dead-lettered or joined`, async () => {
      const log = await logWith([{ key: 'a', value }]);
      expect(String(await joiner(log, [await feedbackRecord(fb('a', T0, 'USER_CONFIRMED', null))]))).toMatch(message);
      expect(log.records(t.dead_letters)).toEqual([]);
      expect(log.records(t.unmatched_feedback)).toEqual([]);
    });
  }
});
