/**
 * The plausible event times in the environment `run` gives the pipeline
 * (time: 'wall-clock'), on the in-process log: the joiner dead-letters an
 * event stamped before joiner.min_timestamp or more than joiner.max_future
 * ahead of the wall clock, with the field, the value and the range.
 */
import { describe, expect, it } from 'vitest';
import { buildConfig } from '../../adapters/config/index.js';
import { makeCodecs } from '../../adapters/codec/codecs.js';
import { MemoryTransport } from '../../adapters/transport/memory.js';
import { ManualClock } from '../../core/clock.js';
import { MemoryJoinStore } from '../../core/join/index.js';
import { Pipeline, topicSpecs, type PipelineEnv } from '../../runtime/pipeline.js';
import { samplePrediction } from '../support/samples.js';

const NOW = 1_763_942_400_000; // 2025-11-24T00:00:00Z
const HOUR = 3_600_000;

describe('run: the joiner against the wall clock', () => {
  it('dead-letters a prediction before joiner.min_timestamp and one beyond the wall clock + joiner.max_future; joins the rest', async () => {
    const config = buildConfig({ topics: { partitions: 1 }, joiner: { min_timestamp: '2020-01-01', max_future: '2h' } });
    const t = config.topics;
    const clock = new ManualClock(NOW);
    const transport = new MemoryTransport(() => clock.now());
    await transport.ensureTopics(topicSpecs(config));
    const codecs = makeCodecs(t, undefined);
    const env: PipelineEnv = {
      config, transport, codecs, clock, name: 'run-test', time: 'wall-clock',
      joinStore: () => new MemoryJoinStore(),
      deadLetters: { connect: async () => {}, writeBatch: async () => {}, close: async () => {} },
      observer: {},
    };
    const pipeline = new Pipeline(env, ['joiner']);
    await pipeline.start();
    const producer = await transport.producer();
    const stamps = { ok: NOW - HOUR, edge: NOW + 2 * HOUR, seconds: Math.floor(NOW / 1000), ahead: NOW + 2 * HOUR + 1 };
    for (const [id, timestamp] of Object.entries(stamps)) {
      const prediction = samplePrediction({ prediction_id: id, timestamp });
      await producer.send([{ topic: t.predictions, key: Buffer.from(id), value: await codecs.prediction.encode(prediction), timestamp }]);
    }
    await transport.whenIdle();
    await pipeline.stop(() => transport.whenIdle());

    const letters = await Promise.all(transport.records(t.dead_letters).map((r) => codecs.deadLetter.decode(r.value)));
    const range = '[1577836800000 (2020-01-01T00:00:00.000Z), 1763949600000 (2025-11-24T02:00:00.000Z)]';
    expect(letters.map((l) => [l.key?.toString(), l.stage, l.error_class, l.error_message])).toEqual([
      ['seconds', 'joiner', 'validation', `timestamp 1763942400 (1970-01-21T09:59:02.400Z) is before joiner.min_timestamp: the accepted range is ${range} (seconds instead of milliseconds?)`],
      [
        'ahead', 'joiner', 'validation',
        `timestamp 1763949600001 (2025-11-24T02:00:00.001Z) is more than joiner.max_future (2h) ahead of the wall clock, 1763942400000 (2025-11-24T00:00:00.000Z): the accepted range is ${range}`,
      ],
    ]);
    expect(pipeline.get('joiner')!.totals).toMatchObject({ predictions: 2, rejected: 2 });
  });
});
