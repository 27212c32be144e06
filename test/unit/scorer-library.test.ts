/**
 * The scorer library (feedbackloop/scorer) on the in-process log: it follows
 * a challenger until a promotion decision names a version, swaps to the
 * promoted snapshot while requests keep coming (none fails, none sees a
 * mix), and scores exactly as the snapshot's pipeline does.
 */
import { setImmediate as tick } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { LocalCodec } from '../../adapters/codec/codec.js';
import { MemoryTransport } from '../../adapters/transport/memory.js';
import type { ModelSnapshot, PromotionDecision } from '../../core/events.js';
import { ChallengerTrainer } from '../../core/learn/index.js';
import { pipelineFromSnapshot } from '../../core/models/index.js';
import { ChampionScorer, OwnModelError } from '../../scorer/index.js';
import { labelledStream } from '../support/labelled.js';
import { UNIT_WAIT_MS, waitFor } from '../support/collect.js';

const codecs = { snapshot: new LocalCodec<ModelSnapshot>('ModelSnapshot'), promotion: new LocalCodec<PromotionDecision>('PromotionDecision') };

function decision(to: string): PromotionDecision {
  return {
    decision_id: `d-${to}`, model: 'fraud', from_version: 'v1', to_version: to, decision: 'PROMOTE', policy: 'test', statistic: null, p_value: null,
    bound: null, alpha: null, sample_size: 0, metric_deltas: {}, guardrails: {}, reason: 'test', actor: 'test', at: 0, decided_at: 0,
  };
}

