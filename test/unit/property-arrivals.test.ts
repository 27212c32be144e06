/**
 * Property: arrival records (joiner.emit_arrivals) change nothing the
 * learner and the promoter do. Whatever stream of labelled examples, and
 * wherever the arrival records of its predictions fall in it (in prediction
 * time as the joiner writes them, or anywhere), the trainer's snapshots and
 * counters and the promotion policy's decisions, state and checkpoint data
 * (clock, maturity frontier, counters, pending manual requests) are those
 * of the stream without them. The processors too: the learner publishes the
 * same snapshots (arrivals do not count for snapshot_every), the promoter
 * the same decisions, across a restart from a checkpoint followed by a
 * re-read that holds arrivals.
 * Seeds: see test/support/properties.ts (FC_SEED replays a failure).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { delayedStream, HORIZON_MS } from '../../bench/promotion-delay-sim.js';
import { noisy } from '../../bench/promotion-sim.js';
import { LocalCodec } from '../../adapters/codec/codec.js';
import { MemoryTransport } from '../../adapters/transport/memory.js';
import { ManualClock } from '../../core/clock.js';
import { arrivalExampleId } from '../../core/contracts/index.js';
import type { DeadLetter, LabelledExample, ModelSnapshot, PromotionDecision } from '../../core/events.js';
import { ChallengerTrainer } from '../../core/learn/index.js';
import { PromotionPolicy, type PolicyDecision, type PolicyOptions } from '../../core/promote/index.js';
import { mulberry32 } from '../../demo/random.js';
import { LearnerProcessor } from '../../processors/learner.js';
import { PromoterProcessor } from '../../processors/promoter.js';
import { labelledStream } from '../support/labelled.js';
import { runs } from '../support/properties.js';

const T0 = 1_763_942_400_000;

/** The arrival record the joiner writes for the prediction of `x`. */
function arrivalOf(x: LabelledExample): LabelledExample {
  return {
    ...x, example_id: arrivalExampleId(x.prediction_id), label: null, feedback_type: null, source: null,
    feedback_timestamp: null, label_delay_ms: null, correction_of: null, replaces: null, arrival: true,
  };
}

/**
 * `examples` with one arrival record per prediction: in prediction time (each arrival before the
 * first example whose event time is later, as the joiner writes them), or at random places.
 */
function withArrivals(examples: readonly LabelledExample[], placement: 'prediction-time' | 'random', seed: number): LabelledExample[] {
  const firsts = new Map<string, LabelledExample>();
  for (const x of examples) if (!firsts.has(x.prediction_id)) firsts.set(x.prediction_id, x);
  const arrivals = [...firsts.values()].map(arrivalOf);
  if (placement === 'random') {
    const random = mulberry32(seed);
    const slots = arrivals.map((a) => ({ a, at: Math.floor(random() * (examples.length + 1)) })).sort((p, q) => p.at - q.at);
    const out: LabelledExample[] = [];
    let k = 0;
    examples.forEach((x, i) => {
      while (k < slots.length && slots[k]!.at <= i) out.push(slots[k++]!.a);
      out.push(x);
    });
    while (k < slots.length) out.push(slots[k++]!.a);
    return out;
  }
  arrivals.sort((p, q) => p.timestamp - q.timestamp);
  const out: LabelledExample[] = [];
  let k = 0;
  for (const x of examples) {
    const at = x.feedback_timestamp ?? x.timestamp;
    while (k < arrivals.length && arrivals[k]!.timestamp <= at) out.push(arrivals[k++]!);
    out.push(x);
  }
  while (k < arrivals.length) out.push(arrivals[k++]!);
  return out;
}

function policyRun(stream: readonly LabelledExample[], options: Partial<PolicyOptions>, request: PromotionDecision | null) {
  const policy = new PromotionPolicy('fraud', options);
  if (request) policy.request(request);
  const decisions: PolicyDecision[] = [];
  const pendingAfter: number[] = [];
  for (const x of stream) {
    for (const d of policy.observe(x)) decisions.push(d);
    if (!x.arrival) pendingAfter.push(policy.pendingRequests().length);
  }
  return { decisions, state: policy.state(), data: policy.toState(), pendingAfter };
}

