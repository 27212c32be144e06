/**
 * One batch that expires 1,000,000 pending predictions at once (issue
 * "Unbreakable"): the joiner processor on the in-process log holds 1M
 * pending predictions; one prediction whose timestamp is past all their
 * windows arrives, and its batch must emit every expiry (1M unlabelled
 * examples and 1M changelog tombstones, one transaction), leave the join
 * state empty but for that prediction, and give the memory back.
 *
 * The 1M entries are handed to the task by its store factory, as a restore
 * from the changelog would hand them over: feeding 1M prediction records
 * through the processor first would take ~30 s and is not what is tested.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { buildConfig } from '../../adapters/config/index.js';
import { makeCodecs } from '../../adapters/codec/codecs.js';
import { MemoryTransport } from '../../adapters/transport/memory.js';
import { ManualClock } from '../../core/clock.js';
import { noPredictionClasses, type Prediction } from '../../core/events.js';
import { MemoryJoinStore } from '../../core/join/index.js';
import { JoinerProcessor } from '../../processors/joiner.js';
import { WATERMARK_KEY } from '../../processors/joiner-changelog.js';
import { topicSpecs } from '../../runtime/pipeline.js';
import { joinerTopics } from '../../runtime/settings.js';

const PENDING = 1_000_000;
const T0 = Date.UTC(2025, 5, 2);
const HOUR = 3_600_000;
const MiB = 2 ** 20;

// A full GC between measurements (vitest's workers do not run with --expose-gc).
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** Heap in use after a full GC, once the callbacks already queued have run (the consumer's last turn still holds the log). */
async function heapAfterGc(): Promise<number> {
  await new Promise((resolve) => setImmediate(resolve));
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

function prediction(i: number): Prediction {
  return {
    prediction_id: `p-${i}`, model: i % 2 === 0 ? 'fraud' : 'churn', model_version: 'v1', timestamp: T0 + (i % HOUR),
    features: { amount: i % 1000 }, categorical: {}, segments: {}, score: (i % 100) / 100, threshold: 0.5, shadow_scores: {},
    ...noPredictionClasses(),
  };
}

/** Partition 0's store with `n` predictions pending, none labelled, expiring within [T0 + 1h, T0 + 2h). */
function pendingStore(n: number): MemoryJoinStore {
  const store = new MemoryJoinStore();
  for (let i = 0; i < n; i++) {
    const p = prediction(i);
    const expires = p.timestamp + HOUR;
    store.set(p.prediction_id, { prediction: p, shadow_scores: {}, early: [], resolved: null, seq: 0, seen: [], expires_at: expires });
    store.addExpiry(expires, p.prediction_id);
  }
  return store;
}

interface Outcome {
  seconds: number;
  batches: number;
  examples: number;
  arrivalLast: boolean;
  unlabelledSampled: boolean;
  tombstones: number;
  watermarks: number;
  expired: number;
  pendingAfter: number;
  heapPending: number;
  /** After the batch and the stop, with the 2M output records still in the in-process log. */
  heapStopped: number;
}

/** The processor with PENDING predictions, then the one record that expires them; only figures leave this function. */
async function expireAll(): Promise<Outcome> {
  const config = buildConfig({ topics: { partitions: 1 }, joiner: { join_window: '1h' } });
  const t = config.topics;
  const log = new MemoryTransport();
  await log.ensureTopics(topicSpecs(config));
  const codecs = makeCodecs(t, undefined);
  let store: MemoryJoinStore | undefined = pendingStore(PENDING);
  let batches = 0;
  const joiner = new JoinerProcessor({
    transport: log, topics: joinerTopics(config), groupId: 'joiner', transactionalIdPrefix: 'joiner', codecs,
    joiner: { joinWindowMs: HOUR }, clock: new ManualClock(T0 + 3 * HOUR),
    observer: { joined: () => void batches++ },
    createStore: () => {
      const handed = store!;
      store = undefined; // the task owns it from here
      return handed;
    },
  });
  const heapPending = await heapAfterGc();
  const late = prediction(PENDING);
  late.timestamp = T0 + 3 * HOUR; // past every window: its batch expires all 1M
  const started = performance.now();
  await (await log.producer()).send([{ topic: t.predictions, key: Buffer.from(late.prediction_id), value: await codecs.prediction.encode(late), timestamp: late.timestamp }]);
  await joiner.start();
  await log.whenIdle();
  const seconds = (performance.now() - started) / 1000;
  const pendingAfter = joiner.pending().get(0) ?? -1;
  await joiner.stop();
  const heapStopped = await heapAfterGc();

  const examples = log.records(t.labelled_examples);
  // The expiries come first (the watermark moves before the prediction is taken), then the late prediction's arrival record.
  const sample = [examples[0]!, examples[examples.length - 2]!];
  let unlabelledSampled = true;
  for (const record of sample) {
    const example = await codecs.labelled.decode(record.value);
    unlabelledSampled &&= example.label === null && !example.arrival;
  }
  const last = await codecs.labelled.decode(examples[examples.length - 1]!.value);
  const arrivalLast = last.arrival && last.example_id === `${late.prediction_id}#arrival`;
  const changelog = log.records(t.joiner_changelog);
  let tombstones = 0;
  let watermarks = 0;
  for (const record of changelog) {
    if (record.key!.toString('utf8') === WATERMARK_KEY) watermarks++;
    else if (record.value === null) tombstones++;
  }
  await log.close();
  return { seconds, batches, examples: examples.length, unlabelledSampled, arrivalLast, tombstones, watermarks, expired: joiner.totals.expired_unlabelled, pendingAfter, heapPending, heapStopped };
}

describe(`joiner processor: one batch expires ${PENDING.toLocaleString('en')} pending predictions`, () => {
  it('completes, emits every expiry, empties the state and gives the memory back', async () => {
    const before = await heapAfterGc();
    const outcome = await expireAll();
    const after = await heapAfterGc();
    console.log(
      `1M expiries in one batch: ${outcome.seconds.toFixed(1)} s; heap ${((outcome.heapPending - before) / MiB).toFixed(0)} MiB with 1M pending, ` +
        `${((outcome.heapStopped - before) / MiB).toFixed(0)} MiB after the batch (the outputs in the log), ${((after - before) / MiB).toFixed(0)} MiB above the start once the processor and the log are gone`,
    );

    expect(outcome.batches).toBe(1);
    expect(outcome.expired).toBe(PENDING);
    expect(outcome.examples).toBe(PENDING + 1); // every expiry, and the late prediction's arrival record
    expect(outcome.unlabelledSampled).toBe(true);
    expect(outcome.arrivalLast).toBe(true);
    expect(outcome.tombstones).toBe(PENDING);
    expect(outcome.watermarks).toBe(1);
    expect(outcome.pendingAfter).toBe(1); // the late prediction, now waiting for its own feedback
    // The 1M entries held hundreds of MiB; nothing of them, or of the batch's outputs, stays reachable.
    expect(outcome.heapPending - before).toBeGreaterThan(100 * MiB);
    expect(after - before).toBeLessThan(32 * MiB);
  }, 120_000);
});
