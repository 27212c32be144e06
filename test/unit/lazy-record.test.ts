/**
 * Lazily encoded records of the in-process log (OutgoingRecord.lazyValue,
 * adapters/transport/lazy-record.ts): on a log that keeps events beside their
 * bytes, the value is encoded only when a reader reads it, once, into the
 * bytes the eager path writes, and weighed without encoding; on one that does
 * not, it is encoded when written. The Avro sizer that weighs it agrees with
 * avsc byte for byte (also on every event test/unit/codec-agreement.test.ts
 * draws).
 */
import { describe, expect, it } from 'vitest';
import { LazyEncoding, LocalCodec } from '../../adapters/codec/codec.js';
import { varintLength } from '../../adapters/codec/avro-size.js';
import { MemoryTransport } from '../../adapters/transport/memory.js';
import type { LazyValue } from '../../adapters/transport/transport.js';
import { valueLength } from '../../adapters/transport/transport.js';
import type { LabelledExample } from '../../core/events.js';
import { collect } from '../support/collect.js';
import { SAMPLES } from '../support/samples.js';

/** A LazyValue that counts its encodes. */
function counted(codec: LocalCodec<LabelledExample>, example: LabelledExample): LazyValue & { encodes: number } {
  const lazy = LazyEncoding.of(codec, example)!;
  const out = { encodes: 0, encode: () => (out.encodes++, lazy.encode()), length: () => lazy.length() };
  return out;
}

async function written(keepDecoded: boolean, lazy: LazyValue, example: LabelledExample) {
  const log = new MemoryTransport(() => 0, keepDecoded);
  await log.ensureTopics([{ name: 'labelled', partitions: 1 }]);
  const producer = await log.producer();
  await producer.send([{ topic: 'labelled', key: Buffer.from('m'), value: null, lazyValue: lazy, timestamp: 7, decoded: example }]);
  const consumer = await log.consumer({ groupId: 'g', topics: ['labelled'] });
  const [record] = await collect(consumer, 1);
  await consumer.stop();
  return { log, record: record! };
}

describe('lazily encoded records', () => {
  const codec = new LocalCodec<LabelledExample>('LabelledExample');
  const example: LabelledExample = { ...SAMPLES.LabelledExample, features: { amount: 129.5, 'größe': -3 }, segments: { region: 'eu', plan: '日本' }, correction_of: 'p-1#1', label_delay_ms: -(2 ** 40), labels: ['a', 'b'] };

  it('on a log that keeps events: encoded when first read, once, to the eager bytes; weighed without encoding', async () => {
    const bytes = await codec.encode(example);
    const lazy = counted(codec, example);
    const { log, record } = await written(true, lazy, example);
    expect(log.lazyValues).toBe(true);
    expect(record.decoded).toBe(example);
    expect(record.offset).toBe(0);
    expect(record.timestamp).toBe(7);
    expect(valueLength(record)).toBe(bytes.length);
    expect(lazy.encodes).toBe(0);
    expect(record.value).toEqual(bytes);
    expect(record.value).toEqual(bytes);
    expect(lazy.encodes).toBe(1);
    expect(valueLength(record)).toBe(bytes.length);
  });

  it('on a log that does not keep events: encoded when written', async () => {
    const lazy = counted(codec, example);
    const { log, record } = await written(false, lazy, example);
    expect(log.lazyValues).toBe(false);
    expect(lazy.encodes).toBe(1);
    expect(record.decoded).toBeUndefined();
    expect(record.value).toEqual(await codec.encode(example));
  });

  it("the sizer's varints are avsc's: 1 byte up to 63 and from -64, 2 from 64, 9 past 2^55 and at -(2^52)", () => {
    expect([0, 63, -64, 64, -65, 8191, 8192, 2 ** 52, -(2 ** 52), 2 ** 53 - 2].map(varintLength)).toEqual([1, 1, 1, 2, 2, 2, 3, 8, 8, 8]);
    // Checked against the bytes: a long field's encoded length moves with it.
    const at = (delay: number) => codec.encodeNow({ ...example, label_delay_ms: delay }).length - codec.encodeNow({ ...example, label_delay_ms: 0 }).length + 1;
    for (const n of [63, 64, 8191, 8192, 2 ** 52, -(2 ** 52)]) expect(varintLength(n)).toBe(at(n));
  });
});
