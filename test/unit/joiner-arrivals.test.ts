/**
 * The joiner's arrival records (joiner.emit_arrivals): exactly one per
 * accepted prediction, written when it is accepted and before any example of
 * it, carrying the shadow scores its later examples carry (scored once, on
 * every join store); none for a duplicate or a refused prediction; none with
 * the setting off, which leaves every other output as it was. The processor
 * writes them to labelled-examples, key = model, in the transaction that
 * commits the prediction's offset.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { joinStream, kindOf, type StreamEvent } from '../../bench/stream.js';
import { avroPredictionPacking } from '../../adapters/codec/prediction-packing.js';
import { buildConfig } from '../../adapters/config/index.js';
import { makeCodecs } from '../../adapters/codec/codecs.js';
import { LmdbJoinStore } from '../../adapters/state/lmdb-join-store.js';
import { MemoryTransport } from '../../adapters/transport/memory.js';
import type { OutgoingRecord, TopicPartitionOffset } from '../../adapters/transport/transport.js';
import { ManualClock } from '../../core/clock.js';
import { type Feedback, type LabelledExample, noFeedbackClasses, noPredictionClasses, type Prediction } from '../../core/events.js';
import { Joiner, MemoryJoinStore, PackedJoinStore, type JoinerOptions, type JoinOutput, type JoinStore, type ShadowScoring } from '../../core/join/index.js';
import { JoinerProcessor } from '../../processors/joiner.js';
import { topicSpecs } from '../../runtime/pipeline.js';
import { joinerTopics } from '../../runtime/settings.js';
import { UNIT_WAIT_MS, waitFor } from '../support/collect.js';

const T0 = 1_763_942_400_000;
const HOUR = 3_600_000;
const DIR = mkdtempSync(join(tmpdir(), 'joiner-arrivals-test-'));
afterAll(() => rmSync(DIR, { recursive: true, force: true }));

/** A scorer that never gives the same scores twice: scoring a prediction again would show. */
function countingScorer(): ShadowScoring & { calls: number } {
  const scorer = {
    calls: 0,
    score: (p: Prediction) => {
      scorer.calls++;
      return { [`${p.model}/lr@1`]: scorer.calls / 1e6, [`previous:${p.model}/v0`]: p.score / 3 };
    },
  };
  return scorer;
}

const OPTIONS: Partial<JoinerOptions> = { joinWindowMs: HOUR, earlyFeedbackTtlMs: 10 * 60_000, kindOf };

function stream(): StreamEvent[] {
  return [...joinStream({ predictions: 3000, seed: 7, meanGapMs: 2000, joinWindowMs: HOUR, earlyFeedbackTtlMs: 10 * 60_000, granularityMs: 1000, startMs: T0 })];
}

const STORES: Array<[string, () => JoinStore & { close?: () => Promise<void>; transaction?: <T>(fn: () => T) => T }]> = [
  ['memory', () => new MemoryJoinStore()],
  ['packed (replay)', () => new PackedJoinStore(avroPredictionPacking())],
  ['lmdb (run)', () => new LmdbJoinStore({ dir: DIR, mapSize: 64 * 2 ** 20 })],
];

