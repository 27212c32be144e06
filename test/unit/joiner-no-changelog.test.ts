/**
 * The joiner without its changelog (`changelog: false`, what the replay
 * runs): the same outputs, byte for byte, with nothing on the changelog
 * topic; and a task that would have to be restored (a poison record reopens
 * it) stops the joiner instead of going on with an empty store.
 */
import { describe, expect, it } from 'vitest';
import { buildConfig } from '../../adapters/config/index.js';
import { makeCodecs } from '../../adapters/codec/codecs.js';
import { MemoryTransport } from '../../adapters/transport/memory.js';
import type { OutgoingRecord } from '../../adapters/transport/transport.js';
import { ManualClock } from '../../core/clock.js';
import { type Feedback, noFeedbackClasses, noPredictionClasses, type Prediction } from '../../core/events.js';
import { MemoryJoinStore } from '../../core/join/index.js';
import { JoinerProcessor } from '../../processors/joiner.js';
import { topicSpecs } from '../../runtime/pipeline.js';
import { joinerTopics } from '../../runtime/settings.js';

const T0 = 1_763_942_400_000;
const HOUR = 3_600_000;
const config = buildConfig({ topics: { partitions: 1 } });
const t = config.topics;
const codecs = makeCodecs(t, undefined);

/** 40 predictions, feedback for most (some before their prediction, some corrected), ids nobody predicted. */
async function stream(): Promise<OutgoingRecord[]> {
  const out: OutgoingRecord[] = [];
  for (let i = 0; i < 40; i++) {
    const p: Prediction = { prediction_id: `p${i}`, model: 'm', model_version: 'v1', timestamp: T0 + i * 60_000, features: { x: i }, categorical: {}, segments: {}, score: (i % 10) / 10, threshold: 0.5, shadow_scores: {}, ...noPredictionClasses() };
    out.push({ topic: t.predictions, key: Buffer.from(p.prediction_id), value: await codecs.prediction.encode(p), timestamp: p.timestamp });
  }
  for (let i = 0; i < 50; i++) {
    const f: Feedback = { prediction_id: `p${i % 45}`, timestamp: T0 + (i % 7) * 600_000 + i * 1000, feedback_type: i % 3 === 0 ? 'EXPERT_REVIEW' : 'USER_CONFIRMED', label: i % 3 === 0 ? i % 2 : null, uncertain: false, source: null, notes: null, ...noFeedbackClasses() };
    out.push({ topic: t.feedback, key: Buffer.from(f.prediction_id), value: await codecs.feedback.encode(f), timestamp: f.timestamp });
  }
  return out;
}

/** Runs the joiner over the stream until it is committed to the ends, then past the join window. */
async function join(changelog: boolean, labelled = codecs.labelled) {
  const log = new MemoryTransport();
  await log.ensureTopics(topicSpecs(config));
  await (await log.producer()).send(await stream());
  const joiner = new JoinerProcessor({
    transport: log, topics: joinerTopics(config), groupId: 'joiner', transactionalIdPrefix: 'joiner', codecs: { ...codecs, labelled },
    joiner: { joinWindowMs: 2 * HOUR, earlyFeedbackTtlMs: HOUR }, createStore: () => new MemoryJoinStore(),
    align: { maxWaitMs: 600_000, maxBuffered: 20_000 }, clock: new ManualClock(T0), changelog,
  });
  await joiner.start();
  const done = joiner.done.then(() => undefined, (error: unknown) => error);
  await log.whenIdle().catch(() => {});
  return { log, joiner, done };
}

const bytes = (log: MemoryTransport, topic: string) => log.records(topic).map((r) => `${r.key?.toString('hex')}:${r.value?.toString('hex')}:${r.timestamp}:${JSON.stringify(r.headers)}`);

describe('joiner without a changelog', () => {
  it('writes the same outputs, byte for byte, and nothing to the changelog', async () => {
    const runs = [];
    for (const changelog of [true, false]) {
      const { log, joiner } = await join(changelog);
      await joiner.advanceTasks(T0 + 10 * HOUR);
      await log.whenIdle();
      await joiner.stop();
      runs.push(log);
    }
    const [on, off] = runs as [MemoryTransport, MemoryTransport];
    for (const topic of [t.labelled_examples, t.unmatched_feedback, t.dead_letters]) expect(bytes(off, topic)).toEqual(bytes(on, topic));
    expect(on.records(t.labelled_examples).length).toBeGreaterThan(20);
    expect(on.records(t.joiner_changelog).length).toBeGreaterThan(0);
    expect(off.records(t.joiner_changelog)).toEqual([]);
  });

  it('a task that would have to be restored (after a poison record) stops the joiner', async () => {
    // The labelled example of p3 cannot be encoded: a poison record, so the task is reopened.
    const poisoned = { ...codecs.labelled, encode: async (e: Parameters<typeof codecs.labelled.encode>[0]) => (e.prediction_id === 'p3' ? Promise.reject(new Error('boom')) : codecs.labelled.encode(e)) };
    const withChangelog = await join(true, poisoned);
    expect(withChangelog.log.records(t.dead_letters).length).toBeGreaterThan(0);
    await withChangelog.joiner.stop();
    const without = await join(false, poisoned);
    expect(String(await without.done)).toMatch(/must be restored, but this joiner writes no changelog/);
    await without.joiner.stop();
  });
});