describe('ChampionScorer', () => {
  it('follows a challenger, then swaps to a promoted version under load without a failed request', async () => {
    const log = new MemoryTransport();
    await log.ensureTopics([{ name: 'model-snapshots', partitions: 2, compacted: true }, { name: 'model-promotions', partitions: 1 }]);
    const producer = await log.producer();
    const publish = async (snapshots: ModelSnapshot[]) =>
      producer.send(await Promise.all(snapshots.map(async (s) => ({ topic: 'model-snapshots', key: Buffer.from(s.version), value: await codecs.snapshot.encode(s) }))));

    const learner = new ChallengerTrainer({ challengersOf: () => ['logreg', 'ftrl'] });
    const examples = labelledStream(600, 3).filter((e) => e.model === 'fraud');
    const published: ModelSnapshot[] = [];
    for (let i = 0; i < examples.length; i++) {
      learner.learn(examples[i]!);
      if (i % 50 === 49) published.push(...learner.snapshot());
    }
    const logreg = published.filter((s) => s.challenger === 'logreg');
    const ftrl = published.filter((s) => s.challenger === 'ftrl');

    const swaps: string[] = [];
    const scorer = await ChampionScorer.start({ transport: log, codecs, model: 'fraud', follow: 'logreg', onSwap: (v) => swaps.push(v) });
    const probe = examples[0]!;
    expect(() => scorer.score(probe)).toThrow(/no champion for model fraud yet/);
    await publish(published);
    await log.whenIdle();
    // Following logreg: its newest snapshot.
    expect(scorer.version()).toBe(logreg[logreg.length - 1]!.version);

    // Under load: requests keep coming while an older ftrl version is promoted.
    const target = ftrl[2]!;
    const expected = pipelineFromSnapshot(JSON.parse(target.parameters)).predictOne(probe);
    const before = pipelineFromSnapshot(JSON.parse(logreg[logreg.length - 1]!.parameters)).predictOne(probe);
    const seen: string[] = [];
    let failures = 0;
    const load = (async () => {
      for (let round = 0; round < 200; round++) {
        for (let k = 0; k < 500; k++) {
          try {
            const { score, version } = scorer.score(probe);
            if (seen[seen.length - 1] !== version) seen.push(version);
            expect(score).toBe(version === target.version ? expected : before);
          } catch {
            failures++;
          }
        }
        await tick();
      }
    })();
    await tick();
    await producer.send([{ topic: 'model-promotions', key: Buffer.from('fraud'), value: await codecs.promotion.encode(decision(target.version)) }]);
    await load;
    expect(failures).toBe(0);
    expect(seen).toEqual([logreg[logreg.length - 1]!.version, target.version]);
    // A later logreg snapshot no longer moves it: a decision was made.
    learner.learn(examples[1]!);
    await publish(learner.snapshot());
    await log.whenIdle();
    expect(scorer.version()).toBe(target.version);
    expect(swaps[swaps.length - 1]).toBe(target.version);

    // A rollback to the version upstream built itself: the app must score with its own model.
    const rollback = { ...decision('v1'), decision_id: 'rb', decision: 'ROLLBACK' as const, from_version: target.version };
    await producer.send([{ topic: 'model-promotions', key: Buffer.from('fraud'), value: await codecs.promotion.encode(rollback) }]);
    await log.whenIdle();
    expect(scorer.champion()).toEqual({ version: 'v1', own: true });
    expect(scorer.version()).toBe('v1');
    expect(() => scorer.score(probe)).toThrow(OwnModelError);
    expect(() => scorer.score(probe)).toThrow('the champion of model fraud is v1, a version upstream serves itself (decision ROLLBACK rb): score with your own model');
    // A later promotion of a snapshot: served again.
    await producer.send([{ topic: 'model-promotions', key: Buffer.from('fraud'), value: await codecs.promotion.encode({ ...decision(logreg[0]!.version), decision_id: 'again' }) }]);
    await log.whenIdle();
    expect(scorer.champion()).toEqual({ version: logreg[0]!.version, own: false });
    expect(scorer.score(probe)).toEqual({ score: pipelineFromSnapshot(JSON.parse(logreg[0]!.parameters)).predictOne(probe), version: logreg[0]!.version });
    expect(swaps.slice(-2)).toEqual(['v1', logreg[0]!.version]);
    await scorer.close();
  });

  it('keeps the snapshots of retainMs only, re-reads the topic for an older promoted one, and swaps back to the one before at once', async () => {
    const DAY = 86_400_000;
    const log = new MemoryTransport();
    await log.ensureTopics([{ name: 'model-snapshots', partitions: 2, compacted: true }, { name: 'model-promotions', partitions: 1 }]);
    const reads: string[] = [];
    const readToEnd = log.readToEnd.bind(log);
    log.readToEnd = (topic, partitions, onRecords) => {
      reads.push(topic);
      return readToEnd(topic, partitions, onRecords);
    };
    const producer = await log.producer();
    const send = async (topic: string, key: string, value: Buffer) => producer.send([{ topic, key: Buffer.from(key), value }]);

    // 60 snapshots of logreg, one every 12 hours over 30 days.
    const learner = new ChallengerTrainer({ challengersOf: () => ['logreg'] });
    const examples = labelledStream(3000, 4).filter((e) => e.model === 'fraud');
    const published: ModelSnapshot[] = [];
    for (let k = 0; k < 60; k++) {
      for (let j = 0; j < 10; j++) learner.learn(examples[k * 10 + j]!);
      published.push(...learner.snapshot(k * DAY / 2));
    }
    const errors: string[] = [];
    const scorer = await ChampionScorer.start({ transport: log, codecs, model: 'fraud', follow: 'logreg', retainMs: 7 * DAY, onError: (e) => errors.push(e.message) });
    for (const s of published) await send('model-snapshots', s.version, await codecs.snapshot.encode(s));
    await log.whenIdle();
    const newest = published[59]!;
    expect(scorer.version()).toBe(newest.version);
    // Created within 7 days of the newest (day 29.5): days 22.5 .. 29.5, 15 snapshots.
    expect(scorer.keptSnapshots()).toBe(15);

    // A promotion of the day-1 snapshot, long dropped: found by re-reading the topic.
    const old = published[2]!;
    const probe = examples[0]!;
    await send('model-promotions', 'fraud', await codecs.promotion.encode({ ...decision(old.version), decision_id: 'old' }));
    await log.whenIdle();
    await waitFor(() => scorer.version() === old.version, `the scorer to serve ${old.version}`, UNIT_WAIT_MS, 0);
    expect(scorer.version()).toBe(old.version);
    expect(scorer.score(probe)).toEqual({ score: pipelineFromSnapshot(JSON.parse(old.parameters)).predictOne(probe), version: old.version });
    expect(reads).toEqual(['model-snapshots']);

    // A rollback to the version served before: kept, so no re-read.
    await send('model-promotions', 'fraud', await codecs.promotion.encode({ ...decision(newest.version), decision_id: 'rb', decision: 'ROLLBACK', from_version: old.version }));
    await log.whenIdle();
    expect(scorer.version()).toBe(newest.version);
    expect(reads).toEqual(['model-snapshots']);

    // A version of the line that is not on the topic: said, and the champion stays.
    await send('model-promotions', 'fraud', await codecs.promotion.encode({ ...decision('fraud/logreg@0'), decision_id: 'missing' }));
    await log.whenIdle();
    await waitFor(() => errors.length > 0, 'the missing snapshot to be said', UNIT_WAIT_MS, 0);
    expect(errors).toEqual([`snapshot fraud/logreg@0 of model fraud is not on model-snapshots: still serving ${newest.version}`]);
    expect(scorer.version()).toBe(newest.version);
    expect(scorer.keptSnapshots()).toBeLessThanOrEqual(17);
    await scorer.close();
  });
});