describe('the joiner writes one arrival record per accepted prediction', () => {
  for (const [name, create] of STORES) {
    it(`${name} store: one per accepted prediction, first, with the shadow scores every later example of it carries`, async () => {
      const store = create();
      const scorer = countingScorer();
      const joiner = new Joiner(store, { ...OPTIONS, shadowScorer: scorer });
      const within = <T>(fn: () => T): T => (store.transaction ? store.transaction(fn) : fn());
      const out: JoinOutput[] = [];
      const calls = { accepted: 0, duplicate: 0, refused: 0 };
      for (const e of stream()) {
        if (e.kind === 'feedback') {
          for (const o of within(() => joiner.onFeedback(e.event))) out.push(o);
          continue;
        }
        const before = { ...joiner.counters };
        const outputs = within(() => joiner.onPrediction(e.event));
        if (joiner.counters.predictions > before.predictions) calls.accepted++;
        else if (joiner.counters.duplicates > before.duplicates) calls.duplicate++;
        else if (joiner.counters.rejected > before.rejected) calls.refused++;
        // An arrival exactly when the prediction was accepted (counted), and then as its own first output.
        const arrivals = outputs.filter((o) => o.kind === 'arrival');
        expect(arrivals.length).toBe(joiner.counters.predictions - before.predictions);
        if (arrivals.length === 1) {
          const own = outputs.filter((o) => o.kind !== 'unmatched' && o.kind !== 'rejected' && o.example.prediction_id === e.event.prediction_id);
          expect(own[0]).toBe(arrivals[0]);
        }
        for (const o of outputs) out.push(o);
      }
      for (const o of within(() => joiner.advance(joiner.watermark + 30 * 24 * HOUR))) out.push(o);
      await store.close?.();

      const arrivals = out.filter((o) => o.kind === 'arrival').map((o) => o.example);
      const examples = out.filter((o) => o.kind === 'example').map((o) => o.example);
      // The seeded stream: 3,079 prediction records (3,000 ids, re-delivered duplicates, reused ids, out-of-range scores).
      expect(calls).toEqual({ accepted: 2980, duplicate: 54, refused: 45 });
      expect(joiner.counters).toMatchObject({ predictions: 2980, labelled: 2312, corrections: 500, expired_unlabelled: 668 });
      expect(arrivals.length).toBe(2980);
      expect(scorer.calls).toBe(2980); // scored once per accepted prediction, never again for its examples
      expect(examples.length).toBe(2312 + 500 + 668);

      // The latest arrival of each prediction id (an id may be reused once its first prediction expired).
      const arrivalOf = new Map<string, LabelledExample>();
      let checked = 0;
      for (const o of out) {
        if (o.kind === 'arrival') {
          expect(o.example).toMatchObject({ example_id: `${o.example.prediction_id}#arrival`, arrival: true, label: null, feedback_type: null, source: null, feedback_timestamp: null, label_delay_ms: null, correction_of: null, replaces: null });
          arrivalOf.set(o.example.prediction_id, o.example);
        } else if (o.kind === 'example') {
          const arrival = arrivalOf.get(o.example.prediction_id);
          expect(arrival, `arrival of ${o.example.example_id}`).toBeDefined();
          expect(o.example.arrival).toBe(false);
          expect(o.example.shadow_scores).toEqual(arrival!.shadow_scores);
          for (const field of ['model', 'model_version', 'timestamp', 'features', 'categorical', 'segments', 'score', 'threshold'] as const) {
            expect(o.example[field]).toEqual(arrival![field]);
          }
          checked++;
        }
      }
      expect(checked).toBe(examples.length);
      // Shadow scores are never empty here, and two arrivals never share them (scored once each).
      expect(new Set(arrivals.map((a) => a.shadow_scores[`${a.model}/lr@1`])).size).toBe(2980);
    });
  }

  it('none for an exact duplicate or a refused prediction (reused id, out of range, implausible time, model past max_models)', () => {
    const P = (id: string, at: number, overrides: Partial<Prediction> = {}): Prediction => ({
      ...noPredictionClasses(),
      prediction_id: id, model: 'fraud', model_version: 'v1', timestamp: at, features: { x: 1 }, categorical: {}, segments: {}, score: 0.6, threshold: 0.5, shadow_scores: {}, ...overrides,
    });
    const joiner = new Joiner(new MemoryJoinStore(), {
      joinWindowMs: HOUR, maxModels: 1, timeBounds: { minTimestamp: T0 - HOUR, maxFutureMs: HOUR }, eventClock: () => ({ what: 'the wall clock', at: T0 }),
    });
    const kinds = (p: Prediction) => joiner.onPrediction(p).map((o) => (o.kind === 'rejected' ? `rejected ${o.prediction_id}` : `${o.kind} ${o.kind === 'unmatched' ? '' : o.example.example_id}`));
    expect(kinds(P('a', T0))).toEqual(['arrival a#arrival']);
    expect(kinds(P('a', T0))).toEqual([]); // exact duplicate
    expect(kinds(P('a', T0 + 1, { score: 0.7 }))).toEqual(['rejected a']); // reused id
    expect(kinds(P('b', T0, { score: 1.5 }))).toEqual(['rejected b']); // out of range
    expect(kinds(P('c', T0 - 2 * HOUR))).toEqual(['rejected c']); // before the floor
    expect(kinds(P('d', T0 + 2 * HOUR))).toEqual(['rejected d']); // too far ahead of the clock
    expect(kinds(P('e', T0, { model: 'other' }))).toEqual(['rejected e']); // past max_models
    expect(kinds(P('f', T0 + 1))).toEqual(['arrival f#arrival']);
    expect(joiner.counters).toMatchObject({ predictions: 2, duplicates: 1, rejected: 5 });
  });

  it('with emitArrivals false: none, and every other output and counter as with them', () => {
    const events = stream();
    const run = (emitArrivals: boolean) => {
      const joiner = new Joiner(new MemoryJoinStore(), { ...OPTIONS, emitArrivals });
      const out: JoinOutput[] = [];
      for (const e of events) for (const o of e.kind === 'prediction' ? joiner.onPrediction(e.event) : joiner.onFeedback(e.event)) out.push(o);
      for (const o of joiner.advance(joiner.watermark + 30 * 24 * HOUR)) out.push(o);
      return { out, counters: joiner.counters };
    };
    const on = run(true);
    const off = run(false);
    expect(off.out.filter((o) => o.kind === 'arrival')).toEqual([]);
    expect(on.out.filter((o) => o.kind === 'arrival').length).toBe(2980);
    expect(off.out).toEqual(on.out.filter((o) => o.kind !== 'arrival'));
    expect(off.counters).toEqual(on.counters);
  });
});