describe('property: arrival records change nothing in the promotion policy', () => {
  it('same decisions, state and checkpoint data, with arrivals in prediction time or anywhere, maturity on or off, a manual request pending', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1_000_000 }),
        fc.integer({ min: 600, max: 2500 }),
        fc.constantFrom(0, HORIZON_MS, 6 * 3_600_000),
        fc.constantFrom<'prediction-time' | 'random'>('prediction-time', 'random'),
        fc.option(fc.integer({ min: 0, max: 3 * 24 * 60 }), { nil: null }),
        (seed, predictions, maturityMs, placement, pinAfterMinutes) => {
          // A truly better challenger (noise 0.3 against 1): decisions happen in most streams.
          const examples = delayedStream({ seed, predictions, champion: noisy(1), challenger: noisy(0.3) });
          const request: PromotionDecision | null = pinAfterMinutes === null ? null : {
            decision_id: 'manual:pin-1', model: 'fraud', decision: 'PIN', from_version: 'v1', to_version: 'v1', policy: 'manual', statistic: null, p_value: null,
            bound: null, alpha: null, sample_size: 0, metric_deltas: {}, guardrails: {}, reason: 'freeze', actor: 'alice', at: T0 + pinAfterMinutes * 60_000, decided_at: T0,
          };
          const options = { maturityMs, minExamples: 200 };
          const without = policyRun(examples, options, request);
          const withThem = policyRun(withArrivals(examples, placement, seed), options, request);
          expect(withThem.decisions).toEqual(without.decisions);
          expect(withThem.state).toEqual(without.state);
          expect(withThem.data).toEqual(without.data);
          // A manual request takes effect at the same example: an arrival (stamped at prediction time) never applies it.
          expect(withThem.pendingAfter).toEqual(without.pendingAfter);
        },
      ),
      runs(25),
    );
  });

  it('an arrival alone touches nothing: no clock, no counter, no decision', () => {
    const [x] = delayedStream({ seed: 1, predictions: 10, champion: noisy(1), challenger: noisy(0.3) });
    const policy = new PromotionPolicy('fraud', { maturityMs: HORIZON_MS });
    const before = policy.toState();
    expect(policy.observe(arrivalOf(x!))).toEqual([]);
    expect(policy.toState()).toEqual(before);
    expect(policy.state().event_time).toBeNull();
  });
});

describe('property: arrival records change nothing in the trainer', () => {
  it('same snapshots (parameters, data hash, counts) and counters, wherever the arrivals fall', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1_000_000 }), fc.integer({ min: 50, max: 400 }), fc.constantFrom<'prediction-time' | 'random'>('prediction-time', 'random'), (seed, n, placement) => {
        const examples = labelledStream(n, seed);
        const train = (stream: LabelledExample[]) => {
          const trainer = new ChallengerTrainer({ challengersOf: (model) => (model === 'fraud' ? ['logreg', 'ftrl'] : ['logreg']) });
          const snapshots: ModelSnapshot[] = [];
          stream.forEach((x, i) => {
            trainer.learn(x);
            if (i % 97 === 96 && !x.arrival) for (const s of trainer.snapshot(T0)) snapshots.push(s);
          });
          for (const s of trainer.snapshot(T0)) snapshots.push(s);
          return { snapshots, counters: { ...trainer.counters } };
        };
        const without = train(examples);
        const withThem = train(withArrivals(examples, placement, seed));
        // Snapshots taken at the same examples (every 97th record is never an arrival in `without`;
        // in `withThem` the positions move, so compare the final state and the counters).
        expect(withThem.snapshots.at(-1) === undefined).toBe(without.snapshots.at(-1) === undefined);
        const last = (list: ModelSnapshot[]) => {
          const latest = new Map<string, ModelSnapshot>();
          for (const s of list) latest.set(`${s.model}/${s.challenger}`, s);
          return [...latest.values()].map((s) => ({ key: `${s.model}/${s.challenger}`, parameters: s.parameters, data_hash: s.data_hash, training_count: s.training_count }));
        };
        expect(last(withThem.snapshots)).toEqual(last(without.snapshots));
        expect(withThem.counters).toEqual(without.counters);
      }),
      runs(25),
    );
  });
});

// ---------------------------------------------------------------- the processors

const TOPICS = { labelled: 'labelled', snapshots: 'snapshots', promotions: 'promotions', deadLetters: 'dead', checkpoints: 'checkpoints' };
const codecs = {
  labelled: new LocalCodec<LabelledExample>('LabelledExample'),
  snapshot: new LocalCodec<ModelSnapshot>('ModelSnapshot'),
  promotion: new LocalCodec<PromotionDecision>('PromotionDecision'),
  deadLetter: new LocalCodec<DeadLetter>('DeadLetter'),
};

async function newLog(): Promise<MemoryTransport> {
  const log = new MemoryTransport(() => T0);
  await log.ensureTopics([
    { name: TOPICS.labelled, partitions: 1 }, { name: TOPICS.snapshots, partitions: 1, compacted: true }, { name: TOPICS.promotions, partitions: 1 },
    { name: TOPICS.deadLetters, partitions: 1 }, { name: TOPICS.checkpoints, partitions: 1, compacted: true },
  ]);
  return log;
}

async function send(log: MemoryTransport, batch: readonly LabelledExample[]): Promise<void> {
  const producer = await log.producer();
  for (let at = 0; at < batch.length; at += 250) {
    const records = [];
    for (const e of batch.slice(at, at + 250)) records.push({ topic: TOPICS.labelled, key: Buffer.from(e.model), value: await codecs.labelled.encode(e) });
    await producer.send(records);
  }
  await log.whenIdle();
}

