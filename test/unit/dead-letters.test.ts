import { describe, expect, it } from 'vitest';
import { MemoryTransport } from '../../adapters/transport/memory.js';
import { LocalCodec } from '../../adapters/codec/codec.js';
import { ManualClock } from '../../core/clock.js';
import { DEAD_LETTER_MAX_VALUE, deadLetterFor } from '../../core/dead-letters.js';
import type { DeadLetter, Prediction } from '../../core/events.js';
import { PredictionArchive } from '../../processors/prediction-archive.js';
import type { Sink } from '../../sinks/sink.js';
import { samplePrediction } from '../support/samples.js';

class ArraySink<T> implements Sink<T> {
  items: T[] = [];
  async connect() {}
  async writeBatch(items: T[]) {
    this.items.push(...items);
  }
  async close() {}
}

describe('dead-letter path (in-process log)', () => {
  it('turns garbage, foreign and invalid records into dead letters with reasons and keeps processing', async () => {
    const log = new MemoryTransport();
    await log.ensureTopics([{ name: 'predictions', partitions: 1 }]);
    const codec = new LocalCodec<Prediction>('Prediction');
    const feedbackCodec = new LocalCodec<unknown>('Feedback');
    const producer = await log.producer();
    await producer.send([
      { topic: 'predictions', key: Buffer.from('p-1'), value: await codec.encode(samplePrediction({ prediction_id: 'p-1' })) },
      { topic: 'predictions', key: Buffer.from('junk'), value: Buffer.from('{"not":"avro"}') },
      { topic: 'predictions', key: Buffer.from('p-x'), value: await feedbackCodec.encode({ prediction_id: 'p-x', timestamp: 1, feedback_type: 'USER_CONFIRMED', label: null, uncertain: false, source: null, notes: null }) },
      { topic: 'predictions', key: Buffer.from('p-2'), value: await codec.encode(samplePrediction({ prediction_id: 'p-2', features: { amount: Number.NaN } })) },
      { topic: 'predictions', key: Buffer.from('p-3'), value: await codec.encode(samplePrediction({ prediction_id: 'p-3' })) },
    ]);
    const rows = new ArraySink<{ prediction_id: string }>();
    const letters = new ArraySink<DeadLetter>();
    const consumer = new PredictionArchive({
      transport: log,
      topic: 'predictions',
      groupId: 'archive',
      codec,
      rows,
      deadLetters: letters,
      clock: new ManualClock(42),
    });
    await consumer.start();
    await log.whenIdle();
    await consumer.stop();

    expect(rows.items.map((r) => r.prediction_id)).toEqual(['p-1', 'p-3']);
    expect(letters.items.map((l) => [l.offset, l.error_class, l.error_message])).toEqual([
      [1, 'decode', 'record does not start with the Confluent magic byte 0 (got 0x7b)'],
      [2, 'unknown_schema', 'expected a Prediction record, got schema 2 (Feedback)'],
      [3, 'validation', 'prediction: features.amount must be a finite number, got NaN'],
    ]);
    expect(letters.items[0]!.value!.toString()).toBe('{"not":"avro"}');
    expect(letters.items[0]!.key!.toString()).toBe('junk');
    expect(letters.items[0]!.stage).toBe('prediction-archive');
    expect(letters.items[0]!.failed_at).toBe(42);
    expect(await log.committedOffsets('archive', 'predictions')).toEqual([{ topic: 'predictions', partition: 0, offset: 5 }]);
  });
});

describe('a dead letter is bounded (it is a record too)', () => {
  it('cuts a value past DEAD_LETTER_MAX_VALUE and says where the whole record is; a smaller one is kept whole', () => {
    const big = Buffer.alloc(DEAD_LETTER_MAX_VALUE + 10, 0x61);
    const letter = deadLetterFor({ topic: 'predictions', partition: 2, offset: 77, key: Buffer.from('k'), value: big }, 'joiner', 'validation', 'too long', 5);
    expect(letter.value).toEqual(big.subarray(0, DEAD_LETTER_MAX_VALUE));
    expect(letter.error_message).toBe(`too long (value cut to its first ${DEAD_LETTER_MAX_VALUE} of ${DEAD_LETTER_MAX_VALUE + 10} bytes: the whole record is at predictions/2@77)`);
    const small = deadLetterFor({ topic: 't', partition: 0, offset: 1, key: null, value: Buffer.from('v') }, 's', 'c', 'x'.repeat(5_000), 5);
    expect(small.value).toEqual(Buffer.from('v'));
    expect(small.error_message).toHaveLength(2_001);
  });
});