describe('the joiner processor writes arrival records', () => {
  async function runProcessor(emitArrivals: boolean) {
    const config = buildConfig({ topics: { partitions: 1 }, joiner: { emit_arrivals: emitArrivals } });
    const t = config.topics;
    const log = new MemoryTransport();
    await log.ensureTopics(topicSpecs(config));
    const codecs = makeCodecs(t, undefined);
    // Every transaction the joiner commits: its records and offsets.
    const transactions: Array<{ records: OutgoingRecord[]; offsets: TopicPartitionOffset[] }> = [];
    const transactional = log.transactionalProducer.bind(log);
    log.transactionalProducer = async (id) => {
      const producer = await transactional(id);
      return {
        sendWithOffsets: async (records, commit) => {
          await producer.sendWithOffsets(records, commit);
          transactions.push({ records, offsets: commit.offsets });
        },
        close: () => producer.close(),
      };
    };
    const P = (id: string, model: string, at: number, score = 0.6): Prediction => ({ prediction_id: id, model, model_version: 'v1', timestamp: at, features: { x: 1 }, categorical: {}, segments: {}, score, threshold: 0.5, shadow_scores: {}, ...noPredictionClasses() });
    const F = (id: string, at: number): Feedback => ({ prediction_id: id, timestamp: at, feedback_type: 'AUTO_VALIDATED', label: 1, uncertain: false, source: null, notes: null, ...noFeedbackClasses() });
    const events: Array<Prediction | Feedback> = [P('a', 'fraud', T0), P('b', 'churn', T0 + 10), F('a', T0 + 20), P('a', 'fraud', T0), P('bad', 'fraud', T0 + 30, 1.5), P('c', 'fraud', T0 + 40)];
    const producer = await log.producer();
    for (const e of events) {
      const prediction = 'model' in e;
      await producer.send([{ topic: prediction ? t.predictions : t.feedback, key: Buffer.from(e.prediction_id), value: prediction ? await codecs.prediction.encode(e) : await codecs.feedback.encode(e), timestamp: e.timestamp }]);
      await log.whenIdle();
    }
    const joiner = new JoinerProcessor({
      transport: log, topics: joinerTopics(config), groupId: 'joiner', transactionalIdPrefix: 'joiner', codecs,
      joiner: { joinWindowMs: config.joiner.join_window, emitArrivals: config.joiner.emit_arrivals },
      createStore: () => new MemoryJoinStore(), clock: new ManualClock(T0), align: { maxWaitMs: 0, maxBuffered: 100 },
    });
    await joiner.start();
    await waitFor(async () => (await log.committedOffsets('joiner', t.predictions))[0]?.offset === 5, 'the joiner to commit the 5 predictions', UNIT_WAIT_MS, 10);
    await joiner.stop();
    const labelled = await Promise.all(log.records(t.labelled_examples).map(async (r) => ({ key: r.key!.toString('utf8'), example: await codecs.labelled.decode(r.value) })));
    return { t, labelled, transactions, predictionOffset: new Map(log.records(t.predictions).map((r) => [r.offset, r.key!.toString('utf8')])) };
  }

  it('to labelled-examples, key = model, in the transaction that commits the prediction', async () => {
    const { t, labelled, transactions } = await runProcessor(true);
    expect(labelled.map((r) => [r.key, r.example.example_id, r.example.label])).toEqual([
      ['fraud', 'a#arrival', null],
      ['churn', 'b#arrival', null],
      ['fraud', 'a#1', 1],
      ['fraud', 'c#arrival', null],
    ]);
    // Predictions on their topic: a (0), b (1), a again (2), bad (3), c (4). Each arrival is written
    // in a transaction that commits the predictions offset past its prediction's record.
    const offsetOf: Record<string, number> = { a: 0, b: 1, c: 4 };
    for (const { records, offsets } of transactions) {
      const committed = offsets.find((o) => o.topic === t.predictions)?.offset ?? 0;
      for (const r of records) {
        if (r.topic !== t.labelled_examples) continue;
        const example = r.decoded as LabelledExample;
        if (example.arrival) expect(committed).toBeGreaterThan(offsetOf[example.prediction_id]!);
      }
    }
    expect(transactions.flatMap((x) => x.records).filter((r) => r.topic === t.labelled_examples && (r.decoded as LabelledExample).arrival)).toHaveLength(3);
  });

  it('joiner.emit_arrivals false: only the example', async () => {
    const { labelled } = await runProcessor(false);
    expect(labelled.map((r) => [r.key, r.example.example_id])).toEqual([['fraud', 'a#1']]);
  });
});