describe('the learner processor with arrival records', () => {
  it('publishes the same snapshots, after the same examples (arrivals do not count for snapshot_every)', async () => {
    const examples = labelledStream(2000, 8);
    const published = async (stream: LabelledExample[]) => {
      const log = await newLog();
      await send(log, stream);
      const learner = new LearnerProcessor({
        transport: log, topics: TOPICS, groupId: 'learner', transactionalIdPrefix: 'learner', codecs,
        learner: { challengersOf: (model) => (model === 'fraud' ? ['logreg', 'ftrl'] : []) },
        snapshotEvery: 250, snapshotIntervalMs: 1e12, createdAt: 'event-time', clock: new ManualClock(T0),
      });
      await learner.start();
      await log.whenIdle();
      await learner.stop();
      const snapshots = await Promise.all(log.records(TOPICS.snapshots).map(async (r) => codecs.snapshot.decode(r.value)));
      const committed = (await log.committedOffsets('learner', TOPICS.labelled))[0]?.offset;
      return { snapshots, committed, records: stream.length };
    };
    const without = await published(examples);
    const withThem = await published(withArrivals(examples, 'prediction-time', 1));
    expect(withThem.records).toBe(without.records + 2000); // one arrival per prediction
    expect(withThem.snapshots.length).toBeGreaterThan(8);
    expect(withThem.snapshots).toEqual(without.snapshots);
    // Every record was read and committed, arrivals included.
    expect(without.committed).toBe(without.records);
    expect(withThem.committed).toBe(withThem.records);
  });
});

describe('the promoter processor with arrival records', () => {
  const promoter = (log: MemoryTransport, checkpointEvery: number) =>
    new PromoterProcessor({
      transport: log, topics: TOPICS, groupId: 'promoter', transactionalIdPrefix: 'promoter', codecs,
      policyOf: () => ({ maturityMs: HORIZON_MS, minExamples: 200 }), actor: 'promoter', clock: new ManualClock(T0), checkpointEvery,
    });
  const decisionsOn = (log: MemoryTransport) => Promise.all(log.records(TOPICS.promotions).map(async (r) => codecs.promotion.decode(r.value)));

  it('publishes the same decisions and ends in the same policy state, across a restart from a checkpoint whose re-read holds arrivals', async () => {
    const examples = delayedStream({ seed: 5, predictions: 6000, champion: noisy(1), challenger: noisy(0.3) });
    const stream = withArrivals(examples, 'prediction-time', 5);
    expect(stream.length).toBe(12_000);

    // Reference: no arrivals, never restarted.
    const reference = await newLog();
    const straight = promoter(reference, 0);
    await straight.start();
    await send(reference, examples);
    const expectedState = straight.policies().map((p) => p.toState());
    await straight.stop();
    const expected = await decisionsOn(reference);
    expect(expected.map((d) => `${d.decision_id} ${d.decision} ${d.to_version}`)).toEqual(['fraud#1 PROMOTE fraud/challenger@7']);

    // With arrivals: checkpoints every 1,000 records, stopped between two, restarted (checkpoint + re-read).
    const log = await newLog();
    const first = promoter(log, 1000);
    await first.start();
    await send(log, stream.slice(0, 7777));
    await first.stop();
    expect(log.records(TOPICS.checkpoints).length).toBeGreaterThan(0);
    const reports: Array<{ from: string; reread: number }> = [];
    const second = new PromoterProcessor({
      transport: log, topics: TOPICS, groupId: 'promoter', transactionalIdPrefix: 'promoter', codecs,
      policyOf: () => ({ maturityMs: HORIZON_MS, minExamples: 200 }), actor: 'promoter', clock: new ManualClock(T0), checkpointEvery: 1000,
      observer: { restored: (r) => reports.push({ from: r.from, reread: r.reread }) },
    });
    await second.start();
    await send(log, stream.slice(7777));
    const state = second.policies().map((p) => p.toState());
    await second.stop();
    // The latest checkpoint covers the first 7,250 records (carried by the batch that reached 1,000 records since the one before).
    expect(reports).toEqual([{ from: 'checkpoint', reread: 527 }]);
    const rereadArrivals = stream.slice(7250, 7777).filter((x) => x.arrival).length;
    expect(rereadArrivals).toBeGreaterThan(200);
    expect(await decisionsOn(log)).toEqual(expected);
    expect(state).toEqual(expectedState);
  });

  it('makes no policy for a model that so far has only arrival records', async () => {
    const log = await newLog();
    const p = promoter(log, 0);
    await p.start();
    const [x] = delayedStream({ seed: 2, predictions: 5, champion: noisy(1), challenger: noisy(0.3) });
    await send(log, [arrivalOf(x!)]);
    expect(p.policies()).toEqual([]);
    await p.stop();
  });
});
